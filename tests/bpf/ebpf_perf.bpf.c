// SPDX-License-Identifier: GPL-2.0
/* Loader fixture: a tracer whose map is a perf event array (raw_tp attach). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>

struct perf_event_rec {
	__u32 pid;
	__u32 syscall;
};

const volatile __u32 targ_pid = 0;
GADGET_PARAM(targ_pid);

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

GADGET_TRACER(perf, perf_events, perf_event_rec);

SEC("raw_tp/sys_enter")
int ig_raw_enter(struct bpf_raw_tracepoint_args *ctx)
{
	struct perf_event_rec ev = {};
	__u64 id = bpf_get_current_pid_tgid();

	if ((id >> 32) != targ_pid)
		return 0;
	ev.pid = id >> 32;
	ev.syscall = (__u32)ctx->args[1];
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
