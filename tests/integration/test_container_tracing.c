/* Containers end to end: real runc (and crun when it works on this host)
 * containers from a busybox-static OCI bundle built here, traced with
 * `sonde run trace_open`. Each container lives a few milliseconds (it only
 * cats a file named after the test), so attribution must not depend on
 * catching it with a poll. Only containers created here are deleted. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci_rootfs.h"
#include "testlib.h"

#define WORKDIR_PREFIX "/tmp/sonde-it-containers-"

static char workdir[256];
static char created[8][96]; /* ids of containers this test made, for cleanup */
static int ncreated;

/* rootfs with busybox and a few applets, shared by every bundle */
static bool make_rootfs(void)
{
	static const char *const applets[] = {"sh", "cat", "sleep", NULL};

	return oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets) == 0;
}

/* A bundle whose container runs args (by default: cats /etc/<file>, which is
 * created in the rootfs) and exits. */
static bool make_bundle(const char *name, const char *file, const char *annotated_name, json_t *args)
{
	char dir[512], path[600], rootfs[512];
	json_t *ann = json_object();

	snprintf(dir, sizeof(dir), "%s/%s", workdir, name);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	if (annotated_name)
		json_object_set_new(ann, "io.kubernetes.cri.container-name", json_string(annotated_name));
	json_object_set_new(ann, "org.sonde.test", json_string("1"));
	if (oci_bundle_write(dir, rootfs, args ? args : json_pack("[s,s]", "cat", file), ann))
		return false;
	snprintf(path, sizeof(path), "%s/rootfs%s", workdir, file);
	test_write_file_or_abort(path, "hello from a container\n");
	return true;
}

/* Runs the container to completion (and deletes it). */
static int run_container(const char *runtime, const char *bundle, const char *id)
{
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/%s", workdir, bundle);
	return oci_run(runtime, dir, id);
}

static void host_open(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		_exit(fd < 0);
	}
	waitpid(pid, NULL, 0);
}

static void cleanup(void)
{
	for (int i = 0; i < ncreated; i++) {
		char rt[16], *colon = strchr(created[i], ':');

		snprintf(rt, sizeof(rt), "%.*s", (int)(colon - created[i]), created[i]);
		oci_delete(rt, colon + 1);
	}
	ncreated = 0;
	test_rm_tree(workdir, WORKDIR_PREFIX);
	workdir[0] = 0;
}

/* False (counted as a failure: the case did not run) when the rootfs could
 * not be made; what failed is printed. */
static bool setup(const char *runtime)
{
	oci_require(runtime);
	if (make_rootfs())
		return true;
	test_failures++;
	return false;
}

struct scenario {
	const char *runtime;
	const char *extra[4]; /* sonde flags */
	const char *containers[2];
	const char *annotated[2];
	char files[2][64];
	char host_file[512];
	json_t *events; /* trace_open records naming one of the files */
};

/* Starts sonde, runs the containers and a host open, returns the matching records. */
static void run_scenario(struct scenario *s)
{
	const char *argv[16] = {"run", "trace_open", "-o", "json", "-v"};
	struct sonde_proc p;
	size_t n = 5, i;
	json_t *all, *ev;
	char bundles[2][64];

	s->events = json_array();
	for (int k = 0; k < 4 && s->extra[k]; k++)
		argv[n++] = s->extra[k];
	argv[n] = NULL;
	for (int k = 0; k < 2 && s->containers[k]; k++) {
		snprintf(s->files[k], sizeof(s->files[k]), "/etc/sonde-%d-%d-%ld", getpid(), k,
		         random() % 100000);
		snprintf(bundles[k], sizeof(bundles[k]), "bundle-%s", s->containers[k]);
		if (!make_bundle(bundles[k], s->files[k], s->annotated[k], NULL)) {
			fprintf(stderr, "cannot build the bundle\n");
			test_failures++;
			return;
		}
	}
	snprintf(s->host_file, sizeof(s->host_file), "%s/host-%ld", workdir, random() % 100000);
	test_write_file_or_abort(s->host_file, "host\n");
	if (sonde_proc_start_running(&p, argv))
		return;
	/* The containers run from a child while this process keeps reading
	 * sonde's output: a sonde blocked on a full pipe could not answer the
	 * runtime's exec permission events. */
	pid_t worker = fork();
	if (worker == 0) {
		int bad = 0;
		for (int k = 0; k < 2 && s->containers[k]; k++)
			bad |= run_container(s->runtime, bundles[k], s->containers[k]) != 0;
		host_open(s->host_file);
		_exit(bad);
	}
	for (int k = 0; k < 2 && s->containers[k] && ncreated < 8; k++)
		snprintf(created[ncreated++], sizeof(created[0]), "%s:%s", s->runtime, s->containers[k]);
	sonde_proc_await_child(&p, worker);
	sonde_proc_wait_for(&p, 1, s->files[0], 2000);
	usleep(300 * 1000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname");

		if (fname && (!strcmp(fname, s->files[0]) || !strcmp(fname, s->files[1]) ||
		              !strcmp(fname, s->host_file)))
			json_array_append(s->events, ev);
	}
	if (json_array_size(s->events) == 0)
		fprintf(stderr, "no matching events; sonde stderr:\n%s\n", p.err ? p.err : "");
	json_decref(all);
	sonde_proc_free(&p);
}

