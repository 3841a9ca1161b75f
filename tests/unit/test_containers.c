/* The container collection and the runtimes' state parsers: mntns reuse,
 * removal and late lookups, garbage state files. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sonde/containers.h>

#include "containers/internal.h"
#include "testlib.h"

static struct sonde_container *mk(const char *id, const char *name, uint64_t mntns, uint64_t netns)
{
	struct sonde_container *c = sonde_container_new(id, "runc");

	if (name)
		sonde_container_set_str(&c->name, name);
	c->mntns = mntns;
	c->netns = netns;
	c->pid = 100;
	return c;
}

struct log {
	char ev[32][80];
	int n;
};

static void record(struct sonde_containers *set, enum sonde_container_event ev,
                   const struct sonde_container *c, void *arg)
{
	struct log *l = arg;

	if (l->n < 32)
		snprintf(l->ev[l->n++], sizeof(l->ev[0]), "%s %s", ev == SONDE_CONTAINER_ADDED ? "add" : "rm",
		         c->id);
}

static void test_add_lookup_remove(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct log l = {0};

	REQUIRE(set);
	CHECK(sonde_containers_subscribe(set, record, &l) > 0);
	CHECK_INT(sonde_containers_add(set, mk("a1", "web", 1001, 2001)), 0);
	CHECK_INT(sonde_containers_add(set, mk("b2", NULL, 1002, 2001)), 0);
	CHECK_INT(sonde_containers_count(set), 2);
	CHECK_STR(sonde_containers_by_mntns(set, 1001)->id, "a1");
	CHECK_STR(sonde_containers_by_name(set, "web")->id, "a1");
	CHECK_STR(sonde_containers_by_name(set, "b2")->id, "b2"); /* no name: the id */
	CHECK_STR(sonde_containers_by_id(set, "b2")->name, "b2");
	CHECK(sonde_containers_by_mntns(set, 0) == NULL);
	CHECK(sonde_containers_by_mntns(set, 4026531832ull) == NULL);
	size_t n = 0;
	CHECK(sonde_containers_by_netns(set, 2001, &n) != NULL);
	CHECK_INT(n, 2);
	CHECK(sonde_containers_by_netns(set, 9999, &n) == NULL);
	CHECK_INT(n, 0);

	CHECK_INT(sonde_containers_remove(set, "a1"), 0);
	CHECK_INT(sonde_containers_remove(set, "a1"), -ENOENT);
	CHECK_INT(sonde_containers_count(set), 1);
	/* late events of a1 are still attributed */
	CHECK_STR(sonde_containers_by_mntns(set, 1001)->id, "a1");
	CHECK_STR(sonde_containers_by_id(set, "a1")->name, "web");
	/* but it no longer counts for the netns of running containers */
	CHECK(sonde_containers_by_netns(set, 2001, &n) != NULL);
	CHECK_INT(n, 1);

	CHECK_INT(l.n, 3);
	CHECK_STR(l.ev[0], "add a1");
	CHECK_STR(l.ev[1], "add b2");
	CHECK_STR(l.ev[2], "rm a1");
	sonde_containers_free(set);
}

/* The kernel hands a freed mount namespace id to the next container at once. */
static void test_mntns_reuse(void)
{
	struct sonde_containers *set = sonde_containers_new();

	REQUIRE(set);
	CHECK_INT(sonde_containers_add(set, mk("first", "one", 4026532177ull, 1)), 0);
	CHECK_STR(sonde_containers_by_mntns(set, 4026532177ull)->name, "one"); /* now cached */
	CHECK_INT(sonde_containers_remove(set, "first"), 0);
	CHECK_INT(sonde_containers_add(set, mk("second", "two", 4026532177ull, 2)), 0);
	CHECK_STR(sonde_containers_by_mntns(set, 4026532177ull)->name, "two");
	/* a third reuse while "second" is removed but still cached */
	CHECK_INT(sonde_containers_remove(set, "second"), 0);
	CHECK_STR(sonde_containers_by_mntns(set, 4026532177ull)->name, "two");
	CHECK_INT(sonde_containers_add(set, mk("third", "three", 4026532177ull, 3)), 0);
	CHECK_STR(sonde_containers_by_mntns(set, 4026532177ull)->name, "three");

	/* a newer container claiming the mntns of one whose exit is not processed yet wins */
	CHECK_INT(sonde_containers_add(set, mk("fourth", "four", 4026532177ull, 4)), 0);
	CHECK_STR(sonde_containers_by_mntns(set, 4026532177ull)->name, "four");
	CHECK_INT(sonde_containers_remove(set, "third"), 0);
	CHECK_STR(sonde_containers_by_mntns(set, 4026532177ull)->name, "four");
	sonde_containers_free(set);
}

