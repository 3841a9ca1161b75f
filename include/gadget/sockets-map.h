/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Socket enricher map: from a packet or a struct sock to the process that owns the socket. */
#ifndef __GADGET_SOCKETS_MAP_H
#define __GADGET_SOCKETS_MAP_H

/*
 * Socket filters and TC classifiers are often built on <linux/types.h> and
 * the uapi headers, tracing programs on <vmlinux.h>; the two cannot be mixed,
 * so the gadget includes one of them first and this header includes neither.
 */
#if !defined(__VMLINUX_H__) && !defined(_LINUX_TYPES_H)
#error "Include <linux/types.h> or <vmlinux.h> before <gadget/sockets-map.h>."
#endif

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include <gadget/types.h>

/*
 * Select the lookup helpers with one of (before including this header):
 *   GADGET_TYPE_NETWORKING  socket filter / TC: gadget_socket_lookup(skb),
 *                           gadget_socket_lookup_with_direction(skb, ingress)
 *   GADGET_TYPE_TRACING     tracing: gadget_socket_lookup(sk, netns)
 *
 * The protocol constants are spelled out here, prefixed GADGET_SE_, so that
 * this header needs no uapi networking header and defines nothing a gadget
 * might define itself.
 */
#define GADGET_SE_PACKET_HOST 0 /* skb->pkt_type of a packet for this host */
#define GADGET_SE_ETH_HLEN    14
#define GADGET_SE_ETH_P_IP    0x0800
#define GADGET_SE_ETH_P_IPV6  0x86DD
#define GADGET_SE_AF_INET     2
#define GADGET_SE_AF_INET6    10

#define GADGET_SE_IPV6_HLEN           40
#define GADGET_SE_IPV6_NEXTHDR_OFFSET 6 /* ipv6hdr::nexthdr */

#define GADGET_SE_TCPHDR_DEST_OFFSET   2
#define GADGET_SE_TCPHDR_SOURCE_OFFSET 0
#define GADGET_SE_UDPHDR_DEST_OFFSET   2
#define GADGET_SE_UDPHDR_SOURCE_OFFSET 0

/* IPv6 next-header values (TCP and UDP double as IPPROTO_TCP/UDP). */
#define GADGET_SE_NEXTHDR_HOP      0
#define GADGET_SE_NEXTHDR_TCP      6
#define GADGET_SE_NEXTHDR_UDP      17
#define GADGET_SE_NEXTHDR_ROUTING  43
#define GADGET_SE_NEXTHDR_FRAGMENT 44
#define GADGET_SE_NEXTHDR_AUTH     51
#define GADGET_SE_NEXTHDR_NONE     59
#define GADGET_SE_NEXTHDR_DEST     60

/*
 * Key of gadget_sockets, shared with the socket enricher operator that fills
 * the map. Upstream's layout, padding included (12 bytes; callers zero the
 * whole key, padding is hashed too):
 *   0 netns (inode of the socket's network namespace)
 *   4 family (GADGET_SE_AF_INET or GADGET_SE_AF_INET6)
 *   6 proto (IPPROTO_TCP or IPPROTO_UDP)
 *   8 port (local port, host byte order)
 * The value is struct gadget_socket_value (<gadget/types.h>).
 */
struct gadget_socket_key {
	__u32 netns;
	__u16 family;
	__u8 proto;
	__u16 port;
};

/*
 * Replaceable map: the socket enricher passes its own map (same name, type,
 * key and max_entries; value size chosen by its optional fields) and the
 * gadget reads the entries it keeps up to date.
 */
#define GADGET_MAX_SOCKETS 16384
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GADGET_MAX_SOCKETS);
	__type(key, struct gadget_socket_key);
	__type(value, struct gadget_socket_value);
} gadget_sockets SEC(".maps");

/*
 * Look key up; an IPv4 miss is retried as an IPv6 socket of the same port,
 * which receives IPv4 too unless it is IPV6_V6ONLY.
 */
static __always_inline struct gadget_socket_value *__gadget_socket_lookup_key(struct gadget_socket_key *key)
{
	struct gadget_socket_value *val;

	val = bpf_map_lookup_elem(&gadget_sockets, key);
	if (val || key->family != GADGET_SE_AF_INET)
		return val;
	key->family = GADGET_SE_AF_INET6;
	val = bpf_map_lookup_elem(&gadget_sockets, key);
	if (val && val->ipv6only == 0)
		return val;
	return NULL;
}

#ifdef GADGET_TYPE_NETWORKING
/*
 * Entry of the local socket of the packet in skb, or NULL. is_ingress says
 * which port is local: the destination one for a packet coming in, the
 * source one going out. The network namespace is skb->cb[0], written by the
 * dispatcher program that tail-calls the gadget. Parses Ethernet, IPv4
 * (with options) or IPv6 (up to 6 extension headers), then TCP or UDP.
 */
