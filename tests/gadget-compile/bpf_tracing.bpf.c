// SPDX-License-Identifier: GPL-2.0
/*
 * <bpf/bpf_tracing.h> as gadgets written for libbpf >= 1.2 use it, whatever
 * the system libbpf: BPF_UPROBE/BPF_URETPROBE, six-argument BPF_KPROBE and
 * BPF_KSYSCALL, PT_REGS_PARM6*.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

__u64 sink;

SEC("uprobe/libc:pthread_mutex_lock")
int BPF_UPROBE(mutex_lock, void *mutex)
{
	sink = (__u64)mutex;
	return 0;
}

SEC("uretprobe/libc:malloc")
int BPF_URETPROBE(malloc_ret, void *ptr)
{
	sink = (__u64)ptr;
	return 0;
}

SEC("uprobe/libcuda:cuMemAlloc_v2")
int BPF_UPROBE(mem_alloc, void **dptr, size_t bytesize)
{
	sink = bytesize;
	return 0;
}

SEC("kprobe/inotify_handle_inode_event")
int BPF_KPROBE(six_args, void *mark, u32 mask, struct inode *inode, struct inode *dir,
               const struct qstr *name, u32 cookie)
{
	sink = mask + cookie;
	return 0;
}

SEC("ksyscall/mmap")
int BPF_KSYSCALL(mmap_entry, void *addr, unsigned long len, int prot, int flags, int fd, unsigned long off)
{
	sink = len + off + fd;
	return 0;
}

SEC("kprobe/__x64_sys_mmap")
int regs_entry(struct pt_regs *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)PT_REGS_PARM1(ctx);

	sink = PT_REGS_PARM6_CORE_SYSCALL(regs) + PT_REGS_PARM6(ctx) + PT_REGS_PARM6_CORE(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