/* Events are resolved after the fact: one of a container that has exited
 * and whose mntns id a newer container took must still name the first. */
static void test_mntns_reuse_by_time(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct sonde_container *one = mk("first", "one", 4026532177ull, 1),
	                       *two = mk("second", "two", 4026532177ull, 2);
	const uint64_t ns = 4026532177ull;

	REQUIRE(set && one && two);
	one->started_boot_ns = 1000;
	two->started_boot_ns = 5000;
	CHECK_INT(sonde_containers_add(set, one), 0);
	CHECK_INT(sonde_containers_remove(set, "first"), 0);
	CHECK_INT(sonde_containers_add(set, two), 0);
	CHECK_STR(sonde_containers_by_mntns_at(set, ns, 4999)->name, "one");
	CHECK_STR(sonde_containers_by_mntns_at(set, ns, 1000)->name, "one");
	CHECK_STR(sonde_containers_by_mntns_at(set, ns, 5000)->name, "two");
	CHECK_STR(sonde_containers_by_mntns_at(set, ns, 0)->name, "two"); /* no time: the newest */
	/* before both: the runtime setting up, no container's */
	CHECK(sonde_containers_by_mntns_at(set, ns, 999) == NULL);
	/* the cached lookup of the newest does not hide the older one */
	CHECK_STR(sonde_containers_by_mntns(set, ns)->name, "two");
	CHECK_STR(sonde_containers_by_mntns_at(set, ns, 2000)->name, "one");
	/* once the removed one expired, an older event has no container */
	sonde_containers_set_removed_ttl(set, 1);
	usleep(1000);
	CHECK_INT(sonde_containers_add(set, mk("third", "three", 99, 3)), 0); /* a change purges */
	CHECK(sonde_containers_by_mntns_at(set, ns, 2000) == NULL);
	sonde_containers_free(set);
}

static void test_removed_ttl(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct timespec ts = {0, 60 * 1000 * 1000};

	REQUIRE(set);
	sonde_containers_set_removed_ttl(set, 30 * 1000 * 1000LL);
	CHECK_INT(sonde_containers_add(set, mk("gone", "g", 77, 1)), 0);
	CHECK_INT(sonde_containers_remove(set, "gone"), 0);
	CHECK(sonde_containers_by_mntns(set, 77) != NULL);
	nanosleep(&ts, NULL);
	CHECK(sonde_containers_by_mntns(set, 77) == NULL);
	CHECK(sonde_containers_by_id(set, "gone") == NULL);
	CHECK(sonde_containers_by_name(set, "g") == NULL);
	/* a change purges it for good, and re-adding the id works */
	CHECK_INT(sonde_containers_add(set, mk("gone", "g2", 78, 1)), 0);
	CHECK_STR(sonde_containers_by_id(set, "gone")->name, "g2");
	sonde_containers_free(set);
}

static void test_same_id_replaces(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct log l = {0};

	REQUIRE(set);
	sonde_containers_subscribe(set, record, &l);
	CHECK_INT(sonde_containers_add(set, mk("x", "old", 10, 1)), 0);
	CHECK_INT(sonde_containers_add(set, mk("x", "new", 11, 1)), 0);
	CHECK_INT(sonde_containers_count(set), 1);
	CHECK_STR(sonde_containers_by_id(set, "x")->name, "new");
	CHECK(sonde_containers_by_mntns(set, 10) == NULL);
	CHECK_INT(l.n, 3);
	CHECK_STR(l.ev[1], "rm x");
	/* a removed id re-created supersedes the cached one */
	CHECK_INT(sonde_containers_remove(set, "x"), 0);
	CHECK_INT(sonde_containers_add(set, mk("x", "newest", 12, 1)), 0);
	CHECK(sonde_containers_by_mntns(set, 11) == NULL);
	sonde_containers_free(set);
}

