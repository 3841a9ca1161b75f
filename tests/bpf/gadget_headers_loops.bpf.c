// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime fixture of the libbpf 1.3 loop macros that include/bpf/bpf_helpers.h
 * adds over the system libbpf (integration test test_gadget_headers).
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

__u64 squares[8];
__u64 repeated;
__u64 each_sum;

SEC("tc")
int loops(struct __sk_buff *skb)
{
	int i, *p;

	bpf_for(i, 0, 8) squares[i] = (__u64)i * i;
	bpf_repeat(5) repeated++;
	bpf_for_each(num, p, 10, 14) each_sum += *p;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
