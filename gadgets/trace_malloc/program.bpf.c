// SPDX-License-Identifier: GPL-2.0
/* trace_malloc: the C library's memory calls (malloc, free, calloc, realloc,
 * mmap, munmap and the aligned allocators), one event per call, through
 * uprobes on libc. Calls that return a pointer are reported when they return,
 * with the size remembered from their entry. Sonde attaches the uprobes to the
 * libc of every traced container (and of the host with --host). */

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>
#include <gadget/user_stack_map.h>

/* Names and values as upstream's trace_malloc: userspace shows the names. */
enum memop {
	malloc,
	free,
	calloc,
	realloc,
	realloc_free, /* the block realloc released (its old pointer) */
	mmap,
	munmap,
	posix_memalign,
	aligned_alloc,
	valloc,
	memalign,
	pvalloc,
};

struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_process proc;
	struct gadget_user_stack ustack;

	enum memop operation_raw;
	__u64 addr; /* the pointer returned, or passed to free/munmap */
	__u64 size; /* bytes asked for (0 for free) */
};

/* What an entry probe remembers for its return probe, per thread. */
struct call {
	__u64 size;
	__u64 memptr; /* posix_memalign's out pointer */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct call);
} calls SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);

GADGET_TRACER(malloc, events, event);

static __always_inline int emit(struct pt_regs *ctx, enum memop op, __u64 addr, __u64 size)
{
	struct event *event;

	event = gadget_reserve_buf(&events, sizeof(*event));
	if (!event)
		return 0;
	event->timestamp_raw = bpf_ktime_get_boot_ns();
	gadget_process_populate(&event->proc);
	gadget_get_user_stack(ctx, &event->ustack);
	event->operation_raw = op;
	event->addr = addr;
	event->size = size;
	gadget_submit_buf(ctx, &events, event, sizeof(*event));
	return 0;
}

static __always_inline int enter(__u64 size, __u64 memptr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call c = {.size = size, .memptr = memptr};

	if (gadget_should_discard_data_current())
		return 0;
	bpf_map_update_elem(&calls, &tid, &c, BPF_ANY);
	return 0;
}

static __always_inline int leave(struct pt_regs *ctx, enum memop op, __u64 ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct call *c = bpf_map_lookup_elem(&calls, &tid);
	__u64 size;

	if (!c)
		return 0; /* entry filtered out, or not seen */
	size = c->size;
	if (op == posix_memalign) {
		void *ptr = NULL;

		/* returns 0 and stores the pointer through memptr */
		if (ret != 0 || bpf_probe_read_user(&ptr, sizeof(ptr), (void *)c->memptr))
			ptr = NULL;
		ret = (__u64)ptr;
	}
	bpf_map_delete_elem(&calls, &tid);
	return emit(ctx, op, ret, size);
}

SEC("uprobe/libc:malloc")
int BPF_KPROBE(trace_malloc_enter, size_t size)
{
	return enter(size, 0);
}

SEC("uretprobe/libc:malloc")
int BPF_KRETPROBE(trace_malloc_exit, void *ret)
{
	return leave(ctx, malloc, (__u64)ret);
}

SEC("uprobe/libc:free")
int BPF_KPROBE(trace_free_enter, void *addr)
{
	if (gadget_should_discard_data_current())
		return 0;
	return emit(ctx, free, (__u64)addr, 0);
}

SEC("uprobe/libc:calloc")
int BPF_KPROBE(trace_calloc_enter, size_t nmemb, size_t size)
{
	return enter((__u64)nmemb * size, 0);
}

SEC("uretprobe/libc:calloc")
int BPF_KRETPROBE(trace_calloc_exit, void *ret)
{
	return leave(ctx, calloc, (__u64)ret);
}

SEC("uprobe/libc:realloc")
int BPF_KPROBE(trace_realloc_enter, void *ptr, size_t size)
{
	/* realloc releases ptr whatever it returns; realloc(NULL, n) releases nothing */
	if (ptr && !gadget_should_discard_data_current())
		emit(ctx, realloc_free, (__u64)ptr, 0);
	return enter(size, 0);
}

SEC("uretprobe/libc:realloc")
int BPF_KRETPROBE(trace_realloc_exit, void *ret)
{
	return leave(ctx, realloc, (__u64)ret);
}

SEC("uprobe/libc:mmap")
int BPF_KPROBE(trace_mmap_enter, void *addr, size_t length)
{
	return enter(length, 0);
}

SEC("uretprobe/libc:mmap")
int BPF_KRETPROBE(trace_mmap_exit, void *ret)
{
	return leave(ctx, mmap, (__u64)ret);
}

SEC("uprobe/libc:munmap")
int BPF_KPROBE(trace_munmap_enter, void *addr, size_t length)
{
	if (gadget_should_discard_data_current())
		return 0;
	return emit(ctx, munmap, (__u64)addr, length);
}

SEC("uprobe/libc:posix_memalign")
int BPF_KPROBE(trace_posix_memalign_enter, void **memptr, size_t alignment, size_t size)
{
	return enter(size, (__u64)memptr);
}

SEC("uretprobe/libc:posix_memalign")
int BPF_KRETPROBE(trace_posix_memalign_exit, int ret)
{
	return leave(ctx, posix_memalign, (__u64)ret);
}

SEC("uprobe/libc:aligned_alloc")
int BPF_KPROBE(trace_aligned_alloc_enter, size_t alignment, size_t size)
{
	return enter(size, 0);
}

SEC("uretprobe/libc:aligned_alloc")
int BPF_KRETPROBE(trace_aligned_alloc_exit, void *ret)
{
	return leave(ctx, aligned_alloc, (__u64)ret);
}

SEC("uprobe/libc:valloc")
int BPF_KPROBE(trace_valloc_enter, size_t size)
{
	return enter(size, 0);
}

SEC("uretprobe/libc:valloc")
int BPF_KRETPROBE(trace_valloc_exit, void *ret)
{
	return leave(ctx, valloc, (__u64)ret);
}

SEC("uprobe/libc:memalign")
int BPF_KPROBE(trace_memalign_enter, size_t alignment, size_t size)
{
	return enter(size, 0);
}

SEC("uretprobe/libc:memalign")
int BPF_KRETPROBE(trace_memalign_exit, void *ret)
{
	return leave(ctx, memalign, (__u64)ret);
}

SEC("uprobe/libc:pvalloc")
int BPF_KPROBE(trace_pvalloc_enter, size_t size)
{
	return enter(size, 0);
}

SEC("uretprobe/libc:pvalloc")
int BPF_KRETPROBE(trace_pvalloc_exit, void *ret)
{
	return leave(ctx, pvalloc, (__u64)ret);
}

char LICENSE[] SEC("license") = "GPL";
