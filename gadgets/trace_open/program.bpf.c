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

/* What the entry programs remember for the exit program, per thread. */
struct open_args {
	const char *fname;
	__u32 flags;
	__u32 mode;
};

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

/* tid -> arguments of the open call in progress. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct open_args);
} start SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);

GADGET_TRACER(open, events, event);

static __always_inline int enter_open(const char *fname, __u32 flags,
				      __u32 mode)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_args args = {
		.fname = fname,
		.flags = flags,
		.mode = mode,
	};

	if (gadget_should_discard_data_current())
		return 0;

	bpf_map_update_elem(&start, &tid, &args, BPF_ANY);
	return 0;
}

static __always_inline int exit_open(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct open_args *args;
	struct event *event;

	args = bpf_map_lookup_elem(&start, &tid);
	if (!args)
		return 0; /* entry not seen, or filtered out */

	if (targ_failed && ret >= 0)
		goto cleanup;

	event = gadget_reserve_buf(&events, sizeof(*event));
	if (!event)
		goto cleanup;

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
	event->flags_raw = args->flags;
	event->mode_raw = args->mode;

	if (bpf_probe_read_user_str(event->fname, sizeof(event->fname),
				    args->fname) < 0)
		event->fname[0] = '\0';

	event->fpath[0] = '\0';
	if (paths && ret >= 0) {
		if (read_full_path_of_open_file_fd((int)ret, event->fpath,
						   sizeof(event->fpath)) <= 0)
			event->fpath[0] = '\0';
	}

	gadget_submit_buf(ctx, &events, event, sizeof(*event));

cleanup:
	bpf_map_delete_elem(&start, &tid);
	return 0;
}

#ifndef __TARGET_ARCH_arm64
/* open(const char *pathname, int flags, mode_t mode): arm64 has no open(2). */
SEC("tracepoint/syscalls/sys_enter_open")
int ig_open_e(struct syscall_trace_enter *ctx)
{
	return enter_open((const char *)ctx->args[0], (__u32)ctx->args[1],
			  (__u32)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int ig_open_x(struct syscall_trace_exit *ctx)
{
	return exit_open(ctx, ctx->ret);
}
#endif /* !__TARGET_ARCH_arm64 */

/* openat(int dirfd, const char *pathname, int flags, mode_t mode) */
SEC("tracepoint/syscalls/sys_enter_openat")
int ig_openat_e(struct syscall_trace_enter *ctx)
{
	return enter_open((const char *)ctx->args[1], (__u32)ctx->args[2],
			  (__u32)ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int ig_openat_x(struct syscall_trace_exit *ctx)
{
	return exit_open(ctx, ctx->ret);
}

/* openat2(int dirfd, const char *pathname, struct open_how *how, size_t size) */
SEC("tracepoint/syscalls/sys_enter_openat2")
int ig_openat2_e(struct syscall_trace_enter *ctx)
{
	struct open_how how = {};

	if (bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]))
		return 0;
	return enter_open((const char *)ctx->args[1], (__u32)how.flags,
			  (__u32)how.mode);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int ig_openat2_x(struct syscall_trace_exit *ctx)
{
	return exit_open(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
