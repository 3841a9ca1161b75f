// SPDX-License-Identifier: GPL-2.0
/* Loader fixture: a task iterator emitting one record per thread-group leader. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/macros.h>

struct task_rec {
	__u32 pid;
	__u32 ppid;
	char comm[16];
};

GADGET_ITER(tasks, task_rec, ig_tasks);

SEC("iter/task")
int ig_tasks(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct task_rec r = {};

	if (!task || task->tgid != task->pid)
		return 0;
	r.pid = task->tgid;
	r.ppid = BPF_CORE_READ(task, real_parent, tgid);
	bpf_probe_read_kernel_str(r.comm, sizeof(r.comm), task->comm);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
