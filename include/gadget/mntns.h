/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Mount namespace id of the current task (the container enrichment/filter key). */
#ifndef __GADGET_MNTNS_H
#define __GADGET_MNTNS_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* current->nsproxy->mnt_ns->ns.inum; 0 if the task has no nsproxy (exiting). */
static __always_inline __u64 gadget_get_current_mntns_id(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
}

/* Deprecated name of gadget_get_current_mntns_id() (deprecated upstream too). */
__attribute__((deprecated("use gadget_get_current_mntns_id()"))) static __always_inline __u64
gadget_get_mntns_id(void)
{
	return gadget_get_current_mntns_id();
}

#endif /* __GADGET_MNTNS_H */
