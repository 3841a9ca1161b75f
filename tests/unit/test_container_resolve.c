/* What LocalManager needs from the collection per event and per change:
 * events to containers (mntns, then the netns fallback), the cached pod
 * labels text, and UPDATED notifications. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/containers.h>

#include "containers/resolve.h"
#include "containers/labels_cache.h"
#include "testlib.h"

#define HOST_NETNS 4026531840ull

static struct sonde_container *mk(const char *id, uint64_t mntns, uint64_t netns, const char *sandbox,
                                  const char *ns, const char *pod)
{
	struct sonde_container *c = sonde_container_new(id, "containerd");

	c->mntns = mntns;
	c->netns = netns;
	c->pid = 100;
	sonde_container_set_str(&c->sandbox_id, sandbox);
	sonde_container_set_str(&c->k8s_namespace, ns);
	sonde_container_set_str(&c->k8s_pod_name, pod);
	return c;
}

static struct sonde_container *sandbox(const char *id, uint64_t mntns, uint64_t netns, const char *ns,
                                       const char *pod)
{
	struct sonde_container *c = mk(id, mntns, netns, id, ns, pod);

	c->k8s_sandbox = true;
	return c;
}

static const char *resolved_id(struct sonde_containers *set, uint64_t mntns, uint64_t netns, bool *pod_only)
{
	struct container_match m = container_resolve(set, mntns, netns, 0);

	*pod_only = m.pod_only;
	return m.c ? m.c->id : NULL;
}

static void test_mntns_first(void)
{
	struct sonde_containers *set = sonde_containers_new();
	bool pod_only = true;

	REQUIRE(set);
	sonde_containers_add(set, mk("a", 11, 21, "", "", ""));
	sonde_containers_add(set, mk("b", 12, 22, "", "", ""));
	CHECK_STR(resolved_id(set, 11, 0, &pod_only), "a");
	CHECK(!pod_only);
	/* the mntns wins over another container's netns */
	CHECK_STR(resolved_id(set, 11, 22, &pod_only), "a");
	CHECK(resolved_id(set, 99, 0, &pod_only) == NULL);
	CHECK(resolved_id(set, 0, 0, &pod_only) == NULL);
	/* a netns-only gadget (mntns 0) */
	CHECK_STR(resolved_id(set, 0, 22, &pod_only), "b");
	CHECK(!pod_only);
	/* a process outside the containers' mntns but in one's netns */
	CHECK_STR(resolved_id(set, 99, 21, &pod_only), "a");
	CHECK(!pod_only);
	sonde_containers_free(set);
}

static void test_netns_pod(void)
{
	struct sonde_containers *set = sonde_containers_new();
	bool pod_only = false;

	REQUIRE(set);
	/* a pod: its sandbox and two containers share the sandbox's netns */
	sonde_containers_add(set, sandbox("sb1", 10, 30, "default", "shop"));
	sonde_containers_add(set, mk("web", 11, 30, "sb1", "default", "shop"));
	/* one container next to its sandbox: that container */
	CHECK_STR(resolved_id(set, 0, 30, &pod_only), "web");
	CHECK(!pod_only);
	sonde_containers_add(set, mk("cache", 12, 30, "sb1", "default", "shop"));
	/* two: the pod only */
	CHECK(resolved_id(set, 0, 30, &pod_only) != NULL);
	CHECK(pod_only);
	/* the sandbox's own events still map to it by mntns */
	CHECK_STR(resolved_id(set, 10, 30, &pod_only), "sb1");
	CHECK(!pod_only);
	sonde_containers_free(set);

	/* same pod told by namespace and name when sandbox ids are unknown */
	set = sonde_containers_new();
	REQUIRE(set);
	sonde_containers_add(set, mk("x", 11, 31, "", "team", "api"));
	sonde_containers_add(set, mk("y", 12, 31, "", "team", "api"));
	CHECK(resolved_id(set, 0, 31, &pod_only) != NULL);
	CHECK(pod_only);
	sonde_containers_free(set);

	/* only a sandbox in that netns (no container yet): the pod */
	set = sonde_containers_new();
	REQUIRE(set);
	sonde_containers_add(set, sandbox("sb2", 10, 32, "default", "lonely"));
	CHECK_STR(resolved_id(set, 0, 32, &pod_only), "sb2");
	CHECK(pod_only);
	sonde_containers_free(set);
}

