/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* CO-RE helpers hiding kernel struct changes across versions (task state, block, inode times, tcp, syscalls).
 */
#ifndef __GADGET_CORE_FIXES_BPF_H
#define __GADGET_CORE_FIXES_BPF_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

/*
 * The "___suffix" structs below are CO-RE flavours: libbpf matches them to
 * the kernel type named before the "___", member by member, so one object
 * can read a field under whichever name or type the running kernel uses.
 * Their names are upstream's: gadgets may use them directly.
 */

/*
 * Mark a branch that must never be taken on any supported kernel (e.g. the
 * "none of the known layouts matched" arm of a CO-RE switch). It emits a
 * call to the helper id libbpf uses for poisoned CO-RE relocations, so if
 * the verifier ever reaches it the load fails with a clear
 * "invalid func unknown#195896080" instead of silently misbehaving; a
 * branch the verifier proves dead (a const volatile param) costs nothing.
 */
#define bpf_core_unreachable() asm volatile("call %0" ::"i"(0xbad2310))

/* task_struct::state became __state (and unsigned int) in 5.14. */
struct task_struct___o {
	volatile long int state;
} __attribute__((preserve_access_index));

struct task_struct___x {
	unsigned int __state;
} __attribute__((preserve_access_index));

static __always_inline __s64 get_task_state(void *task)
{
	struct task_struct___x *t = task;

	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___o *)task, state);
}

/* bio::bi_disk was replaced by bio::bi_bdev (-> bd_disk) in 5.12. */
struct bio___o {
	struct gendisk *bi_disk;
} __attribute__((preserve_access_index));

struct bio___x {
	struct block_device *bi_bdev;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *get_gendisk(void *bio)
{
	struct bio___x *b = bio;

	if (bpf_core_field_exists(b->bi_bdev))
		return BPF_CORE_READ(b, bi_bdev, bd_disk);
	return BPF_CORE_READ((struct bio___o *)bio, bi_disk);
}

/*
 * 5.17 added the block_rq_error tracepoint sharing block_rq_complete's
 * arguments: the record type became trace_event_raw_block_rq_completion.
 */
struct trace_event_raw_block_rq_complete___x {
	dev_t dev;
	sector_t sector;
	unsigned int nr_sector;
} __attribute__((preserve_access_index));

struct trace_event_raw_block_rq_completion___x {
	dev_t dev;
	sector_t sector;
	unsigned int nr_sector;
} __attribute__((preserve_access_index));

static __always_inline bool has_block_rq_completion(void)
{
	return bpf_core_type_exists(struct trace_event_raw_block_rq_completion___x);
}

/* request::rq_disk was dropped in 5.17; the disk is then rq->q->disk. */
struct request_queue___x {
	struct gendisk *disk;
} __attribute__((preserve_access_index));

struct request___x {
	struct request_queue___x *q;
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *get_disk(void *request)
{
	struct request___x *r = request;

	if (bpf_core_field_exists(r->rq_disk))
		return BPF_CORE_READ(r, rq_disk);
	return BPF_CORE_READ(r, q, disk);
}

/*
 * Idmapped mounts (5.12) added a user namespace as first argument of
 * vfs_create()/vfs_unlink() and renamedata::old_mnt_userns at the same time:
 * the field tells a kprobe which argument holds the dentry.
 */
struct renamedata___x {
	struct user_namespace *old_mnt_userns;
} __attribute__((preserve_access_index));

static __always_inline bool renamedata_has_old_mnt_userns_field(void)
{
	return bpf_core_field_exists(struct renamedata___x, old_mnt_userns);
}

/*
 * 5.19 split kmem_free into kfree and kmem_cache_free records (the latter
 * with the slab name).
 */
struct trace_event_raw_kmem_free___x {
	const void *ptr;
} __attribute__((preserve_access_index));

struct trace_event_raw_kfree___x {
	const void *ptr;
} __attribute__((preserve_access_index));

struct trace_event_raw_kmem_cache_free___x {
	const void *ptr;
} __attribute__((preserve_access_index));

static __always_inline bool has_kfree(void)
{
	return bpf_core_type_exists(struct trace_event_raw_kfree___x);
}

static __always_inline bool has_kmem_cache_free(void)
{
	return bpf_core_type_exists(struct trace_event_raw_kmem_cache_free___x);
}

/*
 * tcp:tcp_retransmit_skb used the record shared by the tcp sk/skb events
 * (trace_event_raw_tcp_event_sk_skb) until it got its own record with an
 * "err" member (6.17; earlier in some distribution kernels). Both start with
 * skbaddr and skaddr; the accessors read them from whichever the kernel has.
 * The old record is described by a flavour of our own, so that this header
 * also builds against a vmlinux.h that no longer has it.
 */
struct trace_event_raw_tcp_retransmit_skb___x {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

struct trace_event_raw_tcp_event_sk_skb___gadget {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
} __attribute__((preserve_access_index));

static __always_inline const struct sk_buff *gadget_get_tcp_retransmit_skb_skbaddr(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb___x))
		return BPF_CORE_READ((struct trace_event_raw_tcp_retransmit_skb___x *)ctx, skbaddr);
	return BPF_CORE_READ((struct trace_event_raw_tcp_event_sk_skb___gadget *)ctx, skbaddr);
}

static __always_inline const struct sock *gadget_get_tcp_retransmit_skb_skaddr(void *ctx)
{
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb___x))
		return BPF_CORE_READ((struct trace_event_raw_tcp_retransmit_skb___x *)ctx, skaddr);
	return BPF_CORE_READ((struct trace_event_raw_tcp_event_sk_skb___gadget *)ctx, skaddr);
}

