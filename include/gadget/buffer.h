/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Tracer output buffers: ring buffer map declaration plus reserve/submit/output helpers with a perf fallback.
 */
#ifndef __GADGET_BUFFER_H
#define __GADGET_BUFFER_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/*
 * GADGET_TRACER_MAP(name, size) declares
 *   - <name>: BPF_MAP_TYPE_RINGBUF of <size> bytes. When the kernel has no
 *     ring buffer, the loader turns it into a PERF_EVENT_ARRAY and the
 *     helpers below switch to the perf path (the choice is a CO-RE constant,
 *     so the unused path is dead code for the verifier);
 *   - gadget_map_tracer_<name>: BTF marker naming <name> as a tracer map;
 *   - <name>_lost_samples: per-CPU u64 counter (key 0) of events dropped
 *     because the ring buffer was full; it only grows (userspace reports
 *     the difference to its last read, it never resets it).
 *
 * The helpers are macros so that they can reach <name>_lost_samples from
 * the map argument: GADGET_TRACER_MAP also defines an overload of
 * __gadget_count_lost() for the (distinct, named) struct type of <name>,
 * marked unused: it lands in the gadget's own file, where clang would warn
 * (an error with -Werror) about a tracer map the gadget never writes through
 * these helpers. Maps of any other type fall back to the void * overload
 * (not counted).
 */