static void test_netns_ambiguous(void)
{
	struct sonde_containers *set = sonde_containers_new();
	bool pod_only = false;

	REQUIRE(set);
	/* two containers sharing a netns outside any pod (podman --net container:) */
	sonde_containers_add(set, mk("p", 11, 40, "", "", ""));
	sonde_containers_add(set, mk("q", 12, 40, "", "", ""));
	CHECK(resolved_id(set, 0, 40, &pod_only) == NULL);
	/* two pods in one netns can only be a mistake of the metadata: nothing */
	sonde_containers_add(set, mk("r", 13, 41, "sbA", "default", "a"));
	sonde_containers_add(set, mk("s", 14, 41, "sbB", "default", "b"));
	CHECK(resolved_id(set, 0, 41, &pod_only) == NULL);
	/* one pod container and one plain container: not one pod */
	sonde_containers_add(set, mk("t", 15, 42, "sbC", "default", "c"));
	sonde_containers_add(set, mk("u", 16, 42, "", "", ""));
	CHECK(resolved_id(set, 0, 42, &pod_only) == NULL);
	sonde_containers_free(set);
}

static void test_netns_host_network(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct sonde_container *hn = mk("hostnet", 11, HOST_NETNS, "sbH", "kube-system", "proxy");
	bool pod_only = false;

	REQUIRE(set);
	hn->host_network = true;
	sonde_containers_add(set, hn);
	/* every host process is in that netns: never attributed by it */
	CHECK(resolved_id(set, 4026531841ull, HOST_NETNS, &pod_only) == NULL);
	/* its own processes are, by mntns */
	CHECK_STR(resolved_id(set, 11, HOST_NETNS, &pod_only), "hostnet");
	/* a non-host-network container alone next to it still resolves */
	sonde_containers_add(set, mk("other", 12, 50, "", "", ""));
	CHECK_STR(resolved_id(set, 0, 50, &pod_only), "other");
	/* removed containers are not found by netns (their netns may be reused) */
	sonde_containers_remove(set, "other");
	CHECK(resolved_id(set, 0, 50, &pod_only) == NULL);
	/* but late events still find them by mntns */
	CHECK_STR(resolved_id(set, 12, 0, &pod_only), "other");
	sonde_containers_free(set);
}

static void test_same_pod(void)
{
	struct sonde_container *a = mk("a", 1, 1, "sb", "ns", "pod");
	struct sonde_container *b = mk("b", 2, 1, "sb", "other-ns", "other");
	struct sonde_container *c = mk("c", 3, 1, "", "ns", "pod");
	struct sonde_container *d = mk("d", 4, 1, "", "", "");

	CHECK(container_same_pod(a, b)); /* sandbox ids decide when both known */
	CHECK(container_same_pod(a, c));
	CHECK(!container_same_pod(b, c));
	CHECK(!container_same_pod(d, d)); /* no pod at all is not a pod */
	sonde_container_free(a);
	sonde_container_free(b);
	sonde_container_free(c);
	sonde_container_free(d);
}

/* ---- the labels text cache ---- */

struct cache_sync {
	struct labels_cache *lc;
};

static void keep_cache(struct sonde_containers *set, enum sonde_container_event ev,
                       const struct sonde_container *c, void *arg)
{
	struct cache_sync *s = arg;

	if (ev != SONDE_CONTAINER_REMOVED) {
		labels_cache_update(s->lc, c);
	}
	labels_cache_sweep(s->lc, set);
}

static void test_labels_cache(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct cache_sync s = {labels_cache_new()};
	struct sonde_container *c = mk("web", 11, 30, "sb", "default", "shop");
	const struct sonde_container *found;

	REQUIRE(set && s.lc);
	sonde_containers_subscribe(set, keep_cache, &s);
	sonde_container_set_label(c, "tier", "frontend");
	sonde_container_set_label(c, "app", "shop");
	sonde_containers_add(set, c);
	found = sonde_containers_by_mntns(set, 11);
	CHECK_STR(labels_cache_get(s.lc, found), "app=shop,tier=frontend");
	CHECK_STR(labels_cache_get(s.lc, NULL), "");

	/* removed: still there for late events */
	sonde_containers_remove(set, "web");
	CHECK_STR(labels_cache_get(s.lc, sonde_containers_by_mntns(set, 11)), "app=shop,tier=frontend");

	/* the same id again: the new container's labels, the old entry swept */
	c = mk("web", 12, 31, "sb2", "default", "shop");
	sonde_containers_add(set, c);
	CHECK_STR(labels_cache_get(s.lc, sonde_containers_by_mntns(set, 12)), "");
	labels_cache_free(s.lc);
	labels_cache_free(NULL);
	sonde_containers_free(set);
}

