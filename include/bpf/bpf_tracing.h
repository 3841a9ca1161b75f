/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * <bpf/bpf_tracing.h> as gadgets written for upstream's builder (libbpf
 * 1.3 headers) expect it, on top of whatever libbpf the system has.
 *
 * Gadgets are compiled with -I<sonde>/include ahead of the system paths, so
 * this file is found first: it pulls in the system's header, then defines
 * only what that header lacks (everything below is #ifndef-guarded, a newer
 * libbpf wins). Debian 12 ships libbpf 1.1, which has no BPF_UPROBE /
 * BPF_URETPROBE and no sixth to eighth argument for BPF_KPROBE,
 * BPF_KSYSCALL or PT_REGS_PARM*; upstream gadgets use them.
 *
 * As in libbpf 1.3, arguments the architecture passes on the stack (the
 * seventh and eighth on x86-64) are refused at compile time.
 */
#ifndef __SONDE_BPF_TRACING_COMPAT_H
#define __SONDE_BPF_TRACING_COMPAT_H

#include_next <bpf/bpf_tracing.h>

/* Sixth argument register of a function call (kprobe, uprobe). */
#ifndef __PT_PARM6_REG
#if defined(bpf_target_x86) && !defined(__i386__)
/* r9 in both the kernel's and the user-space (asm/ptrace.h) struct pt_regs */
#define __PT_PARM6_REG r9
#elif defined(bpf_target_arm64)
#define __PT_PARM6_REG regs[5]
#elif defined(bpf_target_riscv)
#define __PT_PARM6_REG a5
#endif
#endif

/* Seventh and eighth: registers on arm64 and riscv only. */
#ifndef __PT_PARM7_REG
#if defined(bpf_target_arm64)
#define __PT_PARM7_REG regs[6]
#define __PT_PARM8_REG regs[7]
#elif defined(bpf_target_riscv)
#define __PT_PARM7_REG a6
#define __PT_PARM8_REG a7
#endif
#endif

#define __SONDE_PT_UNSUPPORTED(what)                                                                         \
	({                                                                                                   \
		_Pragma("GCC error \"" what ": not a register argument on this arch\"");                     \
		0l;                                                                                          \
	})

#ifndef PT_REGS_PARM6
#ifdef __PT_PARM6_REG
#define PT_REGS_PARM6(x)      (__PT_REGS_CAST(x)->__PT_PARM6_REG)
#define PT_REGS_PARM6_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM6_REG)
#else
#define PT_REGS_PARM6(x)      __SONDE_PT_UNSUPPORTED("PT_REGS_PARM6")
#define PT_REGS_PARM6_CORE(x) __SONDE_PT_UNSUPPORTED("PT_REGS_PARM6")
#endif
#endif

#ifndef PT_REGS_PARM7
#ifdef __PT_PARM7_REG
#define PT_REGS_PARM7(x)      (__PT_REGS_CAST(x)->__PT_PARM7_REG)
#define PT_REGS_PARM7_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM7_REG)
#define PT_REGS_PARM8(x)      (__PT_REGS_CAST(x)->__PT_PARM8_REG)
#define PT_REGS_PARM8_CORE(x) BPF_CORE_READ(__PT_REGS_CAST(x), __PT_PARM8_REG)
#else
#define PT_REGS_PARM7(x)      __SONDE_PT_UNSUPPORTED("PT_REGS_PARM7")
#define PT_REGS_PARM7_CORE(x) __SONDE_PT_UNSUPPORTED("PT_REGS_PARM7")
#define PT_REGS_PARM8(x)      __SONDE_PT_UNSUPPORTED("PT_REGS_PARM8")
#define PT_REGS_PARM8_CORE(x) __SONDE_PT_UNSUPPORTED("PT_REGS_PARM8")
#endif
#endif

/*
 * Sixth syscall argument: on x86-64 (r9), arm64 (regs[5]) and riscv (a5) the
 * syscall convention uses the same register as a function call for it.
 */
#ifndef PT_REGS_PARM6_SYSCALL
#define PT_REGS_PARM6_SYSCALL(x) PT_REGS_PARM6(x)
#endif
#ifndef PT_REGS_PARM6_CORE_SYSCALL
#define PT_REGS_PARM6_CORE_SYSCALL(x) PT_REGS_PARM6_CORE(x)
#endif
/* No supported 64-bit arch has a seventh syscall argument. */
#ifndef PT_REGS_PARM7_SYSCALL
#define PT_REGS_PARM7_SYSCALL(x)      __SONDE_PT_UNSUPPORTED("PT_REGS_PARM7_SYSCALL")
#define PT_REGS_PARM7_CORE_SYSCALL(x) __SONDE_PT_UNSUPPORTED("PT_REGS_PARM7_SYSCALL")
#endif

/* Argument lists of BPF_KPROBE (up to 8) and BPF_KSYSCALL (up to 7) arguments. */
#ifndef ___bpf_kprobe_args6
#define ___bpf_kprobe_args6(x, args...) ___bpf_kprobe_args5(args), (void *)PT_REGS_PARM6(ctx)
#endif
#ifndef ___bpf_kprobe_args7
#define ___bpf_kprobe_args7(x, args...) ___bpf_kprobe_args6(args), (void *)PT_REGS_PARM7(ctx)
#define ___bpf_kprobe_args8(x, args...) ___bpf_kprobe_args7(args), (void *)PT_REGS_PARM8(ctx)
#endif
#ifndef ___bpf_syscall_args6
#define ___bpf_syscall_args6(x, args...) ___bpf_syscall_args5(args), (void *)PT_REGS_PARM6_SYSCALL(regs)
#endif
#ifndef ___bpf_syscall_args7
#define ___bpf_syscall_args7(x, args...) ___bpf_syscall_args6(args), (void *)PT_REGS_PARM7_SYSCALL(regs)
#define ___bpf_syswrap_args7(x, args...) ___bpf_syswrap_args6(args), (void *)PT_REGS_PARM7_CORE_SYSCALL(regs)
#endif
#ifndef ___bpf_syswrap_args6
#define ___bpf_syswrap_args6(x, args...) ___bpf_syswrap_args5(args), (void *)PT_REGS_PARM6_CORE_SYSCALL(regs)
#endif

/*
 * BPF_UPROBE / BPF_URETPROBE: uprobes are kprobe programs and read their
 * arguments from the same struct pt_regs, so they are the kprobe macros
 * under the names libbpf 1.2 gave them.
 */
#ifndef BPF_UPROBE
#define BPF_UPROBE(name, args...) BPF_KPROBE(name, ##args)
#endif
#ifndef BPF_URETPROBE
#define BPF_URETPROBE(name, args...) BPF_KRETPROBE(name, ##args)
#endif

#endif /* __SONDE_BPF_TRACING_COMPAT_H */
