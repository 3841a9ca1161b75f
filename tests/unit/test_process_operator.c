/* The process operator in a gadget run: gadget.yaml turns it on, a test
 * sink collects the `processes` packets and looks for this very process. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <sonde/sonde.h>

#include "operators/process.h"
#include "testlib.h"
#include "util/clock.h"

#define MAX_PACKETS 8

/* This process in each packet. */
struct self_row {
	bool found;
	char comm[32], state[4], start_str[64], cpu_str[32];
	int64_t ppid, threads, priority, nice, cpu_time;
	uint64_t rss, vsize, shared, uid, mntns, start;
	double cpu, cpu_rel, mem_rel;
};

static struct self_row rows[MAX_PACKETS];
static size_t npackets, nelements[MAX_PACKETS];
static int64_t packet_ns[MAX_PACKETS];
/* This process's CPU time as the kernel counts it, when each packet came:
 * the oracle for cpuTime and cpuUsage, whatever share of the CPUs a loaded
 * machine gives the spinning thread. */
static int64_t packet_cpu_ns[MAX_PACKETS];

static int64_t get_int(struct sonde_ds *ds, const char *name, const struct sonde_record *rec)
{
	struct sonde_field *f = sonde_ds_field(ds, name);
	int64_t v = -1;

	if (f)
		sonde_field_as_int64(f, rec, &v);
	return v;
}

static double get_float(struct sonde_ds *ds, const char *name, const struct sonde_record *rec)
{
	struct sonde_field *f = sonde_ds_field(ds, name);

	return f ? sonde_field_float64(f, rec) : -1;
}

static void get_str(struct sonde_ds *ds, const char *name, const struct sonde_record *rec, char *out,
                    size_t len)
{
	struct sonde_field *f = sonde_ds_field(ds, name);
	uint32_t n = 0;
	const char *s = f ? sonde_field_string(f, rec, &n) : NULL;

	snprintf(out, len, "%.*s", s ? (int)n : 0, s ? s : "");
}

static int on_packet(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct self_row *r;

	if (npackets >= MAX_PACKETS)
		return 0;
	packet_ns[npackets] = util_now_ns();
	{
		struct timespec ts;

		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		packet_cpu_ns[npackets] = ts.tv_sec * 1000000000ll + ts.tv_nsec;
	}
	nelements[npackets] = arr->len;
	r = &rows[npackets++];
	for (size_t i = 0; i < arr->len; i++) {
		const struct sonde_record *rec = arr->recs[i];
		uint64_t u;

		if (get_int(ds, "pid", rec) != getpid())
			continue;
		r->found = true;
		get_str(ds, "comm", rec, r->comm, sizeof(r->comm));
		get_str(ds, "state", rec, r->state, sizeof(r->state));
		get_str(ds, "startTimeStr", rec, r->start_str, sizeof(r->start_str));
		get_str(ds, "cpuTimeStr", rec, r->cpu_str, sizeof(r->cpu_str));
		r->ppid = get_int(ds, "ppid", rec);
		r->threads = get_int(ds, "threadCount", rec);
		r->priority = get_int(ds, "priority", rec);
		r->nice = get_int(ds, "nice", rec);
		r->cpu_time = get_int(ds, "cpuTime", rec);
		r->cpu = get_float(ds, "cpuUsage", rec);
		r->cpu_rel = get_float(ds, "cpuUsageRelative", rec);
		r->mem_rel = get_float(ds, "memoryRelative", rec);
#define U(name, dst)                                                                                         \
	dst = sonde_ds_field(ds, name) && sonde_field_as_uint64(sonde_ds_field(ds, name), rec, &u) ? u : 0
		U("memoryRSS_raw", r->rss);
		U("memoryVirtual_raw", r->vsize);
		U("memoryShared_raw", r->shared);
		U("uid", r->uid);
		U("mountnsid", r->mntns);
		U("startTime", r->start);
#undef U
	}
	return 0;
}

static int sink_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	*state = rows;
	return 0;
}

static int sink_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct sonde_ds *ds = sonde_gadget_ds(ctx, "processes");

	if (!ds)
		return 0;
	for (size_t i = 0; i < sonde_ds_nfields(ds); i++)
		sonde_field_set_requested(sonde_ds_field_at(ds, i), true);
	return sonde_ds_subscribe_array(ds, on_packet, NULL, SONDE_PHASE_SINK);
}

static const struct sonde_operator sink_operator = {
    .name = "testsink",
    .priority = SONDE_PHASE_SINK,
    .instantiate = sink_instantiate,
    .pre_start = sink_pre_start,
};

static char last_err[512];

static void capture_log(enum sonde_log_level level, const char *msg, void *arg)
{
	if (level <= SONDE_LOG_WARN)
		snprintf(last_err, sizeof(last_err), "%s", msg);
}

/* Runs a gadget with this gadget.yaml and params (name, value pairs). The
 * context is returned in *ctxp when non-NULL. */
