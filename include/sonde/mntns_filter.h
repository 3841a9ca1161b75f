/* The mount-namespace filter of a gadget run: which processes' events leave
 * the kernel.
 *
 * A gadget built with <gadget/mntns_filter.h> drops, in the kernel, the events
 * of every mount namespace not in its filter once filtering is on. The
 * operator that runs the gadget's programs (ebpf) offers that filter on the
 * gadget context when it instantiates the gadget; the operator that knows
 * which containers are wanted (LocalManager) turns it on in pre-start, before
 * the programs are loaded, and keeps its content in sync with the selected
 * containers as they come and go. Neither sees the other's types: a mount
 * namespace is its inode number (the `gadget_mntns_id` of an event).
 *
 *   pre-start   enable(), then add() for every container selected now: the
 *               gadget starts with the filter already filled
 *   start..stop add()/remove() from any thread (the shared container watcher
 *               calls them while the run's own thread handles events)
 *   after stop  no more calls: the filter goes with the gadget's instance
 *
 * A gadget without a filter offers none (sonde_gadget_mntns_filter is NULL):
 * it sees every process, whatever the selection. */
#ifndef SONDE_MNTNS_FILTER_H
#define SONDE_MNTNS_FILTER_H

#include <stdbool.h>
#include <stdint.h>

struct sonde_gadget_ctx;

struct sonde_mntns_filter_ops {
	/* Turns filtering on: from the gadget's start, only events of the mount
	 * namespaces added pass. Before the gadget starts only (-EBUSY after).
	 * 0 or a negative errno (the reason logged). */
	int (*enable)(void *impl);
	bool (*enabled)(void *impl);
	/* Thread-safe. Adding an id twice is harmless; removing an absent one
	 * succeeds. 0 or a negative errno: -ENOSPC when the filter is full,
	 * -EINVAL when it is not enabled. */
	int (*add)(void *impl, uint64_t mntns);
	int (*remove)(void *impl, uint64_t mntns);
};

struct sonde_mntns_filter {
	const struct sonde_mntns_filter_ops *ops;
	void *impl;
};

/* Offered by the gadget's operator in instantiate (NULL withdraws it); the
 * filter must stay valid until that operator's close. */
void sonde_gadget_set_mntns_filter(struct sonde_gadget_ctx *ctx, const struct sonde_mntns_filter *filter);
/* The run's filter, NULL when the gadget has none. */
const struct sonde_mntns_filter *sonde_gadget_mntns_filter(const struct sonde_gadget_ctx *ctx);

static inline int sonde_mntns_filter_enable(const struct sonde_mntns_filter *f)
{
	return f->ops->enable(f->impl);
}

static inline bool sonde_mntns_filter_enabled(const struct sonde_mntns_filter *f)
{
	return f->ops->enabled(f->impl);
}

static inline int sonde_mntns_filter_add(const struct sonde_mntns_filter *f, uint64_t mntns)
{
	return f->ops->add(f->impl, mntns);
}

static inline int sonde_mntns_filter_remove(const struct sonde_mntns_filter *f, uint64_t mntns)
{
	return f->ops->remove(f->impl, mntns);
}

#endif
