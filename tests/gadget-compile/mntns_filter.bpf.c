// SPDX-License-Identifier: GPL-2.0
/* <gadget/mntns_filter.h> alone: the container filter switch and map. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/mntns_filter.h>

SEC("raw_tracepoint/sched_process_exec")
int exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	gadget_mntns_id id = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);

	if (!gadget_filter_by_mntns)
		return 0;
	return gadget_should_discard_mntns_id(id);
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_mntns_filter_map' */
/* expect-btf: 'gadget_filter_by_mntns' */
