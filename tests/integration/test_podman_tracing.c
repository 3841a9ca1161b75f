/* podman containers end to end: a busybox-static rootfs imported as a local
 * image (no registry), `podman run --rm --name NAME IMAGE cat /etc/hostname`
 * traced with `sonde run trace_open`. The events must carry podman's name,
 * id, image and runtimeName=podman: names that exist only in podman's storage
 * files. podman runs with a containers.conf written here (runc, netns none,
 * rlimits within the hard limits), so the host's /etc is not touched.
 * Skipped (77) when podman is missing or cannot run a container here. Only
 * the containers and the image made here are removed. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "oci_rootfs.h"
#include "testlib.h"

#define WORKDIR_PREFIX "/tmp/sonde-it-podman-"

static char workdir[256], image[96];
static bool image_made;

static void remove_container(const char *name)
{
	const char *rm[] = {"podman", "rm", "-f", "-t", "0", "--ignore", name, NULL};
	test_run_quiet(rm);
}

static void cleanup(void)
{
	if (image_made) {
		const char *rmi[] = {"podman", "rmi", "-f", image, NULL};
		test_run_quiet(rmi);
		image_made = false;
	}
	test_rm_tree(workdir, WORKDIR_PREFIX);
	workdir[0] = 0;
	unsetenv("CONTAINERS_CONF"); /* it was in workdir */
}

static void skip(const char *why)
{
	cleanup();
	test_skip_dep(why);
}

/* busybox-static rootfs → tarball → `podman import` as a local image. */
static void make_image(void)
{
	static const char *const applets[] = {"sh", "cat", "true", "sleep", NULL};
	char rootfs[300], tarball[300], conf[300];

	snprintf(workdir, sizeof(workdir), WORKDIR_PREFIX "XXXXXX");
	REQUIRE(mkdtemp(workdir));
	snprintf(conf, sizeof(conf), "%s/containers.conf", workdir);
	test_write_file_or_abort(conf, "[containers]\n"
	                               "default_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n"
	                               "netns = \"none\"\n"
	                               "[engine]\n"
	                               "runtime = \"runc\"\n");
	setenv("CONTAINERS_CONF", conf, 1);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	REQUIRE(oci_rootfs_busybox(rootfs, applets) == 0);
	snprintf(tarball, sizeof(tarball), "%s/rootfs.tar.gz", workdir);
	{
		const char *tar[] = {"tar", "-C", rootfs, "-czf", tarball, ".", NULL};
		REQUIRE(test_run_quiet(tar) == 0);
	}
	snprintf(image, sizeof(image), "localhost/sonde-it-podman-%d:latest", getpid());
	const char *import[] = {"podman", "import", tarball, image, NULL};
	if (test_run_quiet(import))
		skip("podman cannot import an image here");
	image_made = true;
}

static void setup(void)
{
	char probe[64];

	oci_require("podman");
	make_image();
	snprintf(probe, sizeof(probe), "sonde-it-podprobe-%d", getpid());
	const char *run[] = {"podman", "run", "--rm", "--name", probe, image, "true", NULL};
	if (test_run_quiet(run)) {
		remove_container(probe);
		skip("podman cannot run containers on this host");
	}
}

struct pod_run {
	char name[64];
	char cidfile[400];
	char id[80]; /* from --cidfile, after the run */
};

