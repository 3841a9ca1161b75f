/* Several gadget runs in one process, each on its own thread, through
 * libsonde (not the CLI): each run has its own params, its own sink and its
 * own log callback, and must see exactly its own events, params and log
 * lines. Runs that follow containers share one container collection (one
 * watcher), which stops with the last of them. Built also with
 * ThreadSanitizer (make test-tsan). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sonde/containers.h>
#include <sonde/gadget.h>
#include <sonde/log.h>
#include <sonde/operator.h>

#include "oci_rootfs.h"
#include "testlib.h"

#define NRUNS         8
#define SINK_PRIORITY 9900 /* after filters, before the CLI */
#define MAX_SEEN      64
#define LOG_MAX       16384

/* ---- a probe operator: logs its own param, so each run has a line of its own ---- */

static const struct sonde_param_desc probe_params[] = {
    {.key = "tag", .description = "a string this run logs", .type_hint = "string"},
};

static int probe_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	*state = ctx;
	return 0;
}

static int probe_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct sonde_param *p = sonde_params_find(sonde_gadget_params(ctx), "operator.probe.tag");

	sonde_info("probe: tag=%s", p ? sonde_param_value(p) : "?");
	return 0;
}

static const struct sonde_operator probe_operator = {
    .name = "probe",
    .kind = SONDE_OP_DATA,
    .priority = 100,
    .instance_params = probe_params,
    .ninstance_params = 1,
    .instantiate = probe_instantiate,
    .pre_start = probe_pre_start,
};

/* ---- one run ---- */

struct run {
	const char *gadget;
	const char *ds;         /* its DataSource */
	const char *comm_field; /* where the process name is */
	const char *params[6][2];
	char comm[64]; /* what its events must carry in comm_field */
	char tag[32];
	/* results, written by the run's thread, read after the join or atomically */
	struct sonde_gadget_ctx *ctx;
	pthread_t thread;
	atomic_int running; /* the run's own log said so */
	atomic_int matched; /* records with our comm */
	atomic_int foreign; /* records with any other comm */
	atomic_int records;
	atomic_int err;
	char param_back[64]; /* the comm param as the run saw it */
	pthread_mutex_t log_lock;
	char log[LOG_MAX];
	size_t loglen;
};

static int devnull = -1;
static atomic_int global_lines; /* lines that reached the process-wide sink */
static char global_log[LOG_MAX];
static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;

static void global_sink(enum sonde_log_level level, const char *msg, void *arg)
{
	pthread_mutex_lock(&global_lock);
	size_t n = strlen(global_log);
	snprintf(global_log + n, sizeof(global_log) - n, "%s\n", msg);
	pthread_mutex_unlock(&global_lock);
	atomic_fetch_add(&global_lines, 1);
}

static void run_log(enum sonde_log_level level, const char *msg, void *arg)
{
	struct run *r = arg;

	pthread_mutex_lock(&r->log_lock);
	r->loglen += (size_t)snprintf(r->log + r->loglen, sizeof(r->log) - r->loglen, "%s\n", msg);
	if (r->loglen >= sizeof(r->log))
		r->loglen = sizeof(r->log) - 1;
	pthread_mutex_unlock(&r->log_lock);
	if (strstr(msg, ": running"))
		atomic_store(&r->running, 1);
}

static int count_comm(struct run *r, struct sonde_ds *ds, struct sonde_record *rec)
{
	struct sonde_field *f = sonde_ds_field(ds, r->comm_field);
	uint32_t len = 0;
	const char *s = f ? sonde_field_string(f, rec, &len) : NULL;

	atomic_fetch_add(&r->records, 1);
	if (s && len == strlen(r->comm) && memcmp(s, r->comm, len) == 0)
		atomic_fetch_add(&r->matched, 1);
	else
		atomic_fetch_add(&r->foreign, 1);
	return 0;
}

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	return count_comm(arg, ds, rec);
}

static int on_array(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	for (size_t i = 0; i < arr->len; i++)
		count_comm(arg, ds, arr->recs[i]);
	return 0;
}

