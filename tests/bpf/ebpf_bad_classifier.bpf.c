// SPDX-License-Identifier: GPL-2.0
/* Bad fixture: a classifier whose section names no direction. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

SEC("classifier/sideways/count")
int ig_bad_cls(struct __sk_buff *skb)
{
	return -1;
}

char LICENSE[] SEC("license") = "GPL";
