/* The container selector end to end: real runc containers carrying the
 * annotations containerd's CRI plugin writes (namespace, pod, container
 * name), selected with --k8s-namespace / --k8s-podname by `sonde run
 * trace_open` (in-kernel filter map) and by `sonde list-containers`. Only
 * containers created here are deleted. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci_rootfs.h"
#include "testlib.h"

#define WORKDIR_PREFIX "/tmp/sonde-it-selector-"

static char workdir[256];

static void cleanup(void)
{
	test_rm_tree(workdir, WORKDIR_PREFIX);
	workdir[0] = 0;
}

/* busybox rootfs shared by the bundles */
static bool setup(void)
{
	static const char *const applets[] = {"cat", "sleep", "sh", NULL};

	oci_require("runc");
	if (oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets) == 0)
		return true;
	test_failures++; /* a case whose setup failed did not pass (what failed is printed) */
	return false;
}

/* A bundle as containerd's CRI plugin would leave it for container `name`
 * of pod ns/pod; its process runs args. */
static bool make_typed_bundle(const char *bundle, const char *type, const char *ns, const char *pod,
                              const char *name, json_t *args)
{
	char dir[512], rootfs[512];

	snprintf(dir, sizeof(dir), "%s/%s", workdir, bundle);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	return oci_bundle_write(dir, rootfs, args,
	                        json_pack("{s:s,s:s,s:s,s:s,s:s}", "io.kubernetes.cri.container-type", type,
	                                  "io.kubernetes.cri.sandbox-namespace", ns,
	                                  "io.kubernetes.cri.sandbox-name", pod,
	                                  "io.kubernetes.cri.container-name", name,
	                                  "io.kubernetes.cri.sandbox-id", pod)) == 0;
}

static bool make_bundle(const char *bundle, const char *ns, const char *pod, const char *name, json_t *args)
{
	return make_typed_bundle(bundle, "container", ns, pod, name, args);
}

struct scenario {
	const char *flags[4]; /* selector flags for sonde run */
	char ids[2][64];      /* container a: team-a/pod-a/app, b: team-b/pod-b/sidecar */
	char files[2][96];
	char host_file[512];
	json_t *events[3]; /* the open of a's file, b's file, the host file (or NULL) */
};

/* Runs sonde trace_open with the flags around the two containers and a host open. */
static void run_scenario(struct scenario *s)
{
	const char *argv[16] = {"run", "trace_open", "-o", "json", "-v"};
	static const char *const ns[2] = {"team-a", "team-b"}, *const pods[2] = {"pod-a", "pod-b"};
	static const char *const names[2] = {"app", "sidecar"};
	char bundles[2][32];
	struct sonde_proc p;
	size_t n = 5, i;
	json_t *all, *ev;
	pid_t worker;

	for (int k = 0; k < 4 && s->flags[k]; k++)
		argv[n++] = s->flags[k];
	for (int k = 0; k < 2; k++) {
		char path[700];

		snprintf(s->ids[k], sizeof(s->ids[k]), "sonde-it-sel-%c-%d", 'a' + k, getpid());
		snprintf(s->files[k], sizeof(s->files[k]), "/etc/sonde-sel-%d-%d-%ld", getpid(), k,
		         random() % 100000);
		snprintf(bundles[k], sizeof(bundles[k]), "bundle-%c", 'a' + k);
		snprintf(path, sizeof(path), "%s/rootfs%s", workdir, s->files[k]);
		test_write_file_or_abort(path, "in a pod\n");
		REQUIRE(make_bundle(bundles[k], ns[k], pods[k], names[k],
		                    json_pack("[s,s]", "cat", s->files[k])));
	}
	snprintf(s->host_file, sizeof(s->host_file), "%s/host-%ld", workdir, random() % 100000);
	test_write_file_or_abort(s->host_file, "host\n");
	if (sonde_proc_start_running(&p, argv))
		return;
	/* from a child, while this process keeps reading sonde's output: a sonde
	 * blocked on a full pipe could not answer the runtime's exec permission events */
	worker = fork();
	if (worker == 0) {
		int bad = 0;

		for (int k = 0; k < 2; k++) {
			char dir[512];

			snprintf(dir, sizeof(dir), "%s/%s", workdir, bundles[k]);
			bad |= oci_run("runc", dir, s->ids[k]) != 0;
		}
		_exit(bad || open(s->host_file, O_RDONLY) < 0);
	}
	sonde_proc_await_child(&p, worker);
	usleep(300 * 1000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname");

		for (int k = 0; k < 3 && fname; k++) {
			const char *want = k < 2 ? s->files[k] : s->host_file;

			if (!s->events[k] && !strcmp(fname, want))
				s->events[k] = json_incref(ev);
		}
	}
	json_decref(all);
	sonde_proc_free(&p);
}