static void *run_thread(void *arg)
{
	struct run *r = arg;
	struct sonde_params *ps;
	struct sonde_param *p;
	struct sonde_ds *ds;
	char err[256];

	sonde_gadget_set_log(r->ctx, run_log, r, SONDE_LOG_INFO);
	/* the CLI sink writes here instead of stdout */
	sonde_gadget_set_var(r->ctx, "cli.fd", &devnull);
	r->err = sonde_gadget_instantiate(r->ctx);
	if (r->err)
		return NULL;
	ps = sonde_gadget_params(r->ctx);
	for (size_t i = 0; i < 6 && r->params[i][0]; i++) {
		if (sonde_params_set(ps, r->params[i][0], r->params[i][1], err, sizeof(err))) {
			fprintf(stderr, "%s: %s\n", r->tag, err);
			r->err = -EINVAL;
			return NULL;
		}
	}
	ds = sonde_gadget_ds(r->ctx, r->ds);
	if (!ds || !sonde_ds_field(ds, r->comm_field)) {
		r->err = -ENOENT;
		return NULL;
	}
	/* enrichment fills only what a sink asks for */
	sonde_field_set_requested(sonde_ds_field(ds, r->comm_field), true);
	r->err = sonde_ds_type(ds) == SONDE_DS_ARRAY
	             ? sonde_ds_subscribe_array(ds, on_array, r, SINK_PRIORITY)
	             : sonde_ds_subscribe(ds, on_record, r, SINK_PRIORITY);
	if (!r->err)
		r->err = sonde_gadget_run(r->ctx, 60 * 1000000000LL);
	p = sonde_params_find(ps, "comm");
	if (!p)
		p = sonde_params_find(ps, "filter");
	snprintf(r->param_back, sizeof(r->param_back), "%s", p ? sonde_param_value(p) : "");
	return NULL;
}

static void start_run(struct run *r)
{
	const struct sonde_gadget_image *img = sonde_builtin_gadget(r->gadget);

	pthread_mutex_init(&r->log_lock, NULL);
	r->ctx = img ? sonde_gadget_ctx_new(img) : NULL;
	if (!r->ctx) {
		r->err = -ENOENT;
		return;
	}
	if (pthread_create(&r->thread, NULL, run_thread, r)) {
		sonde_gadget_ctx_free(r->ctx);
		r->ctx = NULL;
		r->err = -EAGAIN;
	}
}

static void finish_run(struct run *r)
{
	if (!r->ctx)
		return;
	sonde_gadget_cancel(r->ctx);
	pthread_join(r->thread, NULL);
	sonde_gadget_ctx_free(r->ctx);
	r->ctx = NULL;
	pthread_mutex_destroy(&r->log_lock);
}

static bool wait_all(struct run *runs, size_t n, atomic_int *(*what)(struct run *), int want, int timeout_ms)
{
	int64_t end = test_now_ms() + timeout_ms;

	for (;;) {
		bool all = true;

		for (size_t i = 0; i < n; i++)
			if (runs[i].ctx && !atomic_load(&runs[i].err) && atomic_load(what(&runs[i])) < want)
				all = false;
		if (all)
			return true;
		if (test_now_ms() > end)
			return false;
		usleep(20000);
	}
}

static atomic_int *running_of(struct run *r)
{
	return &r->running;
}

static atomic_int *matched_of(struct run *r)
{
	return &r->matched;
}

/* A child named comm that opens path (when given) and, for `hold_ms`, stays. */
static pid_t child_open(const char *comm, const char *path, int hold_ms)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_NAME, comm);
		if (path)
			close(open(path, O_RDONLY));
		if (hold_ms)
			usleep((useconds_t)hold_ms * 1000);
		_exit(0);
	}
	return pid;
}

/* A child that execs `link` (a symlink to /bin/true named like the comm). */
static void child_exec(const char *link)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* the comm before and after the exec: the kernel filter may look at either */
		prctl(PR_SET_NAME, strrchr(link, '/') + 1);
		execl(link, link, (char *)NULL);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
}

static void register_operators(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	sonde_register_builtin_operators();
	CHECK_INT(sonde_operator_register(&probe_operator), 0);
}

