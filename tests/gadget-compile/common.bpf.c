// SPDX-License-Identifier: GPL-2.0
/* <gadget/common.h> first, as upstream gadgets may: it brings vmlinux.h itself. */
#include <gadget/common.h>
#include <gadget/buffer.h>
#include <gadget/macros.h>

struct event {
	struct gadget_process proc;
};

GADGET_TRACER_MAP(events, 4096 * 64);
GADGET_TRACER(procs, events, event);

SEC("tp_btf/sched_process_fork")
int fork(u64 *ctx)
{
	struct event e;

	gadget_process_populate(&e.proc);
	gadget_output_buf(ctx, &events, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_process' size=64 */
