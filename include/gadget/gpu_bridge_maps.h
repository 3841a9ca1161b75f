/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The pinned GPU bridge maps, declared once for every gadget that reads them, plus read helpers. */
#ifndef __GADGET_GPU_BRIDGE_MAPS_H
#define __GADGET_GPU_BRIDGE_MAPS_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/gpu_types.h>

/*
 * Declaring a pinned map makes the loader create (and pin) it when the
 * bridge is not running, so a gadget asks only for the maps it reads by
 * defining, before including this header, any of
 *   GPU_BRIDGE_WANT_META, GPU_BRIDGE_WANT_DEVICE, GPU_BRIDGE_WANT_PER_PID,
 *   GPU_BRIDGE_WANT_PER_PID_PER_DEVICE, or GPU_BRIDGE_WANT_ALL.
 * Names, types, sizes and pinning must stay exactly these: a pinned map is
 * reused only if its definition matches.
 */
#ifdef GPU_BRIDGE_WANT_ALL
#define GPU_BRIDGE_WANT_META
#define GPU_BRIDGE_WANT_DEVICE
#define GPU_BRIDGE_WANT_PER_PID
#define GPU_BRIDGE_WANT_PER_PID_PER_DEVICE
#endif

#ifdef GPU_BRIDGE_WANT_META
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gpu_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gpu_meta SEC(".maps");

/*
 * The bridge's state if its last poll is at most stale_threshold_ms old at
 * now_boot_ns (bpf_ktime_get_boot_ns()), else NULL. Returned whole so the
 * caller can also use clock_offset_ns.
 */
static __always_inline struct gpu_meta *gpu_meta_fresh(__u64 now_boot_ns, __u64 stale_threshold_ms)
{
	__u32 zero = 0;
	struct gpu_meta *meta = bpf_map_lookup_elem(&gpu_meta, &zero);

	if (!meta || now_boot_ns - meta->last_update_boottime_ns > stale_threshold_ms * 1000000ULL)
		return NULL;
	return meta;
}
#endif

#ifdef GPU_BRIDGE_WANT_DEVICE
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, GPU_MAX_DEVICES);
	__type(key, __u32);
	__type(value, struct gpu_device_metrics);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gpu_device SEC(".maps");
#endif

#ifdef GPU_BRIDGE_WANT_PER_PID
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct gpu_pid_metrics_aggregated);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gpu_per_pid SEC(".maps");

/* The GPU record of process tgid if it holds at least min_gpu_mem_bytes, else NULL. */
static __always_inline struct gpu_pid_metrics_aggregated *gpu_pid_holder(__u32 tgid, __u64 min_gpu_mem_bytes)
{
	struct gpu_pid_metrics_aggregated *gm = bpf_map_lookup_elem(&gpu_per_pid, &tgid);

	if (!gm || gm->used_gpu_memory_total < min_gpu_mem_bytes)
		return NULL;
	return gm;
}
#endif

#ifdef GPU_BRIDGE_WANT_PER_PID_PER_DEVICE
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct gpu_pid_metrics);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} gpu_per_pid_per_device SEC(".maps");
#endif

#endif /* __GADGET_GPU_BRIDGE_MAPS_H */
