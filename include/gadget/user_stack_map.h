/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* User stack collection: ig_ustack/ig_build_id maps, collect-* params and gadget_get_user_stack*() fillers.
 */
#ifndef __GADGET_USER_STACK_MAP_H
#define __GADGET_USER_STACK_MAP_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/fnv1a.h>
#include <gadget/core_fixes.bpf.h>

/*
 * Map and parameter names, sizes and the meaning of every member of
 * struct gadget_user_stack are upstream's: its ustack operator (and Sonde's)
 * reads them. Userspace turns stack_id into addresses through ig_ustack,
 * finds the executable from (major, minor, inode, mtime) and the process
 * from the pid numbers, and symbolises.
 */

#define GADGET_USER_MAX_STACK_DEPTH       127
#define GADGET_USER_STACK_MAP_MAX_ENTRIES 10000

/* Parameters: keys collect-ustack, collect-build-id, collect-otel-stack. */
const volatile bool collect_ustack = false;
GADGET_PARAM(collect_ustack);

const volatile bool collect_build_id = false;
GADGET_PARAM(collect_build_id);

const volatile bool collect_otel_stack = false;
GADGET_PARAM(collect_otel_stack);

/* Becomes max_entries of ig_build_id at load time (the <map>_max_entries rule). */
const volatile int ig_build_id_max_entries = 1024;
GADGET_PARAM(ig_build_id_max_entries);

/* stack id -> GADGET_USER_MAX_STACK_DEPTH user addresses. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GADGET_USER_MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, GADGET_USER_STACK_MAP_MAX_ENTRIES);
} ig_ustack SEC(".maps");

/*
 * stack id -> build id and offset of every frame (collect_build_id), for
 * binaries userspace cannot open any more. Sized at load time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GADGET_USER_MAX_STACK_DEPTH * sizeof(struct bpf_stack_build_id));
	__uint(max_entries, 0);
} ig_build_id SEC(".maps");

/* Zeroed value inserted before bpf_get_stack() fills it in place. */
static const struct bpf_stack_build_id ig_empty_build_id[GADGET_USER_MAX_STACK_DEPTH] = {};

/*
 * OpenTelemetry eBPF profiler hand-off: with collect_otel_stack the gadget
 * tail-calls the profiler's program (installed by userspace in the prog
 * array matching the program type), which unwinds the stack and leaves a
 * correlation id in otel_generic_params (a replaceable map shared with it).
 */
struct generic_param {
	__u64 correlation_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct generic_param);
} otel_generic_params SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__array(values, int());
} otel_tc_kprobe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__array(values, int());
} otel_tc_perf SEC(".maps");

/*
 * inode modification time across kernel versions, as CO-RE flavours:
 * timespec i_mtime (4.0-4.17), timespec64 i_mtime (4.18-6.6), timespec64
 * __i_mtime (6.7-6.10), i_mtime_sec + i_mtime_nsec (6.11+). Name and type
 * both changed, so each variant is checked by existence and size.
 */
struct timespec___obsolete {
	__kernel_old_time_t tv_sec;
	long tv_nsec;
};

struct inode___with_timespec {
	struct timespec___obsolete i_mtime;
};

struct inode___with_timespec64 {
	struct timespec64 i_mtime;
};

struct inode___with_timespec64_underscore {
	struct timespec64 __i_mtime;
};

struct inode___with_two_fields {
	time64_t i_mtime_sec;
	__u32 i_mtime_nsec;
};

