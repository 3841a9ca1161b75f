// SPDX-License-Identifier: GPL-2.0
/* <gadget/fnv1a.h>: upstream's and Sonde's spellings of FNV-1a. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/fnv1a.h>

_Static_assert(FNV1_32_INIT == 2166136261U && FNV1_32_PRIME == 16777619U, "32-bit constants");
_Static_assert(FNV1_64_INIT == FNV1A_64_OFFSET_BASIS && FNV1_64_PRIME == FNV1A_64_PRIME, "64-bit constants");

__u64 sink;

SEC("raw_tracepoint/sys_enter")
int hash(void *ctx)
{
	__u32 h32 = fnv_32a_init();
	__u64 h64 = fnv_64a_init();
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	fnv_32a_update_u64(&h32, pid_tgid);
	fnv_32a_update_u32(&h32, (__u32)pid_tgid);
	fnv_32a_update_u16(&h32, (__u16)pid_tgid);
	fnv_32a_update_u8(&h32, (__u8)pid_tgid);
	fnv_64a_update_u64(&h64, pid_tgid);
	fnv_64a_update_u32(&h64, (__u32)pid_tgid);
	fnv_64a_update_u16(&h64, (__u16)pid_tgid);
	fnv_64a_update_u8(&h64, (__u8)pid_tgid);
	sink = h32 ^ h64 ^ fnv1a_64(&pid_tgid, sizeof(pid_tgid)) ^ fnv1a_32(&pid_tgid, sizeof(pid_tgid)) ^
	       fnv1a_64_update_u64(FNV1A_64_OFFSET_BASIS, pid_tgid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
