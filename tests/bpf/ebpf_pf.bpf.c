// SPDX-License-Identifier: GPL-2.0
/* Loader fixture for GADGET_PF (pcap filters): TC classifiers and a socket
 * filter whose return value is the verdict of gadget_pf_matches, so that
 * BPF_PROG_TEST_RUN shows what the inserted filter answered. pf_both uses
 * the unnamed filter and the one named `second` (bit 0 and bit 1) and keeps
 * a little of its own stack, as gadgets do. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/packetfilter.h>

GADGET_PF();
GADGET_PF(second);

SEC("classifier/ingress/pf")
int pf_main(struct __sk_buff *skb)
{
	return gadget_pf_matches((void *)skb, (void *)(long)skb->data, (void *)(long)skb->data_end) ? 1 : 0;
}

SEC("classifier/egress/pf_both")
int pf_both(struct __sk_buff *skb)
{
	volatile __u32 keep[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	int a = gadget_pf_matches((void *)skb, (void *)(long)skb->data, (void *)(long)skb->data_end);
	int b = gadget_pf_matches(second, (void *)skb, (void *)(long)skb->data, (void *)(long)skb->data_end);

	/* the filters must not have touched the caller's frame */
	if (keep[0] != 1 || keep[7] != 8)
		return 100;
	return (a ? 1 : 0) | (b ? 2 : 0);
}

/* Socket filters cannot read skb->data: they pass 0 and the length. */
SEC("socket1")
int pf_sock(struct __sk_buff *skb)
{
	return gadget_pf_matches((void *)skb, (void *)0, (void *)(long)skb->len) ? 1 : 0;
}

char _license[] SEC("license") = "GPL";
