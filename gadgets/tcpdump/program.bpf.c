// SPDX-License-Identifier: GPL-2.0
/* tcpdump: every packet of the selected containers' interfaces (or of --iface),
 * both directions, with its first `snaplen` bytes, its owner process when the
 * socket enricher knows the local socket, and a pcap filter (--pf). */

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/packetfilter.h>
#include <gadget/types.h>

#define GADGET_TYPE_NETWORKING
#include <gadget/sockets-map.h>

/* Default capture length: a whole Ethernet frame of the usual MTU. */
#define MAX_PKT_LEN 1500

/* include/uapi/linux/pkt_cls.h: let the next filter of the interface run
 * (upstream returns TC_ACT_OK, which would skip another program's filters). */
#define TC_ACT_UNSPEC (-1)

/* Values of packet_type, as upstream's. */
#define PACKET_TYPE_EGRESS  0
#define PACKET_TYPE_INGRESS 1

/*
 * Names, types and order as upstream's tcpdump, so that its consumers read
 * Sonde's records. The captured bytes are not part of the struct: perf
 * appends them to the sample (ebpf.rest.name=payload, length payload_len).
 */
struct packet_event_t {
	gadget_timestamp timestamp_raw;
	__u8 packet_type;   /* PACKET_TYPE_*, seen from the container (or --iface) */
	__u32 ifindex;      /* interface the program runs on (host side) */
	__u32 payload_len;  /* bytes appended: min(packet_size, snaplen) */
	__u32 packet_size;  /* skb->len: the whole packet from its Ethernet header */
	struct gadget_process proc;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} packets SEC(".maps");

/* perf's own loss records miss the drops just before the run stops */
GADGET_LOST_COUNTER(packets);

/* The event is too big for the stack together with the socket lookup's key. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct packet_event_t));
} tmp_packets SEC(".maps");

GADGET_TRACER(packets, packets, packet_event_t);

const volatile __u16 snaplen = MAX_PKT_LEN;
GADGET_PARAM(snaplen);

/* The loader puts the --pf expression here; without one every non-empty packet matches. */
GADGET_PF();

static __always_inline int handle(struct __sk_buff *skb, __u8 packet_type)
{
	struct gadget_socket_value *sock;
	struct packet_event_t *event;
	__u32 zero = 0;
	__u64 len;

	if (!gadget_pf_matches((void *)skb, (void *)(long)skb->data, (void *)(long)skb->data_end))
		return TC_ACT_UNSPEC;

	event = bpf_map_lookup_elem(&tmp_packets, &zero);
	if (!event)
		return TC_ACT_UNSPEC;
	__builtin_memset(event, 0, sizeof(*event));

	len = skb->len;
	event->packet_size = len;
	if (len > snaplen)
		len = snaplen;
	event->payload_len = len;
	event->timestamp_raw = bpf_ktime_get_boot_ns();
	event->ifindex = skb->ifindex;
	event->packet_type = packet_type;

	/* The local socket: the destination port of what comes in, the source port of what goes out. */
	sock = gadget_socket_lookup_with_direction(skb, packet_type == PACKET_TYPE_INGRESS);
	gadget_process_populate_from_socket(sock, &event->proc);

	/* The upper 32 bits of the flags: how many bytes of the packet perf appends. */
	if (bpf_perf_event_output(skb, &packets, (len << 32) | BPF_F_CURRENT_CPU, event, sizeof(*event)))
		gadget_count_lost(packets);
	return TC_ACT_UNSPEC;
}

/* The data pointers only cover the linear part: pull the whole packet into it
 * first (length 0 = all), so that the filter sees the headers it looks at. */
SEC("classifier/ingress/main")
int ingress_main(struct __sk_buff *skb)
{
	bpf_skb_pull_data(skb, 0);
	return handle(skb, PACKET_TYPE_INGRESS);
}

SEC("classifier/egress/main")
int egress_main(struct __sk_buff *skb)
{
	bpf_skb_pull_data(skb, 0);
	return handle(skb, PACKET_TYPE_EGRESS);
}

char _license[] SEC("license") = "GPL";
