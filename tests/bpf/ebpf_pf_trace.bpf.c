// SPDX-License-Identifier: GPL-2.0
/* Loader fixture for GADGET_PF on real traffic: a socket filter (kind 1) and
 * a TC ingress classifier (kind 2) report every packet that passes the pcap
 * filter, with the bytes where an IPv4/UDP packet has its destination port
 * (offset 36 from the Ethernet header): both must see the packet from L2. */
#include <vmlinux.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/packetfilter.h>
#include <gadget/types.h>

#define TC_ACT_UNSPEC (-1)

struct pf_event {
	__u32 kind;
	__u32 dport;
	__u32 len;
};

GADGET_TRACER_MAP(events, 65536);
GADGET_TRACER(packets, events, pf_event);

GADGET_PF();

static __always_inline void report(struct __sk_buff *skb, __u32 kind)
{
	struct pf_event *ev;
	__u16 port = 0;

	if (bpf_skb_load_bytes(skb, 36, &port, sizeof(port)))
		port = 0;
	ev = gadget_reserve_buf(&events, sizeof(*ev));
	if (!ev)
		return;
	ev->kind = kind;
	ev->dport = bpf_ntohs(port);
	ev->len = skb->len;
	gadget_submit_buf(skb, &events, ev, sizeof(*ev));
}

SEC("socket1")
int pf_sock(struct __sk_buff *skb)
{
	if (gadget_pf_matches((void *)skb, (void *)0, (void *)(long)skb->len))
		report(skb, 1);
	return 0;
}

SEC("classifier/ingress/pf")
int pf_tc(struct __sk_buff *skb)
{
	if (gadget_pf_matches((void *)skb, (void *)(long)skb->data, (void *)(long)skb->data_end))
		report(skb, 2);
	return TC_ACT_UNSPEC;
}

char _license[] SEC("license") = "GPL";
