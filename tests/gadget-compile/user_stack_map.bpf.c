// SPDX-License-Identifier: GPL-2.0
/*
 * <gadget/user_stack_map.h>: user stacks from every program type that can
 * take one, through the type-generic gadget_get_user_stack() and the
 * explicit variants.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/user_stack_map.h>

_Static_assert(GADGET_USER_MAX_STACK_DEPTH == 127 && GADGET_USER_STACK_MAP_MAX_ENTRIES == 10000,
               "user stack map size");

struct event {
	gadget_pid pid;
	struct gadget_user_stack ustack_raw;
	__u64 mtime_sec;
	__u32 mtime_nsec;
	__u32 hash;
};

GADGET_TRACER_MAP(events, 4096 * 64);
GADGET_TRACER(stacks, events, event);

SEC("uprobe/libc:malloc")
int BPF_UPROBE(malloc_entry, size_t size)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));

	if (!e)
		return 0;
	e->pid = size;
	gadget_get_user_stack(ctx, &e->ustack_raw);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));

	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	gadget_get_user_stack(ctx, &e->ustack_raw);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int write_entry(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct event *e = gadget_reserve_buf(&events, sizeof(*e));

	if (!e)
		return 0;
	gadget_get_user_stack_from_tracepoint(ctx, &e->ustack_raw);
	gadget_inode_get_mtime(BPF_CORE_READ(task, mm, exe_file, f_inode), &e->mtime_sec, &e->mtime_nsec);
	e->hash = gadget_get_base_addr_hash(task);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

SEC("kprobe/do_sys_openat2")
int open_entry(struct pt_regs *ctx)
{
	struct gadget_user_stack u;

	gadget_get_user_stack_from_kprobe(ctx, &u);
	return u.stack_id;
}

SEC("perf_event")
int sample2(struct bpf_perf_event_data *ctx)
{
	struct gadget_user_stack u;

	gadget_get_user_stack_from_perf_event(ctx, &u);
	return u.stack_id;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_param_collect_ustack' */
/* expect-btf: 'gadget_param_collect_build_id' */
/* expect-btf: 'gadget_param_collect_otel_stack' */
/* expect-btf: 'gadget_param_ig_build_id_max_entries' */
/* expect-btf: 'ig_build_id_max_entries' type_id=[0-9]+, linkage=global */
/* expect-btf: 'ig_ustack' */
/* expect-btf: 'otel_generic_params' */
/* expect-btf: 'otel_tc_kprobe' */
/* expect-btf: 'otel_tc_perf' */
/* expect-btf: 'generic_param' size=8 */
