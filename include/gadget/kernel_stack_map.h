/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Kernel stack collection: the ig_kstack map, symbolised by userspace from /proc/kallsyms. */
#ifndef __GADGET_KERNEL_STACK_MAP_H
#define __GADGET_KERNEL_STACK_MAP_H

#include <bpf/bpf_helpers.h>

#include <gadget/types.h>

#define GADGET_KERNEL_MAX_STACK_DEPTH       127
#define GADGET_KERNEL_STACK_MAP_MAX_ENTRIES 10000

#ifndef PERF_MAX_STACK_DEPTH
#define PERF_MAX_STACK_DEPTH GADGET_KERNEL_MAX_STACK_DEPTH
#endif
#define KERNEL_STACK_MAP_MAX_ENTRIES GADGET_KERNEL_STACK_MAP_MAX_ENTRIES

/* stack id -> GADGET_KERNEL_MAX_STACK_DEPTH kernel addresses. The name is ABI. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GADGET_KERNEL_MAX_STACK_DEPTH * sizeof(__u64));
	__uint(max_entries, GADGET_KERNEL_STACK_MAP_MAX_ENTRIES);
} ig_kstack SEC(".maps");

/*
 * Record the kernel stack of the current context into ig_kstack. Returns
 * the stack id to store in a gadget_kernel_stack field, or a negative error.
 */
static __always_inline long gadget_get_kernel_stack(void *ctx)
{
	return bpf_get_stackid(ctx, &ig_kstack, BPF_F_FAST_STACK_CMP);
}

#endif /* __GADGET_KERNEL_STACK_MAP_H */
