// SPDX-License-Identifier: GPL-2.0
/* Loader fixture for the program types attached per network namespace,
 * interface, CPU, cgroup or sockmap: a socket filter, two TC classifiers, a
 * perf_event sampler, a sockops program that puts the test's TCP sockets in a
 * sockhash, and sk_msg and sk_skb/stream_verdict programs on that sockhash. Every program reports
 * through one ring buffer, `kind` saying which; tests switch off those they
 * do not exercise (programs.<prog>.attach_to: gadget_program_disabled). */
#include <vmlinux.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>
#include <gadget/types.h>

#define TC_ACT_UNSPEC (-1)
#define ETH_HLEN      14
#define ETH_P_IP      0x0800
#define IPPROTO_UDP_  17

enum net_kind {
	KIND_SOCKET = 1,
	KIND_TC_INGRESS = 2,
	KIND_TC_EGRESS = 3,
	KIND_PERF = 4,
	KIND_SOCKOPS = 5,
	KIND_SK_MSG = 6,
	KIND_SK_SKB = 7,
};

struct net_event {
	__u32 kind;
	gadget_netns_id netns; /* skb->cb[0], set by the dispatcher */
	__u32 ifindex;
	__u32 len;
	__u32 pkt_type;
	__u32 saddr, daddr; /* network order */
	__u16 sport, dport; /* host order */
	__u32 cpu;
	__u32 pid;
};

/* UDP packets to port or port + 1; TCP sockets on port (sockops, sk_msg). */
const volatile __u16 port = 0;
GADGET_PARAM(port);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

GADGET_TRACER(net, events, net_event);

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");

static __always_inline void emit(struct net_event *ev)
{
	bpf_ringbuf_output(&events, ev, sizeof(*ev), 0);
}

/* Ethernet + IPv4 + UDP to our ports: fills ev, returns true. */
static __always_inline bool parse_udp(struct __sk_buff *skb, struct net_event *ev)
{
	struct iphdr ip;
	struct udphdr udp;
	__u16 proto;

	if (bpf_skb_load_bytes(skb, 12, &proto, 2) || proto != bpf_htons(ETH_P_IP))
		return false;
	if (bpf_skb_load_bytes(skb, ETH_HLEN, &ip, sizeof(ip)) || ip.protocol != IPPROTO_UDP_ || ip.ihl != 5)
		return false;
	if (bpf_skb_load_bytes(skb, ETH_HLEN + sizeof(ip), &udp, sizeof(udp)))
		return false;
	ev->dport = bpf_ntohs(udp.dest);
	if (!port || (ev->dport != port && ev->dport != port + 1))
		return false;
	ev->sport = bpf_ntohs(udp.source);
	ev->saddr = ip.saddr;
	ev->daddr = ip.daddr;
	ev->netns = skb->cb[0];
	ev->ifindex = skb->ifindex;
	ev->len = skb->len;
	ev->pkt_type = skb->pkt_type;
	return true;
}

SEC("socket1")
int ig_sock(struct __sk_buff *skb)
{
	struct net_event ev = {.kind = KIND_SOCKET};

	if (parse_udp(skb, &ev))
		emit(&ev);
	return 0; /* nothing queued on the packet socket */
}

SEC("classifier/ingress/count")
int ig_tc_in(struct __sk_buff *skb)
{
	struct net_event ev = {.kind = KIND_TC_INGRESS};

	if (parse_udp(skb, &ev))
		emit(&ev);
	return TC_ACT_UNSPEC;
}

SEC("classifier/egress/count")
int ig_tc_eg(struct __sk_buff *skb)
{
	struct net_event ev = {.kind = KIND_TC_EGRESS};

	if (parse_udp(skb, &ev))
		emit(&ev);
	return TC_ACT_UNSPEC;
}

SEC("perf_event/sample")
int ig_perf(struct bpf_perf_event_data *ctx)
{
	struct net_event ev = {.kind = KIND_PERF};

	ev.cpu = bpf_get_smp_processor_id();
	ev.pid = bpf_get_current_pid_tgid() >> 32;
	emit(&ev);
	return 0;
}

SEC("sockops")
int ig_sockops(struct bpf_sock_ops *skops)
{
	struct net_event ev = {.kind = KIND_SOCKOPS};
	__u32 key;

	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	ev.sport = skops->local_port;
	ev.dport = bpf_ntohl(skops->remote_port);
	if (!port || (ev.sport != port && ev.dport != port))
		return 1;
	ev.pkt_type = skops->op;
	emit(&ev);
	key = ev.sport;
	bpf_sock_hash_update(skops, &socks, &key, BPF_NOEXIST);
	return 1;
}

SEC("sk_msg")
int ig_sk_msg(struct sk_msg_md *msg)
{
	struct net_event ev = {.kind = KIND_SK_MSG};

	ev.len = msg->size;
	ev.sport = msg->local_port;
	ev.dport = bpf_ntohl(msg->remote_port);
	emit(&ev);
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int ig_sk_skb(struct __sk_buff *skb)
{
	struct net_event ev = {.kind = KIND_SK_SKB};

	ev.len = skb->len;
	ev.sport = skb->local_port;
	emit(&ev);
	return SK_PASS;
}

GADGET_SK_TARGET_MAP(ig_sk_msg, socks);
GADGET_SK_TARGET_MAP(ig_sk_skb, socks);

char LICENSE[] SEC("license") = "GPL";
