/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Layouts of the maps a GPU telemetry bridge pins for gadgets (upstream's gpu-ebpf-bridge contract). */
#ifndef __GADGET_GPU_TYPES_H
#define __GADGET_GPU_TYPES_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/*
 * A separate daemon (upstream's gpu-ebpf-bridge) polls the GPU driver and
 * publishes what it reads in four maps pinned in /sys/fs/bpf, which gadgets
 * reuse by name (LIBBPF_PIN_BY_NAME, see <gadget/gpu_bridge_maps.h>):
 *   gpu_meta                ARRAY[1]                -> struct gpu_meta
 *   gpu_device              ARRAY[GPU_MAX_DEVICES]  -> struct gpu_device_metrics
 *   gpu_per_pid             LRU_HASH host tgid      -> struct gpu_pid_metrics_aggregated
 *   gpu_per_pid_per_device  LRU_HASH tgid<<32|dev   -> struct gpu_pid_metrics
 * The structs are upstream's, member for member: they are the contract
 * with whichever bridge pinned the maps. Read them through CO-RE so a
 * gadget keeps working with bridges of another schema version. Metrics a
 * bridge cannot measure are 0.
 */

/* Incremented on incompatible layout changes (for readers without CO-RE). */
#define GPU_SCHEMA_VERSION 1

#define GPU_MAX_DEVICES 16

/* Bridge state (key 0), rewritten at every poll. */
struct gpu_meta {
	__u32 schema_version;
	__u32 n_devices;
	__u64 last_update_boottime_ns; /* CLOCK_BOOTTIME of the last poll */
	__u32 helper_pid;
	__u32 _reserved;
	/* CLOCK_REALTIME - CLOCK_BOOTTIME in ns: boottime = realtime - offset */
	__s64 clock_offset_ns;
};

/* One GPU (key: device index < n_devices). */
struct gpu_device_metrics {
	__u64 timestamp_ns;
	__u32 sm_util_pct;  /* 0-100 */
	__u32 mem_util_pct; /* 0-100 */
	__u64 mem_total;    /* bytes of VRAM */
	__u64 mem_used;     /* bytes allocated by users (mem_reserved excluded) */
	__u64 mem_reserved; /* bytes taken by driver and firmware */
	__u32 temp_c;
	__u32 power_mw;
	__u32 sm_clock_mhz;
	__u32 mem_clock_mhz;
	__u64 throttle_reasons; /* driver's clock event reason bits */
	__u64 pcie_tx_kbps;
	__u64 pcie_rx_kbps;
	__u32 enc_util_pct;
	__u32 dec_util_pct;
	__u64 nvlink_tx_kbps;
	__u64 nvlink_rx_kbps;
	__u64 ecc_corrected_total;
	__u64 ecc_uncorrected_total;
	__u32 fan_speed_pct;
	__u32 compute_mode;
};

/* One process on one GPU (key: (__u64)tgid << 32 | device index). */
struct gpu_pid_metrics {
	__u64 timestamp_ns;
	__u64 used_gpu_memory;
	__u32 sm_util_pct;
	__u32 mem_util_pct;
	__u32 enc_util_pct;
	__u32 dec_util_pct;
	__u8 gpu_device;
	__u8 mig_instance;
	__u16 _pad;
};

/* One process over all its GPUs (key: host tgid): sum of memory, max of utilisation. */
struct gpu_pid_metrics_aggregated {
	__u64 timestamp_ns;
	__u64 used_gpu_memory_total;
	__u32 sm_util_pct_max;
	__u32 mem_util_pct_max;
	__u8 gpu_device_primary; /* first device seen, or GPU_DEVICE_PRIMARY_MULTI */
	__u8 device_count;
	__u16 _pad;
};

/* gpu_device_primary of a process that holds memory on several GPUs. */
#define GPU_DEVICE_PRIMARY_MULTI 0xFF

#endif /* __GADGET_GPU_TYPES_H */
