// SPDX-License-Identifier: GPL-2.0
/* snapshot_process: one record per process (or per thread) currently alive, from a task iterator. */

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

/* Also list the threads that are not thread-group leaders. */
const volatile bool show_threads = false;

GADGET_PARAM(show_threads);

/* Datasource "processes": records are struct gadget_process. */
GADGET_ITER(processes, gadget_process, ig_snap_proc);

SEC("iter/task")
int ig_snap_proc(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct task_struct *parent;
	struct gadget_process p = {};

	if (!task)
		return 0; /* end of the iteration */

	p.pid = BPF_CORE_READ(task, tgid);
	p.tid = BPF_CORE_READ(task, pid);
	if (!show_threads && p.pid != p.tid)
		return 0;

	p.mntns_id = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	p.creds.uid = BPF_CORE_READ(task, cred, uid.val);
	p.creds.gid = BPF_CORE_READ(task, cred, gid.val);
	bpf_core_read_str(p.comm, sizeof(p.comm), &task->comm);

	if (gadget_should_discard_data(p.mntns_id, p.pid, p.tid, p.comm,
				       p.creds.uid, p.creds.gid))
		return 0;

	parent = BPF_CORE_READ(task, real_parent);
	if (parent) {
		p.parent.pid = BPF_CORE_READ(parent, tgid);
		p.parent.tid = BPF_CORE_READ(parent, pid);
		bpf_core_read_str(p.parent.comm, sizeof(p.parent.comm),
				  &parent->comm);
	}

	bpf_seq_write(seq, &p, sizeof(p));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
