// SPDX-License-Identifier: GPL-2.0
/* <gadget/bits.bpf.h> with <gadget/maps.bpf.h>: a log2 latency histogram as upstream gadgets keep it. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/bits.bpf.h>
#include <gadget/macros.h>
#include <gadget/maps.bpf.h>
#include <gadget/types.h>

#define MAX_SLOTS 27

struct hist_key {
	__u32 cpu;
};

struct hist_value {
	gadget_histogram_slot__u32 latency[MAX_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct hist_key);
	__type(value, struct hist_value);
} hists SEC(".maps");
GADGET_MAPITER(latency, hists);

static const struct hist_value zero;

SEC("tp_btf/sched_switch")
int sched(u64 *ctx)
{
	struct hist_key key = {.cpu = bpf_get_smp_processor_id()};
	struct hist_value *h = bpf_map_lookup_or_try_init(&hists, &key, &zero);
	__u64 slot = get_slot_idx(bpf_ktime_get_ns() & 0xffffff);

	if (!h)
		return EEXIST; /* errno constants come with maps.bpf.h */
	if (slot >= MAX_SLOTS)
		slot = MAX_SLOTS - 1;
	__sync_fetch_and_add(&h->latency[slot], 1);
	return (int)log2(slot);
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_mapiter_latency___hists' */
