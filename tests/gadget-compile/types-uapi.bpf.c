// SPDX-License-Identifier: GPL-2.0
/*
 * <gadget/types.h> and <gadget/buffer.h> in a TC classifier built on the
 * uapi headers instead of vmlinux.h (upstream ci/sched_cls_drop): bool must
 * come from types.h.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	struct gadget_l4endpoint_t src;
	bool ingress;
	__u32 len;
};

const volatile bool drop = false;
GADGET_PARAM(drop);

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(packets, events, event);

SEC("classifier/ingress/drop")
int ingress_drop(struct __sk_buff *skb)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));

	if (!e)
		return TC_ACT_UNSPEC;
	__builtin_memset(e, 0, sizeof(*e));
	e->ingress = true;
	e->len = skb->len;
	gadget_submit_buf(skb, &events, e, sizeof(*e));
	return drop ? TC_ACT_SHOT : TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'drop' type_id=[0-9]+, linkage=global */
