// SPDX-License-Identifier: GPL-2.0
/*
 * advise_networkpolicy: remembers who talks to whom, for a NetworkPolicy
 * generated at stop (lib/operators/networkpolicy.c).
 *
 * A socket filter, attached once per network namespace of the traced
 * containers (the dispatcher puts the namespace's inode in skb->cb[0]),
 * records one map entry per distinct (netns, peer address, server port,
 * protocol, direction): for TCP the first SYN of a connection (its
 * destination port is the server's), for UDP datagrams to a port below
 * 1024 (no handshake tells the server side; ephemeral ports are above).
 * Upstream's fields; IPv6 is recorded too (without extension headers).
 * The map is read once, when the gadget stops (ebpf.map.flush-on-stop).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/types.h>
#include <linux/udp.h>
#include <stdbool.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>
#include <gadget/types.h>

#define PACKET_HOST     0
#define PACKET_OUTGOING 4

struct event_t {
	gadget_netns_id netns_id;
	struct gadget_l4endpoint_t endpoint; /* the peer's address, the server's port */
	__u8 egress;                         /* 1: this netns opened it, 0: the peer did */
};

/* GADGET_MAPITER wants structs for key and value; nothing to count */
struct empty_t {
	__u8 unused;
};

const struct empty_t zero = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct event_t);
	__type(value, struct empty_t);
} packets SEC(".maps");

GADGET_MAPITER(network_connections, packets);

/* The server port of a TCP SYN or a UDP datagram to a system port, 0 otherwise. */
static __always_inline __u16 server_port(struct __sk_buff *skb, __u32 l4_off, __u8 proto)
{
	if (proto == IPPROTO_TCP) {
		struct tcphdr tcph;

		if (bpf_skb_load_bytes(skb, l4_off, &tcph, sizeof(tcph)) || !tcph.syn || tcph.ack)
			return 0;
		return bpf_ntohs(tcph.dest);
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr udph;

		if (bpf_skb_load_bytes(skb, l4_off, &udph, sizeof(udph)) || bpf_ntohs(udph.dest) >= 1024)
			return 0;
		return bpf_ntohs(udph.dest);
	}
	return 0;
}

SEC("socket1")
int ig_trace_net(struct __sk_buff *skb)
{
	struct event_t event = {};
	bool egress = skb->pkt_type == PACKET_OUTGOING;
	struct ethhdr ethh;
	__u8 proto;
	__u16 port;

	/* not multicast, broadcast or forwarded: to or from this netns */
	if (skb->pkt_type != PACKET_HOST && !egress)
		return 0;
	if (bpf_skb_load_bytes(skb, 0, &ethh, sizeof(ethh)))
		return 0;

	if (ethh.h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr iph;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &iph, sizeof(iph)))
			return 0;
		proto = iph.protocol;
		port = server_port(skb, ETH_HLEN + iph.ihl * 4, proto);
		event.endpoint.addr_raw.v4 = egress ? iph.daddr : iph.saddr;
		event.endpoint.version = 4;
	} else if (ethh.h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6h;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip6h, sizeof(ip6h)))
			return 0;
		proto = ip6h.nexthdr;
		port = server_port(skb, ETH_HLEN + sizeof(ip6h), proto);
		__builtin_memcpy(event.endpoint.addr_raw.v6, egress ? &ip6h.daddr : &ip6h.saddr, 16);
		event.endpoint.version = 6;
	} else {
		return 0;
	}
	if (!port)
		return 0;

	event.netns_id = skb->cb[0];
	event.endpoint.port = port;
	event.endpoint.proto_raw = proto;
	event.egress = egress;
	bpf_map_update_elem(&packets, &event, &zero, BPF_ANY);
	return 0;
}

char _license[] SEC("license") = "GPL";