static json_t *find(struct scenario *s, const char *fname)
{
	return test_json_find(s->events, "fname", fname);
}

static void check_container_event(json_t *ev, const char *runtime, const char *id, const char *name)
{
	CHECK(ev != NULL);
	if (!ev)
		return;
	CHECK_STR(test_json_str(ev, "runtime.containerId"), id);
	CHECK_STR(test_json_str(ev, "runtime.containerName"), name);
	CHECK_STR(test_json_str(ev, "runtime.runtimeName"), runtime);
	CHECK_STR(test_json_str(ev, "proc.comm"), "cat");
	CHECK(test_json_int(ev, "runtime.containerPid", 0) > 0);
	CHECK(test_json_int(ev, "runtime.containerStartedAt", 0) > 0);
}

/* Without --host: the container's (short-lived) open, and no host event. */
static void containers_only(const char *runtime)
{
	char id[64];
	struct scenario s = {.runtime = runtime};

	if (!setup(runtime))
		goto out;
	snprintf(id, sizeof(id), "sonde-it-%s-%d", runtime, getpid());
	s.containers[0] = id;
	run_scenario(&s);
	check_container_event(find(&s, s.files[0]), runtime, id, id);
	CHECK(find(&s, s.host_file) == NULL);
	json_decref(s.events);
out:
	cleanup();
}

static void test_runc_containers_only(void)
{
	containers_only("runc");
}

/* --host: host processes too, and container events still enriched. */
static void test_runc_host(void)
{
	char id[64];
	json_t *ev;
	struct scenario s = {.runtime = "runc", .extra = {"--host"}, .annotated = {"web"}};

	if (!setup("runc"))
		goto out;
	snprintf(id, sizeof(id), "sonde-it-host-%d", getpid());
	s.containers[0] = id;
	run_scenario(&s);
	check_container_event(find(&s, s.files[0]), "runc", id, "web");
	ev = find(&s, s.host_file);
	CHECK(ev != NULL);
	if (ev) {
		CHECK_STR(test_json_str(ev, "runtime.containerName"), "");
		CHECK_STR(test_json_str(ev, "runtime.containerId"), "");
	}
	CHECK_STR(test_json_str(find(&s, s.files[0]), "k8s.containerName"), "web");
	json_decref(s.events);
out:
	cleanup();
}

/* -c NAME: only that container, not the other one, not the host. */
static void test_runc_containername(void)
{
	char a[64], b[64];
	struct scenario s = {.runtime = "runc", .extra = {"-c", a}};

	if (!setup("runc"))
		goto out;
	snprintf(a, sizeof(a), "sonde-it-a-%d", getpid());
	snprintf(b, sizeof(b), "sonde-it-b-%d", getpid());
	s.containers[0] = a;
	s.containers[1] = b;
	run_scenario(&s);
	check_container_event(find(&s, s.files[0]), "runc", a, a);
	CHECK(find(&s, s.files[1]) == NULL);
	CHECK(find(&s, s.host_file) == NULL);
	json_decref(s.events);
out:
	cleanup();
}

