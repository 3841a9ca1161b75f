/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Fill the common struct gadget_process block of an event from the current task. */
#ifndef __GADGET_COMMON_H
#define __GADGET_COMMON_H

/* Upstream's common.h includes vmlinux.h itself: gadgets may rely on it. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/types.h>
#include <gadget/mntns.h>

/*
 * pid/tid, comm, uid/gid and mount namespace of the current task, plus
 * comm/tgid/pid of its real parent. Every member of *p is written.
 */
static __always_inline void gadget_process_populate(struct gadget_process *p)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *parent;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	p->pid = pid_tgid >> 32;
	p->tid = (__u32)pid_tgid;
	p->creds.uid = (__u32)uid_gid;
	p->creds.gid = uid_gid >> 32;
	bpf_get_current_comm(p->comm, sizeof(p->comm));
	p->mntns_id = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);

	parent = BPF_CORE_READ(task, real_parent);
	if (parent) {
		p->parent.pid = BPF_CORE_READ(parent, tgid);
		p->parent.tid = BPF_CORE_READ(parent, pid);
		if (bpf_core_read_str(p->parent.comm, sizeof(p->parent.comm), &parent->comm) < 0)
			p->parent.comm[0] = '\0';
	} else {
		p->parent.pid = 0;
		p->parent.tid = 0;
		p->parent.comm[0] = '\0';
	}
}

/* Older name of gadget_process_populate(). */
static __always_inline void gadget_fill_current_process(struct gadget_process *p)
{
	gadget_process_populate(p);
}

#endif /* __GADGET_COMMON_H */
