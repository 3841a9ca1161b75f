/* ebpf operator on the real kernel (root): load, attach, read tracers,
 * iterators and map iterators, and the errors of programs that cannot load. */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sonde/mntns_filter.h>

#include "kernel_probe.h"
#include "test_ebpf_helpers.h"
#include "util/clock.h"

/* ---- a thread that keeps making the syscalls the fixtures trace ---- */

struct trigger {
	pthread_t thread;
	volatile bool stop;
	volatile bool pause;
	volatile pid_t tid;
	long calls;
};

static void *trigger_main(void *arg)
{
	struct trigger *t = arg;

	t->tid = (pid_t)syscall(SYS_gettid);
	while (!t->stop) {
		if (!t->pause) {
			syscall(SYS_getpid);
			getppid(); /* through libc: uprobe target */
			syscall(SYS_gettid);
			t->calls++;
		}
		usleep(200);
	}
	return NULL;
}

static void trigger_start(struct trigger *t)
{
	memset(t, 0, sizeof(*t));
	pthread_create(&t->thread, NULL, trigger_main, t);
}

static void trigger_stop(struct trigger *t)
{
	t->stop = true;
	pthread_join(t->thread, NULL);
}

/* Cached: subscribers must not call getpid(), the fixtures trace it. */
static char pid_str[32];
static uint32_t self_pid;

static void setup(void)
{
	self_pid = (uint32_t)getpid();
	snprintf(pid_str, sizeof(pid_str), "%u", self_pid);
	capture_reset();
}

/* ---- ring buffer tracer ---- */

struct getpid_sink {
	struct sonde_gadget_ctx *ctx;
	struct sonde_field *pid, *comm, *seq;
	int records, bad;
	uint64_t last_seq;
	int64_t first_ns;
	int stop_after;
	int sleep_first_ms;
};

static int on_getpid(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct getpid_sink *s = arg;
	uint32_t len = 0;
	const char *comm = sonde_field_string(s->comm, rec, &len);
	uint64_t seq = sonde_field_uint64(s->seq, rec);

	if (!s->records++)
		s->first_ns = util_now_ns();
	if (sonde_field_uint32(s->pid, rec) != self_pid || !comm || len == 0 ||
	    strncmp(comm, "test_ebpf_run", len) != 0 || (s->records > 1 && seq <= s->last_seq))
		s->bad++;
	s->last_seq = seq;
	if (s->sleep_first_ms && s->records == 1)
		usleep((useconds_t)s->sleep_first_ms * 1000); /* let the ring overflow */
	if (s->stop_after && s->records == s->stop_after)
		sonde_gadget_cancel(s->ctx);
	return 0;
}

static void test_ringbuf_tracer(void)
{
	struct gadget_run r;
	struct getpid_sink sink = {0};
	struct trigger trig;
	struct sonde_ds *ds;
	struct bpf_map *events;
	int64_t t0;

	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_getpid", NULL) == 0);
	CHECK_INT(set_param(&r, "pid", pid_str), 0);
	ds = sonde_gadget_ds(r.ctx, "getpid");
	REQUIRE(ds);
	sink.ctx = r.ctx;
	sink.pid = sonde_ds_field(ds, "pid");
	sink.comm = sonde_ds_field(ds, "comm");
	sink.seq = sonde_ds_field(ds, "seq");
	sink.stop_after = 50;
	REQUIRE(sink.pid && sink.comm && sink.seq);
	REQUIRE(sonde_ds_subscribe(ds, on_getpid, &sink, 100) == 0);

	sonde_log_set_level(SONDE_LOG_DEBUG);
	log_debug_needle = "loaded in";
	trigger_start(&trig);
	t0 = util_now_ns();
	CHECK_INT(sonde_gadget_run(r.ctx, 10 * 1000000000LL), 0);
	trigger_stop(&trig);
	sonde_log_set_level(SONDE_LOG_WARN);
	log_debug_needle = NULL;

	CHECK(sink.records >= 50);
	CHECK_INT(sink.bad, 0);
	CHECK_INT(sonde_ds_lost(ds), 0);
	printf("  %d records; first after %.1f ms; %s\n", sink.records, (double)(sink.first_ns - t0) / 1e6,
	       log_debug_line);
	events = sonde_gadget_var(r.ctx, "map/events");
	REQUIRE(events);
	/* the fixture sizes it with an events_max_entries variable: that stands */
	CHECK_INT(bpf_map__max_entries(events), 256 * 1024);
	gadget_close(&r);
}

