// SPDX-License-Identifier: GPL-2.0
/* Loader fixture: a map iterator over per-tid getpid counts. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>

struct count_key {
	__u32 tid;
};

struct count_value {
	__u64 calls;
};

const volatile __u32 targ_pid = 0;
GADGET_PARAM(targ_pid);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct count_key);
	__type(value, struct count_value);
} counts SEC(".maps");

GADGET_MAPITER(calls, counts);

SEC("tracepoint/syscalls/sys_enter_getpid")
int ig_count(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct count_key key = {.tid = (__u32)id};
	struct count_value one = {.calls = 1}, *v;

	if ((id >> 32) != targ_pid)
		return 0;
	v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		__sync_fetch_and_add(&v->calls, 1);
	else
		bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
