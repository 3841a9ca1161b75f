// SPDX-License-Identifier: GPL-2.0
/* Fixture for the "cannot load/attach" error: on a kernel that refuses
 * fentry it does not load, on one without kprobes they do not attach (6.18
 * here); on 6.1 both work. The test disables one or the other through
 * gadget.yaml. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("fentry/do_sys_openat2")
int BPF_PROG(ig_fentry, int dfd)
{
	return 0;
}

SEC("kprobe/do_sys_openat2")
int ig_kprobe(struct pt_regs *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