static int run(const char *yaml, const char *const *params, int64_t timeout_ns,
               struct sonde_gadget_ctx **ctxp)
{
	static struct sonde_gadget_image image;
	struct sonde_gadget_ctx *ctx;
	char msg[256];
	int err;

	memset(rows, 0, sizeof(rows));
	memset(nelements, 0, sizeof(nelements));
	npackets = 0;
	last_err[0] = 0;
	image = (struct sonde_gadget_image){.name = "test", .config_yaml = yaml, .config_len = strlen(yaml)};
	sonde_operator_unregister_all();
	sonde_operator_register(&process_operator);
	sonde_operator_register(&sink_operator);
	sonde_register_builtin_sinks(); /* and the built-in field templates */
	ctx = sonde_gadget_ctx_new(&image);
	if (!ctx)
		return -ENOMEM;
	sonde_log_set_sink(capture_log, NULL);
	err = sonde_gadget_instantiate(ctx);
	for (size_t i = 0; !err && params && params[i]; i += 2)
		err = sonde_params_set(sonde_gadget_params(ctx), params[i], params[i + 1], msg, sizeof(msg));
	if (!err)
		err = sonde_gadget_run(ctx, timeout_ns);
	sonde_log_set_sink(NULL, NULL);
	if (ctxp)
		*ctxp = ctx;
	else
		sonde_gadget_ctx_free(ctx);
	return err;
}

static atomic_bool stop_spinning;

static void *spin(void *arg)
{
	while (!atomic_load(&stop_spinning))
		;
	return NULL;
}

static void test_inactive_without_emitstats(void)
{
	struct sonde_gadget_ctx *ctx;

	CHECK_INT(run("name: x\n", NULL, 100000000, &ctx), 0);
	CHECK(sonde_gadget_ds(ctx, "processes") == NULL);
	CHECK(sonde_params_find(sonde_gadget_params(ctx), "operator.process.interval") == NULL);
	sonde_gadget_ctx_free(ctx);
	CHECK_INT(run("operator:\n  process:\n    emitstats: false\n", NULL, 100000000, &ctx), 0);
	CHECK(sonde_gadget_ds(ctx, "processes") == NULL);
	sonde_gadget_ctx_free(ctx);
	CHECK_INT(npackets, 0);
}

/* Two packets 150 ms apart; a spinning thread makes this process busy. */
static void test_table_has_self(void)
{
	static const char yaml[] = "operator:\n  process:\n    emitstats: true\n    interval: 150ms\n"
	                           "    first-interval: 10ms\n    count: 2\n";
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	struct sonde_gadget_ctx *ctx;
	struct sonde_ds *ds;
	pthread_t th;
	int64_t t0 = util_now_ns();

	prctl(PR_SET_NAME, "sonde-proc-test");
	atomic_store(&stop_spinning, false);
	REQUIRE(pthread_create(&th, NULL, spin, NULL) == 0);
	CHECK_INT(run(yaml, NULL, 5000000000LL, &ctx), 0);
	atomic_store(&stop_spinning, true);
	pthread_join(th, NULL);

	/* count reached: the gadget ended by itself, well before the timeout */
	CHECK_INT(npackets, 2);
	CHECK(util_now_ns() - t0 < 2000000000LL);
	CHECK(packet_ns[1] - packet_ns[0] >= 100000000LL);
	CHECK(nelements[0] > 1);
	ds = sonde_gadget_ds(ctx, "processes");
	REQUIRE(ds);
	CHECK_INT(sonde_ds_type(ds), SONDE_DS_ARRAY);
	CHECK(sonde_field_has_tag(sonde_ds_field(ds, "memoryRSS_raw"), "type:gadget_bytes"));
	CHECK(sonde_field_has_tag(sonde_ds_field(ds, "memoryVirtual_raw"), "type:gadget_bytes"));
	CHECK(sonde_field_has_tag(sonde_ds_field(ds, "memoryShared_raw"), "type:gadget_bytes"));
	CHECK(sonde_field_has_tag(sonde_ds_field(ds, "mountnsid"), "type:gadget_mntns_id"));
	CHECK(sonde_field_flags(sonde_ds_field(ds, "mountnsid")) & SONDE_FIELD_HIDDEN);
	CHECK(sonde_field_flags(sonde_ds_field(ds, "ppid")) & SONDE_FIELD_HIDDEN);
	CHECK(sonde_field_flags(sonde_ds_field(ds, "cpuTime")) & SONDE_FIELD_HIDDEN);
	CHECK_STR(sonde_field_annotation(sonde_ds_field(ds, "pid"), "columns.alignment"), "right");
	sonde_gadget_ctx_free(ctx);

	for (size_t i = 0; i < 2; i++) {
		struct self_row *r = &rows[i];

		REQUIRE(r->found);
		CHECK_STR(r->comm, "sonde-proc-test");
		CHECK_INT(r->ppid, getppid());
		CHECK_INT(r->threads, 2);
		CHECK(r->state[0] == 'R' || r->state[0] == 'S');
		CHECK_INT(r->uid, getuid());
		CHECK(r->rss > 0);
		CHECK(r->vsize >= r->rss);
		CHECK(r->shared > 0 && r->shared <= r->rss);
		CHECK(r->mem_rel > 0 && r->mem_rel < 100);
		CHECK(r->priority >= -100 && r->priority <= 39);
		CHECK(r->nice >= -20 && r->nice <= 19);
		CHECK(r->start > 0);
		CHECK(strlen(r->start_str) >= 20 && r->start_str[4] == '-' && r->start_str[10] == 'T');
		CHECK(strchr(r->cpu_str, ':') && strchr(r->cpu_str, '.'));
		CHECK(r->cpu >= 0);
		if (ncpu > 0)
			CHECK(r->cpu_rel >= r->cpu / (double)ncpu - 1e-9 &&
			      r->cpu_rel <= r->cpu / (double)ncpu + 1e-9);
	}
	/* cpuTime (clock ticks of 10 ms) is the kernel's count of this process's
	 * CPU time, read a moment before the packet: within 3 ticks */
	for (size_t i = 0; i < 2; i++) {
		int64_t want_ms = packet_cpu_ns[i] / 1000000;

		if (llabs(rows[i].cpu_time * 10 - want_ms) > 30) {
			fprintf(stderr,
			        "packet %zu: cpuTime %" PRId64 " ticks, the kernel says %" PRId64 " ms\n", i,
			        rows[i].cpu_time, want_ms);
			test_failures++;
		}
	}
	/* cpuUsage between the packets: what this process used of the wall time
	 * between them (the operator samples a little before each packet, and
	 * /proc counts whole ticks: 10 points plus a quarter of slack) */
	{
		double want = 100.0 * (double)(packet_cpu_ns[1] - packet_cpu_ns[0]) /
		              (double)(packet_ns[1] - packet_ns[0]);

		printf("  cpuUsage %.1f%%, the kernel's count %.1f%%\n", rows[1].cpu, want);
		CHECK(want > 1); /* the spinner ran: the comparison means something */
		CHECK(fabs(rows[1].cpu - want) <= 10 + want / 4);
	}
}

