/* The k8s.podLabels text ("k=v,k2=v2", sorted) of each container, built when
 * the container is added or updated so that enriching an event only copies
 * it.
 *
 * Entries are keyed by the container's address, which the collection may
 * hand to a new container once the old one is freed (a removed container
 * stays findable for a while, then goes without notice). That is safe: every
 * container reaches the set through an ADDED notification, whose update
 * replaces whatever entry had that address; sweep drops entries of
 * containers the set no longer returns, so the cache does not grow. */
#ifndef SONDE_CONTAINERS_LABELS_CACHE_H
#define SONDE_CONTAINERS_LABELS_CACHE_H

#include <sonde/containers.h>

struct labels_cache;

struct labels_cache *labels_cache_new(void);
void labels_cache_free(struct labels_cache *lc);
/* (Re)builds the text of c. */
int labels_cache_update(struct labels_cache *lc, const struct sonde_container *c);
/* Drops entries whose container `set` no longer finds by id (freed, expired or replaced). */
void labels_cache_sweep(struct labels_cache *lc, struct sonde_containers *set);
/* The text of c, "" if unknown. No allocation. */
const char *labels_cache_get(struct labels_cache *lc, const struct sonde_container *c);

#endif