/* A tiny ring and a subscriber that stalls: lost samples are counted. */
static void test_ringbuf_lost(void)
{
	struct gadget_run r;
	struct getpid_sink sink = {0};
	struct trigger trig;
	struct sonde_ds *ds;

	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_getpid", NULL) == 0);
	CHECK_INT(set_param(&r, "pid", pid_str), 0);
	CHECK_INT(set_param(&r, "events_max_entries", "4096"), 0);
	ds = sonde_gadget_ds(r.ctx, "getpid");
	REQUIRE(ds);
	sink.ctx = r.ctx;
	sink.pid = sonde_ds_field(ds, "pid");
	sink.comm = sonde_ds_field(ds, "comm");
	sink.seq = sonde_ds_field(ds, "seq");
	sink.sleep_first_ms = 300;
	REQUIRE(sonde_ds_subscribe(ds, on_getpid, &sink, 100) == 0);
	trigger_start(&trig);
	CHECK_INT(sonde_gadget_run(r.ctx, 1500 * 1000000LL), 0);
	trigger_stop(&trig);
	CHECK_INT(bpf_map__max_entries(sonde_gadget_var(r.ctx, "map/events")), 4096);
	CHECK(sonde_ds_lost(ds) > 0);
	CHECK_LOGGED("getpid: lost ");
	printf("  %d records, %llu lost\n", sink.records, (unsigned long long)sonde_ds_lost(ds));
	gadget_close(&r);
}

/* ---- perf buffer tracer (raw_tp attach) ---- */

struct perf_sink {
	struct sonde_gadget_ctx *ctx;
	struct sonde_field *pid, *sc;
	int records, getpids, bad;
};

static int on_perf(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct perf_sink *s = arg;

	s->records++;
	if (sonde_field_uint32(s->pid, rec) != self_pid)
		s->bad++;
	if (sonde_field_uint32(s->sc, rec) == SYS_getpid && ++s->getpids == 20)
		sonde_gadget_cancel(s->ctx);
	return 0;
}

static void test_perf_tracer(void)
{
	struct gadget_run r;
	struct perf_sink sink = {0};
	struct trigger trig;
	struct sonde_ds *ds;

	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_perf", NULL) == 0);
	CHECK_INT(set_param(&r, "targ_pid", pid_str), 0);
	ds = sonde_gadget_ds(r.ctx, "perf");
	REQUIRE(ds);
	sink.ctx = r.ctx;
	sink.pid = sonde_ds_field(ds, "pid");
	sink.sc = sonde_ds_field(ds, "syscall");
	REQUIRE(sonde_ds_subscribe(ds, on_perf, &sink, 100) == 0);
	trigger_start(&trig);
	CHECK_INT(sonde_gadget_run(r.ctx, 10 * 1000000000LL), 0);
	trigger_stop(&trig);
	CHECK(sink.getpids >= 20);
	CHECK_INT(sink.bad, 0);
	gadget_close(&r);
}

/* A perf event array that overflows: a thread makes getpid calls as fast as
 * it can while the sink holds the reader on its first record until 100 000
 * more were made (2.4 MB of records; ring-size makes the buffers 64 KiB per
 * CPU, as it sizes rings).
 * The kernel's lost records are counted and reported, as for the perf
 * buffer fallback of kernels without rings. */
struct perf_flood {
	pthread_t thread;
	atomic_bool stop;
	atomic_long calls;
	int records;
};

static void *perf_flood_main(void *arg)
{
	struct perf_flood *f = arg;

	while (!atomic_load(&f->stop)) {
		syscall(SYS_getpid);
		atomic_fetch_add(&f->calls, 1);
	}
	return NULL;
}

