/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Map helpers: look an entry up, creating it from an initial value when missing. */
#ifndef __GADGET_MAPS_BPF_H
#define __GADGET_MAPS_BPF_H

#include <bpf/bpf_helpers.h>
/* E* constants: upstream's maps.bpf.h brings them to the gadgets including it. */
#include <asm-generic/errno.h>

/*
 * Return the value of key in map. When absent, insert *init first (losing a
 * race against another CPU is fine: the winner's entry is returned). NULL
 * only if the map is full or the insert failed for another reason.
 */
static __always_inline void *bpf_map_lookup_or_try_init(void *map, const void *key, const void *init)
{
	void *val = bpf_map_lookup_elem(map, key);
	long err;

	if (val)
		return val;

	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -EEXIST /* someone else created it */)
		return NULL;

	return bpf_map_lookup_elem(map, key);
}

#endif /* __GADGET_MAPS_BPF_H */