static void test_invalid_ids(void)
{
	struct sonde_containers *set = sonde_containers_new();

	REQUIRE(set);
	CHECK(!sonde_container_id_valid(""));
	CHECK(!sonde_container_id_valid("."));
	CHECK(!sonde_container_id_valid(".."));
	CHECK(!sonde_container_id_valid("a/b"));
	CHECK(!sonde_container_id_valid("a b"));
	CHECK(!sonde_container_id_valid(NULL));
	CHECK(sonde_container_id_valid("abc-1.2_3+4"));
	CHECK_INT(sonde_containers_add(set, mk("../etc", NULL, 1, 1)), -EINVAL);
	CHECK_INT(sonde_containers_add(set, NULL), -EINVAL);
	CHECK_INT(sonde_containers_count(set), 0);
	sonde_containers_free(set);
}

static void unsub_self(struct sonde_containers *set, enum sonde_container_event ev,
                       const struct sonde_container *c, void *arg)
{
	int *id = arg;

	sonde_containers_unsubscribe(set, *id);
	*id = -1;
}

static void test_unsubscribe_in_callback(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct log l = {0};
	int id;

	REQUIRE(set);
	id = sonde_containers_subscribe(set, unsub_self, &id);
	sonde_containers_subscribe(set, record, &l);
	CHECK_INT(sonde_containers_add(set, mk("a", NULL, 1, 1)), 0);
	CHECK_INT(id, -1);
	CHECK_INT(sonde_containers_add(set, mk("b", NULL, 2, 1)), 0);
	CHECK_INT(l.n >= 1, 1);
	CHECK_STR(l.ev[l.n - 1], "add b");
	sonde_containers_free(set);
}

/* ---- state files ---- */

static const char runc_state[] =
    "{\"id\":\"demo1\",\"init_process_pid\":25668,\"init_process_start\":1313112,"
    "\"created\":\"2026-11-22T06:42:20.746611345Z\",\"config\":{\"rootfs\":\"/tmp/r\","
    "\"labels\":[\"io.kubernetes.cri.container-name=demo\",\"org.example.test=x=y\","
    "\"bundle=/tmp/ctr/bundle\",\"=novalue\",\"nokey\",7]},"
    "\"cgroup_paths\":{\"\":\"/sys/fs/cgroup/unified/demo1\",\"cpu\":\"/sys/fs/cgroup/cpu/demo1\"},"
    "\"namespace_paths\":{}}";

static void test_runc_state(void)
{
	struct sonde_container *c = sonde_container_new("x", "runc");

	REQUIRE(c);
	CHECK_INT(sonde_runc_state_parse(runc_state, strlen(runc_state), c), 0);
	CHECK_STR(c->id, "demo1");
	CHECK_INT(c->pid, 25668);
	CHECK_STR(c->bundle, "/tmp/ctr/bundle");
	CHECK_STR(c->cgroup_path, "/demo1");
	CHECK_INT(c->nannotations, 2);
	CHECK_STR(sonde_container_annotation(c, "org.example.test"), "x=y");
	CHECK_INT(c->started_at_ns, 1795329740746611345LL);
	sonde_container_apply_annotations(c);
	CHECK_STR(c->name, "demo");
	CHECK_STR(c->k8s_container_name, "demo");
	sonde_container_free(c);
}

