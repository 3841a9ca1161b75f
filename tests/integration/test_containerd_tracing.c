/* containerd containers end to end: a private containerd (containerd_env.h),
 * containers started with `ctr run -d` in namespace "default" after sonde is
 * up, traced with `sonde run trace_open --containerd-socketpath SOCK`. The
 * image name and digest exist only in containerd's metadata, so the events
 * prove that sonde asked containerd's API; the name is the container id, as
 * for upstream. Each container waits a second, cats a file named after this
 * run (it does not exist: the failed open is traced all the same) and sleeps,
 * so attribution must come from discovery, not from a lucky scan. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "containerd_env.h"
#include "testlib.h"

struct scenario {
	const char *extra[4]; /* sonde flags */
	int ncontainers;
	char ids[2][64];
	char files[2][96];
	char host_file[128];
	json_t *events; /* trace_open records of cat naming one of the files */
};

/* A host process (not in any container) opening path. */
static void host_cat(const char *path)
{
	const char *cat[] = {"cat", path, NULL};

	test_run_quiet(cat);
}

/* Starts sonde, then the containers and a host cat, and keeps the records
 * of cat opening one of the scenario's files. */
static void run_scenario(struct ctrd_env *e, struct scenario *s)
{
	const char *argv[16] = {"run",    "trace_open", "-o", "json", "-v", "--containerd-socketpath",
	                        e->socket};
	const char *labels[] = {"org.sonde.test=1", NULL};
	struct sonde_proc p;
	struct sonde_drain drain = {0};
	size_t n = 7, i;
	json_t *all, *ev;
	int rc;

	s->events = json_array();
	for (int k = 0; k < 4 && s->extra[k]; k++)
		argv[n++] = s->extra[k];
	argv[n] = NULL;
	for (int k = 0; k < s->ncontainers; k++)
		snprintf(s->files[k], sizeof(s->files[k]), "/sonde-ctrd-%d-%d-%ld", getpid(), k,
		         random() % 100000);
	snprintf(s->host_file, sizeof(s->host_file), "/tmp/sonde-it-ctrd-host-%d-%ld", getpid(),
	         random() % 100000);
	if (sonde_proc_start_running(&p, argv))
		return;
	sonde_drain_start(&drain, &p);
	for (int k = 0; k < s->ncontainers; k++) {
		char script[160];
		const char *cmd[] = {"sh", "-c", script, NULL};

		/* /done: how the test learns the cat has run */
		snprintf(script, sizeof(script), "sleep 1; cat %s; echo 1 > /done; sleep 30", s->files[k]);
		if (ctrd_run(e, s->ids[k], labels, cmd)) {
			fprintf(stderr, "ctr run of %s failed\n", s->ids[k]);
			test_failures++;
		}
	}
	host_cat(s->host_file);
	/* every container's cat has run (and its event, if it passes the
	 * filters, is in the ring, drained at stop): a filtered container's
	 * missing event then means something, however slow the host */
	for (int k = 0; k < s->ncontainers; k++)
		if (ctrd_task_wait_counter(e, "default", s->ids[k], "/done", 1, 30000) < 1)
			test_failures++;
	sonde_drain_stop(&drain);
	sonde_proc_wait_for(&p, 1, s->files[0], 5000);
	/* a containerd container was found: gRPC core is loaded now (and only
	 * now: test_trace_open checks it is not without a socket) */
	CHECK(test_maps_have(p.pid, "libgrpc"));
	rc = sonde_proc_finish(&p, SIGINT, 10000);
	CHECK_INT(rc, 0);
	if (rc != 0)
		sonde_proc_print_errors(&p);
	all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname"), *comm = test_json_str(ev, "proc.comm");
		bool ours = fname && !strcmp(fname, s->host_file);

		for (int k = 0; k < s->ncontainers; k++)
			ours |= fname && !strcmp(fname, s->files[k]);
		if (ours && comm && !strcmp(comm, "cat"))
			json_array_append(s->events, ev);
	}
	if (json_array_size(s->events) == 0)
		fprintf(stderr, "no matching events; sonde stderr:\n%s\n", p.err ? p.err : "");
	else if (sonde_lost_samples(p.err))
		fprintf(stderr, "sonde lost %llu events (a host busy with opens?):\n%s\n",
		        sonde_lost_samples(p.err), p.err);
	json_decref(all);
	sonde_proc_free(&p);
	for (int k = 0; k < s->ncontainers; k++)
		ctrd_remove(e, "default", s->ids[k]);
}

