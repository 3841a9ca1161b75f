/* The watcher over state directories it cannot trust: garbage state files,
 * containers whose process died between their state and our look at /proc,
 * processes still in our own namespaces, stray files, bad names, a containerd
 * root with namespaces appearing later. Nothing may crash or be registered,
 * and what is unreadable is said. No runtime and no root needed. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sonde/containers.h>
#include <sonde/log.h>

#include "testlib.h"

static char dir[64];
static int warnings;

static void count_warnings(enum sonde_log_level level, const char *msg, void *arg)
{
	if (level <= SONDE_LOG_WARN)
		warnings++;
}

static void put(const char *rel, const char *text)
{
	char path[256], *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	if (text)
		CHECK_INT(test_write_file(path, text), 0);
	else
		mkdir(path, 0755);
}

/* A pid that existed and is gone: a container that died mid-discovery. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	waitpid(pid, NULL, 0);
	return pid;
}

static void state(const char *rel, pid_t pid)
{
	char text[256];

	snprintf(text, sizeof(text),
	         "{\"id\":\"x\",\"init_process_pid\":%d,\"created\":\"2026-12-02T06:00:00Z\"}", (int)pid);
	put(rel, text);
}

static struct sonde_container_watcher *watch(struct sonde_containers *set, bool live)
{
	char runc[128], crun[128], ctrd[128], sock[128];
	struct sonde_container_watch_opts o = {.sz = sizeof(o), .no_live = !live};
	struct sonde_container_watcher *w = NULL;

	snprintf(runc, sizeof(runc), "%s/runc", dir);
	snprintf(crun, sizeof(crun), "%s/crun-never", dir);
	snprintf(ctrd, sizeof(ctrd), "%s/containerd/runc", dir);
	snprintf(sock, sizeof(sock), "%s/no.sock", dir);
	o.runc_root = runc;
	o.crun_root = crun;
	o.containerd_runc_root = ctrd;
	o.containerd_socket = sock;
	CHECK_INT(sonde_container_watcher_new(set, &o, &w), 0);
	return w;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sonde-watch-XXXXXX");
	REQUIRE(mkdtemp(dir));
	warnings = 0;
	sonde_log_set_sink(count_warnings, NULL);
}

static void teardown(void)
{
	sonde_log_set_sink(NULL, NULL);
	test_rm_tree(dir, "/tmp/sonde-watch-");
}

static void test_untrusted_state(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct sonde_container_watcher *w;

	setup();
	REQUIRE(set);
	put("runc/garbage/state.json", "{\"id\":");
	put("runc/empty/state.json", "");
	state("runc/dead/state.json", dead_pid());
	state("runc/ours/state.json", getpid()); /* in our own mount namespace */
	put("runc/half-created", NULL);          /* no state file yet */
	put("runc/stray-file", "not a directory");
	put("runc/bad name", NULL);
	put("containerd/runc/junk", "a file where a namespace should be");
	state("containerd/runc/default/dead/state.json", dead_pid());
	put("containerd/runc/k8s.io/garbage/state.json", "\x01\x02");
	put("containerd/runc/bad ns/x/state.json", "{}");
	w = watch(set, false);
	CHECK_INT(sonde_containers_count(set), 0);
	CHECK_INT(warnings, 3); /* garbage and empty runc state, containerd garbage: once each */
	sonde_container_watcher_free(w);
	sonde_containers_free(set);
	teardown();
}

/* Live: a containerd root that appears after the watcher, namespace by
 * namespace, with garbage in it; processing never registers or crashes. */
static void test_roots_appearing(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct sonde_container_watcher *w;

	setup();
	REQUIRE(set);
	w = watch(set, true);
	REQUIRE(w);
	CHECK(sonde_container_watcher_fd(w) >= 0);
	put("containerd/runc/default", NULL);
	sonde_container_watcher_process(w);
	put("containerd/runc/default/c1/state.json", "garbage");
	state("containerd/runc/default/c2/state.json", dead_pid());
	put("runc/late/state.json", "{");
	for (int i = 0; i < 3; i++) {
		usleep(20 * 1000);
		sonde_container_watcher_process(w);
	}
	CHECK_INT(sonde_containers_count(set), 0);
	/* the roots are watched: removing and recreating them is survived too */
	test_rm_tree(dir, "/tmp/sonde-watch-");
	mkdir(dir, 0700);
	sonde_container_watcher_process(w);
	put("containerd/runc/k8s.io/c3/state.json", "{}");
	usleep(20 * 1000);
	sonde_container_watcher_process(w);
	CHECK_INT(sonde_containers_count(set), 0);
	/* each garbage state was seen live (and said once): c1, late, and c3
	 * under roots that did not exist when the watcher started; c2 was
	 * created and deleted without ever being registered (said too) */
	CHECK_INT(warnings, 4);
	sonde_container_watcher_free(w);
	sonde_containers_free(set);
	teardown();
}

/* The first container of a containerd namespace arrives together with the
 * namespace's directory: it is a new container like any other, followed
 * until it is registered or said, not skipped in silence. */
static void test_first_in_new_namespace(void)
{
	struct sonde_containers *set = sonde_containers_new();
	struct sonde_container_watcher *w;
	char path[256];

	setup();
	REQUIRE(set);
	put("containerd/runc", NULL);
	w = watch(set, true);
	REQUIRE(w);
	sonde_container_watcher_process(w);
	/* namespace and container at once; its init is gone before we look */
	state("containerd/runc/fresh/c9/state.json", dead_pid());
	for (int i = 0; i < 3; i++) {
		usleep(20 * 1000);
		sonde_container_watcher_process(w);
	}
	CHECK_INT(sonde_containers_count(set), 0);
	CHECK_INT(warnings, 0); /* not yet: it may still be starting */
	snprintf(path, sizeof(path), "%s/containerd/runc/fresh/c9/state.json", dir);
	CHECK_INT(unlink(path), 0);
	*strrchr(path, '/') = 0;
	CHECK_INT(rmdir(path), 0);
	usleep(20 * 1000);
	sonde_container_watcher_process(w);
	CHECK_INT(warnings, 1); /* it ran and was deleted before it could be registered */
	sonde_container_watcher_free(w);
	sonde_containers_free(set);
	teardown();
}

TEST_MAIN(TEST(test_untrusted_state), TEST(test_roots_appearing), TEST(test_first_in_new_namespace))