static int on_perf_slow(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct perf_flood *f = arg;
	int64_t deadline = util_now_ns() + 10 * 1000000000LL;

	(void)ds;
	(void)rec;
	if (++f->records == 1) {
		long until = atomic_load(&f->calls) + 100000;

		while (atomic_load(&f->calls) < until && util_now_ns() < deadline)
			usleep(1000);
	}
	return 0;
}

static void test_perf_lost(void)
{
	struct gadget_run r;
	struct perf_flood flood = {0};
	struct sonde_ds *ds;

	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_perf", NULL) == 0);
	CHECK_INT(set_param(&r, "targ_pid", pid_str), 0);
	CHECK_INT(set_param(&r, "ring-size", "64K"), 0);
	ds = sonde_gadget_ds(r.ctx, "perf");
	REQUIRE(ds);
	REQUIRE(sonde_ds_subscribe(ds, on_perf_slow, &flood, 100) == 0);
	REQUIRE(pthread_create(&flood.thread, NULL, perf_flood_main, &flood) == 0);
	CHECK_INT(sonde_gadget_run(r.ctx, 1500 * 1000000LL), 0);
	atomic_store(&flood.stop, true);
	pthread_join(flood.thread, NULL);
	CHECK(sonde_ds_lost(ds) > 0);
	CHECK_LOGGED("perf: lost ");
	printf("  %d records, %llu lost\n", flood.records, (unsigned long long)sonde_ds_lost(ds));
	gadget_close(&r);
}

/* ---- every attach kind, counted in a map ---- */

static void test_attach_kinds(void)
{
	static const char yaml[] = "programs:\n  ig_retarget:\n    attach_to: syscalls/sys_enter_gettid\n";
	static const char *const kinds[] = {"tracepoint", "raw_tracepoint", "tp_btf",
	                                    "uprobe",     "uretprobe",      "retargeted tracepoint"};
	struct gadget_run r;
	struct trigger trig;
	struct bpf_map *hits;

	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_attach", yaml) == 0);
	CHECK_INT(set_param(&r, "targ_pid", pid_str), 0);
	trigger_start(&trig);
	CHECK_INT(sonde_gadget_run(r.ctx, 300 * 1000000LL), 0);
	trigger_stop(&trig);
	hits = sonde_gadget_var(r.ctx, "map/hits");
	REQUIRE(hits);
	for (uint32_t k = 0; k < 7; k++) {
		uint64_t v = 0;

		CHECK_INT(bpf_map__lookup_elem(hits, &k, sizeof(k), &v, sizeof(v), 0), 0);
		if (k < 6 && v == 0) {
			fprintf(stderr, "  %s program never ran\n", kinds[k]);
			test_failures++;
		}
		if (k == 6)
			CHECK_INT(v, 0); /* disabled program */
	}
	gadget_close(&r);
}

/* ---- iterators ---- */

struct iter_sink {
	struct sonde_field *pid, *comm;
	int arrays, found, records;
};

static int on_tasks(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct iter_sink *s = arg;

	s->arrays++;
	s->records += (int)arr->len;
	for (size_t i = 0; i < arr->len; i++) {
		uint32_t len = 0;
		const char *comm = sonde_field_string(s->comm, arr->recs[i], &len);

		if (sonde_field_uint32(s->pid, arr->recs[i]) == self_pid && comm &&
		    strncmp(comm, "test_ebpf_run", len) == 0)
			s->found++;
	}
	return 0;
}

static int run_iter(const char *yaml, int64_t timeout_ns, struct iter_sink *sink, int64_t *elapsed)
{
	struct gadget_run r;
	struct sonde_ds *ds;
	int64_t t0;
	int err;

	memset(sink, 0, sizeof(*sink));
	err = gadget_open_fixture(&r, "ebpf_iter", yaml);
	if (err) {
		gadget_close(&r);
		return err;
	}
	ds = sonde_gadget_ds(r.ctx, "tasks");
	sink->pid = sonde_ds_field(ds, "pid");
	sink->comm = sonde_ds_field(ds, "comm");
	sonde_ds_subscribe_array(ds, on_tasks, sink, 100);
	t0 = util_now_ns();
	err = sonde_gadget_run(r.ctx, timeout_ns);
	*elapsed = util_now_ns() - t0;
	gadget_close(&r);
	return err;
}

