/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* pcap-filter injection points: GADGET_PF(name) and gadget_pf_matches([name,] skb, data, data_end). */
#ifndef __GADGET_PACKETFILTER_H
#define __GADGET_PACKETFILTER_H

/*
 * GADGET_PF(name) defines gadget_pf_<name>(), a stub the loader can
 * replace. When the user gives a pcap filter expression (param `pf-<name>`,
 * or `pf` for GADGET_PF() with an empty name), sonde compiles it with
 * libpcap for Ethernet, translates the classic BPF to eBPF and loads it as
 * the stub's body in every socket filter or TC classifier calling it
 * (lib/ebpf/packet_filter.c): the body reads the packet from its Ethernet
 * header through bpf_skb_load_bytes on the first argument (the program's
 * skb), so data/data_end are not used, and returns the verdict. Without a
 * filter the stub stays: "the packet is not empty". Upstream injects its
 * filter into the stub too, reading between data and data_end; the three
 * copies of skb reserve R1-R3 for that. It must stay a real call (noinline)
 * with exactly these five arguments in this order.
 */
#define GADGET_PF(name)                                                                                      \
	static __attribute__((noinline)) bool gadget_pf_##name(void *_skb, void *__skb, void *___skb,        \
	                                                       void *data, void *data_end)                   \
	{                                                                                                    \
		return data != data_end && _skb == __skb && __skb == ___skb;                                 \
	}

/*
 * gadget_pf_matches(skb, data, data_end) uses the unnamed filter,
 * gadget_pf_matches(name, skb, data, data_end) the one of GADGET_PF(name).
 * True when the packet passes the filter (or no filter is set).
 */
#define __GADGET_PF_PICK(_1, _2, _3, _4, which, ...) which
#define __GADGET_PF_WRONG_ARGS(...)                                                                          \
	({                                                                                                   \
		_Static_assert(0, "gadget_pf_matches: wrong number of arguments");                           \
		0;                                                                                           \
	})
#define __GADGET_PF_MATCHES_3(skb, data, data_end)       gadget_pf_matches_impl(, skb, data, data_end)
#define __GADGET_PF_MATCHES_4(name, skb, data, data_end) gadget_pf_matches_impl(name, skb, data, data_end)

#define gadget_pf_matches(...)                                                                               \
	__GADGET_PF_PICK(__VA_ARGS__, __GADGET_PF_MATCHES_4, __GADGET_PF_MATCHES_3, __GADGET_PF_WRONG_ARGS,  \
	                 __GADGET_PF_WRONG_ARGS)                                                             \
	(__VA_ARGS__)

#define gadget_pf_matches_impl(name, skb, data, data_end) gadget_pf_##name(skb, skb, skb, data, data_end)

/* Argument counter of upstream's header (1 to 4 arguments). */
#ifndef COUNT_ARGS
#define COUNT_ARGS(...) __GADGET_PF_PICK(__VA_ARGS__, 4, 3, 2, 1)
#endif

#endif /* __GADGET_PACKETFILTER_H */
