// SPDX-License-Identifier: GPL-2.0
/* trace_open: one event per open(2), openat(2) and openat2(2) call, emitted when the call returns. */

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filesystem.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/user_stack_map.h>

#define NAME_MAX 255

struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_process proc;

	gadget_errno error_raw;        /* 0 on success, else the positive errno */
	__u32 fd;                      /* the new fd on success, 0 on failure */
	gadget_file_flags flags_raw;
	gadget_file_mode mode_raw;
	struct gadget_user_stack ustack;
	char fname[NAME_MAX];          /* path as passed by the caller */
	char fpath[GADGET_PATH_MAX];   /* full path of the opened file (paths=true) */
};

/* Only report failed opens. */
const volatile bool targ_failed = false;
/* Resolve the full path of the returned fd into fpath. */
const volatile bool paths = false;

GADGET_PARAM(targ_failed);
GADGET_PARAM(paths);

/*
 * The event is built here, then only its used part goes to the ring: the
 * members before fname, fname up to its NUL, and fpath up to its NUL when
 * there is one. Userspace zero-pads a short record to the struct (tracer.c),
 * so every field reads as if the whole struct had been sent; a typical event
 * takes ~200 bytes of the ring instead of 920.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} heap SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);

GADGET_TRACER(open, events, event);

/*
 * Runs when the call returns; its arguments are still in the task's saved
 * user registers (the syscall only writes its result to the return
 * register; arm64 keeps the first argument in orig_x0). One program per
 * call instead of an entry and an exit program sharing a hash map.
 */
static __always_inline int exit_open(void *ctx, long ret, int fname_arg,
				     bool how)
{
	struct pt_regs *regs;
	const char *fname;
	struct event *event;
	__u32 zero = 0;
	__u64 size;
	long n;

	if (targ_failed && ret >= 0)
		return 0;
	if (gadget_should_discard_data_current())
		return 0;
	event = bpf_map_lookup_elem(&heap, &zero);
	if (!event)
		return 0;

	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (fname_arg == 0) { /* open(pathname, flags, mode) */
		fname = (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs);
		event->flags_raw = (__u32)PT_REGS_PARM2_CORE_SYSCALL(regs);
		event->mode_raw = (__u32)PT_REGS_PARM3_CORE_SYSCALL(regs);
	} else if (!how) { /* openat(dirfd, pathname, flags, mode) */
		fname = (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs);
		event->flags_raw = (__u32)PT_REGS_PARM3_CORE_SYSCALL(regs);
		event->mode_raw = (__u32)PT_REGS_PARM4_CORE_SYSCALL(regs);
	} else { /* openat2(dirfd, pathname, how, size) */
		struct open_how oh = {};

		fname = (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs);
		if (bpf_probe_read_user(&oh, sizeof(oh),
					(void *)PT_REGS_PARM3_CORE_SYSCALL(regs)))
			return 0;
		event->flags_raw = (__u32)oh.flags;
		event->mode_raw = (__u32)oh.mode;
	}

	event->timestamp_raw = bpf_ktime_get_boot_ns();
	gadget_process_populate(&event->proc);
	gadget_get_user_stack_from_tracepoint(ctx, &event->ustack);

	if (ret >= 0) {
		event->fd = (__u32)ret;
		event->error_raw = 0;
	} else {
		event->fd = 0;
		event->error_raw = (__u32)-ret;
	}

	n = bpf_probe_read_user_str(event->fname, sizeof(event->fname), fname);
	if (n <= 0) {
		event->fname[0] = '\0';
		n = 1;
	}
	size = offsetof(struct event, fname) + n;

	if (paths && ret >= 0) {
		n = read_full_path_of_open_file_fd((int)ret, event->fpath,
						   sizeof(event->fpath));
		if (n > 0)
			size = offsetof(struct event, fpath) + n;
	}

	/* the verifier needs the bound; it never cuts anything */
	barrier_var(size);
	if (size > sizeof(*event))
		size = sizeof(*event);
	gadget_output_buf(ctx, &events, event, size);
	return 0;
}

#ifndef __TARGET_ARCH_arm64
/* open(2): arm64 has none. */
SEC("tracepoint/syscalls/sys_exit_open")
int ig_open_x(struct syscall_trace_exit *ctx)
{
	return exit_open(ctx, ctx->ret, 0, false);
}
#endif /* !__TARGET_ARCH_arm64 */

SEC("tracepoint/syscalls/sys_exit_openat")
int ig_openat_x(struct syscall_trace_exit *ctx)
{
	return exit_open(ctx, ctx->ret, 1, false);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int ig_openat2_x(struct syscall_trace_exit *ctx)
{
	return exit_open(ctx, ctx->ret, 1, true);
}

char LICENSE[] SEC("license") = "GPL";
