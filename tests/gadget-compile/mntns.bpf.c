// SPDX-License-Identifier: GPL-2.0
/* <gadget/mntns.h>: mount namespace of the current task, both spellings. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/mntns.h>
#include <gadget/types.h>

SEC("tracepoint/syscalls/sys_enter_getpid")
int mntns(void *ctx)
{
	gadget_mntns_id id = gadget_get_current_mntns_id();

#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wdeprecated-declarations"
	return id == gadget_get_mntns_id();
#pragma clang diagnostic pop
}

char LICENSE[] SEC("license") = "GPL";