/* Metadata filled after ADDED (CRI answers late): UPDATED re-announces the
 * container, and the cache follows. */
struct update_log {
	struct labels_cache *lc;
	int added, updated, removed;
};

static void log_updates(struct sonde_containers *set, enum sonde_container_event ev,
                        const struct sonde_container *c, void *arg)
{
	struct update_log *l = arg;

	l->added += ev == SONDE_CONTAINER_ADDED;
	l->updated += ev == SONDE_CONTAINER_UPDATED;
	l->removed += ev == SONDE_CONTAINER_REMOVED;
	if (ev != SONDE_CONTAINER_REMOVED)
		labels_cache_update(l->lc, c);
	labels_cache_sweep(l->lc, set);
}

static void test_updated(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct update_log l = {.lc = labels_cache_new()};
	struct sonde_container *c = mk("web", 11, 30, "sb", "default", "shop");
	const struct sonde_container *found;

	REQUIRE(set && l.lc);
	sonde_containers_subscribe(set, log_updates, &l);
	sonde_containers_add(set, c);
	found = sonde_containers_by_mntns(set, 11);
	CHECK_STR(labels_cache_get(l.lc, found), "");
	/* the record changes in place; nothing is told until the update */
	sonde_container_set_label(c, "app", "shop");
	CHECK_STR(labels_cache_get(l.lc, found), "");
	CHECK_INT(sonde_containers_updated(set, "web"), 0);
	CHECK_INT(l.updated, 1);
	CHECK_INT(l.added, 1);
	CHECK_STR(labels_cache_get(l.lc, found), "app=shop");
	CHECK(sonde_containers_by_mntns(set, 11) == found);
	CHECK_INT(sonde_containers_updated(set, "nope"), -ENOENT);
	CHECK_INT(sonde_containers_updated(set, NULL), -ENOENT);
	/* removed containers are not updated (their late events keep the old text) */
	sonde_containers_remove(set, "web");
	CHECK_INT(sonde_containers_updated(set, "web"), -ENOENT);
	CHECK_INT(l.updated, 1);
	CHECK_INT(l.removed, 1);
	CHECK_STR(labels_cache_get(l.lc, sonde_containers_by_mntns(set, 11)), "app=shop");
	labels_cache_free(l.lc);
	sonde_containers_free(set);
}

/* Addresses of freed containers come back (the ttl of 0 frees each removed
 * one at the next change): never the old text for them. */
static void test_labels_cache_reuse(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct cache_sync s = {labels_cache_new()};

	REQUIRE(set && s.lc);
	sonde_containers_set_removed_ttl(set, 0);
	sonde_containers_subscribe(set, keep_cache, &s);
	for (int i = 0; i < 200; i++) {
		char id[32], value[32];
		struct sonde_container *c;
		const struct sonde_container *found;

		snprintf(id, sizeof(id), "c%d", i);
		snprintf(value, sizeof(value), "v%d", i);
		c = mk(id, 1000 + (uint64_t)i, 2000, "", "", "");
		if (i % 2)
			sonde_container_set_label(c, "k", value);
		sonde_containers_add(set, c);
		found = sonde_containers_by_id(set, id);
		if (i % 2) {
			char want[40];
			snprintf(want, sizeof(want), "k=%s", value);
			CHECK_STR(labels_cache_get(s.lc, found), want);
		} else {
			CHECK_STR(labels_cache_get(s.lc, found), "");
		}
		sonde_containers_remove(set, id);
	}
	labels_cache_free(s.lc);
	sonde_containers_free(set);
}

TEST_MAIN(TEST(test_mntns_first), TEST(test_netns_pod), TEST(test_netns_ambiguous),
          TEST(test_netns_host_network), TEST(test_same_pod), TEST(test_labels_cache), TEST(test_updated),
          TEST(test_labels_cache_reuse))
