// SPDX-License-Identifier: GPL-2.0
/*
 * trace_tcp: connect, accept and close of TCP connections (IPv4 and IPv6),
 * with upstream's `tracetcp` event, from tracepoints only (the kernels this
 * runs on may have neither kprobes nor fentry):
 *
 *  - connect: sock:inet_sock_set_state CLOSE -> SYN_SENT runs inside
 *    connect(2), in the caller's context, but before the source port is
 *    chosen. The caller is remembered per socket; the event leaves when the
 *    socket reaches ESTABLISHED (success) or CLOSE (failure: sk_err holds
 *    the error, ECONNREFUSED for a refused connect), usually in softirq.
 *  - accept: syscalls:sys_exit_accept(4) in the accepting process; the new
 *    fd is resolved through the task's fd table to its struct sock.
 *  - close: the transitions an application's close() or shutdown() makes
 *    (ESTABLISHED -> FIN_WAIT1, CLOSE_WAIT -> LAST_ACK), in its own context,
 *    and ESTABLISHED/CLOSE_WAIT -> CLOSE (a reset, linger 0 or close with
 *    unread data), possibly in softirq: the owner then comes from the socket
 *    enricher's gadget_sockets map, the current task only if it has none.
 */
#define GADGET_TYPE_TRACING
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/sockets-map.h>
#include <gadget/types.h>

#define AF_INET_     2
#define AF_INET6_    10
#define IPPROTO_TCP_ 6
#define S_IFMT_      00170000
#define S_IFSOCK_    0140000

/* enum tcp_state, spelled out: the kernel's values since 2.6 */
#define TCP_ESTABLISHED_ 1
#define TCP_SYN_SENT_    2
#define TCP_FIN_WAIT1_   4
#define TCP_CLOSE_       7
#define TCP_CLOSE_WAIT_  8
#define TCP_LAST_ACK_    9

#define MAX_ENTRIES 8192

enum event_type : __u8 {
	connect,
	accept,
	close,
};

struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_process proc;
	gadget_netns_id netns_id;

	struct gadget_l4endpoint_t src;
	struct gadget_l4endpoint_t dst;

	enum event_type type_raw;
	gadget_errno error_raw;
	int fd;        /* the fd connect() or accept() was called on */
	int accept_fd; /* the fd accept() returned, -1 otherwise */
};

const volatile bool accept_only = false;
const volatile bool connect_only = false;
const volatile bool failure_only = false;

GADGET_PARAM(accept_only);
GADGET_PARAM(connect_only);
GADGET_PARAM(failure_only);

/* keeps the enum in BTF for the type_raw -> type formatter */
const enum event_type unused_eventtype __attribute__((unused));

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(tracetcp, events, event);

/* The caller of a connect() in progress, from SYN_SENT until its outcome. */
struct connector {
	struct gadget_process proc;
	int fd;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u64); /* struct sock * */
	__type(value, struct connector);
} tcp_connecting SEC(".maps");

/* tid -> fd of a connect() in progress (the fd is not in the state tracepoint) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ENTRIES);
	__type(key, __u32);
	__type(value, int);
} tcp_tid_fd SEC(".maps");

/* struct event is too large for the BPF stack next to the tuple */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct connector);
} tcp_scratch SEC(".maps");

/* Local (src) and remote (dst) endpoints of sk; false if one is unset. */
static __always_inline bool fill_endpoints(struct event *e, const struct sock *sk)
{
	const struct inet_sock *inet = (const struct inet_sock *)sk;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	if (family == AF_INET_) {
		e->src.addr_raw.v4 = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		e->dst.addr_raw.v4 = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		if (!e->src.addr_raw.v4 || !e->dst.addr_raw.v4)
			return false;
		e->src.version = e->dst.version = 4;
	} else if (family == AF_INET6_) {
		BPF_CORE_READ_INTO(&e->src.addr_raw.v6, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->dst.addr_raw.v6, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		e->src.version = e->dst.version = 6;
	} else {
		return false;
	}
	e->src.port = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	e->dst.port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (!e->src.port || !e->dst.port)
		return false;
	e->src.proto_raw = e->dst.proto_raw = IPPROTO_TCP_;
	e->netns_id = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	return true;
}

static __always_inline bool is_inet(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return family == AF_INET_ || family == AF_INET6_;
}

/* Reserves an event of type; the caller fills proc and submits or discards it. */
static __always_inline struct event *new_event(const struct sock *sk, enum event_type type)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));

	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	if (!fill_endpoints(e, sk)) {
		gadget_discard_buf(e);
		return NULL;
	}
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->type_raw = type;
	e->fd = -1;
	e->accept_fd = -1;
	return e;
}

/* ---- connect ---- */