static void test_eight_runs(void)
{
	struct run runs[NRUNS] = {0};
	char dir[64], links[2][128];
	pid_t snap_child, top_child;
	int status;

	test_require_root();
	register_operators();
	sonde_log_set_sink(global_sink, NULL);
	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	REQUIRE(devnull >= 0);
	snprintf(dir, sizeof(dir), "/tmp/sonde-cc-%d", getpid());
	REQUIRE(mkdir(dir, 0700) == 0);
	/* 0-3: trace_open, one comm each; 4-5: trace_exec; 6: snapshot_process; 7: top_process */
	for (int i = 0; i < NRUNS; i++) {
		struct run *r = &runs[i];

		snprintf(r->comm, sizeof(r->comm), "sonde_cc_%d", i);
		snprintf(r->tag, sizeof(r->tag), "run-%d-%d", i, getpid());
		r->params[0][0] = "host";
		r->params[0][1] = "true";
		r->params[1][0] = "output";
		/* the sinks on several threads too (written to /dev/null) */
		r->params[1][1] = i < 2 ? "json" : i < 4 ? "columns" : i == 6 ? "yaml" : "none";
		r->params[2][0] = "operator.probe.tag";
		r->params[2][1] = r->tag;
		if (i < 4) {
			r->gadget = "trace_open";
			r->ds = "open";
			r->comm_field = "proc.comm";
		} else if (i < 6) {
			r->gadget = "trace_exec";
			r->ds = "exec";
			r->comm_field = "proc.comm";
			snprintf(links[i - 4], sizeof(links[i - 4]), "%s/%s", dir, r->comm);
			REQUIRE(symlink("/bin/true", links[i - 4]) == 0);
		} else if (i == 6) {
			r->gadget = "snapshot_process";
			r->ds = "processes";
			r->comm_field = "comm";
		} else {
			r->gadget = "top_process";
			r->ds = "processes";
			r->comm_field = "comm";
			r->params[3][0] = "interval";
			r->params[3][1] = "200ms";
			r->params[4][0] = "filter";
			r->params[4][1] = "comm==sonde_cc_7";
		}
		if (i < 7) {
			r->params[3][0] = "comm";
			r->params[3][1] = r->comm;
		}
	}
	/* the snapshot and the top table need their process before they start */
	snap_child = child_open(runs[6].comm, NULL, 20000);
	top_child = child_open(runs[7].comm, NULL, 20000);
	usleep(50000);
	for (int i = 0; i < NRUNS; i++)
		start_run(&runs[i]);
	CHECK(wait_all(runs, NRUNS, running_of, 1, 30000));
	for (int i = 0; i < NRUNS; i++)
		if (runs[i].err)
			fprintf(stderr, "%s (%s): %s\n", runs[i].tag, runs[i].gadget, strerror(-runs[i].err));

	/* distinct events for each: 3 opens of each trace_open run, 2 execs of each trace_exec run */
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < 4; i++) {
			char path[128];

			snprintf(path, sizeof(path), "%s/open-%d-%d", dir, i, k);
			waitpid(child_open(runs[i].comm, path, 0), NULL, 0);
		}
	}
	for (int k = 0; k < 2; k++)
		for (int i = 4; i < 6; i++)
			child_exec(links[i - 4]);
	CHECK(wait_all(runs, NRUNS, matched_of, 1, 10000));
	usleep(300000); /* anything misrouted has arrived by now */
	for (int i = 0; i < NRUNS; i++)
		finish_run(&runs[i]);
	kill(snap_child, SIGKILL);
	kill(top_child, SIGKILL);
	waitpid(snap_child, &status, 0);
	waitpid(top_child, &status, 0);

	for (int i = 0; i < NRUNS; i++) {
		struct run *r = &runs[i];
		char want[96];
		const char *line;
		int mine = 0, foreign_tags = 0;

		fprintf(stderr, "  %s %-16s records %d, own %d, other %d\n", r->tag, r->gadget,
		        atomic_load(&r->records), atomic_load(&r->matched), atomic_load(&r->foreign));
		CHECK_INT(r->err, 0);
		CHECK_INT(atomic_load(&r->foreign), 0);
		if (i < 4)
			CHECK_INT(atomic_load(&r->matched), 3);
		else if (i < 6)
			CHECK_INT(atomic_load(&r->matched), 2);
		else if (i == 6)
			CHECK_INT(atomic_load(&r->matched), 1); /* one snapshot, one process */
		else
			CHECK(atomic_load(&r->matched) >= 1); /* a table every 200 ms */
		CHECK_STR(r->param_back, i < 7 ? r->comm : "comm==sonde_cc_7");
		/* its own log lines: its probe line once, nobody else's */
		snprintf(want, sizeof(want), "probe: tag=%s\n", r->tag);
		for (line = r->log; (line = strstr(line, "probe: tag=")); line++) {
			if (strncmp(line, want, strlen(want)) == 0)
				mine++;
			else
				foreign_tags++;
		}
		CHECK_INT(mine, 1);
		CHECK_INT(foreign_tags, 0);
		CHECK(atomic_load(&r->running) == 1);
	}
	/* nothing of the runs went to the process-wide sink */
	CHECK(strstr(global_log, "probe: tag=") == NULL);
	CHECK(strstr(global_log, ": running") == NULL);
	sonde_log_set_sink(NULL, NULL);
	test_rm_tree(dir, "/tmp/sonde-cc-");
}

