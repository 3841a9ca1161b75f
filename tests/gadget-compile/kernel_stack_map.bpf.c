// SPDX-License-Identifier: GPL-2.0
/* <gadget/kernel_stack_map.h>: a kernel stack id in an event. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/kernel_stack_map.h>
#include <gadget/macros.h>
#include <gadget/types.h>

_Static_assert(GADGET_KERNEL_MAX_STACK_DEPTH == 127 && GADGET_KERNEL_STACK_MAP_MAX_ENTRIES == 10000,
               "kernel stack map size");

struct event {
	gadget_kernel_stack kernel_stack_raw;
};

GADGET_TRACER_MAP(events, 4096 * 64);
GADGET_TRACER(stacks, events, event);

SEC("tracepoint/sched/sched_process_exit")
int exit_stack(void *ctx)
{
	struct event e = {};
	long id = gadget_get_kernel_stack(ctx);

	e.kernel_stack_raw = id < 0 ? 0 : id;
	gadget_output_buf(ctx, &events, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'ig_kstack' */
