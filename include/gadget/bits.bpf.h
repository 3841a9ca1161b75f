/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Integer log2 helpers for power-of-two histograms (gadget_histogram_slot__* arrays). */
#ifndef __GADGET_BITS_BPF_H
#define __GADGET_BITS_BPF_H

#include <bpf/bpf_helpers.h>

/* Single, non-merged access to a shared variable. */
#ifndef READ_ONCE
#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#endif
#ifndef WRITE_ONCE
#define WRITE_ONCE(x, val) ((*(volatile typeof(x) *)&(x)) = (val))
#endif

/* floor(log2(v)) for v > 0; 0 for v == 0. Branch-free binary search. */
static __always_inline __u64 log2(__u32 v)
{
	__u32 shift, r;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

/* floor(log2(v)) for 64-bit v; 0 for v == 0. */
static __always_inline __u64 log2l(__u64 v)
{
	__u32 hi = v >> 32;

	if (hi)
		return log2(hi) + 32;
	return log2((__u32)v);
}

/*
 * Histogram slot of a value, as upstream's histogram fields read it: slot 0
 * holds 0, slot n (n >= 1) holds [2^(n-1), 2^n), so 1 is in slot 1 and
 * 2..3 in slot 2. Clamp the result to your array size.
 */
static __always_inline __u64 get_slot_idx(__u64 v)
{
	if (v == 0)
		return 0;
	return log2l(v) + 1;
}

#endif /* __GADGET_BITS_BPF_H */
