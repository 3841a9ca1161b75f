/* The container selector end to end: real runc containers carrying the
 * annotations containerd's CRI plugin writes (namespace, pod, container
 * name), selected with --k8s-namespace / --k8s-podname by `sonde run
 * trace_open` (in-kernel filter map) and by `sonde list-containers`. Only
 * containers created here are deleted. */
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static char workdir[256];

static int run_quiet(const char *const *argv)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void cleanup(void)
{
	if (workdir[0] && strncmp(workdir, "/tmp/sonde-it-selector-", 23) == 0)
		nftw(workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	workdir[0] = 0;
}

/* busybox rootfs shared by the bundles */
static bool setup(void)
{
	const char *version[] = {"runc", "--version", NULL};
	char cmd[1024];

	if (!test_is_root())
		test_skip("needs root");
	if (run_quiet(version) || access("/bin/busybox", X_OK))
		test_skip("needs runc and busybox-static (scripts/install-deps.sh)");
	snprintf(workdir, sizeof(workdir), "/tmp/sonde-it-selector-XXXXXX");
	if (!mkdtemp(workdir))
		return false;
	snprintf(
	    cmd, sizeof(cmd),
	    "cd %s && mkdir -p rootfs/bin rootfs/proc rootfs/sys rootfs/dev rootfs/etc rootfs/tmp && "
	    "cp /bin/busybox rootfs/bin/ && ln -s busybox rootfs/bin/cat && ln -s busybox rootfs/bin/sleep "
	    "&& echo 'root:x:0:0:root:/root:/bin/sh' > rootfs/etc/passwd && echo 'root:x:0:' > "
	    "rootfs/etc/group",
	    workdir);
	return system(cmd) == 0;
}

/* A bundle as containerd's CRI plugin would leave it for container `name`
 * of pod ns/pod; its process runs args. */
static bool make_bundle(const char *bundle, const char *ns, const char *pod, const char *name, json_t *args)
{
	char dir[512], path[600], rootfs[512];
	const char *spec[] = {"runc", "spec", "--bundle", dir, NULL};
	json_t *cfg, *process;
	bool ok;

	snprintf(dir, sizeof(dir), "%s/%s", workdir, bundle);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	mkdir(dir, 0755);
	if (run_quiet(spec)) {
		json_decref(args);
		return false;
	}
	snprintf(path, sizeof(path), "%s/config.json", dir);
	cfg = json_load_file(path, 0, NULL);
	if (!cfg) {
		json_decref(args);
		return false;
	}
	process = json_object_get(cfg, "process");
	json_object_set_new(process, "terminal", json_false());
	json_object_set_new(process, "args", args);
	json_object_set_new(json_object_get(cfg, "root"), "path", json_string(rootfs));
	json_object_set_new(
	    cfg, "annotations",
	    json_pack("{s:s,s:s,s:s,s:s,s:s}", "io.kubernetes.cri.container-type", "container",
	              "io.kubernetes.cri.sandbox-namespace", ns, "io.kubernetes.cri.sandbox-name", pod,
	              "io.kubernetes.cri.container-name", name, "io.kubernetes.cri.sandbox-id", pod));
	ok = json_dump_file(cfg, path, JSON_INDENT(1)) == 0;
	json_decref(cfg);
	return ok;
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
		write_file(path, "in a pod\n");
		REQUIRE(
		    make_bundle(bundles[k], ns[k], pods[k], "app", json_pack("[s,s]", "cat", s->files[k])));
	}
	snprintf(s->host_file, sizeof(s->host_file), "%s/host-%ld", workdir, random() % 100000);
	write_file(s->host_file, "host\n");
	REQUIRE(sonde_proc_start(&p, argv) == 0);
	if (!sonde_proc_wait_for(&p, 2, "running", 15000)) {
		fprintf(stderr, "sonde did not start:\n%s\n", p.err ? p.err : "");
		test_failures++;
	}
	/* from a child, while this process keeps reading sonde's output: a sonde
	 * blocked on a full pipe could not answer the runtime's exec permission events */
	worker = fork();
	if (worker == 0) {
		int bad = 0;

		for (int k = 0; k < 2; k++) {
			char dir[512];
			const char *run[] = {"runc", "run", "--bundle", dir, s->ids[k], NULL};
			const char *del[] = {"runc", "delete", "-f", s->ids[k], NULL};

			snprintf(dir, sizeof(dir), "%s/%s", workdir, bundles[k]);
			bad |= run_quiet(run) != 0;
			run_quiet(del);
		}
		_exit(bad || open(s->host_file, O_RDONLY) < 0);
	}
	for (int st, tries = 0; tries < 300; tries++) {
		if (waitpid(worker, &st, WNOHANG) == worker) {
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
			break;
		}
		sonde_proc_wait_for(&p, 1, "\001never", 100);
	}
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
	const char *run[] = {"runc", "run", "-d", "--bundle", dir, id, NULL};
	const char *del[] = {"runc", "delete", "-f", id, NULL};
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
	CHECK_INT(run_quiet(run), 0);
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
	run_quiet(del);
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
