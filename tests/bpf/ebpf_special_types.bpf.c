// SPDX-License-Identifier: GPL-2.0
/* Formatter fixture: one event per getpid() carrying every special type the
 * formatters operator renders, with known values. */
#include <vmlinux.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct special_event {
	gadget_timestamp timestamp_raw;
	gadget_pid pid;
	gadget_errno error_raw;
	gadget_signal sig_raw;
	gadget_syscall syscall_raw;
	gadget_file_flags flags_raw;
	gadget_file_mode mode_raw;
	gadget_bytes size_raw;
	gadget_duration latency_raw;
	struct gadget_l3endpoint_t src;
	struct gadget_l4endpoint_t dst;
};

const volatile gadget_pid targ_pid = 0;
GADGET_PARAM(targ_pid);

GADGET_TRACER_MAP(events, 1024 * 64);
GADGET_TRACER(special, events, special_event);

SEC("tracepoint/syscalls/sys_enter_getpid")
int ig_special_getpid(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct special_event *ev;

	if (targ_pid && (id >> 32) != targ_pid)
		return 0;
	ev = gadget_reserve_buf(&events, sizeof(*ev));
	if (!ev)
		return 0;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->timestamp_raw = bpf_ktime_get_boot_ns();
	ev->pid = id >> 32;
	ev->error_raw = 13;      /* EACCES */
	ev->sig_raw = 15;        /* SIGTERM */
	ev->syscall_raw = 39;    /* getpid */
	ev->flags_raw = 02101;   /* O_WRONLY|O_CREAT|O_APPEND */
	ev->mode_raw = 0755;
	ev->size_raw = 2500000;  /* 2.5 MB */
	ev->latency_raw = 1500;  /* 1.50µs */
	ev->src.addr_raw.v4 = bpf_htonl(0x0a000001); /* 10.0.0.1 */
	ev->src.version = 4;
	ev->dst.addr_raw.v6[0] = 0x20;
	ev->dst.addr_raw.v6[1] = 0x01;
	ev->dst.addr_raw.v6[2] = 0x0d;
	ev->dst.addr_raw.v6[3] = 0xb8;
	ev->dst.addr_raw.v6[15] = 0x01; /* 2001:db8::1 */
	ev->dst.version = 6;
	ev->dst.port = 8080;
	ev->dst.proto_raw = 17; /* UDP */
	gadget_submit_buf(ctx, &events, ev, sizeof(*ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
