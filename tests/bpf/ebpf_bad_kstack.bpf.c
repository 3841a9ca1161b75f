// SPDX-License-Identifier: GPL-2.0
/* Bad fixture: a gadget_kernel_stack field without the ig_kstack map
 * (kernel_stack_map.h not included). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct bad_kstack_event {
	gadget_kernel_stack kstack_raw;
};

GADGET_TRACER_MAP(events, 4096);
GADGET_TRACER(badkstack, events, bad_kstack_event);

SEC("tracepoint/syscalls/sys_enter_getpid")
int ig_bad_kstack(void *ctx)
{
	struct bad_kstack_event ev = {};

	gadget_output_buf(ctx, &events, &ev, sizeof(ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