static void test_crun_status(void)
{
	static const char status[] =
	    "{\"pid\":29363,\"process-start-time\":1319641,\"cgroup-path\":\"/sxc1\","
	    "\"rootfs\":\"/r\",\"bundle\":\"/tmp/b\","
	    "\"created\":\"2026-11-22T06:43:26.001124Z\",\"owner\":\"root\"}";
	static const char config[] = "{\"ociVersion\":\"1.0.0\",\"annotations\":{\"io.container.manager\":"
	                             "\"libpod\",\"n\":\"1\",\"bad\":5}}";
	struct sonde_container *c = sonde_container_new("sxc1", "crun");

	REQUIRE(c);
	CHECK_INT(sonde_crun_status_parse(status, strlen(status), c), 0);
	CHECK_INT(c->pid, 29363);
	CHECK_STR(c->bundle, "/tmp/b");
	CHECK_STR(c->cgroup_path, "/sxc1");
	CHECK_INT(c->started_at_ns, 1795329806001124000LL);
	CHECK_INT(sonde_oci_config_parse(config, strlen(config), c), 0);
	CHECK_INT(c->nannotations, 2);
	sonde_container_apply_annotations(c);
	CHECK_STR(c->runtime, "podman");
	CHECK_STR(c->name, "sxc1");
	sonde_container_free(c);
}

static void test_garbage_state(void)
{
	static const char *const bad_runc[] = {
	    "",
	    "{",
	    "[]",
	    "null",
	    "{\"id\":\"demo1\"}",                                      /* no pid */
	    "{\"id\":\"demo1\",\"init_process_pid\":\"12\"}",          /* pid as string */
	    "{\"id\":\"demo1\",\"init_process_pid\":0}",               /* pid 0 */
	    "{\"id\":\"demo1\",\"init_process_pid\":-3}",              /* negative */
	    "{\"id\":\"demo1\",\"init_process_pid\":99999999999}",     /* too large */
	    "{\"id\":\"../x\",\"init_process_pid\":12}",               /* bad id */
	    "{\"init_process_pid\":12}",                               /* no id */
	    "{\"id\":\"demo1\",\"init_process_pid\":12,\"id\":\"x\"}", /* duplicate key */
	    NULL,
	};
	struct sonde_container *c = sonde_container_new("x", "runc");
	char trunc[sizeof(runc_state)];

	REQUIRE(c);
	for (size_t i = 0; bad_runc[i]; i++) {
		int err = sonde_runc_state_parse(bad_runc[i], strlen(bad_runc[i]), c);
		if (err != -EINVAL)
			fprintf(stderr, "case %zu: %d\n", i, err);
		CHECK_INT(err, -EINVAL);
	}
	/* every truncation of a real file (a half-written state) is rejected */
	for (size_t n = 0; n + 1 < sizeof(runc_state) - 1; n++) {
		memcpy(trunc, runc_state, n);
		CHECK_INT(sonde_runc_state_parse(trunc, n, c), -EINVAL);
	}
	CHECK_INT(sonde_runc_state_parse(NULL, 0, c), -EINVAL);
	CHECK_INT(sonde_crun_status_parse("{\"bundle\":\"/b\"}", 15, c), -EINVAL);
	CHECK_INT(sonde_crun_status_parse("\x01\x02garbage", 9, c), -EINVAL);
	CHECK_INT(sonde_oci_config_parse("not json", 8, c), -EINVAL);
	/* missing optional members are fine */
	CHECK_INT(sonde_runc_state_parse(
	              "{\"id\":\"m\",\"init_process_pid\":5,\"config\":7,\"cgroup_paths\":[]}", 60, c),
	          0);
	CHECK_INT(c->pid, 5);
	sonde_container_free(c);
}

