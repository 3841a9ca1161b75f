// SPDX-License-Identifier: GPL-2.0
/* expect-error: not compatible with any generic association type */
/* gadget_get_user_stack() on a tracepoint ctx must not compile (upstream's contract). */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/user_stack_map.h>

SEC("tracepoint/syscalls/sys_enter_write")
int write_entry(void *ctx)
{
	struct gadget_user_stack u;

	gadget_get_user_stack(ctx, &u);
	return u.stack_id;
}

char LICENSE[] SEC("license") = "GPL";
