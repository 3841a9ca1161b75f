// SPDX-License-Identifier: GPL-2.0
/* <gadget/macros.h>: every marker macro, and the BTF symbols the loader looks for. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

struct event {
	gadget_pid pid;
};

struct mykey {
	__u32 k;
};

struct value {
	__u64 v;
};

const volatile __u32 threshold = 0;
GADGET_PARAM(threshold);

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(one, events, event);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, struct mykey);
	__type(value, struct value);
} counts SEC(".maps");
GADGET_MAPITER(counter, counts);

GADGET_ITER(iter1, event, it_a);
GADGET_ITER(iter2, event, it_a, it_b);
GADGET_ITER(iter3, event, it_a, it_b, it_c);
GADGET_SNAPSHOTTER(snap, event, it_c);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, struct mykey);
	__type(value, struct value);
} elems SEC(".maps");
GADGET_ITER(elems_ds, event, dump_elems);
GADGET_ITER_TARGET_MAP(dump_elems, elems);

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32);
} socks SEC(".maps");
GADGET_SK_TARGET_MAP(verdict, socks);

static __always_inline int emit(struct seq_file *seq)
{
	struct event e = {.pid = threshold};

	return bpf_seq_write(seq, &e, sizeof(e));
}

SEC("iter/task")
int it_a(struct bpf_iter__task *ctx)
{
	return emit(ctx->meta->seq);
}

SEC("iter/task")
int it_b(struct bpf_iter__task *ctx)
{
	return emit(ctx->meta->seq);
}

SEC("iter/task")
int it_c(struct bpf_iter__task *ctx)
{
	return emit(ctx->meta->seq);
}

SEC("iter/bpf_map_elem")
int dump_elems(struct bpf_iter__bpf_map_elem *ctx)
{
	return emit(ctx->meta->seq);
}

SEC("sk_skb/stream_verdict")
int verdict(struct __sk_buff *skb)
{
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_tracer_one___events___event' */
/* expect-btf: '__gadget_tracer_type_one' */
/* expect-btf: 'gadget_param_threshold' */
/* expect-btf: 'gadget_mapiter_counter___counts' */
/* expect-btf: 'gadget_iter_iter1___event___it_a' */
/* expect-btf: 'gadget_iter_iter2___event___it_a___it_b' */
/* expect-btf: 'gadget_iter_iter3___event___it_a___it_b___it_c' */
/* expect-btf: 'unusedevent_iter3___event' */
/* expect-btf: 'gadget_iter_snap___event___it_c' */
/* expect-btf: 'gadget_mapelem_iter_target_dump_elems___elems' */
/* expect-btf: 'gadget_sk_prog_target_verdict___socks' */
/* expect-btf: 'gadget_map_tracer_events' */
