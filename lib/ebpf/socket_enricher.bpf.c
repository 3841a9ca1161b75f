// SPDX-License-Identifier: GPL-2.0
/* Socket enricher: keeps gadget_sockets (<gadget/sockets-map.h>) filled with
 * the process that owns each TCP and UDP socket, without kprobes.
 *
 * Sources, all present on 5.9+ kernels (the cgroup ones attached at the
 * cgroup-v2 root, so they see every process):
 *  - iter/task_file: the initial scan of sockets opened before start;
 *  - cgroup/post_bind4/6: bind() with the port known, in the binder's context;
 *  - sockops TCP_CONNECT_CB: TCP connect(), in the connecting task, with
 *    the port chosen and before the SYN leaves (SYN_SENT is set earlier,
 *    with no port yet);
 *  - tracepoint sock/inet_sock_set_state: listen() without bind (-> LISTEN),
 *    close (-> CLOSE: the entry goes);
 *  - cgroup/sendmsg4/6: unconnected UDP senders (autobound before the hook);
 *  - tracepoint syscalls/sys_exit_connect: connected UDP (the port is chosen
 *    by the kernel after the cgroup connect hook, before connect() returns);
 *  - cgroup/sock_release: UDP sockets closed (TCP ones leave on CLOSE).
 * An entry is only removed by the socket that made it (value.sock), so a
 * closing accepted child never removes its listener.
 *
 * The map's values stop at optional_fields_start: cwd and exepath are not
 * collected (the BTF given to gadgets says so, bpf_core_field_exists() is
 * false). The value is built in a per-CPU scratch slot because the local
 * struct, optional fields included, is larger than the BPF stack. */
#include <vmlinux.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/sockets-map.h>

#define AF_INET_     2
#define AF_INET6_    10
#define EEXIST_      17
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define S_IFMT_      00170000
#define S_IFSOCK_    0140000
#define TCP_CLOSE_   7
#define TCP_LISTEN_  10

/* The part of the value this program fills (and the map holds). */
#define SE_FIXED_SIZE __builtin_offsetof(struct gadget_socket_value, optional_fields_start)

/* Counters read by userspace (socket_enricher.c): new entries made,
 * entries marked closed, updates refused. With an LRU map an insertion into
 * a full map evicts the oldest entry: inserted - purged by userspace - live
 * entries is what was evicted. */
__u64 se_inserted = 0;
__u64 se_removed = 0;
__u64 se_update_errors = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gadget_socket_value);
} se_scratch SEC(".maps");

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Fills key from sk; false when sk is not a bound TCP/UDP socket of IPv4/6. */
static __always_inline bool sk_key(const struct sock *sk, struct gadget_socket_key *key)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (key->family != AF_INET_ && key->family != AF_INET6_)
		return false;
	key->proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (key->proto != IPPROTO_TCP_ && key->proto != IPPROTO_UDP_)
		return false;
	/* skc_num first: post_bind runs before bind() copies it into
	 * inet_sport; inet_sport then: a TCP socket reaching CLOSE has given
	 * its port back (skc_num 0) before the tracepoint fires */
	key->port = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (key->port == 0)
		key->port = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
	if (key->port == 0)
		return false;
	key->netns = sk_netns(sk);
	return true;
}

/* The owner's fields, from any task (the iterator's tasks are not current). */
static __always_inline struct gadget_socket_value *value_of(const struct sock *sk, struct task_struct *task)
{
	struct gadget_socket_value *v;
	struct task_struct *parent;
	const struct cred *cred;
	__u32 zero = 0;

	v = bpf_map_lookup_elem(&se_scratch, &zero);
	if (!v)
		return NULL;
	__builtin_memset(v, 0, SE_FIXED_SIZE);

	v->pid_tgid = (__u64)BPF_CORE_READ(task, tgid) << 32 | (__u32)BPF_CORE_READ(task, pid);
	/* real_cred: cred may be an override borrowed for a moment (overlayfs copy-up) */
	cred = BPF_CORE_READ(task, real_cred);
	v->uid_gid = (__u64)BPF_CORE_READ(cred, gid.val) << 32 | BPF_CORE_READ(cred, uid.val);
	BPF_CORE_READ_STR_INTO(&v->task, task, comm);
	v->mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	parent = BPF_CORE_READ(task, real_parent);
	if (parent) {
		BPF_CORE_READ_STR_INTO(&v->ptask, parent, comm);
		v->ppid = BPF_CORE_READ(parent, tgid);
		v->ptid = BPF_CORE_READ(parent, pid);
	}
	v->sock = (__u64)(unsigned long)sk;
	v->ipv6only = BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_ipv6only);
	return v;
}

/* Records sk as task's. overwrite: a live source (more accurate than the
 * scan) or the scan finding a listener, which must win over its accepted
 * children that share the port. */
static __always_inline void insert(const struct sock *sk, struct task_struct *task, bool overwrite)
{
	struct gadget_socket_key key;
	struct gadget_socket_value *v, *old;
	long err;

	if (!sk || !sk_key(sk, &key))
		return;
	/* UDP senders come here for every datagram: skip unchanged entries */
	old = bpf_map_lookup_elem(&gadget_sockets, &key);
	if (old && old->sock == (__u64)(unsigned long)sk && old->deletion_timestamp == 0)
		return;
	if (old && !overwrite)
		return;
	v = value_of(sk, task);
	if (!v)
		return;
	err = bpf_map_update_elem(&gadget_sockets, &key, v, BPF_NOEXIST);
	if (err == 0) {
		__sync_fetch_and_add(&se_inserted, 1);
		return;
	}
	if (err == -EEXIST_ && overwrite && bpf_map_update_elem(&gadget_sockets, &key, v, BPF_EXIST) == 0)
		return;
	if (err != -EEXIST_)
		__sync_fetch_and_add(&se_update_errors, 1);
}

