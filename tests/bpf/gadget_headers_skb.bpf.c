// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime fixture of the networking gadget headers (integration test
 * test_gadget_headers, BPF_PROG_TEST_RUN): socket lookups from packets, the
 * per-packet filter, the packet filter stub, and the pure helpers of
 * fnv1a.h and bits.bpf.h. Built on the uapi headers, as upstream's
 * networking gadgets are. Each program leaves what it found in `out`.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define GADGET_TYPE_NETWORKING

#include <gadget/bits.bpf.h>
#include <gadget/filter.h>
#include <gadget/fnv1a.h>
#include <gadget/macros.h>
#include <gadget/packetfilter.h>
#include <gadget/sockets-map.h>
#include <gadget/types.h>

struct lookup_result {
	__u32 found;
	__u32 discard;
	__u32 pf;
	__u32 pad;
	struct gadget_process proc;
};

struct helper_result {
	__u64 slot[8];
	__u32 fnv32;
	__u32 pad;
	__u64 fnv64;
};

struct lookup_result out;
struct helper_result helpers_out;

GADGET_PF();

static __always_inline void record(struct gadget_socket_value *owner)
{
	out.found = owner != NULL;
	out.discard = gadget_should_discard_data_by_skb(owner);
	gadget_process_populate_from_socket(owner, &out.proc);
}

SEC("socket")
int lookup_socket(struct __sk_buff *skb)
{
	record(gadget_socket_lookup(skb));
	return 0;
}

SEC("tc")
int lookup_ingress(struct __sk_buff *skb)
{
	record(gadget_socket_lookup_with_direction(skb, 1));
	return TC_ACT_UNSPEC;
}

SEC("tc")
int lookup_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;

	record(gadget_socket_lookup_with_direction(skb, 0));
	out.pf = gadget_pf_matches(skb, data, data_end);
	return TC_ACT_UNSPEC;
}

/* Inputs of get_slot_idx(): 0, 1, 2, 3, 4, 1000, 2^32, 2^40 + 5. */
SEC("tc")
int helpers(struct __sk_buff *skb)
{
	static const __u64 in[8] = {0, 1, 2, 3, 4, 1000, 1ULL << 32, (1ULL << 40) + 5};
	__u32 h32 = fnv_32a_init();
	__u64 h64 = fnv_64a_init();

	for (int i = 0; i < 8; i++)
		helpers_out.slot[i] = get_slot_idx(in[i]);
	fnv_32a_update_u64(&h32, 0x0102030405060708ULL);
	fnv_32a_update_u8(&h32, 0x09);
	fnv_64a_update_u32(&h64, 0x61626364);
	fnv_64a_update_u16(&h64, 0x6566);
	helpers_out.fnv32 = h32;
	helpers_out.fnv64 = h64;
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
