// SPDX-License-Identifier: GPL-2.0
/* trace_exec: one event per execve(2)/execveat(2), with the arguments, emitted when the call returns. */

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define GADGET_NO_BUF_RESERVE
#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filesystem.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

/* Each argument is cut at ARGSIZE bytes (NUL included); at most TOTAL_MAX_ARGS are kept. */
#define ARGSIZE 256
#define TOTAL_MAX_ARGS 20
#define FULL_MAX_ARGS_ARR (TOTAL_MAX_ARGS * ARGSIZE)
#define LAST_ARG (FULL_MAX_ARGS_ARR - ARGSIZE)

struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_process proc;    /* after a successful exec: the new comm */

	gadget_uid loginuid;
	__u32 sessionid;
	gadget_errno error_raw;        /* 0 on success, else the positive errno */
	int args_count;                /* strings in args (+1 if argv was cut) */
	unsigned int args_size;        /* bytes used in args */
	char cwd[GADGET_PATH_MAX];     /* paths=true: working directory */
	char exepath[GADGET_PATH_MAX]; /* paths=true: executable after the call */
	/*
	 * Space-separated: the path given to execve, then argv[1..]. Only the
	 * first args_size bytes are sent: a record is
	 * offsetof(struct event, args) + args_size bytes long.
	 */
	char args[FULL_MAX_ARGS_ARR];
};

#define BASE_EVENT_SIZE __builtin_offsetof(struct event, args)

/* Do not report execs that fail. */
const volatile bool ignore_failed = true;
/* Fill cwd and exepath. */
const volatile bool paths = false;

GADGET_PARAM(ignore_failed);
GADGET_PARAM(paths);

static const struct event empty_event = {};

/*
 * tid -> exec in progress. A successful exec from a non-leader thread
 * returns in the leader's tid: sched_process_exec moves the entry there.
 * Entries are ~6 KiB and hash maps are preallocated: 1024 concurrent execs
 * cost ~6.5 MiB of kernel memory.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct event);
} execs SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);

GADGET_TRACER(exec, events, event);

/* Append the user string at src to event->args. Returns false to stop. */
static __always_inline bool append_arg(struct event *event, const char *src)
{
	unsigned int off = event->args_size;
	long ret;

	if (off > LAST_ARG)
		return false;
	ret = bpf_probe_read_user_str(&event->args[off], ARGSIZE, src);
	if (ret <= 0)
		return false;
	/*
	 * Join with the previous argument: userspace shows one readable string.
	 * The index is 64-bit and hidden from clang, which otherwise proves
	 * the check true and drops it: then the 32-bit `off - 1` reaches the
	 * 6.1 verifier zero-extended with no bound ("R2 unbounded memory
	 * access"). Kept, the check bounds it on every kernel.
	 */
	if (off > 0) {
		__u64 sep = (__u64)off - 1;

		barrier_var(sep);
		if (sep < FULL_MAX_ARGS_ARR)
			event->args[sep] = ' ';
	}
	event->args_size = off + ret;
	event->args_count++;
	return true;
}

/*
 * Every filter but the container and comm ones. A new container's first exec
 * is held by Sonde inside the execve call, after this entry, until the
 * container is in the filter map: the container filter is read at the exit.
 * So is the comm filter: --comm matches the name the event shows (the new
 * program's after a successful exec), as -F proc.comm== does.
 */
static __always_inline bool discard_at_entry(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	return gadget_should_discard_pid((gadget_pid)(pid_tgid >> 32)) ||
	       gadget_should_discard_tid((gadget_tid)pid_tgid) ||
	       gadget_should_discard_uid((gadget_uid)uid_gid) ||
	       gadget_should_discard_gid((gadget_gid)(uid_gid >> 32));
}