static void test_iterator_snapshot(void)
{
	struct iter_sink sink;
	int64_t elapsed;

	setup();
	CHECK_INT(run_iter(NULL, 10 * 1000000000LL, &sink, &elapsed), 0);
	CHECK_INT(sink.arrays, 1);
	CHECK_INT(sink.found, 1);
	CHECK(sink.records > 1);
	/* one fetch, then the run ends by itself */
	CHECK(elapsed < 5 * 1000000000LL);
	printf("  %d tasks in one array, run took %.1f ms\n", sink.records, (double)elapsed / 1e6);
}

static void test_iterator_interval(void)
{
	static const char yaml[] = "datasources:\n  tasks:\n    annotations:\n"
	                           "      fetch-interval: 50ms\n      fetch-count: 3\n";
	static const char on_stop[] = "datasources:\n  tasks:\n    annotations:\n"
	                              "      fetch-count: 0\n      ebpf.iter.fetch-on-stop: true\n";
	struct iter_sink sink;
	int64_t elapsed;

	setup();
	CHECK_INT(run_iter(yaml, 10 * 1000000000LL, &sink, &elapsed), 0);
	CHECK_INT(sink.arrays, 3);
	CHECK_INT(sink.found, 3);
	CHECK(elapsed >= 140 * 1000000LL && elapsed < 5 * 1000000000LL);

	/* no periodic fetch: one fetch when the run stops at its timeout */
	CHECK_INT(run_iter(on_stop, 200 * 1000000LL, &sink, &elapsed), 0);
	CHECK_INT(sink.arrays, 1);
	CHECK_INT(sink.found, 1);

	CHECK(run_iter("datasources:\n  tasks:\n    annotations:\n      fetch-interval: soon\n", 1000000000LL,
	               &sink, &elapsed) < 0);
	CHECK_LOGGED("invalid fetch-interval 'soon'");
}

/* ---- map iterator ---- */

struct map_sink {
	struct sonde_field *tid, *calls;
	pid_t want_tid;
	int arrays, bad;
	uint64_t total;
};

static int on_calls(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct map_sink *s = arg;

	s->arrays++;
	for (size_t i = 0; i < arr->len; i++) {
		if (sonde_field_uint32(s->tid, arr->recs[i]) != (uint32_t)s->want_tid)
			s->bad++;
		s->total += sonde_field_uint64(s->calls, arr->recs[i]);
	}
	return 0;
}

static void test_mapiter(void)
{
	struct gadget_run r;
	struct map_sink sink = {0};
	struct trigger trig;
	struct sonde_ds *ds;

	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_mapiter", NULL) == 0);
	CHECK_INT(set_param(&r, "targ_pid", pid_str), 0);
	CHECK_INT(set_param(&r, "map-fetch-interval", "100ms"), 0);
	CHECK_INT(set_param(&r, "map-fetch-count", "3"), 0);
	ds = sonde_gadget_ds(r.ctx, "calls");
	REQUIRE(ds);
	sink.tid = sonde_ds_field(ds, "tid");
	sink.calls = sonde_ds_field(ds, "calls");
	REQUIRE(sonde_ds_subscribe_array(ds, on_calls, &sink, 100) == 0);
	trigger_start(&trig);
	while (!trig.tid)
		usleep(1000);
	sink.want_tid = trig.tid;
	CHECK_INT(sonde_gadget_run(r.ctx, 10 * 1000000000LL), 0);
	trigger_stop(&trig);
	CHECK_INT(sink.arrays, 3);
	CHECK_INT(sink.bad, 0);
	CHECK(sink.total > 0);
	CHECK_STR(sonde_ds_annotation(ds, "fetch-count"), "3");
	gadget_close(&r);
}