/* A container running before sonde starts is found by the initial scan. */
static void test_runc_list_containers(void)
{
	char id[64], dir[512];
	const char *list[] = {"list-containers", "-o", "json", NULL};
	char *out = NULL, *err = NULL;
	json_t *arr, *c;
	size_t i;
	bool found = false;

	if (!setup("runc"))
		goto out;
	snprintf(id, sizeof(id), "sonde-it-ls-%d", getpid());
	snprintf(dir, sizeof(dir), "%s/bundle-ls", workdir);
	/* a long-lived one: sleep instead of cat */
	REQUIRE(make_bundle("bundle-ls", "/etc/ls", "lister", json_pack("[s,s]", "sleep", "30")));
	snprintf(created[ncreated++], sizeof(created[0]), "runc:%s", id);
	CHECK_INT(oci_run_detached("runc", dir, id), 0);
	CHECK_INT(sonde_run_cmd(list, &out, &err, 10000), 0);
	arr = json_loads(out ? out : "", 0, NULL);
	CHECK(json_is_array(arr));
	json_array_foreach(arr, i, c)
	{
		const char *cid = test_json_str(c, "runtime.containerId");
		if (!cid || strcmp(cid, id))
			continue;
		found = true;
		CHECK_STR(test_json_str(c, "runtime.containerName"), "lister");
		CHECK_STR(test_json_str(c, "runtime.runtimeName"), "runc");
		CHECK(test_json_int(c, "mntns", 0) > 0);
		CHECK(test_json_int(c, "runtime.containerPid", 0) > 1);
		CHECK_STR(
		    json_string_value(json_object_get(json_object_get(c, "annotations"), "org.sonde.test")),
		    "1");
	}
	CHECK(found);
	json_decref(arr);
	free(out);
	free(err);
	oci_delete("runc", id);
out:
	cleanup();
}

/* top_process reads /proc (no kernel filter): -c narrows its table to the
 * container's processes in userspace, and without --host no host process
 * is listed. */
static void test_runc_top_process_selected(void)
{
	char id[64], dir[512];
	const char *by_name[] = {"run",        "top_process", "-o", "json", "--count", "1",
	                         "--interval", "300ms",       "-c", id,     NULL};
	const char *nobody[] = {"run", "top_process", "-o",    "json", "--count",
	                        "1",   "--interval",  "300ms", "-c",   "sonde-it-no-such-container",
	                        NULL};
	char *out = NULL;
	json_t *packets, *row;
	size_t i, rows = 0, sleeps = 0;

	if (!setup("runc"))
		goto out;
	snprintf(id, sizeof(id), "sonde-it-top-%d", getpid());
	snprintf(dir, sizeof(dir), "%s/bundle-top", workdir);
	REQUIRE(make_bundle("bundle-top", "/etc/top", NULL, json_pack("[s,s]", "sleep", "30")));
	snprintf(created[ncreated++], sizeof(created[0]), "runc:%s", id);
	CHECK_INT(oci_run_detached("runc", dir, id), 0);
	CHECK_INT(sonde_run_cmd(by_name, &out, NULL, 20000), 0);
	packets = test_json_lines(out ? out : "");
	REQUIRE(json_array_size(packets) == 1);
	json_array_foreach(json_array_get(packets, 0), i, row)
	{
		const char *name = test_json_str(row, "runtime.containerName");

		CHECK(name && !strcmp(name, id));
		rows++;
		sleeps += test_json_str(row, "comm") && !strcmp(test_json_str(row, "comm"), "sleep");
	}
	CHECK_INT((int)sleeps, 1);
	CHECK_INT((int)rows, 1);
	json_decref(packets);
	free(out);
	out = NULL;
	CHECK_INT(sonde_run_cmd(nobody, &out, NULL, 20000), 0);
	packets = test_json_lines(out ? out : "");
	CHECK_INT((int)json_array_size(json_array_get(packets, 0)), 0);
	json_decref(packets);
	free(out);
	oci_delete("runc", id);
out:
	cleanup();
}

/* ---- uprobes in containers: trace_malloc on the container's own libc ---- */

/* Copies the host's dynamically linked `cat`, its libraries (as ldd lists
 * them) and an ld.so.cache into the rootfs: the container gets a libc file
 * of its own, which the host's processes never map. */
static bool add_dynamic_cat(void)
{
	char cmd[2048], line[512], dst[700];
	FILE *ldd;
	bool ok = true;

	snprintf(cmd, sizeof(cmd),
	         "mkdir -p %s/rootfs/usr/bin %s/rootfs/lib/x86_64-linux-gnu %s/rootfs/lib64 && "
	         "cp /usr/bin/cat %s/rootfs/usr/bin/cat",
	         workdir, workdir, workdir, workdir);
	if (system(cmd))
		return false;
	ldd = popen("ldd /usr/bin/cat", "r");
	if (!ldd)
		return false;
	while (ok && fgets(line, sizeof(line), ldd)) {
		char *path = strchr(line, '/'), *end;

		if (!path)
			continue; /* linux-vdso */
		end = strpbrk(path, " \n");
		if (end)
			*end = 0;
		snprintf(dst, sizeof(dst), "%s/rootfs%s", workdir, path);
		snprintf(cmd, sizeof(cmd), "cp -L %s %s", path, dst);
		ok = system(cmd) == 0;
	}
	pclose(ldd);
	snprintf(dst, sizeof(dst), "%s/rootfs/etc/ld.so.conf", workdir);
	test_write_file_or_abort(dst, "/lib/x86_64-linux-gnu\n");
	snprintf(cmd, sizeof(cmd), "ldconfig -r %s/rootfs", workdir);
	return ok && system(cmd) == 0;
}

