// SPDX-License-Identifier: GPL-2.0
/* trace_dns: every DNS packet (UDP or TCP, IPv4 or IPv6, port 53 or 5353 on
 * either side) of the traced network namespaces, with the process that owns
 * the local socket and, on a response, the time since its query.
 *
 * A socket filter (one per network namespace, skb->cb[0] = its inode, set
 * by the dispatcher). The event carries upstream's layout; the packet
 * itself follows it in the perf sample (ebpf.rest.name: data), from the
 * Ethernet header, and userspace parses the DNS message from dns_off (the
 * dnsparser operator; upstream does it in wasm). Nothing of the DNS message
 * but its ID and QR bit is read here. */

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define GADGET_TYPE_NETWORKING

/* only GADGET_LOST_COUNTER: the perf map is declared below */
#define GADGET_NO_BUF_RESERVE
#include <gadget/buffer.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/sockets-map.h>
#include <gadget/types.h>

#define PATH_LEN 512 /* upstream's TRACE_DNS_PATH_MAX */

#define ETH_HLEN_     14
#define ETH_P_IP_     0x0800
#define ETH_P_IPV6_   0x86DD
#define IPPROTO_TCP_  6
#define IPPROTO_UDP_  17
#define UDP_HLEN      8
#define IPV6_HLEN     40
#define DNS_HDR_LEN   12
#define QUERY_MAP_MAX 1024

/* The ports that mean DNS: const, not a GADGET_PARAM, as upstream. */
#define MAX_PORTS 16
const volatile __u16 ports[MAX_PORTS] = {53, 5353};
const volatile __u16 ports_len = 2;

/* Fill cwd and exepath from the socket enricher (only when it collects them). */
const volatile bool paths = false;
GADGET_PARAM(paths);

/* skb->pkt_type (PACKET_HOST …): an enum so that userspace shows its names. */
enum pkt_type_t : __u8 {
	HOST,
	BROADCAST,
	MULTICAST,
	OTHERHOST,
	OUTGOING,
	LOOPBACK,
	USER,
	KERNEL,
};

struct event_t {
	gadget_timestamp timestamp_raw;
	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;
	struct gadget_l3endpoint_t nameserver; /* dst of a query, src of a response */
	gadget_netns_id netns_id;
	struct gadget_process proc;
	char cwd[PATH_LEN];
	char exepath[PATH_LEN];

	enum pkt_type_t pkt_type_raw;
	gadget_duration latency_ns_raw; /* responses coming in (HOST) to a query that went out */

	__u16 dns_off; /* where the DNS message starts in the packet */
	__u32 data_len; /* bytes of packet after the event */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

/* perf's own loss records miss the drops just before the run stops */
GADGET_LOST_COUNTER(events);

GADGET_TRACER(dns, events, event_t);

/* The event is too large for the stack (1 KiB of paths). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event_t);
} tmp_events SEC(".maps");

/* Queries waiting for their response: (socket owner, DNS ID) -> boot time.
 * An LRU map, so that queries never answered age out by themselves
 * (upstream's plain hash fills up with them and then stops measuring). */
struct query_key_t {
	__u64 pid_tgid;
	__u16 id;
	__u16 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, QUERY_MAP_MAX);
	__type(key, struct query_key_t);
	__type(value, __u64);
} query_map SEC(".maps");

static __always_inline bool is_dns_port(__u16 port)
{
	for (int i = 0; i < MAX_PORTS; i++) {
		if (i >= ports_len)
			break;
		if (ports[i] == port)
			return true;
	}
	return false;
}

/* Offset of the L4 header and its protocol; false if not TCP/UDP over IP. */
static __always_inline bool l4_of(struct __sk_buff *skb, __u16 h_proto, __u32 *l4, __u8 *proto)
{
	__u8 b, next, len;

	if (h_proto == ETH_P_IP_) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN_, &b, 1) ||
		    bpf_skb_load_bytes(skb, ETH_HLEN_ + offsetof(struct iphdr, protocol), proto, 1))
			return false;
		*l4 = ETH_HLEN_ + (b & 0x0f) * 4; /* IHL, in 32-bit words */
	} else if (h_proto == ETH_P_IPV6_) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN_ + offsetof(struct ipv6hdr, nexthdr), proto, 1))
			return false;
		*l4 = ETH_HLEN_ + IPV6_HLEN;
		/* the extension headers of ipv6_ext_hdr(), at most 6 */
#pragma unroll
		for (int i = 0; i < 6; i++) {
			if (*proto == IPPROTO_TCP_ || *proto == IPPROTO_UDP_)
				break;
			if (bpf_skb_load_bytes(skb, *l4, &next, 1))
				return false;
			switch (*proto) {
			case GADGET_SE_NEXTHDR_FRAGMENT:
				*l4 += 8;
				break;
			case GADGET_SE_NEXTHDR_AUTH:
				if (bpf_skb_load_bytes(skb, *l4 + 1, &len, 1))
					return false;
				*l4 += 4 * (len + 2);
				break;
			case GADGET_SE_NEXTHDR_HOP:
			case GADGET_SE_NEXTHDR_ROUTING:
			case GADGET_SE_NEXTHDR_DEST:
				if (bpf_skb_load_bytes(skb, *l4 + 1, &len, 1))
					return false;
				*l4 += 8 * (len + 1);
				break;
			default:
				return false;
			}
			*proto = next;
		}
	} else {
		return false;
	}
	return *proto == IPPROTO_TCP_ || *proto == IPPROTO_UDP_;
}