static void test_rfc3339(void)
{
	CHECK_INT(containers_parse_rfc3339_ns("1970-01-01T00:00:01Z"), 1000000000LL);
	CHECK_INT(containers_parse_rfc3339_ns("1970-01-01T00:00:01.5Z"), 1500000000LL);
	CHECK_INT(containers_parse_rfc3339_ns("1970-01-01T01:00:01+01:00"), 1000000000LL);
	CHECK_INT(containers_parse_rfc3339_ns("1970-01-01T00:00:01.1234567891234Z"), 1123456789LL);
	CHECK_INT(containers_parse_rfc3339_ns("yesterday"), 0);
	CHECK_INT(containers_parse_rfc3339_ns("1970-01-01T00:00:01"), 0);
	CHECK_INT(containers_parse_rfc3339_ns(NULL), 0);
	/* outside what int64 ns hold (found by fuzz_runtime_state: signed overflow) */
	CHECK_INT(containers_parse_rfc3339_ns("2262-04-11T23:47:15Z"), 9223372035000000000LL);
	CHECK_INT(containers_parse_rfc3339_ns("2262-04-11T23:47:17Z"), 0);
	CHECK_INT(containers_parse_rfc3339_ns("4052-11-22T06:43:26.001124Z"), 0);
	CHECK_INT(containers_parse_rfc3339_ns("9999-12-31T23:59:59.999999999-99:99"), 0);
	CHECK_INT(containers_parse_rfc3339_ns("1677-09-21T00:12:43Z"), 0);
	CHECK_INT(containers_parse_rfc3339_ns("-999-01-01T00:00:00Z"), 0);
	{
		static const char status[] = "{\"pid\":29363,\"created\":\"4052-11-22T06:43:26.001124Z\"}";
		struct sonde_container *c = sonde_container_new("x", "crun");

		REQUIRE(c);
		CHECK_INT(sonde_crun_status_parse(status, strlen(status), c), 0);
		CHECK_INT(c->started_at_ns, 0);
		sonde_container_free(c);
	}
}

static void test_k8s_annotations(void)
{
	struct sonde_container *c = sonde_container_new("abc", "runc");

	REQUIRE(c);
	sonde_container_set_annotation(c, "io.kubernetes.cri.container-type", "sandbox");
	sonde_container_set_annotation(c, "io.kubernetes.cri.sandbox-name", "mypod");
	sonde_container_set_annotation(c, "io.kubernetes.cri.sandbox-namespace", "default");
	sonde_container_set_annotation(c, "io.kubernetes.cri.sandbox-uid", "u-1");
	sonde_container_set_annotation(c, "io.kubernetes.cri.sandbox-uid", "u-2"); /* replaces */
	sonde_container_apply_annotations(c);
	CHECK(c->k8s_sandbox);
	CHECK_STR(c->k8s_pod_name, "mypod");
	CHECK_STR(c->k8s_namespace, "default");
	CHECK_STR(c->k8s_pod_uid, "u-2");
	CHECK_STR(c->name, "mypod");
	CHECK_INT(c->nannotations, 4);
	sonde_container_free(c);
	sonde_container_free(NULL);
	sonde_containers_free(NULL);
	sonde_container_watcher_free(NULL);
}

/* CRI-O's labels annotation: pod labels, kubelet's keys to the k8s members. */
static void test_crio_labels(void)
{
	struct sonde_container *c = sonde_container_new("abc", "runc");
	char *text;

	REQUIRE(c);
	sonde_container_set_annotation(
	    c, "io.kubernetes.cri-o.Labels",
	    "{\"io.kubernetes.pod.name\":\"web-1\",\"io.kubernetes.pod.namespace\":"
	    "\"shop\",\"tier\":\"front\",\"app\":\"web\",\"n\":3}");
	sonde_container_apply_annotations(c);
	CHECK_STR(c->k8s_pod_name, "web-1");
	CHECK_STR(c->k8s_namespace, "shop");
	CHECK_INT(c->nlabels, 2);
	text = sonde_container_labels_string(c);
	CHECK_STR(text, "app=web,tier=front");
	free(text);
	sonde_container_free(c);

	/* not JSON: nothing */
	c = sonde_container_new("abd", "runc");
	REQUIRE(c);
	sonde_container_set_annotation(c, "io.kubernetes.cri-o.Labels", "{app=web");
	sonde_container_apply_annotations(c);
	CHECK_INT(c->nlabels, 0);
	sonde_container_free(c);
}

TEST_MAIN(TEST(test_add_lookup_remove), TEST(test_crio_labels), TEST(test_mntns_reuse),
          TEST(test_mntns_reuse_by_time), TEST(test_removed_ttl), TEST(test_same_id_replaces),
          TEST(test_invalid_ids), TEST(test_unsubscribe_in_callback), TEST(test_runc_state),
          TEST(test_crun_status), TEST(test_garbage_state), TEST(test_rfc3339), TEST(test_k8s_annotations))
