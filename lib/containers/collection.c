/* The container collection: running containers plus a short-lived cache of
 * removed ones, with subscribers.
 *
 * Hosts run tens, rarely hundreds of containers, so lookups scan arrays
 * (newest first, so a reused mntns id always finds the newest claimant); the
 * per-event path (by mntns) keeps a one-entry cache, reset by every change.
 * Lookups of several threads may run at once (under a shared reader lock):
 * the cache is one atomic pointer, checked against the container's mntns. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <sonde/containers.h>
#include <sonde/log.h>

#include "util/clock.h"
#include "util/array.h"

#define DEFAULT_REMOVED_TTL_NS (2LL * 1000000000LL)

struct removed {
	struct sonde_container *c;
	int64_t at_ns; /* CLOCK_MONOTONIC */
};

struct subscriber {
	int id;
	sonde_container_fn fn;
	void *arg;
};

struct sonde_containers {
	struct sonde_container **live;
	size_t nlive, live_cap;
	struct removed *removed;
	size_t nremoved, removed_cap;
	int64_t ttl_ns;
	struct subscriber *subs;
	size_t nsubs;
	int next_sub_id;
	/* one-entry cache of by_mntns: a running container */
	_Atomic(const struct sonde_container *) cached;
};

struct sonde_containers *sonde_containers_new(void)
{
	struct sonde_containers *set = calloc(1, sizeof(*set));

	if (set)
		set->ttl_ns = DEFAULT_REMOVED_TTL_NS;
	return set;
}

void sonde_containers_free(struct sonde_containers *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->nlive; i++)
		sonde_container_free(set->live[i]);
	for (size_t i = 0; i < set->nremoved; i++)
		sonde_container_free(set->removed[i].c);
	free(set->live);
	free(set->removed);
	free(set->subs);
	free(set);
}

void sonde_containers_set_removed_ttl(struct sonde_containers *set, int64_t ttl_ns)
{
	set->ttl_ns = ttl_ns < 0 ? 0 : ttl_ns;
}

static void notify(struct sonde_containers *set, enum sonde_container_event ev,
                   const struct sonde_container *c)
{
	/* a subscriber may unsubscribe itself: iterate over a stable count */
	for (size_t i = 0; i < set->nsubs; i++) {
		struct subscriber s = set->subs[i];
		s.fn(set, ev, c, s.arg);
	}
}

static bool expired(const struct sonde_containers *set, const struct removed *r, int64_t now)
{
	return now - r->at_ns > set->ttl_ns;
}

/* Frees removed containers past the ttl (only on changes, never in lookups,
 * so pointers returned by lookups stay valid until the next change). */
static void purge(struct sonde_containers *set)
{
	int64_t now = util_now_ns();
	size_t k = 0;

	for (size_t i = 0; i < set->nremoved; i++) {
		if (expired(set, &set->removed[i], now))
			sonde_container_free(set->removed[i].c);
		else
			set->removed[k++] = set->removed[i];
	}
	set->nremoved = k;
}

static ssize_t live_index(const struct sonde_containers *set, const char *id)
{
	for (size_t i = 0; i < set->nlive; i++)
		if (strcmp(set->live[i]->id, id) == 0)
			return (ssize_t)i;
	return -1;
}

static struct sonde_container *take_live(struct sonde_containers *set, size_t i)
{
	struct sonde_container *c = set->live[i];

	memmove(&set->live[i], &set->live[i + 1], (set->nlive - i - 1) * sizeof(*set->live));
	set->nlive--;
	set->cached = NULL;
	return c;
}

int sonde_containers_add(struct sonde_containers *set, struct sonde_container *c)
{
	ssize_t old;

	if (!c)
		return -EINVAL;
	if (!sonde_container_id_valid(c->id)) {
		sonde_warn("containers: invalid container id \"%s\"; ignored", c->id);
		sonde_container_free(c);
		return -EINVAL;
	}
	purge(set);
	old = live_index(set, c->id);
	if (old >= 0) {
		struct sonde_container *prev = take_live(set, (size_t)old);
		notify(set, SONDE_CONTAINER_REMOVED, prev);
		sonde_container_free(prev);
	}
	/* the same id may linger in the removed cache: the new one supersedes it */
	for (size_t i = 0; i < set->nremoved; i++) {
		if (strcmp(set->removed[i].c->id, c->id) == 0) {
			sonde_container_free(set->removed[i].c);
			set->removed[i] = set->removed[--set->nremoved];
			break;
		}
	}
	if (grow_array((void **)&set->live, &set->live_cap, set->nlive + 1, sizeof(*set->live))) {
		sonde_container_free(c);
		return -ENOMEM;
	}
	set->live[set->nlive++] = c;
	set->cached = NULL;
	notify(set, SONDE_CONTAINER_ADDED, c);
	return 0;
}

int sonde_containers_remove(struct sonde_containers *set, const char *id)
{
	ssize_t i = live_index(set, id);
	struct sonde_container *c;

	if (i < 0)
		return -ENOENT;
	purge(set);
	c = take_live(set, (size_t)i);
	if (grow_array((void **)&set->removed, &set->removed_cap, set->nremoved + 1, sizeof(*set->removed))) {
		notify(set, SONDE_CONTAINER_REMOVED, c);
		sonde_container_free(c);
		return 0;
	}
	set->removed[set->nremoved++] = (struct removed){c, util_now_ns()};
	notify(set, SONDE_CONTAINER_REMOVED, c);
	return 0;
}

