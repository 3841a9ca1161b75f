// SPDX-License-Identifier: GPL-2.0
/* Bad fixture: an sk_msg program bound to a map that is no sockmap. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} plain SEC(".maps");

SEC("sk_msg")
int ig_bad_msg(struct sk_msg_md *msg)
{
	return SK_PASS;
}

GADGET_SK_TARGET_MAP(ig_bad_msg, plain);

char LICENSE[] SEC("license") = "GPL";
