// SPDX-License-Identifier: GPL-2.0
/* <gadget/sockets-map.h> in a tracing program (as upstream trace_tcpdrop): owner of a struct sock. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#define GADGET_TYPE_TRACING

#include <gadget/buffer.h>
#include <gadget/core_fixes.bpf.h>
#include <gadget/macros.h>
#include <gadget/sockets-map.h>
#include <gadget/types.h>

struct event {
	struct gadget_process proc;
	struct gadget_l4endpoint_t src;
	char cwd[64];
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(retrans, events, event);

SEC("tracepoint/tcp/tcp_retransmit_skb")
int retransmit(void *ctx)
{
	const struct sock *sk = gadget_get_tcp_retransmit_skb_skaddr(ctx);
	__u32 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	struct gadget_socket_value *owner = gadget_socket_lookup(sk, netns);
	struct event *e;

	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	gadget_process_populate_from_socket(owner, &e->proc);
	/* optional enricher fields: present and sized at run time */
	if (owner && bpf_core_field_exists(owner->cwd))
		bpf_probe_read_kernel_str(e->cwd, sizeof(e->cwd), owner->cwd);
	e->src.port = bpf_core_field_size(owner->exepath);
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'gadget_sockets' */
