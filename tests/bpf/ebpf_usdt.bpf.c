// SPDX-License-Identifier: GPL-2.0
/* Loader fixture: a USDT probe program (libbpf's usdt.bpf.h reads its
 * argument). The section names a library probe; tests retarget it with
 * programs.ig_usdt.attach_to to a binary of their own. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/usdt.bpf.h>

#include <gadget/macros.h>

struct usdt_event {
	__u32 pid;
	__u32 tid;
	__s64 arg0;
	__s32 nargs;
};

const volatile __u32 targ_pid = 0;
GADGET_PARAM(targ_pid);

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

GADGET_TRACER(usdt, events, usdt_event);

SEC("usdt/libc:sonde_test:tick")
int ig_usdt(struct pt_regs *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct usdt_event ev = {};
	long v = 0;

	if (targ_pid && (id >> 32) != targ_pid)
		return 0;
	ev.pid = id >> 32;
	ev.tid = (__u32)id;
	ev.nargs = bpf_usdt_arg_cnt(ctx);
	if (bpf_usdt_arg(ctx, 0, &v) == 0)
		ev.arg0 = v;
	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
