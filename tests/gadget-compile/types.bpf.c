// SPDX-License-Identifier: GPL-2.0
/* <gadget/types.h>: every special type in an event, and the layouts shared with userspace. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_timestamp timestamp_raw;
	gadget_mntns_id mntns_id;
	gadget_netns_id netns_id;
	gadget_signal sig_raw;
	gadget_errno error_raw;
	gadget_uid uid_raw;
	gadget_gid gid_raw;
	gadget_pid pid;
	gadget_ppid ppid;
	gadget_tid tid;
	gadget_ptid ptid;
	gadget_comm comm[TASK_COMM_LEN];
	gadget_pcomm pcomm[TASK_COMM_LEN];
	gadget_syscall syscall_raw;
	gadget_file_mode mode_raw;
	gadget_file_flags flags_raw;
	gadget_bytes size;
	gadget_duration latency;
	gadget_kernel_stack kstack_raw;
	gadget_counter__u32 c32;
	gadget_counter__u64 c64;
	gadget_gauge__u32 g32;
	gadget_gauge__u64 g64;
	gadget_histogram_slot__u32 h32[32];
	gadget_histogram_slot__u64 h64[64];
	struct gadget_l3endpoint_t dst;
	struct gadget_l4endpoint_t src;
	struct gadget_process proc;
	struct gadget_creds creds;
	struct gadget_parent parent;
	struct gadget_user_stack ustack_raw;
	bool flag;
};

/* Offsets upstream's userspace (and Sonde's) rely on. */
#define OFF(t, m, o) _Static_assert(__builtin_offsetof(t, m) == (o), #t "." #m)
_Static_assert(sizeof(union gadget_ip_addr_t) == 16, "ip addr");
OFF(union gadget_ip_addr_t, v6_raw, 0);
OFF(union gadget_ip_addr_t, v4, 0);
_Static_assert(sizeof(struct gadget_l3endpoint_t) == 32, "l3 (int128 alignment)");
OFF(struct gadget_l3endpoint_t, version, 16);
OFF(struct gadget_l4endpoint_t, port, 16);
OFF(struct gadget_l4endpoint_t, proto_raw, 18);
OFF(struct gadget_l4endpoint_t, version, 20);
_Static_assert(sizeof(struct gadget_process) == 64, "process");
OFF(struct gadget_process, mntns_id, 24);
OFF(struct gadget_process, creds, 32);
OFF(struct gadget_process, parent, 40);
_Static_assert(sizeof(struct gadget_user_stack) == 72, "user stack");
OFF(struct gadget_user_stack, major, 0);
OFF(struct gadget_user_stack, minor, 4);
OFF(struct gadget_user_stack, inode, 8);
OFF(struct gadget_user_stack, mtime_sec, 16);
OFF(struct gadget_user_stack, mtime_nsec, 24);
OFF(struct gadget_user_stack, base_addr_hash, 28);
OFF(struct gadget_user_stack, stack_id, 32);
OFF(struct gadget_user_stack, tgid_level0, 36);
OFF(struct gadget_user_stack, pid_level0, 40);
OFF(struct gadget_user_stack, pidns_level0, 44);
OFF(struct gadget_user_stack, pid_level1, 48);
OFF(struct gadget_user_stack, pidns_level1, 52);
OFF(struct gadget_user_stack, otel_correlation_id, 56);
OFF(struct gadget_user_stack, boot_timestamp, 64);
OFF(struct gadget_socket_value, mntns, 0);
OFF(struct gadget_socket_value, pid_tgid, 8);
OFF(struct gadget_socket_value, uid_gid, 16);
OFF(struct gadget_socket_value, task, 24);
OFF(struct gadget_socket_value, ptask, 40);
OFF(struct gadget_socket_value, sock, 56);
OFF(struct gadget_socket_value, deletion_timestamp, 64);
OFF(struct gadget_socket_value, ppid, 72);
OFF(struct gadget_socket_value, ptid, 76);
OFF(struct gadget_socket_value, ipv6only, 80);
OFF(struct gadget_socket_value, optional_fields_start, 88);
OFF(struct gadget_socket_value, cwd, 88);
OFF(struct gadget_socket_value, exepath, 88 + GADGET_SE_PATH_MAX);

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(types, events, event);

SEC("tracepoint/signal/signal_generate")
int on_signal(void *ctx)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));

	if (!e)
		return 0;
	e->timestamp_raw = bpf_ktime_get_boot_ns();
	e->dst.addr_raw.v6_raw = 1;
	e->src.addr_raw.v4 = 0x0100007f;
	e->src.version = 4;
	e->flag = true;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_tracer_types___events___event' */
/* expect-btf: 'gadget_user_stack' size=72 */
/* expect-btf: 'v6_raw' type_id=[0-9]+ bits_offset=0 */
