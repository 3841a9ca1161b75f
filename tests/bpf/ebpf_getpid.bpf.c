// SPDX-License-Identifier: GPL-2.0
/* Loader fixture: a ring-buffer tracer on sys_enter_getpid, filtered by a pid
 * param; the ring buffer size is a param too (<map>_max_entries). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct getpid_event {
	gadget_timestamp timestamp_raw;
	gadget_pid pid;
	gadget_tid tid;
	gadget_comm comm[TASK_COMM_LEN];
	__u64 seq;
};

const volatile gadget_pid targ_pid = 0;
GADGET_PARAM(targ_pid);

/* The loader sizes `events` from this variable. */
const volatile __u32 events_max_entries = 1024 * 256;
GADGET_PARAM(events_max_entries);

GADGET_TRACER_MAP(events, 4096);
GADGET_TRACER(getpid, events, getpid_event);

__u64 seq;

SEC("tracepoint/syscalls/sys_enter_getpid")
int ig_getpid(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct getpid_event *ev;

	if (targ_pid && (id >> 32) != targ_pid)
		return 0;
	ev = gadget_reserve_buf(&events, sizeof(*ev));
	if (!ev)
		return 0;
	ev->timestamp_raw = bpf_ktime_get_boot_ns();
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	ev->seq = __sync_fetch_and_add(&seq, 1);
	gadget_submit_buf(ctx, &events, ev, sizeof(*ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