#define GADGET_TRACER_MAP(name, size)                                                                        \
	struct __gadget_tracer_map_##name {                                                                  \
		__uint(type, BPF_MAP_TYPE_RINGBUF);                                                          \
		__uint(max_entries, size);                                                                   \
	} name SEC(".maps");                                                                                 \
	const void *gadget_map_tracer_##name __attribute__((unused));                                        \
	struct {                                                                                             \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                                     \
		__uint(max_entries, 1);                                                                      \
		__type(key, __u32);                                                                          \
		__type(value, __u64);                                                                        \
	} name##_lost_samples SEC(".maps");                                                                  \
	static __always_inline __attribute__((overloadable, unused)) void __gadget_count_lost(               \
	    struct __gadget_tracer_map_##name *map)                                                          \
	{                                                                                                    \
		__u32 zero = 0;                                                                              \
		__u64 *cnt = bpf_map_lookup_elem(&name##_lost_samples, &zero);                               \
		if (cnt)                                                                                     \
			__sync_fetch_and_add(cnt, 1);                                                        \
	}                                                                                                    \
	struct __gadget_tracer_map_##name

static __always_inline __attribute__((overloadable)) void __gadget_count_lost(void *map
                                                                              __attribute__((unused)))
{
}

/*
 * GADGET_LOST_COUNTER(name) declares only <name>_lost_samples, for a tracer
 * map the gadget declares itself: a PERF_EVENT_ARRAY written with
 * bpf_perf_event_output() because perf appends packet bytes to the sample.
 * Count each failed write with gadget_count_lost(name). When the counter
 * exists the reader reports it and ignores perf's own PERF_RECORD_LOST
 * records: the kernel writes those only in front of the next sample that
 * fits, so the drops of the last full stretch before the run stops would
 * never be reported.
 */
#define GADGET_LOST_COUNTER(name)                                                                            \
	struct {                                                                                             \
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);                                                     \
		__uint(max_entries, 1);                                                                      \
		__type(key, __u32);                                                                          \
		__type(value, __u64);                                                                        \
	} name##_lost_samples SEC(".maps")

#define gadget_count_lost(name)                                                                              \
	({                                                                                                   \
		__u32 __gadget_zero = 0;                                                                     \
		__u64 *__gadget_cnt = bpf_map_lookup_elem(&name##_lost_samples, &__gadget_zero);             \
		if (__gadget_cnt)                                                                            \
			__sync_fetch_and_add(__gadget_cnt, 1);                                               \
	})

/* True when the running kernel has BPF ring buffers (CO-RE constant). */
#define __gadget_has_ringbuf() bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_ringbuf_reserve)

/*
 * Wake the reader when the ring crosses an eighth of its size, not for every
 * event: a wakeup is an IPI, dearer than the event itself. Below that mark
 * the reader drains the ring on its own short timer, so nothing waits long
 * and nothing depends on a wakeup arriving. reserved is an int, not a bool:
 * gadgets built on <linux/types.h> include this header without bool.
 */
static __always_inline __u64 __gadget_wakeup_flags(void *map, __u64 size, int reserved)
{
	__u64 mark = bpf_ringbuf_query(map, BPF_RB_RING_SIZE) / 8;
	__u64 rec = (size + 8 + 7) & ~7ULL; /* the record, its header, padding */
	__u64 after = bpf_ringbuf_query(map, BPF_RB_AVAIL_DATA);

	/* a reserved record already counts in the available data */
	if (!reserved)
		after += rec;
	return after >= mark && after < mark + rec ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

/* Copy buf[0..size) into the tracer map in one call. Always available. */
static __always_inline long __gadget_output_buf(void *ctx, void *map, void *buf, __u64 size)
{
	if (__gadget_has_ringbuf())
		return bpf_ringbuf_output(map, buf, size, __gadget_wakeup_flags(map, size, 0));
	return bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, buf, size);
}

#define gadget_output_buf(ctx, map, buf, size)                                                               \
	({                                                                                                   \
		long __gadget_ret = __gadget_output_buf(ctx, map, buf, size);                                \
		if (__gadget_ret != 0)                                                                       \
			__gadget_count_lost(map);                                                            \
		__gadget_ret;                                                                                \
	})

#ifndef GADGET_NO_BUF_RESERVE

/* Largest event gadget_reserve_buf() can hand out on the perf path. */
#ifndef GADGET_MAX_EVENT_SIZE
#define GADGET_MAX_EVENT_SIZE 10240
#endif

/* Per-CPU scratch event used instead of ring buffer memory on the perf path. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, GADGET_MAX_EVENT_SIZE);
} gadget_heap SEC(".maps");

static __always_inline void *__gadget_reserve_buf(void *map, __u64 size)
{
	__u32 zero = 0;

	if (__gadget_has_ringbuf())
		return bpf_ringbuf_reserve(map, size, 0);
	if (size > GADGET_MAX_EVENT_SIZE)
		return NULL;
	return bpf_map_lookup_elem(&gadget_heap, &zero);
}

/*
 * Get a buffer of size bytes for one event (NULL if none: the event is then
 * counted as lost). Must be followed by gadget_submit_buf() or
 * gadget_discard_buf() on every path.
 */
#define gadget_reserve_buf(map, size)                                                                        \
	({                                                                                                   \
		void *__gadget_buf = __gadget_reserve_buf(map, size);                                        \
		if (!__gadget_buf)                                                                           \
			__gadget_count_lost(map);                                                            \
		__gadget_buf;                                                                                \
	})

/* Give back a buffer from gadget_reserve_buf() without emitting it. */
static __always_inline void gadget_discard_buf(void *buf)
{
	if (__gadget_has_ringbuf())
		bpf_ringbuf_discard(buf, 0);
}

static __always_inline long __gadget_submit_buf(void *ctx, void *map, void *buf, __u64 size)
{
	if (__gadget_has_ringbuf()) {
		bpf_ringbuf_submit(buf, __gadget_wakeup_flags(map, size, 1));
		return 0;
	}
	return bpf_perf_event_output(ctx, map, BPF_F_CURRENT_CPU, buf, size);
}

/* Emit a buffer from gadget_reserve_buf(); size is only used by the perf
 * path, where a full buffer fails the write: counted as lost like a failed
 * reserve, since the counter is the only loss count the reader trusts. */
#define gadget_submit_buf(ctx, map, buf, size)                                                               \
	({                                                                                                   \
		long __gadget_ret = __gadget_submit_buf(ctx, map, buf, size);                                \
		if (__gadget_ret != 0)                                                                       \
			__gadget_count_lost(map);                                                            \
		__gadget_ret;                                                                                \
	})

#endif /* !GADGET_NO_BUF_RESERVE */

#endif /* __GADGET_BUFFER_H */