static json_t *find(struct scenario *s, const char *fname)
{
	return test_json_find(s->events, "fname", fname);
}

static void check_ctr_event(struct ctrd_env *e, json_t *ev, const char *id, const char *fname)
{
	if (!ev) {
		fprintf(stderr, "no event of container %s opening %s\n", id, fname);
		test_failures++;
		return;
	}
	ctrd_check_busybox_record(e, ev, id);
	CHECK_STR(test_json_str(ev, "runtime.containerName"), id);
	/* not a pod: no Kubernetes metadata made up */
	CHECK_STR(test_json_str(ev, "k8s.podName"), "");
}

/* Without --host: the container's open, enriched from containerd; not the host's. */
static void test_ctr_container_enriched(void)
{
	struct ctrd_env *e = ctrd_env_setup();
	struct scenario s = {.ncontainers = 1};

	if (!e)
		return;
	snprintf(s.ids[0], sizeof(s.ids[0]), "sonde-ctr-%d", getpid());
	run_scenario(e, &s);
	check_ctr_event(e, find(&s, s.files[0]), s.ids[0], s.files[0]);
	CHECK(find(&s, s.host_file) == NULL);
	json_decref(s.events);
	ctrd_env_stop(e);
}

/* -c NAME: that container only, not the other one, not the host. */
static void test_ctr_containername(void)
{
	struct ctrd_env *e = ctrd_env_setup();
	struct scenario s = {.ncontainers = 2, .extra = {"-c"}};

	if (!e)
		return;
	snprintf(s.ids[0], sizeof(s.ids[0]), "sonde-ctr-a-%d", getpid());
	snprintf(s.ids[1], sizeof(s.ids[1]), "sonde-ctr-b-%d", getpid());
	s.extra[1] = s.ids[0];
	run_scenario(e, &s);
	check_ctr_event(e, find(&s, s.files[0]), s.ids[0], s.files[0]);
	CHECK(find(&s, s.files[1]) == NULL);
	CHECK(find(&s, s.host_file) == NULL);
	json_decref(s.events);
	ctrd_env_stop(e);
}

/* --host: the host's open too, with empty container fields, and the
 * container's still enriched. */
static void test_ctr_host(void)
{
	struct ctrd_env *e = ctrd_env_setup();
	/* cat only, in the kernel: every other open of a busy host (a flood
	 * test next door) could overflow the ring before the container's */
	struct scenario s = {.ncontainers = 1, .extra = {"--host", "--comm", "cat"}};
	json_t *ev;

	if (!e)
		return;
	snprintf(s.ids[0], sizeof(s.ids[0]), "sonde-ctr-h-%d", getpid());
	run_scenario(e, &s);
	check_ctr_event(e, find(&s, s.files[0]), s.ids[0], s.files[0]);
	ev = find(&s, s.host_file);
	CHECK(ev != NULL);
	if (ev) {
		CHECK_STR(test_json_str(ev, "runtime.containerId"), "");
		CHECK_STR(test_json_str(ev, "runtime.containerName"), "");
		CHECK_STR(test_json_str(ev, "runtime.runtimeName"), "");
	}
	json_decref(s.events);
	ctrd_env_stop(e);
}

TEST_MAIN(TEST(test_ctr_container_enriched), TEST(test_ctr_containername), TEST(test_ctr_host))
