// SPDX-License-Identifier: GPL-2.0
/* Bad fixture: a GADGET_PARAM whose type cannot be a param. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>

struct settings {
	__u32 a;
	__u32 b;
};

const volatile struct settings settings = {};
GADGET_PARAM(settings);

char LICENSE[] SEC("license") = "GPL";
