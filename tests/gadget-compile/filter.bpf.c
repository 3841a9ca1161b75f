// SPDX-License-Identifier: GPL-2.0
/* <gadget/filter.h>: the standard filter params and every should_discard helper. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

_Static_assert(GADGET_INVALID_ID == (gadget_uid)-1, "invalid id");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct gadget_socket_value);
} owners SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_kill")
int kill_entry(void *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();
	gadget_comm comm[TASK_COMM_LEN];
	struct gadget_socket_value *owner;
	__u32 zero = 0;

	if (gadget_should_discard_data_current())
		return 0;

	bpf_get_current_comm(comm, sizeof(comm));
	if (gadget_should_discard_mntns_id(gadget_get_current_mntns_id()) ||
	    gadget_should_discard_pid(pid_tgid >> 32) || gadget_should_discard_tid((__u32)pid_tgid) ||
	    gadget_should_discard_uid((__u32)uid_gid) || gadget_should_discard_gid(uid_gid >> 32) ||
	    gadget_should_discard_comm(comm))
		return 0;
	if (gadget_should_discard_data(gadget_get_current_mntns_id(), pid_tgid >> 32, (__u32)pid_tgid, comm,
	                               (__u32)uid_gid, uid_gid >> 32))
		return 0;

	owner = bpf_map_lookup_elem(&owners, &zero);
	return gadget_should_discard_data_by_skb(owner) ? 0 : 1;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_param_targ_pid' */
/* expect-btf: 'gadget_param_targ_tid' */
/* expect-btf: 'gadget_param_targ_uid' */
/* expect-btf: 'gadget_param_targ_gid' */
/* expect-btf: 'gadget_param_targ_comm' */
/* expect-btf: 'gadget_filter_by_mntns' */
/* expect-btf: 'gadget_mntns_filter_map' */
