/* Pipeline throughput: records per second from a raw eBPF event to the sink,
 * on one core, without the kernel in the way.
 *
 * Phase 1 records real trace_open events (a child process opens files in a
 * loop) by copying each raw event struct as it arrives. Phase 2 replays them,
 * many times over, through a fresh run of the same gadget: every data
 * operator and the sink see exactly what they would see live. Each
 * configuration prints one Markdown table row. Needs root (the gadget loads).
 *
 *   bench_pipeline [--records N] [--only TEXT]
 *     N records replayed per configuration (default 2000000); --only runs the
 *     configurations whose label contains TEXT (for profiling one of them).
 *
 * The "2 runs on 2 threads" rows run two gadget contexts at once in this
 * process, each on its own thread replaying N records; both start replaying
 * together (a barrier) and the row gives their combined rate over the wall
 * time of both, with the ratio to the one-run row of the same sink.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sonde/sonde.h>

#define GADGET     "trace_open"
#define DS_NAME    "open"
#define MAX_EVENTS 4096 /* distinct recorded events, replayed in a loop */

/* Raw events captured in phase 1. */
static struct {
	char *buf;
	uint32_t size; /* bytes of one event struct */
	size_t n;
} recorded;

/* What the replay operator does in one run (context variable "bench.run"). */
struct bench_run {
	size_t to_emit;
	bool request_all;
	pthread_barrier_t *start; /* replays of concurrent runs start together, or NULL */
	double t0, t1;            /* the replay's start and end, CLOCK_MONOTONIC s */
	double cpu;               /* CPU time of the replay's thread, s */
	size_t emitted;
	int err;
};

/* Phase 1 runs alone, before any replay. */
static bool recording;

static double clock_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

/* The payload slot holding the raw event struct: the slot of any static member. */
static uint32_t event_slot(struct sonde_ds *ds)
{
	struct sonde_field *f = sonde_ds_field(ds, "fname");

	return f ? sonde_field_payload_index(f) : 0;
}

/* ---- the bench operator: records in phase 1, replays in phase 2 ---- */

struct bench_state {
	struct sonde_ds *ds;
	uint32_t slot;
	struct bench_run *run; /* NULL while recording */
};

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct bench_state *st = arg;
	const struct sonde_payload *p = &rec->payloads[st->slot];

	if (recorded.n >= MAX_EVENTS || !p->data)
		return 0;
	if (!recorded.buf) {
		recorded.size = p->len;
		recorded.buf = malloc((size_t)MAX_EVENTS * p->len);
		if (!recorded.buf)
			return -ENOMEM;
	}
	if (p->len == recorded.size)
		memcpy(recorded.buf + recorded.n++ * recorded.size, p->data, p->len);
	return 0;
}

static void replay(struct sonde_gadget_ctx *ctx, void *arg)
{
	struct bench_state *st = arg;
	struct bench_run *br = st->run;

	if (br->start)
		pthread_barrier_wait(br->start);
	size_t emitted = 0;

	br->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID);
	br->t0 = now_s();
	/* counted locally: two runs' counters may share a cache line */
	for (size_t i = 0; i < br->to_emit; i++) {
		struct sonde_record *rec = sonde_ds_record(st->ds);

		rec->payloads[st->slot].data = recorded.buf + (i % recorded.n) * recorded.size;
		rec->payloads[st->slot].len = recorded.size;
		if (sonde_ds_emit(st->ds, rec) < 0)
			break;
		emitted++;
	}
	br->t1 = now_s();
	br->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - br->cpu;
	br->emitted = emitted;
	sonde_gadget_cancel(ctx);
}

static int bench_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct bench_state *st = calloc(1, sizeof(*st));

	(void)layer;
	if (!st)
		return -ENOMEM;
	st->ds = sonde_gadget_ds(ctx, DS_NAME);
	st->run = sonde_gadget_var(ctx, "bench.run");
	if (!st->ds) {
		free(st);
		return -ENOENT;
	}
	st->slot = event_slot(st->ds);
	*state = st;
	return recording ? sonde_ds_subscribe(st->ds, on_record, st, -100) : 0;
}

