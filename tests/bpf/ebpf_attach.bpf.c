// SPDX-License-Identifier: GPL-2.0
/* Loader fixture: one program per attach kind, each counting its hits for
 * the test process in slot <kind> of `hits`. No datasource. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/macros.h>

const volatile __u32 targ_pid = 0;
GADGET_PARAM(targ_pid);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit(__u32 slot)
{
	__u64 *v;

	if ((bpf_get_current_pid_tgid() >> 32) != targ_pid)
		return;
	v = bpf_map_lookup_elem(&hits, &slot);
	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("tp/syscalls/sys_enter_getppid")
int ig_tp(void *ctx)
{
	hit(0);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int ig_raw(void *ctx)
{
	hit(1);
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ig_btf, struct pt_regs *regs, long id)
{
	hit(2);
	return 0;
}

SEC("uprobe/libc:getppid")
int ig_uprobe(void *ctx)
{
	hit(3);
	return 0;
}

SEC("uretprobe/libc:getppid")
int ig_uretprobe(void *ctx)
{
	hit(4);
	return 0;
}

/* Retargeted by gadget.yaml in the test (programs.ig_retarget.attach_to). */
SEC("tracepoint/syscalls/sys_enter_getpid")
int ig_retarget(void *ctx)
{
	hit(5);
	return 0;
}

/* Never loaded: disabled by its section name. */
SEC("fentry/gadget_program_disabled")
int ig_disabled(void *ctx)
{
	hit(6);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
