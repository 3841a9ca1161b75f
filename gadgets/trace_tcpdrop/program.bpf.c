// SPDX-License-Identifier: GPL-2.0
/* trace_tcpdrop: TCP packets the kernel drops (skb:kfree_skb with a drop
 * reason), with the connection's endpoints and state, the packet's TCP
 * flags, the kernel stack and the process that owns the socket. Only
 * packets that still belong to a socket are reported: that is where the
 * endpoints, the state and the owner come from. */

#include <vmlinux.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include <gadget/buffer.h>
#include <gadget/types.h>
#include <gadget/macros.h>
#include <gadget/mntns_filter.h>
#include <gadget/kernel_stack_map.h>

#define GADGET_TYPE_TRACING
#include <gadget/sockets-map.h>

#define AF_INET  2
#define AF_INET6 10

/* The kernel's TCP states (include/net/tcp_states.h), named for the
 * `state` column. */
enum tcp_state {
	tcp_established = 1,
	tcp_syn_sent = 2,
	tcp_syn_recv = 3,
	tcp_fin_wait1 = 4,
	tcp_fin_wait2 = 5,
	tcp_time_wait = 6,
	tcp_close = 7,
	tcp_close_wait = 8,
	tcp_last_ack = 9,
	tcp_listen = 10,
	tcp_closing = 11,
	tcp_new_syn_recv = 12,
	tcp_max_states = 13,
};

/* The flags byte of the TCP header; "_set": shown as FIN|SYN|... */
enum tcp_flags_set : __u8 {
	FIN = 0x01,
	SYN = 0x02,
	RST = 0x04,
	PSH = 0x08,
	ACK = 0x10,
	URG = 0x20,
	ECE = 0x40,
	CWR = 0x80,
};

struct event {
	gadget_timestamp timestamp_raw;
	gadget_netns_id netns_id;

	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;

	/* the socket's owner, from the socket enricher (upstream's flat names) */
	gadget_mntns_id mount_ns_id;
	gadget_comm comm[TASK_COMM_LEN];
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_gid gid;

	enum tcp_state state_raw;
	enum tcp_flags_set tcpflags_raw;
	/* the running kernel's numbering: userspace names it from the
	 * kernel's own enum (this enum is CO-RE relocated below) */
	enum skb_drop_reason reason_raw;
	gadget_kernel_stack kernel_stack_raw;
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(tcpdrop, events, event);

/* Byte 13 of the TCP header holds the flags. */
#define TCP_FLAGS_OFF 13

/* Endpoints of sk; false if it has none yet (unbound, unconnected). */
static __always_inline bool read_endpoints(struct sock *sk, struct event *e)
{
	struct inet_sock *inet = (struct inet_sock *)sk;

	e->src.port = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	e->dst.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (!e->src.port || !e->dst.port)
		return false;
	e->src.proto_raw = e->dst.proto_raw = IPPROTO_TCP;
	switch (BPF_CORE_READ(sk, __sk_common.skc_family)) {
	case AF_INET:
		e->src.version = e->dst.version = 4;
		e->src.addr_raw.v4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		e->dst.addr_raw.v4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		return e->src.addr_raw.v4 && e->dst.addr_raw.v4;
	case AF_INET6:
		e->src.version = e->dst.version = 6;
		BPF_CORE_READ_INTO(&e->src.addr_raw.v6, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->dst.addr_raw.v6, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		return true;
	}
	return false;
}

SEC("tracepoint/skb/kfree_skb")
int ig_tcpdrop(struct trace_event_raw_kfree_skb *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;
	struct sock *sk = BPF_CORE_READ(skb, sk);
	struct gadget_socket_value *owner;
	int reason = ctx->reason;
	int not_specified;
	unsigned char *head;
	__u16 th;
	struct event *e;

	/* Plain kfree_skb() says NOT_SPECIFIED (or less: not a drop); only
	 * drops with a reason are reported. The value is the running
	 * kernel's: it moved between releases. */
	if (!bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED))
		return 0;
	not_specified = bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED);
	if (reason <= not_specified || !sk)
		return 0;
	if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP)
		return 0;

	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	if (!read_endpoints(sk, e))
		goto discard;

	e->netns_id = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	owner = gadget_socket_lookup(sk, e->netns_id);
	if (owner) {
		/* the container is the socket's, not the current task's */
		if (gadget_should_discard_mntns_id(owner->mntns))
			goto discard;
		e->mount_ns_id = owner->mntns;
		e->pid = owner->pid_tgid >> 32;
		e->tid = (__u32)owner->pid_tgid;
		__builtin_memcpy(e->comm, owner->task, sizeof(e->comm));
		e->uid = (__u32)owner->uid_gid;
		e->gid = (__u32)(owner->uid_gid >> 32);
	} else if (gadget_filter_by_mntns) {
		goto discard; /* unknown owner: in no selected container */
	}

	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->state_raw = BPF_CORE_READ(sk, __sk_common.skc_state);
	e->reason_raw = reason;
	e->kernel_stack_raw = gadget_get_kernel_stack(ctx);
	head = BPF_CORE_READ(skb, head);
	th = BPF_CORE_READ(skb, transport_header);
	bpf_probe_read_kernel(&e->tcpflags_raw, 1, head + th + TCP_FLAGS_OFF);

	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
discard:
	gadget_discard_buf(e);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
