/* The process-wide container service: one collection for every reference,
 * started by the first and stopped by the last; a subscriber first hears of
 * the containers already known, then nothing after it unsubscribes; many
 * threads taking and dropping references at once. State directories of its
 * own (a fake runc root); a container in a mount namespace of its own needs
 * root, else that part is skipped. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sonde/containers.h>
#include <sonde/log.h>

#include "testlib.h"

static char dir[64];
static char runc[128], crun[128], ctrd[128], sock[128];

static struct sonde_container_watch_opts opts(bool live)
{
	return (struct sonde_container_watch_opts){.sz = sizeof(struct sonde_container_watch_opts),
	                                           .runc_root = runc,
	                                           .crun_root = crun,
	                                           .containerd_runc_root = ctrd,
	                                           .containerd_socket = sock,
	                                           .no_live = !live};
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sonde-svc-XXXXXX");
	REQUIRE(mkdtemp(dir));
	snprintf(runc, sizeof(runc), "%s/runc", dir);
	snprintf(crun, sizeof(crun), "%s/crun", dir);
	snprintf(ctrd, sizeof(ctrd), "%s/containerd", dir);
	snprintf(sock, sizeof(sock), "%s/no.sock", dir);
	mkdir(runc, 0755);
}

static void teardown(void)
{
	test_rm_tree(dir, "/tmp/sonde-svc-");
}

struct counter {
	int added, removed;
};

static void count(struct sonde_containers *set, enum sonde_container_event ev,
                  const struct sonde_container *c, void *arg)
{
	struct counter *n = arg;

	if (ev == SONDE_CONTAINER_ADDED)
		n->added++;
	else if (ev == SONDE_CONTAINER_REMOVED)
		n->removed++;
}

/* A child in a mount namespace of its own (root only), registered as the
 * runc container "c1" through its state file; 0 when it cannot be made. */
static pid_t fake_container(void)
{
	int ready[2];
	char path[256], text[256], c;
	pid_t pid;

	if (geteuid() != 0 || pipe(ready))
		return 0;
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		waitpid(pid, NULL, 0);
		return 0;
	}
	close(ready[0]);
	snprintf(path, sizeof(path), "%s/c1", runc);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/c1/state.json", runc);
	snprintf(text, sizeof(text),
	         "{\"id\":\"c1\",\"init_process_pid\":%d,\"created\":\"2026-12-06T06:00:00Z\"}", (int)pid);
	test_write_file_or_abort(path, text);
	return pid;
}

static void test_refcount_and_replay(void)
{
	struct sonde_container_watch_opts o;
	struct sonde_container_service *a = NULL, *b = NULL;
	struct counter ca = {0}, cb = {0};
	pid_t child;
	int ida, idb;

	setup();
	o = opts(false);
	child = fake_container();
	CHECK_INT(sonde_container_service_refs(), 0);
	REQUIRE(sonde_container_service_get(&o, &a) == 0);
	CHECK_INT(sonde_container_service_refs(), 1);
	/* the second reference shares the first one's collection */
	REQUIRE(sonde_container_service_get(&o, &b) == 0);
	CHECK(a == b);
	CHECK(sonde_container_service_set(a) == sonde_container_service_set(b));
	CHECK_INT(sonde_container_service_refs(), 2);

	ida = sonde_container_service_subscribe(a, count, &ca);
	idb = sonde_container_service_subscribe(b, count, &cb);
	CHECK(ida > 0 && idb > 0 && ida != idb);
	/* each subscriber hears of what was known before it came */
	CHECK_INT(ca.added, child ? 1 : 0);
	CHECK_INT(cb.added, child ? 1 : 0);
	CHECK(sonde_container_service_empty(a) == !child);
	sonde_container_service_rdlock(a);
	CHECK_INT(sonde_containers_count(sonde_container_service_set(a)), child ? 1 : 0);
	sonde_container_service_unlock(a);

	sonde_container_service_unsubscribe(a, ida);
	sonde_container_service_put(a);
	CHECK_INT(sonde_container_service_refs(), 1);
	sonde_container_service_unsubscribe(b, idb);
	sonde_container_service_put(b);
	CHECK_INT(sonde_container_service_refs(), 0);
	if (child) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	} else {
		printf("  (not root: no container in a namespace of its own)\n");
	}
	teardown();
}

/* A later reference with other settings shares the first one's, and says so. */
static int infos;

static void count_infos(enum sonde_log_level level, const char *msg, void *arg)
{
	if (strstr(msg, "keeps the settings"))
		infos++;
}

static void test_first_settings_win(void)
{
	struct sonde_container_watch_opts o1, o2;
	struct sonde_container_service *a = NULL, *b = NULL;

	setup();
	o1 = opts(false);
	o2 = opts(false);
	o2.hold_timeout_ms = 200;
	sonde_log_set_level(SONDE_LOG_INFO);
	sonde_log_set_sink(count_infos, NULL);
	REQUIRE(sonde_container_service_get(&o1, &a) == 0);
	REQUIRE(sonde_container_service_get(&o2, &b) == 0);
	CHECK(a == b);
	CHECK_INT(infos, 1);
	sonde_container_service_put(b);
	sonde_container_service_put(a);
	CHECK_INT(sonde_container_service_refs(), 0);
	sonde_log_set_sink(NULL, NULL);
	sonde_log_set_level(SONDE_LOG_WARN);
	teardown();
}

/* Runs on threads taking, using and dropping references at once (TSan). */
static void *churn(void *arg)
{
	struct sonde_container_watch_opts *o = arg;

	for (int i = 0; i < 20; i++) {
		struct sonde_container_service *s = NULL;
		struct counter c = {0};
		int id;

		if (sonde_container_service_get(o, &s))
			return (void *)1;
		id = sonde_container_service_subscribe(s, count, &c);
		sonde_container_service_rdlock(s);
		(void)sonde_containers_by_mntns(sonde_container_service_set(s), 1);
		sonde_container_service_unlock(s);
		sonde_container_service_unsubscribe(s, id);
		sonde_container_service_put(s);
	}
	return NULL;
}

static void test_threads(void)
{
	struct sonde_container_watch_opts o;
	pthread_t th[4];
	void *ret;

	setup();
	/* live: the watcher's thread runs too (inotify at least) */
	o = opts(true);
	for (int i = 0; i < 4; i++)
		REQUIRE(pthread_create(&th[i], NULL, churn, &o) == 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], &ret);
		CHECK(ret == NULL);
	}
	CHECK_INT(sonde_container_service_refs(), 0);
	teardown();
}

TEST_MAIN(TEST(test_refcount_and_replay), TEST(test_first_settings_win), TEST(test_threads))