static void scenario_free(struct scenario *s)
{
	for (int k = 0; k < 3; k++)
		json_decref(s->events[k]);
}

/* --k8s-namespace team-a: only that pod's container, not the other, not the host. */
static void test_k8s_namespace(void)
{
	struct scenario s = {.flags = {"--k8s-namespace", "team-a"}};

	if (!setup())
		goto out;
	run_scenario(&s);
	CHECK(s.events[0] != NULL);
	CHECK(s.events[1] == NULL);
	CHECK(s.events[2] == NULL);
	if (s.events[0]) {
		CHECK_STR(test_json_str(s.events[0], "k8s.namespace"), "team-a");
		CHECK_STR(test_json_str(s.events[0], "k8s.podName"), "pod-a");
		CHECK_STR(test_json_str(s.events[0], "k8s.containerName"), "app");
		CHECK_STR(test_json_str(s.events[0], "runtime.containerId"), s.ids[0]);
	}
	scenario_free(&s);
out:
	cleanup();
}

/* --host with an exclusion: a selector narrows --host to the matching containers. */
static void test_host_with_exclusion(void)
{
	struct scenario s = {.flags = {"--host", "--k8s-podname", "!pod-a"}};

	if (!setup())
		goto out;
	run_scenario(&s);
	CHECK(s.events[0] == NULL);
	CHECK(s.events[1] != NULL);
	CHECK(s.events[2] == NULL);
	if (s.events[1])
		CHECK_STR(test_json_str(s.events[1], "k8s.podName"), "pod-b");
	scenario_free(&s);
out:
	cleanup();
}

/* list-containers narrows with the same flags and shows the pod metadata. */
static void test_list_containers(void)
{
	char id[64], dir[512], *out = NULL, *err = NULL;
	const char *mine[] = {"list-containers", "-o",    "json", "--k8s-namespace", "team-a",
	                      "--k8s-podname",   "pod-a", NULL};
	const char *other[] = {"list-containers", "-o=json", "--k8s-namespace=team-b", NULL};
	json_t *arr, *c;
	size_t i;
	bool found = false;

	if (!setup())
		goto out;
	snprintf(id, sizeof(id), "sonde-it-sel-ls-%d", getpid());
	snprintf(dir, sizeof(dir), "%s/bundle-ls", workdir);
	REQUIRE(make_bundle("bundle-ls", "team-a", "pod-a", "lister", json_pack("[s,s]", "sleep", "30")));
	CHECK_INT(oci_run_detached("runc", dir, id), 0);
	CHECK_INT(sonde_run_cmd(mine, &out, &err, 10000), 0);
	arr = json_loads(out ? out : "", 0, NULL);
	CHECK(json_is_array(arr));
	json_array_foreach(arr, i, c)
	{
		CHECK_STR(test_json_str(c, "k8s.namespace"), "team-a"); /* nothing else listed */
		if (strcmp(test_json_str(c, "runtime.containerId") ?: "", id))
			continue;
		found = true;
		CHECK_STR(test_json_str(c, "k8s.podName"), "pod-a");
		CHECK_STR(test_json_str(c, "k8s.containerName"), "lister");
		CHECK_STR(test_json_str(c, "sandboxId"), "pod-a");
		CHECK(json_is_object(test_json_path(c, "k8s.podLabels")));
		CHECK(json_is_string(test_json_path(c, "k8s.podIP")));
		CHECK(json_is_false(test_json_path(c, "hostNetwork")));
		CHECK(json_is_false(test_json_path(c, "sandbox")));
	}
	CHECK(found);
	json_decref(arr);
	free(out);
	free(err);
	out = err = NULL;
	CHECK_INT(sonde_run_cmd(other, &out, &err, 10000), 0);
	CHECK(out && !strstr(out, id));
	free(out);
	free(err);
	oci_delete("runc", id);
out:
	cleanup();
}

/* The container-name selectors, end to end: --k8s-containername, -c with
 * an exclusion and its long form --runtime-containername each keep b only. */
