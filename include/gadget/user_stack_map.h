/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* User stack collection: ig_ustack map, collect-* params and gadget_get_user_stack*() fillers. */
#ifndef __GADGET_USER_STACK_MAP_H
#define __GADGET_USER_STACK_MAP_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/fnv1a.h>

/*
 * Reduced implementation: user stacks are collected with
 * bpf_get_stackid(BPF_F_USER_STACK) into ig_ustack and the executable is
 * identified for userspace symbolisation. collect_build_id and
 * collect_otel_stack are accepted (and the maps they rely on exist, so the
 * ABI matches) but do not change what the kernel side records.
 */

#ifndef PERF_MAX_STACK_DEPTH
#define PERF_MAX_STACK_DEPTH 127
#endif

#define USER_STACK_MAP_MAX_ENTRIES 10000

/* Parameters: keys collect-ustack, collect-build-id, collect-otel-stack. */
const volatile bool collect_ustack = false;
const volatile bool collect_build_id = false;
const volatile bool collect_otel_stack = false;
/* Becomes max_entries of ig_build_id at load time (map <name>_max_entries rule). */
const volatile __u32 ig_build_id_max_entries = 1024;

GADGET_PARAM(collect_ustack);
GADGET_PARAM(collect_build_id);
GADGET_PARAM(collect_otel_stack);
GADGET_PARAM(ig_build_id_max_entries);

/* stack id -> PERF_MAX_STACK_DEPTH user addresses. The name is ABI. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PERF_MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, USER_STACK_MAP_MAX_ENTRIES);
} ig_ustack SEC(".maps");

/* Executable identity -> GNU build id, for userspace to fill/consult. */
struct gadget_build_id_key {
	__u64 inode;
	__u64 mtime_sec;
	__u32 mtime_nsec;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 __pad;
};

struct gadget_build_id_value {
	__u8 build_id[20];
	__u32 size;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024); /* replaced by ig_build_id_max_entries */
	__type(key, struct gadget_build_id_key);
	__type(value, struct gadget_build_id_value);
} ig_build_id SEC(".maps");

/* Per-CPU parameters shared with an OpenTelemetry eBPF profiler (replaceable map). */
struct gadget_otel_generic_params {
	__u64 collect;
	__u64 reserved[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gadget_otel_generic_params);
} otel_generic_params SEC(".maps");

/* Tail-call tables into the OpenTelemetry profiler (kprobe and perf flavours). */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} otel_tc_kprobe SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} otel_tc_perf SEC(".maps");

/* inode time fields across kernel versions: i_mtime (<6.6), __i_mtime (6.6-6.10), i_mtime_sec/nsec (6.11+). */
struct inode___gadget_mtime_old {
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

struct inode___gadget_mtime_mid {
	struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));

struct inode___gadget_mtime_new {
	time64_t i_mtime_sec;
	__u32 i_mtime_nsec;
} __attribute__((preserve_access_index));

static __always_inline void __gadget_inode_mtime(struct inode *inode,
						 struct gadget_user_stack *u)
{
	struct inode___gadget_mtime_new *n = (void *)inode;
	struct inode___gadget_mtime_mid *m = (void *)inode;
	struct inode___gadget_mtime_old *o = (void *)inode;

	if (bpf_core_field_exists(n->i_mtime_sec)) {
		u->mtime_sec = BPF_CORE_READ(n, i_mtime_sec);
		u->mtime_nsec = BPF_CORE_READ(n, i_mtime_nsec);
	} else if (bpf_core_field_exists(m->__i_mtime)) {
		u->mtime_sec = BPF_CORE_READ(m, __i_mtime.tv_sec);
		u->mtime_nsec = BPF_CORE_READ(m, __i_mtime.tv_nsec);
	} else if (bpf_core_field_exists(o->i_mtime)) {
		u->mtime_sec = BPF_CORE_READ(o, i_mtime.tv_sec);
		u->mtime_nsec = BPF_CORE_READ(o, i_mtime.tv_nsec);
	}
}

