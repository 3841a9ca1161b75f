// SPDX-License-Identifier: GPL-2.0
/*
 * <gadget/sockets-map.h> in networking programs built on the uapi headers
 * (as upstream trace_dns, trace_sni): socket filter and TC lookups, the
 * per-packet filter and the process block from the socket owner.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <linux/types.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define GADGET_TYPE_NETWORKING

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/sockets-map.h>
#include <gadget/types.h>

/* The uapi values and the header's own must agree. */
_Static_assert(GADGET_SE_ETH_HLEN == ETH_HLEN && GADGET_SE_ETH_P_IP == ETH_P_IP &&
                   GADGET_SE_ETH_P_IPV6 == ETH_P_IPV6,
               "ethernet constants");
_Static_assert(GADGET_SE_NEXTHDR_TCP == IPPROTO_TCP && GADGET_SE_NEXTHDR_UDP == IPPROTO_UDP,
               "protocol numbers");

/* gadget_sockets layout shared with the socket enricher (upstream's). */
_Static_assert(sizeof(struct gadget_socket_key) == 12, "socket key size");
_Static_assert(__builtin_offsetof(struct gadget_socket_key, netns) == 0 &&
                   __builtin_offsetof(struct gadget_socket_key, family) == 4 &&
                   __builtin_offsetof(struct gadget_socket_key, proto) == 6 &&
                   __builtin_offsetof(struct gadget_socket_key, port) == 8,
               "socket key layout");
_Static_assert(GADGET_MAX_SOCKETS == 16384, "gadget_sockets size");

struct event {
	struct gadget_process proc;
	gadget_netns_id netns_id;
	__u32 len;
	bool ingress;
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(packets, events, event);

static __always_inline int emit(struct __sk_buff *skb, struct gadget_socket_value *owner, bool ingress)
{
	struct event *e;

	if (gadget_should_discard_data_by_skb(owner))
		return 0;
	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	gadget_process_populate_from_socket(owner, &e->proc);
	e->netns_id = skb->cb[0];
	e->len = skb->len;
	e->ingress = ingress;
	gadget_submit_buf(skb, &events, e, sizeof(*e));
	return 0;
}

SEC("socket1")
int packets_filter(struct __sk_buff *skb)
{
	emit(skb, gadget_socket_lookup(skb), skb->pkt_type == GADGET_SE_PACKET_HOST);
	return 0;
}

SEC("classifier/ingress/packets")
int packets_ingress(struct __sk_buff *skb)
{
	emit(skb, gadget_socket_lookup_with_direction(skb, 1), true);
	return TC_ACT_UNSPEC;
}

SEC("classifier/egress/packets")
int packets_egress(struct __sk_buff *skb)
{
	emit(skb, gadget_socket_lookup_with_direction(skb, 0), false);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_sockets' */
/* expect-btf: 'gadget_socket_key' size=12 */
/* expect-btf: 'gadget_socket_value' size=8280 */
