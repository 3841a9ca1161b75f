/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* FNV-1a hashing (32 and 64 bit) of byte buffers and integers, usable from eBPF. */
#ifndef __GADGET_FNV1A_H
#define __GADGET_FNV1A_H

#include <bpf/bpf_helpers.h>

#define FNV1A_32_OFFSET_BASIS 2166136261U
#define FNV1A_32_PRIME        16777619U
#define FNV1A_64_OFFSET_BASIS 14695981039346656037ULL
#define FNV1A_64_PRIME        1099511628211ULL

/* Fold len bytes of data into hash h (start with FNV1A_64_OFFSET_BASIS). len must be a constant. */
static __always_inline __u64 fnv1a_64_update(__u64 h, const void *data, __u32 len)
{
	const __u8 *p = data;

#pragma unroll
	for (__u32 i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV1A_64_PRIME;
	}
	return h;
}

/* Fold the 8 bytes of v (little-endian order of the value) into h. */
static __always_inline __u64 fnv1a_64_update_u64(__u64 h, __u64 v)
{
#pragma unroll
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (i * 8)) & 0xff;
		h *= FNV1A_64_PRIME;
	}
	return h;
}

/* 64-bit FNV-1a of len bytes (len must be a compile-time constant). */
static __always_inline __u64 fnv1a_64(const void *data, __u32 len)
{
	return fnv1a_64_update(FNV1A_64_OFFSET_BASIS, data, len);
}

/* Fold len bytes of data into 32-bit hash h (start with FNV1A_32_OFFSET_BASIS). */
static __always_inline __u32 fnv1a_32_update(__u32 h, const void *data, __u32 len)
{
	const __u8 *p = data;

#pragma unroll
	for (__u32 i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV1A_32_PRIME;
	}
	return h;
}

/* 32-bit FNV-1a of len bytes (len must be a compile-time constant). */
static __always_inline __u32 fnv1a_32(const void *data, __u32 len)
{
	return fnv1a_32_update(FNV1A_32_OFFSET_BASIS, data, len);
}

/*
 * Upstream's spelling: an init value, then update functions taking the hash
 * by pointer and ingesting an integer's bytes least significant first.
 */
#define FNV1_32_PRIME ((__u32)0x01000193)
#define FNV1_32_INIT  ((__u32)0x811c9dc5)
#define FNV1_64_PRIME ((__u64)0x00000100000001b3)
#define FNV1_64_INIT  ((__u64)0xcbf29ce484222325)

static __always_inline __u32 fnv_32a_init(void)
{
	return FNV1_32_INIT;
}

static __always_inline __u64 fnv_64a_init(void)
{
	return FNV1_64_INIT;
}

#define __GADGET_FNV_UPDATE(fn, hash_t, value_t, prime)                                                      \
	static __always_inline void fn(hash_t *hash, value_t value)                                          \
	{                                                                                                    \
		_Pragma("unroll") for (unsigned int i = 0; i < sizeof(value_t); i++)                         \
		{                                                                                            \
			*hash ^= (value >> (i * 8)) & 0xff;                                                  \
			*hash *= prime;                                                                      \
		}                                                                                            \
	}

__GADGET_FNV_UPDATE(fnv_32a_update_u64, __u32, __u64, FNV1_32_PRIME)
__GADGET_FNV_UPDATE(fnv_32a_update_u32, __u32, __u32, FNV1_32_PRIME)
__GADGET_FNV_UPDATE(fnv_32a_update_u16, __u32, __u16, FNV1_32_PRIME)
__GADGET_FNV_UPDATE(fnv_32a_update_u8, __u32, __u8, FNV1_32_PRIME)
__GADGET_FNV_UPDATE(fnv_64a_update_u64, __u64, __u64, FNV1_64_PRIME)
__GADGET_FNV_UPDATE(fnv_64a_update_u32, __u64, __u32, FNV1_64_PRIME)
__GADGET_FNV_UPDATE(fnv_64a_update_u16, __u64, __u16, FNV1_64_PRIME)
__GADGET_FNV_UPDATE(fnv_64a_update_u8, __u64, __u8, FNV1_64_PRIME)

#undef __GADGET_FNV_UPDATE

#endif /* __GADGET_FNV1A_H */