static void bench_close(struct sonde_gadget_ctx *ctx, void *state)
{
	(void)ctx;
	free(state);
}

/* Runs after the sink's pre-start (higher priority) so it can undo its field
 * requests: the baseline where every enricher works for every field. */
static int bench_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct bench_state *st = state;

	(void)ctx;
	if (st->run && st->run->request_all)
		for (size_t i = 0; i < sonde_ds_nfields(st->ds); i++)
			sonde_field_set_requested(sonde_ds_field_at(st->ds, i), true);
	return 0;
}

static int bench_start(struct sonde_gadget_ctx *ctx, void *state)
{
	if (recording || !((struct bench_state *)state)->run)
		return 0;
	return sonde_gadget_add_timer(ctx, 1, 0, replay, state) < 0 ? -EIO : 0;
}

static const struct sonde_operator bench_operator = {
    .name = "bench",
    .kind = SONDE_OP_DATA,
    .priority = 20000,
    .instantiate = bench_instantiate,
    .pre_start = bench_pre_start,
    .start = bench_start,
    .close = bench_close,
};

/* ---- one run of the gadget with some params ---- */

static int run_gadget(const char *const *params, int64_t timeout_ns, struct bench_run *br)
{
	struct sonde_gadget_ctx *ctx = sonde_gadget_ctx_new(sonde_builtin_gadget(GADGET));
	int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	char err[256];
	int r;

	if (!ctx || devnull < 0)
		return -ENOMEM;
	r = sonde_gadget_set_var(ctx, "bench.run", br);
	if (!r)
		r = sonde_gadget_instantiate(ctx);
	/* the workload runs on the host, not in a container */
	if (!r && sonde_params_find(sonde_gadget_params(ctx), "operator.LocalManager.host"))
		r = sonde_params_set(sonde_gadget_params(ctx), "operator.LocalManager.host", "true", err,
		                     sizeof(err));
	for (size_t i = 0; !r && params[i]; i += 2) {
		r = sonde_params_set(sonde_gadget_params(ctx), params[i], params[i + 1], err, sizeof(err));
		if (r)
			fprintf(stderr, "bench: %s\n", err);
	}
	if (!r)
		r = sonde_gadget_set_var(ctx, "cli.fd", &devnull);
	if (!r)
		r = sonde_gadget_run(ctx, timeout_ns);
	sonde_gadget_ctx_free(ctx);
	close(devnull);
	return r;
}

/* A child that opens and closes files as fast as it can. */
static pid_t start_workload(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		char path[64];

		for (unsigned i = 0;; i++) {
			snprintf(path, sizeof(path), "/tmp/sonde-bench-%u", i % 64);
			int fd = open(path, O_RDONLY);
			if (fd >= 0)
				close(fd);
		}
	}
	return pid;
}

