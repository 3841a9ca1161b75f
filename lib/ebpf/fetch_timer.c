/* The fetch schedule shared by iterators and map iterators: a loop timer
 * that calls the owner's fetch, counts fetches and finishes the producer
 * after the last one (so snapshot gadgets end by themselves). */
#include <string.h>

#include <sonde/log.h>

#include "internal.h"

static void finish(struct ebpf_fetch_timer *ft)
{
	if (ft->finished)
		return;
	ft->finished = true;
	ebpf_fetch_timer_stop(ft);
	ebpf_producer_finished(ft->g);
}

static void tick(struct sonde_gadget_ctx *ctx, void *arg)
{
	struct ebpf_fetch_timer *ft = arg;

	(void)ctx;
	if (ft->finished)
		return;
	if (ft->fetch(ft->owner))
		sonde_warn("%s '%s': fetch failed", ft->kind, ft->name);
	else
		ft->fetched++;
	if (ft->interval_ns == 0 || (ft->count && ft->fetched >= ft->count))
		finish(ft);
}

int ebpf_fetch_timer_start(struct ebpf_fetch_timer *ft)
{
	int id;

	ft->fetched = 0;
	ft->finished = false;
	if (ft->interval_ns == 0 && ft->count != 1)
		return 0; /* only on stop, if at all */
	/* Even a single fetch goes through the loop: sinks start after us. */
	id = sonde_gadget_add_timer(ft->g->ctx, ft->interval_ns ? ft->interval_ns : 1, ft->interval_ns, tick,
	                            ft);
	if (id < 0) {
		sonde_err("%s '%s': cannot schedule fetches: %s", ft->kind, ft->name, strerror(-id));
		return id;
	}
	ft->timer_id = id;
	ft->g->producers_running++;
	return 0;
}

void ebpf_fetch_timer_stop(struct ebpf_fetch_timer *ft)
{
	if (ft->timer_id > 0) {
		sonde_gadget_remove_timer(ft->g->ctx, ft->timer_id);
		ft->timer_id = -1;
	}
}