static __always_inline struct gadget_socket_value *
gadget_socket_lookup_with_direction(const struct __sk_buff *skb, __u8 is_ingress)
{
	struct gadget_socket_key key;
	__u16 h_proto, port;
	__u8 b;
	__u32 l4;
	int i;

	__builtin_memset(&key, 0, sizeof(key));
	key.netns = skb->cb[0];

	if (bpf_skb_load_bytes(skb, 12 /* ethhdr::h_proto */, &h_proto, sizeof(h_proto)))
		return NULL;

	if (h_proto == bpf_htons(GADGET_SE_ETH_P_IP)) {
		key.family = GADGET_SE_AF_INET;
		if (bpf_skb_load_bytes(skb, GADGET_SE_ETH_HLEN + 9 /* protocol */, &key.proto,
		                       sizeof(key.proto)))
			return NULL;
		/* IHL: low nibble of the first byte, in 32-bit words */
		if (bpf_skb_load_bytes(skb, GADGET_SE_ETH_HLEN, &b, sizeof(b)))
			return NULL;
		l4 = GADGET_SE_ETH_HLEN + (b & 0x0f) * 4;
	} else if (h_proto == bpf_htons(GADGET_SE_ETH_P_IPV6)) {
		key.family = GADGET_SE_AF_INET6;
		if (bpf_skb_load_bytes(skb, GADGET_SE_ETH_HLEN + GADGET_SE_IPV6_NEXTHDR_OFFSET, &key.proto,
		                       sizeof(key.proto)))
			return NULL;
		l4 = GADGET_SE_ETH_HLEN + GADGET_SE_IPV6_HLEN;

		/* the extension headers the kernel knows (ipv6_ext_hdr()) */
#pragma unroll
		for (i = 0; i < 6; i++) {
			__u8 next, len;

			if (key.proto == GADGET_SE_NEXTHDR_TCP || key.proto == GADGET_SE_NEXTHDR_UDP)
				break;
			if (bpf_skb_load_bytes(skb, l4, &next, sizeof(next)))
				return NULL;
			switch (key.proto) {
			case GADGET_SE_NEXTHDR_FRAGMENT:
				l4 += 8; /* fixed size */
				break;
			case GADGET_SE_NEXTHDR_AUTH:
				/* length in 4-byte words, minus 2 */
				if (bpf_skb_load_bytes(skb, l4 + 1, &len, sizeof(len)))
					return NULL;
				l4 += 4 * (len + 2);
				break;
			case GADGET_SE_NEXTHDR_HOP:
			case GADGET_SE_NEXTHDR_ROUTING:
			case GADGET_SE_NEXTHDR_DEST:
				/* length in 8-byte words, minus 1 */
				if (bpf_skb_load_bytes(skb, l4 + 1, &len, sizeof(len)))
					return NULL;
				l4 += 8 * (len + 1);
				break;
			default: /* NEXTHDR_NONE or unknown: no port to find */
				return NULL;
			}
			key.proto = next;
		}
	} else {
		return NULL;
	}

	/* TCP and UDP both start with source then destination port. */
	if (key.proto == GADGET_SE_NEXTHDR_TCP)
		l4 += is_ingress ? GADGET_SE_TCPHDR_DEST_OFFSET : GADGET_SE_TCPHDR_SOURCE_OFFSET;
	else if (key.proto == GADGET_SE_NEXTHDR_UDP)
		l4 += is_ingress ? GADGET_SE_UDPHDR_DEST_OFFSET : GADGET_SE_UDPHDR_SOURCE_OFFSET;
	else
		return NULL;
	if (bpf_skb_load_bytes(skb, l4, &port, sizeof(port)))
		return NULL;
	key.port = bpf_ntohs(port);

	return __gadget_socket_lookup_key(&key);
}

/*
 * Same, with the direction from skb->pkt_type: for socket filters. TC
 * programs must give the direction themselves: on a host-side veth, packets
 * routed through the host also look addressed to the host.
 */
static __always_inline struct gadget_socket_value *gadget_socket_lookup(const struct __sk_buff *skb)
{
	return gadget_socket_lookup_with_direction(skb, skb->pkt_type == GADGET_SE_PACKET_HOST);
}
#endif /* GADGET_TYPE_NETWORKING */

#ifdef GADGET_TYPE_TRACING
/* Entry of the TCP or UDP socket sk, which lives in network namespace netns; NULL if unknown. */
static __always_inline struct gadget_socket_value *gadget_socket_lookup(const struct sock *sk, __u32 netns)
{
	struct gadget_socket_key key;
	const struct inet_sock *inet = (const struct inet_sock *)sk;

	__builtin_memset(&key, 0, sizeof(key));
	key.netns = netns;
	key.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	key.proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (key.proto != GADGET_SE_NEXTHDR_TCP && key.proto != GADGET_SE_NEXTHDR_UDP)
		return NULL;
	key.port = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));

	return bpf_map_lookup_elem(&gadget_sockets, &key);
}
#endif /* GADGET_TYPE_TRACING */

/* Fill p with the owner of the socket; p is left untouched if skb_val is NULL. */
static __always_inline void gadget_process_populate_from_socket(const struct gadget_socket_value *skb_val,
                                                                struct gadget_process *p)
{
	if (!skb_val)
		return;

	__builtin_memcpy(p->comm, skb_val->task, sizeof(p->comm));
	p->pid = skb_val->pid_tgid >> 32;
	p->tid = (__u32)skb_val->pid_tgid;
	p->mntns_id = skb_val->mntns;
	p->creds.uid = (__u32)skb_val->uid_gid;
	p->creds.gid = skb_val->uid_gid >> 32;
	__builtin_memcpy(p->parent.comm, skb_val->ptask, sizeof(p->parent.comm));
	p->parent.pid = skb_val->ppid;
	/* ptid came later: absent from the BTF of older socket enrichers */
	p->parent.tid = bpf_core_field_exists(skb_val->ptid) ? skb_val->ptid : 0;
}

#endif /* __GADGET_SOCKETS_MAP_H */