static __always_inline void gadget_inode_get_mtime(struct inode *inode, __u64 *mtime_sec, __u32 *mtime_nsec)
{
	struct inode___with_two_fields *two = (void *)inode;
	struct inode___with_timespec64_underscore *under = (void *)inode;
	struct inode___with_timespec64 *ts64 = (void *)inode;
	struct inode___with_timespec *ts = (void *)inode;

	if (bpf_core_field_exists(two->i_mtime_sec) &&
	    bpf_core_field_size(two->i_mtime_sec) == sizeof(time64_t)) {
		*mtime_sec = BPF_CORE_READ(two, i_mtime_sec);
		*mtime_nsec = BPF_CORE_READ(two, i_mtime_nsec);
	} else if (bpf_core_field_exists(under->__i_mtime) &&
	           bpf_core_field_size(under->__i_mtime) == sizeof(struct timespec64)) {
		*mtime_sec = BPF_CORE_READ(under, __i_mtime.tv_sec);
		*mtime_nsec = BPF_CORE_READ(under, __i_mtime.tv_nsec);
	} else if (bpf_core_field_exists(ts64->i_mtime) &&
	           bpf_core_field_size(ts64->i_mtime) == sizeof(struct timespec64)) {
		*mtime_sec = BPF_CORE_READ(ts64, i_mtime.tv_sec);
		*mtime_nsec = BPF_CORE_READ(ts64, i_mtime.tv_nsec);
	} else if (bpf_core_field_exists(ts->i_mtime) &&
	           bpf_core_field_size(ts->i_mtime) == sizeof(struct timespec___obsolete)) {
		*mtime_sec = BPF_CORE_READ(ts, i_mtime.tv_sec);
		*mtime_nsec = BPF_CORE_READ(ts, i_mtime.tv_nsec);
	}
}

/* One address-space instance: FNV-1a of (mm, start_code, start_stack). */
static __always_inline __u32 gadget_get_base_addr_hash(struct task_struct *task)
{
	__u32 hash = fnv_32a_init();

	fnv_32a_update_u64(&hash, (__u64)BPF_CORE_READ(task, mm));
	fnv_32a_update_u64(&hash, (__u64)BPF_CORE_READ(task, mm, start_code));
	fnv_32a_update_u64(&hash, (__u64)BPF_CORE_READ(task, mm, start_stack));
	return hash;
}

/*
 * The tail calls live in their own (noinline) functions: a tail call that
 * succeeds never returns, and from a subprogram it ends only that subprogram,
 * so the gadget carries on after the profiler ran.
 */
static __attribute__((noinline)) int gadget_fetch_otel_stack_from_kprobe(void *ctx)
{
	bpf_tail_call(ctx, &otel_tc_kprobe, 0);
	return 0;
}

static __attribute__((noinline)) int gadget_fetch_otel_stack_from_perf_event(void *ctx)
{
	bpf_tail_call(ctx, &otel_tc_perf, 0);
	return 0;
}

/*
 * Everything but the OpenTelemetry correlation id, which depends on the
 * program type. Every member is written; all zero without collect_ustack.
 */
