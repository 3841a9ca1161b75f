// SPDX-License-Identifier: GPL-2.0
/*
 * <gadget/buffer.h>: reserve/submit/discard and output on tracer maps, and a
 * tracer map the gadget never writes through the helpers (its lost-sample
 * counter must not trip -Wunused-function).
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

#define GADGET_MAX_EVENT_SIZE_CHECK GADGET_MAX_EVENT_SIZE
_Static_assert(GADGET_MAX_EVENT_SIZE_CHECK == 10240, "default max event size");

struct event {
	gadget_pid pid;
	char payload[200];
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(reserved, events, event);

GADGET_TRACER_MAP(copied, 1024 * 256);
GADGET_TRACER(output, copied, event);

/* declared for userspace only, never written here */
GADGET_TRACER_MAP(spare, 4096);

SEC("tracepoint/syscalls/sys_enter_getpid")
int reserve(void *ctx)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	if (e->pid == 1) {
		gadget_discard_buf(e);
		return 0;
	}
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int output(void *ctx)
{
	struct event e = {};

	e.pid = bpf_get_current_pid_tgid() >> 32;
	if (gadget_output_buf(ctx, &copied, &e, sizeof(e)))
		return 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_map_tracer_spare' */
/* expect-btf: 'events_lost_samples' */
/* expect-btf: 'gadget_heap' */
