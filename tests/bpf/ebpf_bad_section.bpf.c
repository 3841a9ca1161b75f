// SPDX-License-Identifier: GPL-2.0
/* Bad fixture: a program in a section no loader understands. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

SEC("nosuchtype/whatever")
int ig_unknown(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
