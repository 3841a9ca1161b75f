// SPDX-License-Identifier: GPL-2.0
/* <gadget/packetfilter.h>: the unnamed and a named pcap filter, used as upstream tcpdump does. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define GADGET_TYPE_NETWORKING

#include <gadget/macros.h>
#include <gadget/packetfilter.h>
#include <gadget/types.h>

GADGET_PF();
GADGET_PF(dns);

__u64 matched;

SEC("classifier/ingress/pf")
int pf_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	if (gadget_pf_matches(skb, data, data_end))
		matched++;
	if (gadget_pf_matches(dns, skb, data, data_end))
		matched++;
	return TC_ACT_UNSPEC;
}

_Static_assert(COUNT_ARGS(a, b, c) == 3 && COUNT_ARGS(a, b, c, d) == 4, "COUNT_ARGS");

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: FUNC 'gadget_pf_' type_id=[0-9]+ linkage=static */
/* expect-btf: FUNC 'gadget_pf_dns' type_id=[0-9]+ linkage=static */
