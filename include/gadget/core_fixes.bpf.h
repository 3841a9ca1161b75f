/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CO-RE helpers hiding kernel struct changes across versions (task state, request disk, syscall nr). */
#ifndef __GADGET_CORE_FIXES_BPF_H
#define __GADGET_CORE_FIXES_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/*
 * Mark a branch that must never be taken on any supported kernel (e.g. the
 * "none of the known layouts matched" arm of a CO-RE switch). It emits a
 * call to the helper id libbpf uses for poisoned CO-RE relocations, so if
 * the verifier ever reaches it the load fails with a clear
 * "invalid func unknown#195896080" instead of silently misbehaving.
 */
#define bpf_core_unreachable() asm volatile("call %0" ::"i"(0xbad2310))

/* task_struct::state was renamed __state in 5.14. */
struct task_struct___gadget_old {
	long state;
} __attribute__((preserve_access_index));

static __always_inline __s64 get_task_state(void *task)
{
	struct task_struct___gadget_old *t_old = task;

	if (bpf_core_field_exists(t_old->state))
		return BPF_CORE_READ(t_old, state);
	return BPF_CORE_READ((struct task_struct *)task, __state);
}

/* request::rq_disk was dropped in 5.17; the disk is then rq->q->disk. */
struct request___gadget_old {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

struct request_queue___gadget_new {
	struct gendisk *disk;
} __attribute__((preserve_access_index));

struct request___gadget_new {
	struct request_queue___gadget_new *q;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *get_disk(void *request)
{
	struct request___gadget_old *r_old = request;
	struct request___gadget_new *r_new = request;

	if (bpf_core_field_exists(r_old->rq_disk))
		return BPF_CORE_READ(r_old, rq_disk);
	return BPF_CORE_READ(r_new, q, disk);
}

/* Syscall number saved in the user registers, for the supported arches. */
struct pt_regs___gadget_x86 {
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

struct pt_regs___gadget_arm64 {
	__s32 syscallno;
} __attribute__((preserve_access_index));

/* Syscall number of regs (user registers of the current syscall); -1 if unknown. */
static __always_inline long gadget_get_syscall_nr(struct pt_regs *regs)
{
	if (bpf_core_field_exists(((struct pt_regs___gadget_x86 *)0)->orig_ax))
		return BPF_CORE_READ((struct pt_regs___gadget_x86 *)regs,
				     orig_ax);
	if (bpf_core_field_exists(
		    ((struct pt_regs___gadget_arm64 *)0)->syscallno))
		return BPF_CORE_READ((struct pt_regs___gadget_arm64 *)regs,
				     syscallno);
	return -1;
}

#endif /* __GADGET_CORE_FIXES_BPF_H */