/* `fields` limits the table; flat dotted keys work too; params override the config. */
static void test_fields_and_params(void)
{
	static const char yaml[] = "operator.process.emitstats: true\n"
	                           "operator.process.interval: 20ms\n"
	                           "operator.process.count: 1\n"
	                           "operator.process.fields: [comm, memoryRSS]\n";
	static const char *const params[] = {"operator.process.count", "3", NULL};
	struct sonde_gadget_ctx *ctx;
	struct sonde_ds *ds;

	CHECK_INT(run(yaml, params, 5000000000LL, &ctx), 0);
	CHECK_INT(npackets, 3);
	ds = sonde_gadget_ds(ctx, "processes");
	REQUIRE(ds);
	CHECK_INT(sonde_ds_nfields(ds), 4);
	CHECK(sonde_ds_field(ds, "pid") && sonde_ds_field(ds, "comm") &&
	      sonde_ds_field(ds, "memoryRSS_raw") && sonde_ds_field(ds, "mountnsid"));
	CHECK(sonde_ds_field(ds, "cpuUsage") == NULL);
	CHECK_STR(sonde_param_value(sonde_params_find(sonde_gadget_params(ctx), "operator.process.interval")),
	          "20ms");
	sonde_gadget_ctx_free(ctx);
	REQUIRE(rows[0].found);
	CHECK(rows[0].rss > 0);
	CHECK_INT(rows[0].threads, -1); /* not there */
}

static void test_bad_config(void)
{
	CHECK_INT(
	    run("operator:\n  process:\n    emitstats: true\n    interval: soon\n", NULL, 100000000, NULL),
	    -EINVAL);
	CHECK(strstr(last_err, "operator.process.interval") != NULL);
	CHECK_INT(run("operator:\n  process:\n    emitstats: true\n    first-interval: -1s\n", NULL,
	              100000000, NULL),
	          -EINVAL);
	CHECK(strstr(last_err, "first-interval") != NULL);
	CHECK_INT(run("operator:\n  process:\n    emitstats: true\n    count: -1\n", NULL, 100000000, NULL),
	          -EINVAL);
	CHECK(strstr(last_err, "operator.process.count") != NULL);
	/* not a bool: a warning, and no statistics */
	CHECK_INT(run("operator:\n  process:\n    emitstats: maybe\n", NULL, 100000000, NULL), 0);
	CHECK(strstr(last_err, "emitstats") != NULL);
	CHECK_INT(npackets, 0);
}

TEST_MAIN(TEST(test_inactive_without_emitstats), TEST(test_table_has_self), TEST(test_fields_and_params),
          TEST(test_bad_config))
