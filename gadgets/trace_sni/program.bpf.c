// SPDX-License-Identifier: GPL-2.0
/* trace_sni: the server name (SNI) of every TLS ClientHello sent or received
 * in the selected network namespaces, parsed from the packet by a socket
 * filter, with the process that owns the local socket (gadget_sockets). */

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define GADGET_NO_BUF_RESERVE
#define GADGET_TYPE_NETWORKING
#include <gadget/macros.h>
#include <gadget/buffer.h>
#include <gadget/types.h>
#include <gadget/sockets-map.h>
#include <gadget/filter.h>

/* A name longer than this is not reported (upstream's bound; a power of
 * two, see parse_client_hello). */
#define SNI_MAX_NAME_LEN 128
/* Extensions walked before server_name; clients put it early. */
#define SNI_MAX_EXTENSIONS 24

/* TLS record: type(1) version(2) length(2); handshake: type(1) length(3),
 * ClientHello: version(2) random(32) session_id<0..32>, cipher_suites<2..>,
 * compression_methods<1..>, extensions<0..>. */
#define TLS_RECORD_HANDSHAKE 0x16
#define TLS_CLIENT_HELLO     0x01
#define TLS_HANDSHAKE_OFF    5
#define TLS_SESSION_ID_OFF   (TLS_HANDSHAKE_OFF + 4 + 2 + 32)
#define TLS_EXT_SERVER_NAME  0x0000
/* server_name extension: type(2) length(2) list_length(2) name_type(1)
 * name_length(2) name */
#define SNI_NAME_LEN_OFF 7
#define SNI_NAME_OFF     9

struct event_t {
	gadget_timestamp timestamp_raw;
	gadget_netns_id netns_id;
	struct gadget_process proc;

	char name[SNI_MAX_NAME_LEN];
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(sni, events, event_t);

/* Offset of the TCP payload of an IPv4 or IPv6 (no extension header)
 * packet with the PSH flag, or 0. */
static __always_inline __u32 tcp_payload(struct __sk_buff *skb)
{
	struct tcphdr tcp;
	__u16 proto;
	__u32 l4;
	__u8 b;

	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &proto, sizeof(proto)))
		return 0;
	if (proto == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, protocol), &b, 1) ||
		    b != IPPROTO_TCP)
			return 0;
		if (bpf_skb_load_bytes(skb, ETH_HLEN, &b, 1)) /* version and IHL */
			return 0;
		l4 = ETH_HLEN + (b & 0x0f) * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr, nexthdr), &b, 1) ||
		    b != IPPROTO_TCP)
			return 0;
		l4 = ETH_HLEN + sizeof(struct ipv6hdr);
	} else {
		return 0;
	}
	if (bpf_skb_load_bytes(skb, l4, &tcp, sizeof(tcp)) || !tcp.psh)
		return 0;
	return l4 + tcp.doff * 4;
}

/* Copies the SNI of the ClientHello at off into name; its length or 0. */
static __always_inline __u32 parse_client_hello(struct __sk_buff *skb, __u32 off, char *name)
{
	__u8 b8[2];
	__u16 b16, len;
	__u32 ext, end, size;
	int i;

	if (bpf_skb_load_bytes(skb, off, b8, 1) || b8[0] != TLS_RECORD_HANDSHAKE)
		return 0;
	if (bpf_skb_load_bytes(skb, off + TLS_HANDSHAKE_OFF, b8, 1) || b8[0] != TLS_CLIENT_HELLO)
		return 0;
	off += TLS_SESSION_ID_OFF;
	if (bpf_skb_load_bytes(skb, off, b8, 1))
		return 0;
	off += 1 + b8[0];
	if (bpf_skb_load_bytes(skb, off, &b16, 2)) /* cipher suites */
		return 0;
	off += 2 + bpf_ntohs(b16);
	if (bpf_skb_load_bytes(skb, off, b8, 1)) /* compression methods */
		return 0;
	off += 1 + b8[0];
	if (bpf_skb_load_bytes(skb, off, &b16, 2)) /* extensions */
		return 0;
	off += 2;
	end = off + bpf_ntohs(b16);

	ext = 0;
	for (i = 0; i < SNI_MAX_EXTENSIONS; i++) {
		__u16 type;

		if (off + 4 > end)
			return 0;
		if (bpf_skb_load_bytes(skb, off, &type, 2) || bpf_skb_load_bytes(skb, off + 2, &b16, 2))
			return 0;
		if (bpf_ntohs(type) == TLS_EXT_SERVER_NAME) {
			ext = off;
			break;
		}
		off += 4 + bpf_ntohs(b16);
	}
	if (!ext)
		return 0;
	if (bpf_skb_load_bytes(skb, ext + SNI_NAME_LEN_OFF, &b16, 2))
		return 0;
	len = bpf_ntohs(b16);
	if (len == 0 || len > SNI_MAX_NAME_LEN)
		return 0;
	/* One load of a variable size, no per-byte loop. The verifier must
	 * see 1 <= size <= 128, which clang's fused range check hides from
	 * it; the mask (a power of two) spells it out, and changes nothing. */
	size = ((__u32)len - 1) & (SNI_MAX_NAME_LEN - 1);
	if (bpf_skb_load_bytes(skb, ext + SNI_NAME_OFF, name, size + 1))
		return 0;
	return len;
}

SEC("socket1")
int ig_trace_sni(struct __sk_buff *skb)
{
	struct gadget_socket_value *sock;
	struct event_t event = {};
	__u32 off;

	off = tcp_payload(skb);
	if (!off || !parse_client_hello(skb, off, event.name))
		return 0;

	sock = gadget_socket_lookup(skb);
	if (gadget_should_discard_data_by_skb(sock))
		return 0;

	event.netns_id = skb->cb[0]; /* written by the dispatcher */
	event.timestamp_raw = bpf_ktime_get_boot_ns();
	gadget_process_populate_from_socket(sock, &event.proc);
	gadget_output_buf(skb, &events, &event, sizeof(event));
	return 0;
}

char _license[] SEC("license") = "GPL";
