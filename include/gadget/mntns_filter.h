/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* In-kernel container filter: the mount namespaces userspace wants to see. */
#ifndef __GADGET_MNTNS_FILTER_H
#define __GADGET_MNTNS_FILTER_H

#include <bpf/bpf_helpers.h>

#include <gadget/types.h>
#ifndef GADGET_TYPE_NETWORKING
#include <gadget/mntns.h>
#endif

/*
 * Set to true by the container manager when it filters by container; it
 * then replaces gadget_mntns_filter_map by its own map holding the mntns ids
 * of the selected containers (value 1). Both names are ABI.
 */
const volatile bool gadget_filter_by_mntns = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, gadget_mntns_id);
	__type(value, __u32);
} gadget_mntns_filter_map SEC(".maps");

/* True when filtering is on and mntns_id is not one of the selected ones. */
static __always_inline bool gadget_should_discard_mntns_id(gadget_mntns_id mntns_id)
{
	return gadget_filter_by_mntns && !bpf_map_lookup_elem(&gadget_mntns_filter_map, &mntns_id);
}

#endif /* __GADGET_MNTNS_FILTER_H */