static __always_inline void insert_current(const struct sock *sk)
{
	insert(sk, (struct task_struct *)bpf_get_current_task(), true);
}

/* Marks sk's entry closed rather than deleting it: the socket's last
 * packets (a FIN, the ACK of a TIME_WAIT, datagrams still queued) still
 * find their owner. Userspace deletes marked entries after a grace period,
 * as upstream does; a new socket on the port overwrites the mark. */
static __always_inline void remove(const struct sock *sk)
{
	struct gadget_socket_key key;
	struct gadget_socket_value *v;

	if (!sk || !sk_key(sk, &key))
		return;
	v = bpf_map_lookup_elem(&gadget_sockets, &key);
	if (!v || v->sock != (__u64)(unsigned long)sk || v->deletion_timestamp)
		return;
	v->deletion_timestamp = bpf_ktime_get_ns();
	__sync_fetch_and_add(&se_removed, 1);
}

/* ---- initial scan ---- */

SEC("iter/task_file")
int se_scan(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	struct socket *sock;
	struct sock *sk;
	umode_t mode;

	/* some output now and then: a silent iterator is cut short (EAGAIN) */
	if (ctx->meta->seq_num % 100000 == 0)
		BPF_SEQ_PRINTF(ctx->meta->seq, ".");
	if (!file || !task)
		return 0;
	/* a socket's file has a socket inode and its struct socket in private_data */
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & S_IFMT_) != S_IFSOCK_)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	insert(sk, task, BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_LISTEN_);
	return 0;
}

/* ---- live sources ---- */

/* The context of cgroup sock programs is the struct sock itself (read
 * through bpf_probe_read_kernel, which root may point anywhere). */
SEC("cgroup/post_bind4")
int se_post_bind4(struct bpf_sock *ctx)
{
	insert_current((const struct sock *)ctx);
	return 1;
}

SEC("cgroup/post_bind6")
int se_post_bind6(struct bpf_sock *ctx)
{
	insert_current((const struct sock *)ctx);
	return 1;
}

/* The context of sock_addr programs is a struct bpf_sock_addr_kern, whose
 * first member has been the struct sock since 4.17; ctx->sk would be a
 * PTR_TO_SOCKET, which the verifier lets nobody offset. UDP sockets are
 * autobound before this hook, the port is known. */
static __always_inline void insert_sendmsg(void *ctx)
{
	struct sock *sk = NULL;

	if (bpf_probe_read_kernel(&sk, sizeof(sk), ctx) == 0)
		insert_current(sk);
}

SEC("cgroup/sendmsg4")
int se_sendmsg4(struct bpf_sock_addr *ctx)
{
	insert_sendmsg(ctx);
	return 1;
}

SEC("cgroup/sendmsg6")
int se_sendmsg6(struct bpf_sock_addr *ctx)
{
	insert_sendmsg(ctx);
	return 1;
}

/* The context is a struct bpf_sock_ops_kern, the struct sock first. */
SEC("sockops")
int se_sockops(struct bpf_sock_ops *ctx)
{
	struct sock *sk = NULL;

	if (ctx->op == BPF_SOCK_OPS_TCP_CONNECT_CB && bpf_probe_read_kernel(&sk, sizeof(sk), ctx) == 0)
		insert_current(sk);
	return 1;
}

SEC("cgroup/sock_release")
int se_sock_release(struct bpf_sock *ctx)
{
	remove((const struct sock *)ctx);
	return 1;
}

SEC("tracepoint/sock/inet_sock_set_state")
int se_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	const struct sock *sk = ctx->skaddr;

	if (ctx->protocol != IPPROTO_TCP_)
		return 0;
	switch (ctx->newstate) {
	case TCP_LISTEN_: /* in listen() */
		insert_current(sk);
		break;
	case TCP_CLOSE_:
		remove(sk);
		break;
	}
	return 0;
}

/* connect() on UDP: the port is chosen after the cgroup connect hook. */
SEC("tracepoint/syscalls/sys_exit_connect")
int se_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file **fds, *file;
	struct socket *sock;
	struct sock *sk;
	unsigned int fd, max;
	umode_t mode;

	if (ctx->ret != 0)
		return 0;
	/* sys_exit has only the result: the fd is the first argument, still
	 * in the registers saved at syscall entry */
	fd = (unsigned int)PT_REGS_PARM1_CORE_SYSCALL((struct pt_regs *)bpf_task_pt_regs(task));
	max = BPF_CORE_READ(task, files, fdt, max_fds);
	if (fd >= max)
		return 0;
	fds = BPF_CORE_READ(task, files, fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return 0;
	mode = BPF_CORE_READ(file, f_inode, i_mode);
	if ((mode & S_IFMT_) != S_IFSOCK_)
		return 0;
	sock = BPF_CORE_READ(file, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_UDP_)
		return 0;
	insert(sk, task, true);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