/* ---- programs the kernel refuses ---- */

static void test_load_errors(void)
{
	const char *no_fentry =
	    test_btf_attach_refused(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, "do_sys_openat2", BTF_KIND_FUNC);
	const char *no_kprobes = test_kprobes_missing();
	struct gadget_run r;

	/* a kernel without the hook kind: one error naming the program and
	 * what the kernel lacks; a kernel with it (6.1): the run works */
	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_fentry",
	                            "programs:\n  ig_kprobe:\n    attach_to: gadget_program_disabled\n") ==
	        0);
	if (no_fentry) {
		CHECK(sonde_gadget_run(r.ctx, 1000000000LL) < 0);
		CHECK_LOGGED(
		    "program 'ig_fentry' (fentry/do_sys_openat2): cannot load/attach on this kernel: ");
		CHECK_LOGGED("this kernel refuses BPF trampolines"); /* the missing feature, named */
		printf("  %s", log_errors);
	} else {
		CHECK_INT(sonde_gadget_run(r.ctx, 100000000LL), 0);
	}
	gadget_close(&r);

	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_fentry",
	                            "programs:\n  ig_fentry:\n    attach_to: gadget_program_disabled\n") ==
	        0);
	if (no_kprobes) {
		CHECK(sonde_gadget_run(r.ctx, 1000000000LL) < 0);
		CHECK_LOGGED(
		    "program 'ig_kprobe' (kprobe/do_sys_openat2): cannot load/attach on this kernel: ");
		CHECK_LOGGED("this kernel has no kprobes (CONFIG_KPROBES is off)");
		printf("  %s", log_errors);
	} else {
		CHECK_INT(sonde_gadget_run(r.ctx, 100000000LL), 0);
	}
	gadget_close(&r);

	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_bad_verifier", NULL) == 0);
	CHECK(sonde_gadget_run(r.ctx, 1000000000LL) < 0);
	CHECK_LOGGED(
	    "program 'ig_unchecked' (tracepoint/syscalls/sys_enter_getpid): cannot load/attach on this "
	    "kernel: Permission denied; verifier: ");
	CHECK_LOGGED("invalid mem access");
	printf("  %s", log_errors);
	gadget_close(&r);

	/* a run cannot start twice on one context */
	setup();
	REQUIRE(gadget_open_fixture(&r, "ebpf_iter", NULL) == 0);
	CHECK_INT(sonde_gadget_run(r.ctx, 1000000000LL), 0);
	CHECK_INT(sonde_gadget_run(r.ctx, 1000000000LL), -EALREADY);
	CHECK_LOGGED("a gadget context runs once");
	gadget_close(&r);
}

/* ---- the built-in snapshot_process, with and without a mntns filter ---- */

struct proc_sink {
	int arrays;
	size_t records;
};

static int on_processes(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct proc_sink *s = arg;

	s->arrays++;
	s->records += arr->len;
	return 0;
}

/* filter: NULL = no filtering, else the mount namespaces to keep (0-terminated) */
static int run_snapshot(const struct sonde_gadget_image *img, const uint64_t *filter, struct proc_sink *sink)
{
	struct sonde_gadget_ctx *ctx = sonde_gadget_ctx_new(img);
	int err;

	memset(sink, 0, sizeof(*sink));
	err = sonde_gadget_instantiate(ctx);
	if (!err && filter) {
		const struct sonde_mntns_filter *f = sonde_gadget_mntns_filter(ctx);

		CHECK(f != NULL);
		if (!f) {
			sonde_gadget_ctx_free(ctx);
			return -ENOENT;
		}
		CHECK(!sonde_mntns_filter_enabled(f));
		CHECK_INT(sonde_mntns_filter_add(f, 1), -EINVAL); /* not enabled yet */
		err = sonde_mntns_filter_enable(f);
		CHECK(sonde_mntns_filter_enabled(f));
		for (size_t i = 0; !err && filter[i]; i++)
			err = sonde_mntns_filter_add(f, filter[i]);
		/* removing what is absent succeeds */
		CHECK_INT(sonde_mntns_filter_remove(f, 12345), 0);
	}
	if (!err)
		err = sonde_ds_subscribe_array(sonde_gadget_ds(ctx, "processes"), on_processes, sink, 100);
	if (!err)
		err = sonde_gadget_run(ctx, 10 * 1000000000LL);
	sonde_gadget_ctx_free(ctx);
	return err;
}

