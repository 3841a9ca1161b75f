// SPDX-License-Identifier: GPL-2.0
/* <gadget/gpu_bridge_maps.h> in an object without vmlinux.h, one map selected. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define GPU_BRIDGE_WANT_PER_PID
#include <gadget/gpu_bridge_maps.h>

SEC("raw_tracepoint/sys_enter")
int holder(void *ctx)
{
	return gpu_pid_holder(bpf_get_current_pid_tgid() >> 32, 0) != 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gpu_per_pid' */
/* expect-no-btf: 'gpu_meta' */
