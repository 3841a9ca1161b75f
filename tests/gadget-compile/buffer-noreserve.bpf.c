// SPDX-License-Identifier: GPL-2.0
/* <gadget/buffer.h> with GADGET_NO_BUF_RESERVE: no heap map, gadget_output_buf only. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#define GADGET_NO_BUF_RESERVE
#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_pid pid;
};

GADGET_TRACER_MAP(events, 4096);
GADGET_TRACER(out, events, event);

SEC("raw_tracepoint/sys_enter")
int enter(void *ctx)
{
	struct event e = {.pid = bpf_get_current_pid_tgid() >> 32};

	gadget_output_buf(ctx, &events, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-no-btf: 'gadget_heap' */