static void test_snapshot_process(void)
{
	const struct sonde_gadget_image *img = sonde_builtin_gadget("snapshot_process");
	struct proc_sink all, none, mine;
	struct stat st;
	uint64_t nothing[] = {0}, self[2] = {0};

	setup();
	register_ebpf();
	REQUIRE(img != NULL); /* a built-in gadget of every build */
	CHECK_INT(run_snapshot(img, NULL, &all), 0);
	CHECK_INT(all.arrays, 1);
	CHECK(all.records > 1);

	CHECK_INT(run_snapshot(img, nothing, &none), 0);
	CHECK_INT(none.arrays, 1);
	CHECK_INT(none.records, 0);

	REQUIRE(stat("/proc/self/ns/mnt", &st) == 0);
	self[0] = st.st_ino;
	CHECK_INT(run_snapshot(img, self, &mine), 0);
	{
		/* processes come and go between the runs: bound by the larger full count */
		struct proc_sink again;

		CHECK_INT(run_snapshot(img, NULL, &again), 0);
		if (again.records > all.records)
			all.records = again.records;
	}
	CHECK(mine.records > 0 && mine.records <= all.records);
	printf("  %zu processes; %zu in this mount namespace\n", all.records, mine.records);
}

/* Every built-in gadget loads, attaches and runs briefly. */
static void test_builtin_gadgets(void)
{
	setup();
	register_ebpf();
	for (size_t i = 0; i < sonde_builtin_gadget_count(); i++) {
		const struct sonde_gadget_image *img = sonde_builtin_gadget_at(i);
		struct sonde_gadget_ctx *ctx = sonde_gadget_ctx_new(img);
		int64_t t0 = util_now_ns();
		int err;

		capture_reset();
		sonde_log_set_level(SONDE_LOG_DEBUG);
		log_debug_needle = "loaded in";
		err = sonde_gadget_instantiate(ctx);
		if (!err)
			err = sonde_gadget_run(ctx, 300 * 1000000LL);
		if (!err && !strcmp(img->name, "trace_open")) {
			/* declared 256 KiB for one CPU: grown to 2 MiB per CPU, a power
			 * of two, capped at 64 MiB (hosts with more than 32 CPUs) */
			uint64_t size = bpf_map__max_entries(sonde_gadget_var(ctx, "map/events"));
			uint64_t want = (uint64_t)libbpf_num_possible_cpus() << 21;

			if (want > 64u << 20)
				want = 64u << 20;
			CHECK(size >= want && size < 2 * want);
			CHECK((size & (size - 1)) == 0);
		}
		sonde_log_set_level(SONDE_LOG_WARN);
		log_debug_needle = NULL;
		if (err) {
			fprintf(stderr, "  %s: %s\n%s", img->name, strerror(-err), log_errors);
			test_failures++;
		}
		printf("  %-18s %d datasource(s), run %.1f ms; %s\n", img->name, (int)sonde_gadget_nds(ctx),
		       (double)(util_now_ns() - t0) / 1e6, log_debug_line);
		sonde_gadget_ctx_free(ctx);
	}
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_ringbuf_tracer),    TEST(test_ringbuf_lost),    TEST(test_perf_tracer),
	    TEST(test_perf_lost),         TEST(test_attach_kinds),    TEST(test_iterator_snapshot),
	    TEST(test_iterator_interval), TEST(test_mapiter),         TEST(test_load_errors),
	    TEST(test_snapshot_process),  TEST(test_builtin_gadgets),
	};

	test_require_root();
	return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
