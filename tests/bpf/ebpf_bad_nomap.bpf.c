// SPDX-License-Identifier: GPL-2.0
/* Bad fixture: the tracer names a map that does not exist. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>

struct bad_event {
	__u32 pid;
};

GADGET_TRACER(bad, nosuchmap, bad_event);

char LICENSE[] SEC("license") = "GPL";