/* Everything but stack_id: process ids per pid namespace level and exe identity. */
static __always_inline void __gadget_user_stack_context(struct gadget_user_stack *u)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	struct pid *tpid = BPF_CORE_READ(task, thread_pid);
	struct pid *gpid = BPF_CORE_READ(leader, thread_pid);
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	struct inode *inode;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 h;
	__u32 dev;

	u->pid_level0 = pid_tgid >> 32;
	u->tid_level0 = (__u32)pid_tgid;
	u->pid_level1 = 0;
	u->tid_level1 = 0;
	if (BPF_CORE_READ(tpid, level) >= 1)
		u->tid_level1 = BPF_CORE_READ(tpid, numbers[1].nr);
	if (BPF_CORE_READ(gpid, level) >= 1)
		u->pid_level1 = BPF_CORE_READ(gpid, numbers[1].nr);

	u->inode = 0;
	u->dev_major = 0;
	u->dev_minor = 0;
	u->mtime_sec = 0;
	u->mtime_nsec = 0;
	inode = BPF_CORE_READ(mm, exe_file, f_inode);
	if (inode) {
		u->inode = BPF_CORE_READ(inode, i_ino);
		dev = BPF_CORE_READ(inode, i_sb, s_dev);
		u->dev_major = dev >> 20;
		u->dev_minor = dev & ((1U << 20) - 1);
		__gadget_inode_mtime(inode, u);
	}

	h = FNV1A_64_OFFSET_BASIS;
	h = fnv1a_64_update_u64(h, (__u64)mm);
	h = fnv1a_64_update_u64(h, BPF_CORE_READ(mm, start_code));
	h = fnv1a_64_update_u64(h, BPF_CORE_READ(mm, start_stack));
	u->base_addr_hash = h;
	u->ktime = bpf_ktime_get_boot_ns();
}

/*
 * Fill *u for the current task. When collect_ustack is false every member is
 * zero (ktime == 0 means "nothing collected"). stack_id is (u32)-1 when the
 * kernel could not record the stack.
 */
static __always_inline void __gadget_get_user_stack(void *ctx,
						    struct gadget_user_stack *u)
{
	long id;

	__builtin_memset(u, 0, sizeof(*u));
	if (!collect_ustack)
		return;

	id = bpf_get_stackid(ctx, &ig_ustack,
			     BPF_F_USER_STACK | BPF_F_FAST_STACK_CMP);
	u->stack_id = id < 0 ? GADGET_INVALID_ID : (__u32)id;
	__gadget_user_stack_context(u);
}

/* For tracepoint / raw tracepoint / tp_btf programs. */
static __always_inline void
gadget_get_user_stack_from_tracepoint(void *ctx, struct gadget_user_stack *u)
{
	__gadget_get_user_stack(ctx, u);
}

/* For kprobe / uprobe / usdt programs. */
static __always_inline void
gadget_get_user_stack_from_kprobe(struct pt_regs *ctx,
				  struct gadget_user_stack *u)
{
	__gadget_get_user_stack(ctx, u);
}

/* For perf_event programs. */
static __always_inline void
gadget_get_user_stack_from_perf(struct bpf_perf_event_data *ctx,
				struct gadget_user_stack *u)
{
	__gadget_get_user_stack(ctx, u);
}

/* Pick the variant from the C type of ctx. */
#define gadget_get_user_stack(ctx, ustack)                                      \
	_Generic((ctx),                                                         \
		struct pt_regs *: gadget_get_user_stack_from_kprobe,           \
		struct bpf_perf_event_data *: gadget_get_user_stack_from_perf, \
		default: gadget_get_user_stack_from_tracepoint)((void *)(ctx), (ustack))

#endif /* __GADGET_USER_STACK_MAP_H */
