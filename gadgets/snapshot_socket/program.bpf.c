// SPDX-License-Identifier: GPL-2.0
/* snapshot_socket: the TCP and UDP sockets of the selected network
 * namespaces right now, from the tcp and udp BPF iterators (which list the
 * sockets of the namespace the iterator is opened in: userspace opens one
 * per namespace). Like /proc/net/tcp, TIME_WAIT and request (SYN_RECV)
 * sockets have inode 0: no file holds them. */

#include <vmlinux.h>

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

#include <gadget/macros.h>
#include <gadget/types.h>

#define AF_INET  2
#define AF_INET6 10

struct socket_entry {
	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;
	__u32 state;
	__u32 ino;
	gadget_netns_id netns_id;
};

GADGET_ITER(sockets, socket_entry, ig_snap_tcp, ig_snap_udp);

/* The fields every kind of socket shares (struct sock_common). */
static __always_inline void fill_common(struct socket_entry *e, struct sock_common *skc, __u16 proto)
{
	e->src.proto_raw = e->dst.proto_raw = proto;
	e->src.port = BPF_CORE_READ(skc, skc_num); /* host order */
	e->dst.port = bpf_ntohs(BPF_CORE_READ(skc, skc_dport));
	e->netns_id = BPF_CORE_READ(skc, skc_net.net, ns.inum);
	if (BPF_CORE_READ(skc, skc_family) == AF_INET6) {
		e->src.version = e->dst.version = 6;
		BPF_CORE_READ_INTO(&e->src.addr_raw.v6, skc, skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->dst.addr_raw.v6, skc, skc_v6_daddr.in6_u.u6_addr8);
	} else {
		e->src.version = e->dst.version = 4;
		e->src.addr_raw.v4 = BPF_CORE_READ(skc, skc_rcv_saddr);
		e->dst.addr_raw.v4 = BPF_CORE_READ(skc, skc_daddr);
	}
}

/* Inode of the socket's file (what /proc/<pid>/fd links name), 0 if none. */
static __always_inline __u32 sock_ino(struct sock *sk)
{
	struct socket *sock = BPF_CORE_READ(sk, sk_socket);
	struct socket_alloc *sa;

	if (!sock)
		return 0;
	sa = container_of(sock, struct socket_alloc, socket);
	return BPF_CORE_READ(sa, vfs_inode.i_ino);
}

static __always_inline bool family_ok(struct sock_common *skc)
{
	__u16 family = BPF_CORE_READ(skc, skc_family);

	return family == AF_INET || family == AF_INET6;
}

SEC("iter/tcp")
int ig_snap_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct socket_entry e = {};
	struct tcp_request_sock *req;
	struct tcp_timewait_sock *tw;
	struct tcp_sock *tp;

	if (!skc || !family_ok(skc))
		return 0;
	fill_common(&e, skc, IPPROTO_TCP);

	tp = bpf_skc_to_tcp_sock(skc);
	if (tp) {
		e.state = BPF_CORE_READ(skc, skc_state);
		e.ino = sock_ino((struct sock *)tp);
	} else if ((tw = bpf_skc_to_tcp_timewait_sock(skc))) {
		/* the state a TIME_WAIT socket really is in (FIN_WAIT2 or TIME_WAIT) */
		e.state = BPF_CORE_READ(tw, tw_sk.tw_substate);
	} else if ((req = bpf_skc_to_tcp_request_sock(skc))) {
		e.state = TCP_SYN_RECV; /* no file yet: inode 0 */
	} else {
		return 0;
	}
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}

SEC("iter/udp")
int ig_snap_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct sock_common *skc;
	struct socket_entry e = {};

	if (!udp)
		return 0;
	skc = (struct sock_common *)udp;
	if (!family_ok(skc))
		return 0;
	fill_common(&e, skc, IPPROTO_UDP);
	e.state = BPF_CORE_READ(skc, skc_state);
	e.ino = sock_ino((struct sock *)udp);
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}

char _license[] SEC("license") = "GPL";
