// SPDX-License-Identifier: GPL-2.0
/* top_process: no eBPF program. The process operator (activated by
 * operator.process.emitstats in gadget.yaml) reads /proc and emits the
 * "processes" table; this object only carries the license so the gadget is a
 * valid eBPF image like every other. */

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";