/* Traces trace_open (with `extra` flags) while the containers cat /etc/hostname. */
static json_t *trace(const char *const *extra, struct pod_run *runs, int nruns)
{
	const char *argv[16] = {"run", "trace_open", "-o", "json", "-v"};
	struct sonde_proc p;
	size_t n = 5, i;
	json_t *all, *ev, *events = json_array();

	for (int k = 0; extra[k]; k++)
		argv[n++] = extra[k];
	argv[n] = NULL;
	for (int k = 0; k < nruns; k++) {
		snprintf(runs[k].cidfile, sizeof(runs[k].cidfile), "%s/%s.cid", workdir, runs[k].name);
		unlink(runs[k].cidfile);
	}
	if (sonde_proc_start_running(&p, argv))
		return events;
	/* podman runs from a child while this process drains sonde's output:
	 * a sonde blocked on a full pipe could not answer exec permission events */
	pid_t worker = fork();
	if (worker == 0) {
		int bad = 0;
		for (int k = 0; k < nruns; k++) {
			const char *run[] = {"podman",    "run",           "--rm", "--name", runs[k].name,
			                     "--cidfile", runs[k].cidfile, image,  "cat",    "/etc/hostname",
			                     NULL};
			bad |= test_run_quiet(run) != 0;
		}
		_exit(bad);
	}
	sonde_proc_await_child(&p, worker);
	sonde_proc_wait_for(&p, 1, runs[0].name, 2000);
	usleep(300 * 1000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	for (int k = 0; k < nruns; k++) {
		size_t len;
		char *cid = test_read_file(runs[k].cidfile, &len);

		snprintf(runs[k].id, sizeof(runs[k].id), "%s", cid ? cid : "");
		free(cid);
		remove_container(runs[k].name);
	}
	all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname"), *comm = test_json_str(ev, "proc.comm");

		if (fname && comm && !strcmp(fname, "/etc/hostname") && !strcmp(comm, "cat"))
			json_array_append(events, ev);
	}
	if (json_array_size(events) == 0)
		fprintf(stderr, "no matching events; sonde stderr:\n%s\n", p.err ? p.err : "");
	json_decref(all);
	sonde_proc_free(&p);
	return events;
}

static json_t *event_of(json_t *events, const char *name)
{
	return test_json_find(events, "runtime.containerName", name);
}

static void check_podman_event(json_t *ev, const struct pod_run *r)
{
	const char *digest;

	CHECK(ev != NULL);
	if (!ev)
		return;
	CHECK_STR(test_json_str(ev, "runtime.runtimeName"), "podman");
	CHECK_STR(test_json_str(ev, "runtime.containerName"), r->name);
	CHECK(strlen(r->id) == 64);
	CHECK_STR(test_json_str(ev, "runtime.containerId"), r->id);
	CHECK_STR(test_json_str(ev, "runtime.containerImageName"), image);
	digest = test_json_str(ev, "runtime.containerImageDigest");
	CHECK(digest && strncmp(digest, "sha256:", 7) == 0 && strlen(digest) == 71);
	CHECK(test_json_int(ev, "runtime.containerPid", 0) > 1);
}

/* A short-lived `podman run --rm` container, named by podman only. */
static void test_podman_run_named(void)
{
	struct pod_run r = {0};
	const char *extra[] = {NULL};
	json_t *events;
	size_t i;
	json_t *ev;

	setup();
	snprintf(r.name, sizeof(r.name), "sonde-it-pod-%d", getpid());
	events = trace(extra, &r, 1);
	check_podman_event(event_of(events, r.name), &r);
	/* every cat of /etc/hostname seen was this container's: no host events, no id-named ones */
	json_array_foreach(events, i, ev) CHECK_STR(test_json_str(ev, "runtime.containerName"), r.name);
	json_decref(events);
	cleanup();
}

/* -c NAME selects a podman container by its podman name: the other one is filtered in the kernel. */
static void test_podman_containername(void)
{
	struct pod_run r[2] = {0};
	const char *extra[] = {"-c", r[0].name, NULL};
	json_t *events;

	setup();
	snprintf(r[0].name, sizeof(r[0].name), "sonde-it-poda-%d", getpid());
	snprintf(r[1].name, sizeof(r[1].name), "sonde-it-podb-%d", getpid());
	events = trace(extra, r, 2);
	check_podman_event(event_of(events, r[0].name), &r[0]);
	CHECK(event_of(events, r[1].name) == NULL);
	CHECK(json_array_size(events) >= 1);
	if (json_array_size(events) != 1)
		fprintf(stderr, "%zu events, expected only %s's\n", json_array_size(events), r[0].name);
	CHECK_INT((int)json_array_size(events), 1);
	json_decref(events);
	cleanup();
}

TEST_MAIN(TEST(test_podman_run_named), TEST(test_podman_containername))