static void record_events(void)
{
	static const char *const params[] = {"operator.cli.output", "none", NULL};
	pid_t child = start_workload();

	recording = true;
	run_gadget(params, 1000000000LL, NULL);
	recording = false;
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

static const char *only;

struct thread_arg {
	const char *const *params;
	struct bench_run run;
};

static void *run_thread(void *arg)
{
	struct thread_arg *ta = arg;

	ta->run.err = run_gadget(ta->params, 0, &ta->run);
	return NULL;
}

/* CPU ns per record of the last one-run row: with two runs, the same cost
 * per record means they do not slow each other (no shared lock or cache
 * line), whatever else the machine runs; the wall-clock ratio also needs
 * two idle cores. */
static double single_cpu_ns;

/* One row; returns the rate (records/s), 0 on failure. nthreads runs at once. */
static double measure_runs(const char *label, const char *const *params, bool request_all, size_t n,
                           int nthreads, double single_rate)
{
	double cpu = 0;
	struct thread_arg ta[2] = {0};
	pthread_barrier_t barrier;
	double t0 = 0, t1 = 0, rate;
	size_t emitted = 0;
	int err = 0;

	if (only && !strstr(label, only))
		return 0;
	if (nthreads > 2)
		nthreads = 2;
	pthread_barrier_init(&barrier, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		ta[i].params = params;
		ta[i].run = (struct bench_run){
		    .to_emit = n, .request_all = request_all, .start = nthreads > 1 ? &barrier : NULL};
	}
	if (nthreads == 1) {
		run_thread(&ta[0]);
	} else {
		pthread_t th[2];

		for (int i = 0; i < nthreads; i++)
			pthread_create(&th[i], NULL, run_thread, &ta[i]);
		for (int i = 0; i < nthreads; i++)
			pthread_join(th[i], NULL);
	}
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < nthreads; i++) {
		struct bench_run *br = &ta[i].run;

		if (br->err || br->t1 <= br->t0)
			err = br->err ? br->err : -EINVAL;
		if (i == 0 || br->t0 < t0)
			t0 = br->t0;
		if (br->t1 > t1)
			t1 = br->t1;
		emitted += br->emitted;
		cpu += br->cpu;
	}
	if (err) {
		printf("| %s | failed: %s | |\n", label, strerror(-err));
		return 0;
	}
	rate = (double)emitted / (t1 - t0);
	if (nthreads == 1) {
		single_cpu_ns = cpu * 1e9 / (double)emitted;
		printf("| %s | %.2f M/s | %.0f ns |\n", label, rate / 1e6, 1e9 / rate);
	} else if (single_rate > 0)
		printf(
		    "| %s | %.2f M/s combined | x%.2f one run; CPU per record %.0f ns, x%.2f one run's |\n",
		    label, rate / 1e6, rate / single_rate, cpu * 1e9 / (double)emitted,
		    cpu * 1e9 / (double)emitted / single_cpu_ns);
	else
		printf("| %s | %.2f M/s combined | |\n", label, rate / 1e6);
	fflush(stdout);
	return rate;
}

static double measure(const char *label, const char *const *params, bool request_all, size_t n)
{
	return measure_runs(label, params, request_all, n, 1, 0);
}

int main(int argc, char **argv)
{
	size_t n = 2000000;

	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--records") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
	sonde_register_builtin_operators();
	if (sonde_operator_register(&bench_operator))
		return 1;
	record_events();
	if (recorded.n == 0) {
		fprintf(stderr, "bench: no event recorded (run as root)\n");
		return 1;
	}
	printf(
	    "Pipeline: %zu distinct recorded %s events (%u bytes each), %zu replayed per row, one core\n\n",
	    recorded.n, GADGET, recorded.size, n);
	printf("| configuration | records/s | per record |\n|---|---|---|\n");
	{
		static const char *const none[] = {"operator.cli.output", "none", NULL};
		static const char *const json[] = {"operator.cli.output", "json", NULL};
		static const char *const columns[] = {"operator.cli.output", "columns", NULL};
		static const char *const discard[] = {"operator.cli.output", "json", "operator.filter.filter",
		                                      "proc.pid==1", NULL};

		const char *filter = only;
		double one_none, one_json;

		measure("decode only (-o none)", none, false, n);
		measure("JSON sink", json, false, n);
		measure("columns sink (default fields)", columns, false, n);
		measure("columns sink, every field requested", columns, true, n);
		measure("filter discards all, JSON sink", discard, false, n * 5);
		/* each two-run row right after a one-run row of the same sink (the same
		 * moment of a noisy machine), whatever --only says */
		if (!filter || strstr("decode only (-o none), 2 runs on 2 threads", filter)) {
			only = NULL;
			one_none = measure("decode only (-o none), one run", none, false, n);
			measure_runs("decode only (-o none), 2 runs on 2 threads", none, false, n, 2,
			             one_none);
		}
		if (!filter || strstr("JSON sink, 2 runs on 2 threads", filter)) {
			only = NULL;
			one_json = measure("JSON sink, one run", json, false, n);
			measure_runs("JSON sink, 2 runs on 2 threads", json, false, n, 2, one_json);
		}
		only = filter;
	}
	free(recorded.buf);
	return 0;
}
