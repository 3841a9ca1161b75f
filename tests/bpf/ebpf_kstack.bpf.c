// SPDX-License-Identifier: GPL-2.0
/* Kernel stack fixture: a tracer on getpid(2) whose events carry the kernel
 * stack of the tracepoint (bpf_get_stackid into ig_kstack). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/kernel_stack_map.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct kstack_event {
	gadget_pid pid;
	gadget_kernel_stack kstack_raw;
	gadget_kernel_stack other_stack; /* no _raw suffix: annotated in the test */
};

const volatile gadget_pid targ_pid = 0;
GADGET_PARAM(targ_pid);

GADGET_TRACER_MAP(events, 1024 * 64);
GADGET_TRACER(kstack, events, kstack_event);

/*
 * A raw tracepoint, not syscalls/sys_enter_getpid: a syscall tracepoint
 * hands bpf_get_stackid the user-mode registers of the syscall, so before
 * 6.x kernels collect no kernel frames (-EFAULT on 6.1); a raw tracepoint
 * takes the caller's kernel registers everywhere.
 */
SEC("raw_tracepoint/sys_enter")
int ig_kstack_getpid(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct kstack_event *ev;

	if (ctx->args[1] != 39 /* x86-64 getpid */ || (targ_pid && (id >> 32) != targ_pid))
		return 0;
	ev = gadget_reserve_buf(&events, sizeof(*ev));
	if (!ev)
		return 0;
	ev->pid = id >> 32;
	ev->kstack_raw = gadget_get_kernel_stack(ctx);
	ev->other_stack = (__u32)-14; /* -EFAULT: a stack that could not be taken */
	gadget_submit_buf(ctx, &events, ev, sizeof(*ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