static void name_case(const char *flag, const char *value)
{
	struct scenario s = {.flags = {flag, value}};

	if (!setup())
		goto out;
	run_scenario(&s);
	CHECK(s.events[0] == NULL);
	CHECK(s.events[1] != NULL);
	CHECK(s.events[2] == NULL);
	if (s.events[1]) {
		CHECK_STR(test_json_str(s.events[1], "k8s.containerName"), "sidecar");
		CHECK_STR(test_json_str(s.events[1], "runtime.containerName"), "sidecar");
	}
	scenario_free(&s);
out:
	cleanup();
}

static void test_k8s_containername(void)
{
	name_case("--k8s-containername", "sidecar");
}

static void test_containername_exclusion(void)
{
	name_case("-c", "!app");
}

static void test_runtime_containername(void)
{
	name_case("--runtime-containername", "sidecar");
}

/* A pod's sandbox is never selected, even by its own pod's name: the
 * sandbox runs (to completion) before the pod's container, whose open
 * comes out while the sandbox's does not. */
static void test_sandbox_never_selected(void)
{
	const char *argv[] = {"run", "trace_open", "-o", "json", "-v", "--k8s-podname", "pod-a", NULL};
	char file_s[96], file_a[96], path[700], id_s[64], id_a[64];
	struct sonde_proc p;
	pid_t worker;

	if (!setup())
		goto out;
	snprintf(id_s, sizeof(id_s), "sonde-it-sbx-%d", getpid());
	snprintf(id_a, sizeof(id_a), "sonde-it-sbx-app-%d", getpid());
	snprintf(file_s, sizeof(file_s), "/etc/sonde-sbx-%d-%ld", getpid(), random() % 100000);
	snprintf(file_a, sizeof(file_a), "/etc/sonde-sbx-app-%d-%ld", getpid(), random() % 100000);
	snprintf(path, sizeof(path), "%s/rootfs%s", workdir, file_s);
	test_write_file_or_abort(path, "sandbox\n");
	snprintf(path, sizeof(path), "%s/rootfs%s", workdir, file_a);
	test_write_file_or_abort(path, "app\n");
	REQUIRE(make_typed_bundle("bundle-sbx", "sandbox", "team-a", "pod-a", "",
	                          json_pack("[s,s]", "cat", file_s)));
	REQUIRE(make_bundle("bundle-app", "team-a", "pod-a", "app", json_pack("[s,s]", "cat", file_a)));
	if (sonde_proc_start_running(&p, argv))
		goto out;
	worker = fork();
	if (worker == 0) {
		char dir[600];
		int bad;

		snprintf(dir, sizeof(dir), "%s/bundle-sbx", workdir);
		bad = oci_run("runc", dir, id_s) != 0;
		snprintf(dir, sizeof(dir), "%s/bundle-app", workdir);
		_exit(bad | (oci_run("runc", dir, id_a) != 0));
	}
	sonde_proc_await_child(&p, worker);
	CHECK(sonde_proc_wait_for(&p, 1, file_a, 5000));
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	CHECK(p.out && strstr(p.out, file_a));
	CHECK(!p.out || !strstr(p.out, file_s));
	sonde_proc_free(&p);
out:
	cleanup();
}

/* list-containers -w: a selected container shows as added, then removed;
 * one of another namespace, started first, never shows. */
