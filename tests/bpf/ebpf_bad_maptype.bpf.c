// SPDX-License-Identifier: GPL-2.0
/* Bad fixture: the tracer map is a hash map. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/macros.h>

struct bad_event {
	__u32 pid;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} events SEC(".maps");

GADGET_TRACER(bad, events, bad_event);

char LICENSE[] SEC("license") = "GPL";