SEC("tracepoint/syscalls/sys_enter_connect")
int ig_tcp_connect_e(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	int fd = (int)ctx->args[0];

	if (accept_only)
		return 0;
	bpf_map_update_elem(&tcp_tid_fd, &tid, &fd, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int ig_tcp_connect_x(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_delete_elem(&tcp_tid_fd, &tid);
	return 0;
}

/* SYN_SENT: in connect(2) of the caller; remembers it. */
static __always_inline void connect_start(const struct sock *sk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid(), zero = 0;
	__u64 key = (__u64)(unsigned long)sk;
	struct connector *c;
	int *fd;

	if (accept_only || !is_inet(sk) || gadget_should_discard_data_current())
		return;
	c = bpf_map_lookup_elem(&tcp_scratch, &zero);
	if (!c)
		return;
	__builtin_memset(c, 0, sizeof(*c));
	gadget_process_populate(&c->proc);
	fd = bpf_map_lookup_elem(&tcp_tid_fd, &tid);
	c->fd = fd ? *fd : -1;
	bpf_map_update_elem(&tcp_connecting, &key, c, BPF_ANY);
}

/* ESTABLISHED or CLOSE after SYN_SENT: the outcome of the connect. */
static __always_inline void connect_done(void *ctx, const struct sock *sk)
{
	__u64 key = (__u64)(unsigned long)sk;
	struct connector *c;
	struct event *e;
	int err;

	c = bpf_map_lookup_elem(&tcp_connecting, &key);
	if (!c)
		return;
	err = BPF_CORE_READ(sk, sk_err);
	if (failure_only && err == 0)
		goto out;
	e = new_event(sk, connect);
	if (!e)
		goto out;
	e->proc = c->proc;
	e->fd = c->fd;
	e->error_raw = err;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
out:
	bpf_map_delete_elem(&tcp_connecting, &key);
}

/* ---- close ---- */

static __always_inline void close_seen(void *ctx, const struct sock *sk, bool in_owner)
{
	struct gadget_socket_value *owner = NULL;
	struct event *e;
	__u32 netns;

	if (failure_only || accept_only || connect_only || !is_inet(sk))
		return;
	if (!in_owner) {
		netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
		owner = gadget_socket_lookup(sk, netns);
	}
	if (owner) {
		if (gadget_should_discard_data(owner->mntns, owner->pid_tgid >> 32, (__u32)owner->pid_tgid,
		                               owner->task, (__u32)owner->uid_gid, owner->uid_gid >> 32))
			return;
	} else if (gadget_should_discard_data_current()) {
		return;
	}
	e = new_event(sk, close);
	if (!e)
		return;
	if (owner)
		gadget_process_populate_from_socket(owner, &e->proc);
	else
		gadget_process_populate(&e->proc);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
}

SEC("tracepoint/sock/inet_sock_set_state")
int ig_tcp_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;
	int oldstate = ctx->oldstate, newstate = ctx->newstate;

	if (ctx->protocol != IPPROTO_TCP_)
		return 0;

	if (newstate == TCP_SYN_SENT_) {
		connect_start(sk);
	} else if (oldstate == TCP_SYN_SENT_) {
		if (newstate == TCP_ESTABLISHED_ || newstate == TCP_CLOSE_)
			connect_done(ctx, sk);
	} else if (oldstate == TCP_ESTABLISHED_ || oldstate == TCP_CLOSE_WAIT_) {
		/* close() and shutdown() make FIN_WAIT1 and LAST_ACK in the
		 * owner's context; CLOSE may come from a reset in softirq */
		if (newstate == TCP_FIN_WAIT1_ || newstate == TCP_LAST_ACK_)
			close_seen(ctx, sk, true);
		else if (newstate == TCP_CLOSE_)
			close_seen(ctx, sk, false);
	}
	return 0;
}

/* ---- accept ---- */

/* The sock behind fd in the current task, NULL if fd is not a socket. */
static __always_inline struct sock *fd_sock(struct task_struct *task, unsigned int fd)
{
	struct file **fds, *file;
	struct socket *sock;
	unsigned int max;
	umode_t mode;

	max = BPF_CORE_READ(task, files, fdt, max_fds);
	if (fd >= max)
		return NULL;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & S_IFMT_) != S_IFSOCK_)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

static __always_inline int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct sock *sk;
	struct event *e;
	long ret = ctx->ret;

	/* a failed accept() has no connection to show (upstream shows none
	 * either: its accept probe needs the returned sock) */
	if (ret < 0 || connect_only || failure_only)
		return 0;
	sk = fd_sock(task, (unsigned int)ret);
	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP_ || !is_inet(sk))
		return 0;
	if (gadget_should_discard_data_current())
		return 0;
	e = new_event(sk, accept);
	if (!e)
		return 0;
	gadget_process_populate(&e->proc);
	/* the listening fd: the first argument, in the registers saved at entry */
	e->fd = (int)PT_REGS_PARM1_CORE_SYSCALL((struct pt_regs *)bpf_task_pt_regs(task));
	e->accept_fd = (int)ret;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int ig_tcp_accept_x(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int ig_tcp_accept4_x(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx);
}

char LICENSE[] SEC("license") = "GPL";
