// SPDX-License-Identifier: GPL-2.0
/* expect-error: gadget_pf_matches: wrong number of arguments */
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include <gadget/packetfilter.h>
#include <gadget/types.h>

GADGET_PF();

SEC("socket1")
int filter(struct __sk_buff *skb)
{
	return gadget_pf_matches(skb, (void *)(long)skb->data);
}

char LICENSE[] SEC("license") = "GPL";
