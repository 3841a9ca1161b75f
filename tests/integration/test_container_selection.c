/* The container selector end to end: real runc containers carrying the
 * annotations containerd's CRI plugin writes (namespace, pod, container
 * name), selected with --k8s-namespace / --k8s-podname by `sonde run
 * trace_open` (in-kernel filter map) and by `sonde list-containers`. Only
 * containers created here are deleted. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
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
	static const char *const applets[] = {"cat", "sleep", NULL};

	oci_require("runc");
	if (oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets) == 0)
		return true;
	test_failures++; /* a case whose setup failed did not pass (what failed is printed) */
	return false;
}

/* A bundle as containerd's CRI plugin would leave it for container `name`
 * of pod ns/pod; its process runs args. */
static bool make_bundle(const char *bundle, const char *ns, const char *pod, const char *name, json_t *args)
{
	char dir[512], rootfs[512];

	snprintf(dir, sizeof(dir), "%s/%s", workdir, bundle);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	return oci_bundle_write(dir, rootfs, args,
	                        json_pack("{s:s,s:s,s:s,s:s,s:s}", "io.kubernetes.cri.container-type",
	                                  "container", "io.kubernetes.cri.sandbox-namespace", ns,
	                                  "io.kubernetes.cri.sandbox-name", pod,
	                                  "io.kubernetes.cri.container-name", name,
	                                  "io.kubernetes.cri.sandbox-id", pod)) == 0;
}

struct scenario {
	const char *flags[4]; /* selector flags for sonde run */
	char ids[2][64];      /* container a: team-a/pod-a, b: team-b/pod-b */
	char files[2][96];
	char host_file[512];
	json_t *events[3]; /* the open of a's file, b's file, the host file (or NULL) */
};

/* Runs sonde trace_open with the flags around the two containers and a host open. */
static void run_scenario(struct scenario *s)
{
	const char *argv[16] = {"run", "trace_open", "-o", "json", "-v"};
	static const char *const ns[2] = {"team-a", "team-b"}, *const pods[2] = {"pod-a", "pod-b"};
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
		REQUIRE(
		    make_bundle(bundles[k], ns[k], pods[k], "app", json_pack("[s,s]", "cat", s->files[k])));
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
          TEST(test_bad_selector))