static void test_list_containers_watch(void)
{
	const char *argv[] = {"list-containers", "-w", "-o", "json", "--k8s-namespace", "team-a", NULL};
	char id_a[64], id_b[64], dir[600];
	struct sonde_proc p;
	bool started = false;

	if (!setup())
		goto out;
	snprintf(id_a, sizeof(id_a), "sonde-it-w-a-%d", getpid());
	snprintf(id_b, sizeof(id_b), "sonde-it-w-b-%d", getpid());
	REQUIRE(make_bundle("bundle-wa", "team-a", "pod-a", "app", json_pack("[s,s]", "sleep", "30")));
	REQUIRE(make_bundle("bundle-wb", "team-b", "pod-b", "app", json_pack("[s,s]", "sleep", "30")));
	REQUIRE(sonde_proc_start(&p, argv) == 0);
	started = true;
	snprintf(dir, sizeof(dir), "%s/bundle-wb", workdir);
	CHECK_INT(oci_run_detached("runc", dir, id_b), 0);
	snprintf(dir, sizeof(dir), "%s/bundle-wa", workdir);
	CHECK_INT(oci_run_detached("runc", dir, id_a), 0);
	if (!sonde_proc_wait_for(&p, 1, id_a, 10000) || !strstr(p.out, "\"added\"")) {
		fprintf(stderr, "no added event for %s:\n%s\n", id_a, p.out ? p.out : "");
		test_failures++;
	}
	oci_delete("runc", id_a);
	if (!sonde_proc_wait_for(&p, 1, "\"removed\"", 10000)) {
		fprintf(stderr, "no removed event for %s:\n%s\n", id_a, p.out ? p.out : "");
		test_failures++;
	}
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	{
		json_t *lines = test_json_lines(p.out ? p.out : ""), *ev;
		size_t i, n_added = 0, n_removed = 0;

		json_array_foreach(lines, i, ev)
		{
			const char *type = test_json_str(ev, "type"),
			           *cid = test_json_str(ev, "container.runtime.containerId");

			CHECK(cid && strcmp(cid, id_b) != 0); /* team-b: never */
			if (cid && !strcmp(cid, id_a)) {
				n_added += type && !strcmp(type, "added");
				n_removed += type && !strcmp(type, "removed");
			}
		}
		CHECK(n_added >= 1);
		CHECK_INT(n_removed, 1);
		json_decref(lines);
	}
out:
	if (started)
		sonde_proc_free(&p);
	oci_delete("runc", id_a);
	oci_delete("runc", id_b);
	cleanup();
}

/* ---- the selection drops in the kernel ---- */

#define FLOOD_OPENS 50000

/* Waits up to timeout_ms for a line on the FIFO at path (opened without
 * blocking: a container that never writes fails the wait, not the test run). */
static bool fifo_wait(const char *path, int timeout_ms)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct pollfd pfd = {fd, POLLIN, 0};
	char buf[16];
	bool ok;

	if (fd < 0)
		return false;
	ok = poll(&pfd, 1, timeout_ms) == 1 && read(fd, buf, sizeof(buf)) > 0;
	close(fd);
	return ok;
}

/* Container b (pod-b) floods trace_open with FLOOD_OPENS failing opens, from
 * its own shell (no fork per open), while sonde is stopped (SIGSTOP: nothing
 * drains its ring); then container a (pod-a) cats its file. With `flags`
 * selecting pod-a only, the kernel drops b's opens before the ring: nothing
 * is lost and a's open comes out. *lost gets the lost count, *b_events the
 * flood's events printed. */
