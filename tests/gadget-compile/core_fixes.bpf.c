// SPDX-License-Identifier: GPL-2.0
/* <gadget/core_fixes.bpf.h>: every CO-RE helper as the upstream gadgets use them. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/core_fixes.bpf.h>

const volatile bool strict = false;

__u64 sink;

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_task, bool preempt, struct task_struct *prev)
{
	sink = get_task_state(prev);
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(rq_issue, struct request *rq)
{
	struct gendisk *disk = get_disk(rq);
	struct gendisk *bio_disk = get_gendisk(BPF_CORE_READ(rq, bio));

	sink = (__u64)disk ^ (__u64)bio_disk;
	if (has_block_rq_completion())
		sink++;
	if (renamedata_has_old_mnt_userns_field())
		sink++;
	if (has_kfree() || has_kmem_cache_free())
		sink++;
	if (strict && !has_kfree())
		bpf_core_unreachable();
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int retransmit(void *ctx)
{
	const struct sk_buff *skb = gadget_get_tcp_retransmit_skb_skbaddr(ctx);
	const struct sock *sk = gadget_get_tcp_retransmit_skb_skaddr(ctx);

	sink = (__u64)skb ^ (__u64)sk;
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct inode *inode = BPF_CORE_READ(task, mm, exe_file, f_inode);

	sink = gadget_get_ctime_nanosec_from_inode(inode);
	sink += gadget_get_syscall_nr(regs);
	for (unsigned int i = 1; i <= 6; i++)
		sink += gadget_get_syscall_arg(regs, i);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