/* A bundle whose init is the dynamic cat itself: uprobes must be in place
 * before its first instruction. */
static bool make_cat_bundle(const char *name, const char *file)
{
	return make_bundle(name, file, NULL, json_pack("[s,s]", "/usr/bin/cat", file));
}

struct malloc_run {
	json_t *events; /* trace_malloc records of cat */
	char *err;
	pid_t host_cat;
};

/* The host's dynamic cat reading path; its pid, to find its events by. */
static pid_t host_cat(const char *path)
{
	const char *cat[] = {"/usr/bin/cat", path, NULL};
	pid_t pid = test_spawn_quiet(cat);

	test_wait_status(pid);
	return pid;
}

/* sonde run trace_malloc around two containers run one after the other
 * (the same libc file: its links are released and taken again) and a host cat. */
static void run_malloc(const char *const *extra, const char ids[2][64], struct malloc_run *m)
{
	/* the hold waits for the uprobes however loaded the host: what is
	 * checked here is that they attach before the container's program runs
	 * (the hold's bound is test_container_churn's) */
	const char *argv[14] = {
	    "run", "trace_malloc", "-o", "json", "-v", "--comm", "cat", "--container-hold-timeout", "30s"};
	char files[2][64], bundles[2][64], host_file[600];
	struct sonde_proc p;
	size_t n = 9, i;
	json_t *all, *ev;

	m->events = json_array();
	m->err = NULL;
	for (int k = 0; extra && extra[k]; k++)
		argv[n++] = extra[k];
	argv[n] = NULL;
	for (int k = 0; k < 2; k++) {
		snprintf(files[k], sizeof(files[k]), "/etc/sonde-malloc-%d-%d", getpid(), k);
		snprintf(bundles[k], sizeof(bundles[k]), "bundle-malloc-%d", k);
		if (!make_cat_bundle(bundles[k], files[k])) {
			fprintf(stderr, "cannot build the bundle\n");
			test_failures++;
			return;
		}
	}
	snprintf(host_file, sizeof(host_file), "%s/host-malloc", workdir);
	test_write_file_or_abort(host_file, "host\n");
	if (sonde_proc_start_running(&p, argv))
		return;
	pid_t worker = fork();
	if (worker == 0) {
		int bad = 0;

		for (int k = 0; k < 2; k++) {
			bad |= run_container("runc", bundles[k], ids[k]) != 0;
			usleep(300 * 1000); /* the exit is seen, the links released */
		}
		_exit(bad);
	}
	for (int k = 0; k < 2 && ncreated < 8; k++)
		snprintf(created[ncreated++], sizeof(created[0]), "runc:%s", ids[k]);
	sonde_proc_await_child(&p, worker);
	m->host_cat = host_cat(host_file);
	sonde_proc_wait_for(&p, 1, "\001never", 500);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(all, i, ev)
	{
		const char *comm = test_json_str(ev, "proc.comm");

		if (comm && !strcmp(comm, "cat"))
			json_array_append(m->events, ev);
	}
	json_decref(all);
	m->err = p.err ? strdup(p.err) : strdup("");
	sonde_proc_free(&p);
}

/* Counts cat's malloc events in container `id` (or on the host: id NULL, pid). */
static size_t mallocs(struct malloc_run *m, const char *id, pid_t pid)
{
	size_t i, count = 0;
	json_t *ev;

	json_array_foreach(m->events, i, ev)
	{
		const char *name = test_json_str(ev, "runtime.containerName");
		const char *op = test_json_str(ev, "operation");

		if (!name || !op || strcmp(op, "malloc"))
			continue;
		if (id ? !strcmp(name, id) : (!*name && test_json_int(ev, "proc.pid", 0) == pid))
			count++;
	}
	return count;
}

static bool setup_uprobes(void)
{
	if (!setup("runc"))
		return false;
	if (access("/usr/bin/cat", X_OK) || access("/usr/sbin/ldconfig", X_OK))
		test_skip_dep("needs /usr/bin/cat and ldconfig");
	if (add_dynamic_cat())
		return true;
	fprintf(stderr, "cannot copy the dynamic cat, its libraries and an ld.so.cache into the rootfs\n");
	test_failures++;
	return false;
}