static void run_flood(const char *const *flags, unsigned long long *lost, size_t *b_events, bool *a_seen)
{
	const char *argv[12] = {"run", "trace_open", "-o", "json", "-v"};
	char go[600], done[600], dir[600], file_a[96], path[700], script[400], flood_path[64], id_a[64],
	    id_b[64];
	struct sonde_proc p;
	json_t *all, *ev;
	size_t n = 5, i;
	pid_t worker;
	int gofd;

	*lost = 0;
	*b_events = 0;
	*a_seen = false;
	for (size_t k = 0; flags[k]; k++)
		argv[n++] = flags[k];
	argv[n] = NULL;
	snprintf(id_a, sizeof(id_a), "sonde-it-fl-a-%d", getpid());
	snprintf(id_b, sizeof(id_b), "sonde-it-fl-b-%d", getpid());
	snprintf(flood_path, sizeof(flood_path), "/nonexistent-sonde-flood-%d", getpid());
	snprintf(file_a, sizeof(file_a), "/etc/sonde-fl-%d-%ld", getpid(), random() % 100000);
	snprintf(path, sizeof(path), "%s/rootfs%s", workdir, file_a);
	test_write_file_or_abort(path, "in pod a\n");
	snprintf(go, sizeof(go), "%s/rootfs/go", workdir);
	snprintf(done, sizeof(done), "%s/rootfs/done", workdir);
	REQUIRE(mkfifo(go, 0600) == 0 && mkfifo(done, 0600) == 0);
	snprintf(script, sizeof(script),
	         "read x < /go; i=0; while [ $i -lt %d ]; do true < %s; i=$((i+1)); done 2>/dev/null; "
	         "echo done > /done",
	         FLOOD_OPENS, flood_path);
	REQUIRE(make_bundle("bundle-fa", "team-a", "pod-a", "app", json_pack("[s,s]", "cat", file_a)));
	REQUIRE(
	    make_bundle("bundle-fb", "team-b", "pod-b", "flood", json_pack("[s,s,s]", "sh", "-c", script)));
	if (sonde_proc_start_running(&p, argv))
		return;
	/* b starts while sonde answers the runtime's exec permission events */
	worker = fork();
	if (worker == 0) {
		snprintf(dir, sizeof(dir), "%s/bundle-fb", workdir);
		_exit(oci_run_detached("runc", dir, id_b) != 0);
	}
	sonde_proc_await_child(&p, worker);
	/* O_RDWR: never blocks, and keeps the line for b's `read` whenever it opens */
	gofd = open(go, O_RDWR | O_CLOEXEC);
	CHECK(gofd >= 0);
	CHECK(kill(p.pid, SIGSTOP) == 0);
	CHECK(gofd >= 0 && write(gofd, "go\n", 3) == 3);
	if (!fifo_wait(done, 60000)) {
		fprintf(stderr, "container b did not finish its flood in 60 s\n");
		test_failures++;
	}
	CHECK(kill(p.pid, SIGCONT) == 0);
	if (gofd >= 0)
		close(gofd);
	worker = fork();
	if (worker == 0) {
		snprintf(dir, sizeof(dir), "%s/bundle-fa", workdir);
		_exit(oci_run("runc", dir, id_a) != 0);
	}
	sonde_proc_await_child(&p, worker);
	sonde_proc_wait_for(&p, 1, file_a, 3000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 30000), 0);
	oci_delete("runc", id_b);
	*lost = sonde_lost_samples(p.err);
	all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(all, i, ev)
	{
		const char *f = test_json_str(ev, "fname");

		*b_events += f && !strcmp(f, flood_path);
		*a_seen |= f && !strcmp(f, file_a);
	}
	json_decref(all);
	printf("  %s: lost %llu, flood events printed %zu\n", flags[0] ? flags[0] : "no selector", *lost,
	       *b_events);
	if (*lost && flags[0])
		sonde_proc_print_errors(&p);
	sonde_proc_free(&p);
}

/* --k8s-podname pod-a: b's flood never reaches the ring. */
static void test_selection_drops_in_kernel(void)
{
	const char *flags[] = {"--k8s-podname", "pod-a", NULL};
	unsigned long long lost;
	size_t b_events;
	bool a_seen;

	if (!setup())
		goto out;
	run_flood(flags, &lost, &b_events, &a_seen);
	CHECK_INT(lost, 0);
	CHECK_INT(b_events, 0);
	CHECK(a_seen);
out:
	cleanup();
}

/* The control: with no selector b is traced, and its flood overflows the
 * ring, so the case above could fail. */
static void test_selection_flood_control(void)
{
	const char *flags[] = {NULL};
	unsigned long long lost;
	size_t b_events;
	bool a_seen;

	if (!setup())
		goto out;
	run_flood(flags, &lost, &b_events, &a_seen);
	CHECK(lost > 0);
	CHECK(lost + b_events >= FLOOD_OPENS);
	CHECK(a_seen);
out:
	cleanup();
}

/* Bad selector input: one error line naming the flag, before anything loads. */
static void test_bad_selector(void)
{
	const char *run[] = {"run", "trace_open", "--k8s-selector", "app", NULL};
	const char *list[] = {"list-containers", "--k8s-namespace", "!", NULL};
	char *out = NULL, *err = NULL;

	CHECK_INT(sonde_run_cmd(run, &out, &err, 30000), 1);
	CHECK(err && strstr(err, "sonde: error: invalid --k8s-selector \"app\""));
	CHECK(err && !strstr(err, "failed")); /* one line, not a second generic one */
	free(out);
	free(err);
	out = err = NULL;
	CHECK(sonde_run_cmd(list, &out, &err, 30000) != 0);
	CHECK(err && strstr(err, "sonde: error: invalid --k8s-namespace \"!\""));
	free(out);
	free(err);
}

TEST_MAIN(TEST(test_k8s_namespace), TEST(test_host_with_exclusion), TEST(test_list_containers),
          TEST(test_k8s_containername), TEST(test_containername_exclusion), TEST(test_runtime_containername),
          TEST(test_sandbox_never_selected), TEST(test_list_containers_watch),
          TEST(test_selection_flood_control), TEST(test_selection_drops_in_kernel), TEST(test_bad_selector))