/*
 * inode change time: i_ctime (timespec64) until 6.5, __i_ctime (timespec64)
 * in 6.6-6.10, i_ctime_sec + i_ctime_nsec since 6.11. Since 6.13 the top bit
 * of i_ctime_nsec is the I_CTIME_QUERIED flag of multigrain timestamps, not
 * part of the time.
 */
struct inode___older_v66 {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

struct inode___older_v611 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

struct inode___gadget_ctime_split {
	time64_t i_ctime_sec;
	__u32 i_ctime_nsec;
} __attribute__((preserve_access_index));

#ifndef I_CTIME_QUERIED
#define I_CTIME_QUERIED (1U << 31)
#endif

/* ctime of inode in nanoseconds since the epoch, as stat(2) shows it; 0 if before 1970. */
static __always_inline __u64 gadget_get_ctime_nanosec_from_inode(struct inode *inode)
{
	struct inode___gadget_ctime_split *split = (void *)inode;
	struct inode___older_v611 *v611 = (void *)inode;
	struct inode___older_v66 *v66 = (void *)inode;
	__s64 sec;
	__u32 nsec;

	if (bpf_core_field_exists(split->i_ctime_sec) && bpf_core_field_exists(split->i_ctime_nsec)) {
		sec = BPF_CORE_READ(split, i_ctime_sec);
		nsec = BPF_CORE_READ(split, i_ctime_nsec);
	} else if (bpf_core_field_exists(v611->__i_ctime)) {
		sec = BPF_CORE_READ(v611, __i_ctime.tv_sec);
		nsec = BPF_CORE_READ(v611, __i_ctime.tv_nsec);
	} else {
		sec = BPF_CORE_READ(v66, i_ctime.tv_sec);
		nsec = BPF_CORE_READ(v66, i_ctime.tv_nsec);
	}
	if (sec < 0)
		return 0;
	/* on older kernels nsec < 1e9 never has the flag bit set */
	return (__u64)sec * 1000000000ULL + (nsec & ~I_CTIME_QUERIED);
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
		return BPF_CORE_READ((struct pt_regs___gadget_x86 *)regs, orig_ax);
	if (bpf_core_field_exists(((struct pt_regs___gadget_arm64 *)0)->syscallno))
		return BPF_CORE_READ((struct pt_regs___gadget_arm64 *)regs, syscallno);
	return -1;
}

/*
 * Argument arg_id (1..6) of the syscall whose user registers are regs (e.g.
 * the pt_regs argument of a syscall wrapper); 0 for any other arg_id.
 */
static __always_inline unsigned long gadget_get_syscall_arg(struct pt_regs *regs, unsigned int arg_id)
{
	switch (arg_id) {
	case 1:
		return PT_REGS_PARM1_CORE_SYSCALL(regs);
	case 2:
		return PT_REGS_PARM2_CORE_SYSCALL(regs);
	case 3:
		return PT_REGS_PARM3_CORE_SYSCALL(regs);
	case 4:
		return PT_REGS_PARM4_CORE_SYSCALL(regs);
	case 5:
		return PT_REGS_PARM5_CORE_SYSCALL(regs);
	case 6:
		return PT_REGS_PARM6_CORE_SYSCALL(regs);
	}
	return 0;
}

#endif /* __GADGET_CORE_FIXES_BPF_H */