/* The start of a trace_malloc case: the rootfs with the dynamic cat, ids
 * sonde-it-<tag>-<k>-<pid> and run_malloc with extra. False when there is
 * nothing to check (what failed is already counted). */
static bool malloc_case(const char *tag, const char *const *extra, char ids[2][64], struct malloc_run *m)
{
	if (!setup_uprobes())
		return false;
	for (int k = 0; k < 2; k++)
		snprintf(ids[k], 64, "sonde-it-%s-%d-%d", tag, k, getpid());
	run_malloc(extra, ids, m);
	return m->err != NULL;
}

/* The end of one: sonde's stderr if a check failed, then the cleanup. */
static void malloc_case_end(struct malloc_run *m)
{
	if (m->err && test_failures)
		fprintf(stderr, "sonde stderr:\n%s\n", m->err);
	json_decref(m->events);
	free(m->err);
	cleanup();
}

/* Without --host: the uprobes go on each container's libc only, from the
 * container's first instruction; released when it exits, taken again by the next. */
static void test_runc_uprobes(void)
{
	char ids[2][64];
	struct malloc_run m = {0};

	if (!malloc_case("malloc", NULL, ids, &m))
		goto out;
	CHECK(mallocs(&m, ids[0], 0) > 0);
	CHECK(mallocs(&m, ids[1], 0) > 0);
	CHECK_INT(mallocs(&m, NULL, m.host_cat), 0);
	CHECK(strstr(m.err, "attached to /proc/") != NULL);
	CHECK(strstr(m.err, "attached to /lib/") == NULL); /* not the host's libc */
	CHECK(strstr(m.err, "attached to /usr/lib/") == NULL);
	{
		char released[128];

		snprintf(released, sizeof(released), "uprobes of %s released", ids[0]);
		CHECK(strstr(m.err, released) != NULL);
	}
out:
	malloc_case_end(&m);
}

/* --host: the host's libc too, and containers still attributed. */
static void test_runc_uprobes_host(void)
{
	char ids[2][64];
	const char *extra[] = {"--host", NULL};
	struct malloc_run m = {0};

	if (!malloc_case("mhost", extra, ids, &m))
		goto out;
	CHECK(mallocs(&m, ids[0], 0) > 0);
	CHECK(mallocs(&m, NULL, m.host_cat) > 0);
out:
	malloc_case_end(&m);
}

/* A container without the library trace_malloc probes (busybox-static: no
 * libc, no ld.so cache) is named in a warning: nothing is traced in it. */
static void test_runc_uprobes_no_library(void)
{
	const char *argv[] = {"run", "trace_malloc", "-o", "json", "-v", "--container-hold-timeout", "30s",
	                      NULL};
	char id[64], file[64], want[160];
	struct sonde_proc p;
	pid_t worker;

	if (!setup("runc"))
		goto out;
	snprintf(id, sizeof(id), "sonde-it-nolibc-%d", getpid());
	snprintf(file, sizeof(file), "/etc/sonde-nolibc-%d", getpid());
	if (!make_bundle("bundle-nolibc", file, NULL, NULL)) {
		fprintf(stderr, "cannot build the bundle\n");
		test_failures++;
		goto out;
	}
	if (sonde_proc_start_running(&p, argv))
		goto out;
	worker = fork();
	if (worker == 0)
		_exit(run_container("runc", "bundle-nolibc", id) != 0);
	snprintf(created[ncreated++], sizeof(created[0]), "runc:%s", id);
	sonde_proc_await_child(&p, worker);
	snprintf(want, sizeof(want), "container %s: none of the libraries its uprobes need (libc)", id);
	CHECK(sonde_proc_wait_for(&p, 2, want, 5000));
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	if (test_failures)
		sonde_proc_print_errors(&p);
	sonde_proc_free(&p);
out:
	cleanup();
}

/* crun refuses this host's cgroup layout (hugetlb left on cgroup2) until
 * hugetlb moves to a v1 hierarchy; given back after. */
static void test_crun_containers_only(void)
{
	oci_require("crun");
	REQUIRE(oci_crun_cgroups_setup() == 0);
	containers_only("crun");
	CHECK(oci_crun_cgroups_restore() == 0);
}

TEST_MAIN(TEST(test_runc_containers_only), TEST(test_runc_uprobes_no_library),
          TEST(test_runc_top_process_selected), TEST(test_runc_host), TEST(test_runc_containername),
          TEST(test_runc_list_containers), TEST(test_runc_uprobes), TEST(test_runc_uprobes_host),
          TEST(test_crun_containers_only))