int sonde_containers_updated(struct sonde_containers *set, const char *id)
{
	ssize_t i = id ? live_index(set, id) : -1;

	if (i < 0)
		return -ENOENT;
	set->cached = NULL; /* its mntns may be what changed */
	notify(set, SONDE_CONTAINER_UPDATED, set->live[i]);
	return 0;
}

/* Newest removed container matching, within the ttl. */
static const struct sonde_container *find_removed(const struct sonde_containers *set,
                                                  bool (*match)(const struct sonde_container *, const void *),
                                                  const void *key)
{
	int64_t now;

	/* every event of a process outside containers ends here: no clock read
	 * when nothing was removed */
	if (set->nremoved == 0)
		return NULL;
	now = util_now_ns();
	for (size_t i = set->nremoved; i-- > 0;)
		if (!expired(set, &set->removed[i], now) && match(set->removed[i].c, key))
			return set->removed[i].c;
	return NULL;
}

static const struct sonde_container *find(const struct sonde_containers *set,
                                          bool (*match)(const struct sonde_container *, const void *),
                                          const void *key)
{
	for (size_t i = set->nlive; i-- > 0;)
		if (match(set->live[i], key))
			return set->live[i];
	return find_removed(set, match, key);
}

static bool match_id(const struct sonde_container *c, const void *key)
{
	return strcmp(c->id, key) == 0;
}

static bool match_name(const struct sonde_container *c, const void *key)
{
	return strcmp(c->name, key) == 0;
}

static bool match_mntns(const struct sonde_container *c, const void *key)
{
	return c->mntns == *(const uint64_t *)key;
}

const struct sonde_container *sonde_containers_by_id(struct sonde_containers *set, const char *id)
{
	return id ? find(set, match_id, id) : NULL;
}

const struct sonde_container *sonde_containers_by_name(struct sonde_containers *set, const char *name)
{
	return name ? find(set, match_name, name) : NULL;
}

const struct sonde_container *sonde_containers_by_mntns(struct sonde_containers *set, uint64_t mntns)
{
	const struct sonde_container *c;

	if (mntns == 0)
		return NULL;
	c = atomic_load_explicit(&set->cached, memory_order_relaxed);
	if (c && c->mntns == mntns)
		return c;
	for (size_t i = set->nlive; i-- > 0;) {
		if (set->live[i]->mntns == mntns) {
			/* only running containers are cached: removed ones expire */
			atomic_store_explicit(&set->cached, set->live[i], memory_order_relaxed);
			return set->live[i];
		}
	}
	c = find_removed(set, match_mntns, &mntns);
	return c;
}

const struct sonde_container *sonde_containers_by_mntns_at(struct sonde_containers *set, uint64_t mntns,
                                                           int64_t boot_ns)
{
	const struct sonde_container *c = sonde_containers_by_mntns(set, mntns);
	int64_t now;

	/* the newest claimant, unless the event is older than it */
	if (!c || !boot_ns || !c->started_boot_ns || boot_ns >= c->started_boot_ns)
		return c;
	now = util_now_ns();
	for (size_t i = set->nremoved; i-- > 0;) {
		const struct sonde_container *r = set->removed[i].c;

		if (r != c && r->mntns == mntns && !expired(set, &set->removed[i], now) &&
		    r->started_boot_ns <= boot_ns)
			return r;
	}
	return NULL; /* the runtime's own setup, before the container's init */
}

const struct sonde_container *sonde_containers_by_netns(struct sonde_containers *set, uint64_t netns,
                                                        size_t *count)
{
	const struct sonde_container *first = NULL;
	size_t n = 0;

	for (size_t i = set->nlive; netns && i-- > 0;) {
		if (set->live[i]->netns == netns) {
			if (!first)
				first = set->live[i];
			n++;
		}
	}
	if (count)
		*count = n;
	return first;
}

bool sonde_containers_empty(const struct sonde_containers *set)
{
	return set->nlive == 0 && set->nremoved == 0;
}

size_t sonde_containers_count(const struct sonde_containers *set)
{
	return set->nlive;
}

const struct sonde_container *sonde_containers_at(const struct sonde_containers *set, size_t i)
{
	return i < set->nlive ? set->live[i] : NULL;
}

int sonde_containers_subscribe(struct sonde_containers *set, sonde_container_fn fn, void *arg)
{
	if (grow_array_by_len((void **)&set->subs, set->nsubs, sizeof(*set->subs)))
		return -ENOMEM;
	set->subs[set->nsubs++] = (struct subscriber){++set->next_sub_id, fn, arg};
	return set->next_sub_id;
}

void sonde_containers_unsubscribe(struct sonde_containers *set, int id)
{
	for (size_t i = 0; i < set->nsubs; i++) {
		if (set->subs[i].id == id) {
			memmove(&set->subs[i], &set->subs[i + 1], (set->nsubs - i - 1) * sizeof(*set->subs));
			set->nsubs--;
			return;
		}
	}
}