static __always_inline void __gadget_fill_user_stack(void *ctx, struct gadget_user_stack *ustack)
{
	struct task_struct *task;
	struct inode *inode;
	struct pid *thread_pid;
	struct upid *numbers;
	dev_t dev;

	__builtin_memset(ustack, 0, sizeof(*ustack));
	if (!collect_ustack)
		return;

	ustack->stack_id = bpf_get_stackid(ctx, &ig_ustack, BPF_F_FAST_STACK_CMP | BPF_F_USER_STACK);
	ustack->boot_timestamp = bpf_ktime_get_boot_ns();

	task = (struct task_struct *)bpf_get_current_task();
	thread_pid = BPF_CORE_READ(task, thread_pid);
	/*
	 * pid::numbers is a flexible array (a one-element array before 6.5):
	 * take its address so both spellings compile.
	 */
	numbers = (struct upid *)&thread_pid->numbers;
	ustack->tgid_level0 = BPF_CORE_READ(task, tgid);
	ustack->pid_level0 = BPF_CORE_READ(numbers, nr);
	ustack->pidns_level0 = BPF_CORE_READ(numbers, ns, ns.inum);
	if (BPF_CORE_READ(thread_pid, level) >= 1) {
		ustack->pid_level1 = BPF_CORE_READ(numbers + 1, nr);
		ustack->pidns_level1 = BPF_CORE_READ(numbers + 1, ns, ns.inum);
	}

	/*
	 * The kernel's dev_t is MAJOR << 20 | MINOR; split it so userspace
	 * can compare with stat()'s major()/minor().
	 */
	inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
	dev = BPF_CORE_READ(inode, i_sb, s_dev);
	ustack->major = dev >> 20;
	ustack->minor = dev & ((1U << 20) - 1);
	ustack->inode = BPF_CORE_READ(inode, i_ino);
	gadget_inode_get_mtime(inode, &ustack->mtime_sec, &ustack->mtime_nsec);
	ustack->base_addr_hash = gadget_get_base_addr_hash(task);

	/*
	 * First sighting of this stack: reserve its entry (BPF_NOEXIST makes
	 * one CPU the writer), then let the kernel write the build ids in
	 * place. The key is copied to the stack: ustack is often ring buffer
	 * memory, which kernels before 6.4 refuse as a map key.
	 */
	if (collect_build_id && (int)ustack->stack_id >= 0) {
		__u32 stack_id = ustack->stack_id;
		struct bpf_stack_build_id *ids;

		if (bpf_map_update_elem(&ig_build_id, &stack_id, &ig_empty_build_id, BPF_NOEXIST))
			return;
		ids = bpf_map_lookup_elem(&ig_build_id, &stack_id);
		if (!ids)
			return;
		bpf_get_stack(ctx, ids, GADGET_USER_MAX_STACK_DEPTH * sizeof(struct bpf_stack_build_id),
		              BPF_F_USER_STACK | BPF_F_USER_BUILD_ID);
	}
}

/* Correlation id the profiler left for this CPU during the tail call. */
static __always_inline void __gadget_read_otel_correlation(struct gadget_user_stack *ustack)
{
	__u32 zero = 0;
	struct generic_param *param = bpf_map_lookup_elem(&otel_generic_params, &zero);

	if (param)
		ustack->otel_correlation_id = param->correlation_id;
}

/* For kprobe, kretprobe, uprobe, uretprobe and usdt programs. */
static __always_inline void gadget_get_user_stack_from_kprobe(void *ctx, struct gadget_user_stack *ustack)
{
	__gadget_fill_user_stack(ctx, ustack);
	if (collect_ustack && collect_otel_stack) {
		gadget_fetch_otel_stack_from_kprobe(ctx);
		__gadget_read_otel_correlation(ustack);
	}
}

/* For perf_event programs. */
static __always_inline void gadget_get_user_stack_from_perf_event(void *ctx, struct gadget_user_stack *ustack)
{
	__gadget_fill_user_stack(ctx, ustack);
	if (collect_ustack && collect_otel_stack) {
		gadget_fetch_otel_stack_from_perf_event(ctx);
		__gadget_read_otel_correlation(ustack);
	}
}

/*
 * For tracepoints and other program types that cannot tail-call into the
 * profiler: the plain user stack only. Asking for OTel stacks there is a
 * load error, not silently empty ids; the branch is dead code (and free)
 * whenever collect_otel_stack is off.
 */
static __always_inline void gadget_get_user_stack_from_tracepoint(void *ctx, struct gadget_user_stack *ustack)
{
	__gadget_fill_user_stack(ctx, ustack);
	if (collect_ustack && collect_otel_stack)
		bpf_core_unreachable();
}

/*
 * Pick the variant from the C type of ctx at compile time, so a program only
 * references the prog array of its own type (the kernel refuses a prog array
 * shared by programs of different types). Any other ctx type is a compile
 * error on purpose: call gadget_get_user_stack_from_tracepoint() (or the
 * variant for the program type) directly.
 */
/* clang-format off */
#define gadget_get_user_stack(ctx, ustack)                                      \
	_Generic((ctx),                                                         \
		struct bpf_perf_event_data *: gadget_get_user_stack_from_perf_event, \
		struct pt_regs *: gadget_get_user_stack_from_kprobe)((ctx), (ustack))
/* clang-format on */

#endif /* __GADGET_USER_STACK_MAP_H */
