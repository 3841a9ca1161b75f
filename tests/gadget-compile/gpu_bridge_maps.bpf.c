// SPDX-License-Identifier: GPL-2.0
/* <gadget/gpu_bridge_maps.h> and <gadget/gpu_types.h>: the pinned bridge maps a GPU gadget reads. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define GPU_BRIDGE_WANT_ALL
#include <gadget/gpu_bridge_maps.h>

/* The contract with the bridge: upstream's layouts. */
_Static_assert(sizeof(struct gpu_meta) == 32, "gpu_meta");
_Static_assert(__builtin_offsetof(struct gpu_meta, clock_offset_ns) == 24, "gpu_meta.clock_offset_ns");
_Static_assert(sizeof(struct gpu_device_metrics) == 128, "gpu_device_metrics");
_Static_assert(__builtin_offsetof(struct gpu_device_metrics, compute_mode) == 124, "compute_mode");
_Static_assert(sizeof(struct gpu_pid_metrics) == 40, "gpu_pid_metrics");
_Static_assert(__builtin_offsetof(struct gpu_pid_metrics, gpu_device) == 32, "gpu_device");
_Static_assert(sizeof(struct gpu_pid_metrics_aggregated) == 32, "gpu_pid_metrics_aggregated");
_Static_assert(__builtin_offsetof(struct gpu_pid_metrics_aggregated, device_count) == 25, "device_count");
_Static_assert(GPU_SCHEMA_VERSION == 1 && GPU_MAX_DEVICES == 16 && GPU_DEVICE_PRIMARY_MULTI == 0xFF,
               "constants");

__u64 sink;

SEC("tp_btf/sched_switch")
int gpu_sample(u64 *ctx)
{
	struct gpu_meta *meta = gpu_meta_fresh(bpf_ktime_get_boot_ns(), 2000);
	struct gpu_pid_metrics_aggregated *holder;
	struct gpu_device_metrics *dev;
	struct gpu_pid_metrics *per_dev;
	__u64 key = bpf_get_current_pid_tgid() & ~0xffffffffULL;
	__u32 zero = 0;

	if (!meta)
		return 0;
	holder = gpu_pid_holder(bpf_get_current_pid_tgid() >> 32, 1 << 20);
	dev = bpf_map_lookup_elem(&gpu_device, &zero);
	per_dev = bpf_map_lookup_elem(&gpu_per_pid_per_device, &key);
	if (holder && dev && per_dev && holder->gpu_device_primary != GPU_DEVICE_PRIMARY_MULTI)
		sink = dev->mem_used + per_dev->used_gpu_memory + meta->clock_offset_ns;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gpu_meta' */
/* expect-btf: 'gpu_device' */
/* expect-btf: 'gpu_per_pid' */
/* expect-btf: 'gpu_per_pid_per_device' */