static __always_inline void copy_paths(struct event_t *event, struct gadget_socket_value *skb_val)
{
	/* the enricher's BTF says whether it collects them: sonde's does not */
	if (bpf_core_field_exists(skb_val->cwd))
		bpf_probe_read_kernel_str(event->cwd, sizeof(event->cwd), skb_val->cwd);
	if (bpf_core_field_exists(skb_val->exepath))
		bpf_probe_read_kernel_str(event->exepath, sizeof(event->exepath), skb_val->exepath);
}

SEC("socket1")
int ig_trace_dns(struct __sk_buff *skb)
{
	struct gadget_socket_value *skb_val;
	struct event_t *event;
	__u16 h_proto, ports_be[2], sport, dport, dns_off, id, flags;
	__u32 l4, zero = 0;
	__u8 proto, doff;
	bool qr;

	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &h_proto, 2))
		return 0;
	h_proto = bpf_ntohs(h_proto);
	if (!l4_of(skb, h_proto, &l4, &proto))
		return 0;
	/* TCP and UDP both start with the source and destination ports */
	if (bpf_skb_load_bytes(skb, l4, ports_be, sizeof(ports_be)))
		return 0;
	sport = bpf_ntohs(ports_be[0]);
	dport = bpf_ntohs(ports_be[1]);
	if (!is_dns_port(sport) && !is_dns_port(dport))
		return 0;

	if (proto == IPPROTO_UDP_) {
		dns_off = l4 + UDP_HLEN;
	} else {
		/* best effort: the first segment of a message, its 2-byte length
		 * first; no reassembly. Segments without data are skipped. */
		if (bpf_skb_load_bytes(skb, l4 + 12, &doff, 1))
			return 0;
		dns_off = l4 + (doff >> 4) * 4;
		if (skb->len <= dns_off)
			return 0;
		dns_off += 2;
	}
	if (bpf_skb_load_bytes(skb, dns_off, &id, 2) || bpf_skb_load_bytes(skb, dns_off + 2, &flags, 2))
		return 0;
	id = bpf_ntohs(id);
	qr = bpf_ntohs(flags) >> 15;

	event = bpf_map_lookup_elem(&tmp_events, &zero);
	if (!event)
		return 0;
	/* the slot is reused: clear what is not always written below */
	__builtin_memset(&event->src, 0, sizeof(event->src));
	__builtin_memset(&event->dst, 0, sizeof(event->dst));
	__builtin_memset(&event->nameserver, 0, sizeof(event->nameserver));
	__builtin_memset(&event->proc, 0, sizeof(event->proc));
	event->latency_ns_raw = 0;
	event->cwd[0] = 0;
	event->exepath[0] = 0;

	event->timestamp_raw = bpf_ktime_get_boot_ns();
	event->netns_id = skb->cb[0];
	event->pkt_type_raw = skb->pkt_type;
	event->dns_off = dns_off;
	event->data_len = skb->len;
	event->src.proto_raw = event->dst.proto_raw = proto;
	event->src.port = sport;
	event->dst.port = dport;
	if (h_proto == ETH_P_IP_) {
		event->src.version = event->dst.version = 4;
		if (bpf_skb_load_bytes(skb, ETH_HLEN_ + offsetof(struct iphdr, saddr), &event->src.addr_raw.v4, 4) ||
		    bpf_skb_load_bytes(skb, ETH_HLEN_ + offsetof(struct iphdr, daddr), &event->dst.addr_raw.v4, 4))
			return 0;
	} else {
		event->src.version = event->dst.version = 6;
		if (bpf_skb_load_bytes(skb, ETH_HLEN_ + offsetof(struct ipv6hdr, saddr), event->src.addr_raw.v6, 16) ||
		    bpf_skb_load_bytes(skb, ETH_HLEN_ + offsetof(struct ipv6hdr, daddr), event->dst.addr_raw.v6, 16))
			return 0;
	}
	if (qr) {
		event->nameserver.version = event->src.version;
		event->nameserver.addr_raw = event->src.addr_raw;
	} else {
		event->nameserver.version = event->dst.version;
		event->nameserver.addr_raw = event->dst.addr_raw;
	}

	skb_val = gadget_socket_lookup(skb);
	if (gadget_should_discard_data_by_skb(skb_val))
		return 0;
	gadget_process_populate_from_socket(skb_val, &event->proc);
	if (paths && skb_val)
		copy_paths(event, skb_val);

	/* Latency: from a query leaving (OUTGOING) to its response coming in
	 * (HOST) on the same process's socket, matched by DNS ID. Needs the
	 * socket's owner, and a boot clock (5.8+; 0 before). */
	if (skb_val && event->timestamp_raw) {
		struct query_key_t key = {.pid_tgid = skb_val->pid_tgid, .id = id};

		if (!qr && event->pkt_type_raw == OUTGOING) {
			bpf_map_update_elem(&query_map, &key, &event->timestamp_raw, BPF_NOEXIST);
		} else if (qr && event->pkt_type_raw == HOST) {
			__u64 *sent = bpf_map_lookup_elem(&query_map, &key);

			if (sent) {
				if (*sent < event->timestamp_raw)
					event->latency_ns_raw = event->timestamp_raw - *sent;
				bpf_map_delete_elem(&query_map, &key);
			}
		}
	}

	/* the whole packet follows the event (upper 32 bits of flags) */
	if (bpf_perf_event_output(skb, &events, ((__u64)skb->len << 32) | BPF_F_CURRENT_CPU, event,
	                          sizeof(*event)))
		gadget_count_lost(events);
	return 0;
}

char _license[] SEC("license") = "GPL";