/* The registry is frozen once runs exist. */
static void test_registry_frozen(void)
{
	static const struct sonde_operator late = {.name = "late", .kind = SONDE_OP_DATA};
	struct sonde_gadget_ctx *ctx;

	register_operators();
	ctx = sonde_gadget_ctx_new(sonde_builtin_gadget("trace_open"));
	REQUIRE(ctx != NULL);
	CHECK(sonde_operator_registry_frozen());
	CHECK_INT(sonde_operator_register(&late), -EBUSY);
	CHECK(sonde_operator_find("late") == NULL);
	CHECK(sonde_operator_find("probe") == &probe_operator);
	sonde_gadget_ctx_free(ctx);
}

/* ---- two container runs share one collection ---- */

#define WORKDIR_PREFIX "/tmp/sonde-cc-containers-"

static void test_shared_containers(void)
{
	static const char *const applets[] = {"sh", "cat", NULL};
	char workdir[256], bundle[2][512], rootfs[400], path[640];
	char files[2][64], ids[2][32];
	struct run runs[2] = {0};

	oci_require("runc");
	register_operators();
	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	REQUIRE(devnull >= 0);
	CHECK_INT(sonde_container_service_refs(), 0);
	REQUIRE(oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets) == 0);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	for (int i = 0; i < 2; i++) {
		json_t *ann = json_object();

		snprintf(files[i], sizeof(files[i]), "/etc/sonde-cc-%d-%d", getpid(), i);
		snprintf(ids[i], sizeof(ids[i]), "sonde-cc-%d-%d", (int)getpid() % 1000000, i);
		snprintf(bundle[i], sizeof(bundle[i]), "%s/bundle-%d", workdir, i);
		snprintf(path, sizeof(path), "%s%s", rootfs, files[i]);
		test_write_file_or_abort(path, "hello\n");
		REQUIRE(oci_bundle_write(bundle[i], rootfs, json_pack("[s,s]", "cat", files[i]), ann) == 0);
	}
	for (int i = 0; i < 2; i++) {
		struct run *r = &runs[i];

		/* events of "cat" in container i only: each run selects its own */
		snprintf(r->tag, sizeof(r->tag), "crun-%d", i);
		r->gadget = "trace_open";
		r->ds = "open";
		r->comm_field = "runtime.containerName";
		snprintf(r->comm, sizeof(r->comm), "%s", ids[i]);
		r->params[0][0] = "containername";
		r->params[0][1] = ids[i];
		r->params[1][0] = "output";
		r->params[1][1] = "none";
		r->params[2][0] = "operator.probe.tag";
		r->params[2][1] = r->tag;
		r->params[3][0] = "comm";
		r->params[3][1] = "cat";
	}
	for (int i = 0; i < 2; i++)
		start_run(&runs[i]);
	CHECK(wait_all(runs, 2, running_of, 1, 30000));
	/* one collection, two references: one watcher for both */
	CHECK_INT(sonde_container_service_refs(), 2);
	for (int i = 0; i < 2; i++)
		CHECK_INT(oci_run("runc", bundle[i], ids[i]), 0);
	CHECK(wait_all(runs, 2, matched_of, 1, 10000));
	usleep(300000);
	finish_run(&runs[0]);
	/* the other run keeps the collection */
	CHECK_INT(sonde_container_service_refs(), 1);
	finish_run(&runs[1]);
	CHECK_INT(sonde_container_service_refs(), 0);
	for (int i = 0; i < 2; i++) {
		fprintf(stderr, "  %s records %d, own container %d, other %d\n", runs[i].tag,
		        atomic_load(&runs[i].records), atomic_load(&runs[i].matched),
		        atomic_load(&runs[i].foreign));
		CHECK_INT(runs[i].err, 0);
		/* its container's cat opened its file (and libraries, maybe): all its own */
		CHECK(atomic_load(&runs[i].matched) >= 1);
		CHECK_INT(atomic_load(&runs[i].foreign), 0);
	}
	for (int i = 0; i < 2; i++)
		oci_delete("runc", ids[i]);
	test_rm_tree(workdir, WORKDIR_PREFIX);
}

TEST_MAIN({"test_registry_frozen", test_registry_frozen}, {"test_eight_runs", test_eight_runs},
          {"test_shared_containers", test_shared_containers})
