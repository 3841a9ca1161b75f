// SPDX-License-Identifier: GPL-2.0
/* Fixture of test_socket_enricher: a socket filter that, like upstream's
 * network gadgets (trace_dns, trace_sni), looks the packet's local socket up
 * in gadget_sockets and reports its owner through a struct gadget_process.
 * Only TCP/UDP over IPv4 with `port` as source or destination. */
#include <vmlinux.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define GADGET_TYPE_NETWORKING
#include <gadget/macros.h>
#include <gadget/sockets-map.h>
#include <gadget/types.h>

struct se_event {
	struct gadget_process proc;
	__u32 found;
	__u32 pkt_type;
	__u16 sport, dport; /* host order */
	__u8 proto;
};

const volatile __u16 port = 0;
GADGET_PARAM(port);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

GADGET_TRACER(packets, events, se_event);

SEC("socket1")
int ig_se_lookup(struct __sk_buff *skb)
{
	struct se_event ev = {};
	struct gadget_socket_value *v;
	__u16 proto, ports[2];
	__u8 ihl;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2) || proto != bpf_htons(GADGET_SE_ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, GADGET_SE_ETH_HLEN + 9, &ev.proto, 1) ||
	    (ev.proto != IPPROTO_TCP && ev.proto != IPPROTO_UDP))
		return 0;
	if (bpf_skb_load_bytes(skb, GADGET_SE_ETH_HLEN, &ihl, 1))
		return 0;
	if (bpf_skb_load_bytes(skb, GADGET_SE_ETH_HLEN + (ihl & 0x0f) * 4, ports, sizeof(ports)))
		return 0;
	ev.sport = bpf_ntohs(ports[0]);
	ev.dport = bpf_ntohs(ports[1]);
	if (!port || (ev.sport != port && ev.dport != port))
		return 0;
	ev.pkt_type = skb->pkt_type;
	v = gadget_socket_lookup(skb);
	ev.found = v != NULL;
	gadget_process_populate_from_socket(v, &ev.proc);
	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