static __always_inline int enter_exec(const char *filename,
				      const char *const *argv)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct event *event;
	const char *argp;

	if (discard_at_entry())
		return 0;

	if (bpf_map_update_elem(&execs, &tid, &empty_event, BPF_ANY))
		return 0;
	event = bpf_map_lookup_elem(&execs, &tid);
	if (!event)
		return 0;

	event->timestamp_raw = bpf_ktime_get_boot_ns();
	task = (struct task_struct *)bpf_get_current_task();
	if (bpf_core_field_exists(task->loginuid))
		event->loginuid = BPF_CORE_READ(task, loginuid.val);
	else
		event->loginuid = GADGET_INVALID_ID;
	if (bpf_core_field_exists(task->sessionid))
		event->sessionid = BPF_CORE_READ(task, sessionid);

	if (paths) {
		struct fs_struct *fs = BPF_CORE_READ(task, fs);
		char *cwd = get_path_str(&fs->pwd);

		if (!cwd || bpf_probe_read_kernel_str(event->cwd,
						      sizeof(event->cwd), cwd) < 0)
			event->cwd[0] = '\0';
	}

	/* args[0] is the path handed to execve (an empty string if unreadable). */
	if (!append_arg(event, filename)) {
		event->args[0] = '\0';
		event->args_size = 1;
		event->args_count = 1;
	}

	for (int i = 1; i < TOTAL_MAX_ARGS; i++) {
		if (bpf_probe_read_user(&argp, sizeof(argp), &argv[i]) || !argp)
			return 0;
		if (!append_arg(event, argp))
			return 0;
	}

	/* argv goes on: count one more so userspace can show it was cut. */
	if (!bpf_probe_read_user(&argp, sizeof(argp), &argv[TOTAL_MAX_ARGS]) &&
	    argp)
		event->args_count++;
	return 0;
}

static __always_inline int exit_exec(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *event;
	__u64 len;

	event = bpf_map_lookup_elem(&execs, &tid);
	if (!event)
		return 0;

	if (ret < 0 && ignore_failed)
		goto cleanup;
	if (gadget_should_discard_mntns_id(gadget_get_current_mntns_id()))
		goto cleanup;

	/* Read now: after a successful exec this is the new program. */
	gadget_process_populate(&event->proc);
	if (gadget_should_discard_comm(event->proc.comm))
		goto cleanup;
	event->error_raw = ret < 0 ? (__u32)-ret : 0;

	if (paths) {
		struct task_struct *task =
			(struct task_struct *)bpf_get_current_task();
		struct file *exe = BPF_CORE_READ(task, mm, exe_file);
		char *exepath = exe ? get_path_str(&exe->f_path) : NULL;

		if (!exepath ||
		    bpf_probe_read_kernel_str(event->exepath,
					      sizeof(event->exepath),
					      exepath) < 0)
			event->exepath[0] = '\0';
	}

	len = BASE_EVENT_SIZE + event->args_size;
	if (len <= sizeof(*event))
		gadget_output_buf(ctx, &events, event, len);

cleanup:
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}

/* execve(const char *filename, char *const argv[], char *const envp[]) */
SEC("tracepoint/syscalls/sys_enter_execve")
int ig_execve_e(struct syscall_trace_enter *ctx)
{
	return enter_exec((const char *)ctx->args[0],
			  (const char *const *)ctx->args[1]);
}

/* execveat(int dirfd, const char *pathname, char *const argv[], char *const envp[], int flags) */
SEC("tracepoint/syscalls/sys_enter_execveat")
int ig_execveat_e(struct syscall_trace_enter *ctx)
{
	return enter_exec((const char *)ctx->args[1],
			  (const char *const *)ctx->args[2]);
}

/* A successful exec by a non-leader thread continues under the leader's tid. */
SEC("tracepoint/sched/sched_process_exec")
int ig_sched_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 old_tid = ctx->old_pid;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *event;

	if (old_tid == tid)
		return 0;
	event = bpf_map_lookup_elem(&execs, &old_tid);
	if (!event)
		return 0;
	bpf_map_update_elem(&execs, &tid, event, BPF_ANY);
	bpf_map_delete_elem(&execs, &old_tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int ig_execve_x(struct syscall_trace_exit *ctx)
{
	return exit_exec(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int ig_execveat_x(struct syscall_trace_exit *ctx)
{
	return exit_exec(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
