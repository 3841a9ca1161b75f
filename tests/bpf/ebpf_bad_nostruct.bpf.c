// SPDX-License-Identifier: GPL-2.0
/* Bad fixture: the tracer names a struct that is not in BTF. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

/* The marker alone, without the type-forcing helper symbol. */
const void *gadget_tracer_bad___events___nosuchstruct __attribute__((unused));

char LICENSE[] SEC("license") = "GPL";
