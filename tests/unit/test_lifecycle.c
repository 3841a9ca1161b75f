/* Operator registry and the gadget lifecycle with fake operators. */
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <time.h>

#include <sonde/sonde.h>

#include "testlib.h"

#define FAKE_MEDIA "application/x-fake"

static char trace[512];
static int fail_start_of = -1; /* operator id whose start fails */
static int emitted, received;

static void note(const char *what, int id)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%s%d ", what, id);
	strncat(trace, buf, sizeof(trace) - strlen(trace) - 1);
}

struct fake_state {
	int id;
	struct sonde_ds *ds;
	struct sonde_field *count;
};

static void tick(struct sonde_gadget_ctx *ctx, void *arg)
{
	struct fake_state *st = arg;
	struct sonde_record *rec = sonde_ds_record(st->ds);

	sonde_field_put_uint(st->count, rec, (uint64_t)++emitted);
	sonde_ds_emit(st->ds, rec);
	if (emitted == 3)
		sonde_gadget_cancel(ctx);
}

/* Image operator: one DataSource fed by a timer. */
static int image_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	static struct fake_state st;
	const struct sonde_param_desc p = {.key = "rate", .type_hint = "uint32", .default_value = "1"};

	st.id = 0;
	st.ds = sonde_gadget_add_ds(ctx, "events", SONDE_DS_SINGLE);
	st.count = sonde_ds_add_field(st.ds, "count", SONDE_KIND_UINT32, NULL);
	if (!st.ds || !st.count || !sonde_params_add(sonde_gadget_params(ctx), "operator.oci.fake.", &p))
		return -EINVAL;
	note("inst", 0);
	*state = &st;
	return 0;
}

static int image_start(struct sonde_gadget_ctx *ctx, void *state)
{
	note("start", 0);
	if (fail_start_of == 0)
		return -EIO;
	return sonde_gadget_add_timer(ctx, 0, 2000000, tick, state) > 0 ? 0 : -EIO;
}

static int image_stop(struct sonde_gadget_ctx *ctx, void *state)
{
	note("stop", 0);
	return 0;
}

static void image_close(struct sonde_gadget_ctx *ctx, void *state)
{
	note("close", 0);
}

static const struct sonde_operator image_op = {
    .name = "fake",
    .kind = SONDE_OP_IMAGE,
    .media_type = FAKE_MEDIA,
    .instantiate = image_instantiate,
    .start = image_start,
    .stop = image_stop,
    .close = image_close,
};

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	received++;
	return 0;
}

#define DATA_OP(ID, PRIO)                                                                                    \
	static int d##ID##_inst(struct sonde_gadget_ctx *ctx, const struct sonde_layer *l, void **s)         \
	{                                                                                                    \
		note("inst", ID);                                                                            \
		*s = ID == 3 ? NULL : (void *)ctx; /* operator 3 stays inactive */                           \
		return 0;                                                                                    \
	}                                                                                                    \
	static int d##ID##_pre(struct sonde_gadget_ctx *ctx, void *s)                                        \
	{                                                                                                    \
		note("pre", ID);                                                                             \
		if (ID == 2)                                                                                 \
			return sonde_ds_subscribe(sonde_gadget_ds(ctx, "events"), on_record, NULL, 10000);   \
		return 0;                                                                                    \
	}                                                                                                    \
	static int d##ID##_start(struct sonde_gadget_ctx *ctx, void *s)                                      \
	{                                                                                                    \
		note("start", ID);                                                                           \
		return fail_start_of == ID ? -EIO : 0;                                                       \
	}                                                                                                    \
	static int d##ID##_stop(struct sonde_gadget_ctx *ctx, void *s)                                       \
	{                                                                                                    \
		note("stop", ID);                                                                            \
		return 0;                                                                                    \
	}                                                                                                    \
	static int d##ID##_post(struct sonde_gadget_ctx *ctx, void *s)                                       \
	{                                                                                                    \
		note("post", ID);                                                                            \
		return 0;                                                                                    \
	}                                                                                                    \
	static void d##ID##_close(struct sonde_gadget_ctx *ctx, void *s)                                     \
	{                                                                                                    \
		note("close", ID);                                                                           \
	}                                                                                                    \
	static const struct sonde_param_desc d##ID##_params[] = {                                            \
	    {.key = "level" #ID, .default_value = "x"}};                                                     \
	static const struct sonde_operator data_op##ID = {                                                   \
	    .name = "data" #ID,                                                                              \
	    .priority = PRIO,                                                                                \
	    .instance_params = d##ID##_params,                                                               \
	    .ninstance_params = 1,                                                                           \
	    .instantiate = d##ID##_inst,                                                                     \
	    .pre_start = d##ID##_pre,                                                                        \
	    .start = d##ID##_start,                                                                          \
	    .stop = d##ID##_stop,                                                                            \
	    .post_stop = d##ID##_post,                                                                       \
	    .close = d##ID##_close,                                                                          \
	};

DATA_OP(1, 0)
DATA_OP(2, 10000)
DATA_OP(3, 5)

static const char gadget_yaml[] = "name: fake\n"
                                  "datasources:\n"
                                  "  events:\n"
                                  "    annotations: {cli.default-output-mode: json}\n"
                                  "    fields:\n"
                                  "      count:\n"
                                  "        annotations: {template: pid, columns.Width: 9}\n"
                                  "paramDefaults:\n"
                                  "  operator.data1.level1: y\n";

static const struct sonde_layer layer = {FAKE_MEDIA, "", 0};
static const struct sonde_gadget_image image = {"fake", gadget_yaml, sizeof(gadget_yaml) - 1, &layer, 1};

static void setup(void)
{
	sonde_operator_unregister_all();
	CHECK(sonde_operator_register(&data_op2) == 0);
	CHECK(sonde_operator_register(&data_op1) == 0);
	CHECK(sonde_operator_register(&data_op3) == 0);
	CHECK(sonde_operator_register(&image_op) == 0);
	sonde_register_builtin_sinks(); /* and the built-in field templates */
	CHECK(sonde_operator_register(&data_op1) == -EEXIST);
	trace[0] = 0;
	emitted = received = 0;
	fail_start_of = -1;
}

static void test_registry_order(void)
{
	setup();
	CHECK_INT(sonde_operator_count(), 3);
	CHECK_STR(sonde_operator_at(0)->name, "data1");
	CHECK_STR(sonde_operator_at(1)->name, "data3");
	CHECK_STR(sonde_operator_at(2)->name, "data2");
	CHECK(sonde_image_operator_for(FAKE_MEDIA) == &image_op);
	CHECK(sonde_image_operator_for("nope") == NULL);
}

static void test_full_lifecycle(void)
{
	struct sonde_gadget_ctx *ctx;
	struct sonde_field *count;
	struct sonde_ds *ds;

	setup();
	ctx = sonde_gadget_ctx_new(&image);
	REQUIRE(ctx);
	REQUIRE(sonde_gadget_instantiate(ctx) == 0);
	ds = sonde_gadget_ds(ctx, "events");
	REQUIRE(ds);
	count = sonde_ds_field(ds, "count");
	/* gadget.yaml: the template, then the explicit annotations (keys lowercased) */
	CHECK_STR(sonde_field_annotation(count, "columns.alignment"), "right");
	CHECK_STR(sonde_field_annotation(count, "columns.width"), "9");
	CHECK_STR(sonde_ds_annotation(ds, "cli.default-output-mode"), "json");
	CHECK_STR(sonde_param_value(sonde_params_find(sonde_gadget_params(ctx), "operator.data1.level1")),
	          "y");
	CHECK(sonde_params_find(sonde_gadget_params(ctx), "operator.oci.fake.rate") != NULL);
	CHECK(sonde_gadget_run(ctx, 5000000000LL) == 0);
	CHECK_INT(emitted, 3);
	CHECK_INT(received, 3);
	/* operators are not restartable: a second run is refused and calls no hook */
	CHECK(sonde_gadget_run(ctx, 5000000000LL) == -EALREADY);
	sonde_gadget_ctx_free(ctx);
	CHECK_STR(trace, "inst0 inst1 inst3 inst2 pre1 pre2 start0 start1 start2 stop2 stop1 stop0 "
	                 "post2 post1 close2 close1 close0 ");
}

static void test_failed_start_unwinds(void)
{
	struct sonde_gadget_ctx *ctx;

	setup();
	fail_start_of = 1;
	ctx = sonde_gadget_ctx_new(&image);
	REQUIRE(ctx);
	CHECK(sonde_gadget_run(ctx, 0) == -EIO);
	sonde_gadget_ctx_free(ctx);
	/* operator 2 never started, so it is not stopped; the image operator has no pre/post hooks */
	CHECK_STR(trace, "inst0 inst1 inst3 inst2 pre1 pre2 start0 start1 stop0 post2 post1 "
	                 "close2 close1 close0 ");
}

static void test_timeout_and_cancel(void)
{
	struct sonde_gadget_ctx *ctx;
	struct timespec a, b;

	setup();
	fail_start_of = 99;
	ctx = sonde_gadget_ctx_new(&image);
	REQUIRE(ctx);
	sonde_gadget_cancel(ctx); /* a cancel before the run ends it at once */
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(sonde_gadget_run(ctx, 10000000000LL) == 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	CHECK(b.tv_sec - a.tv_sec < 5);
	sonde_gadget_ctx_free(ctx);

	/* info only: instantiate + free never starts anything */
	setup();
	ctx = sonde_gadget_ctx_new(&image);
	CHECK(sonde_gadget_instantiate(ctx) == 0);
	sonde_gadget_ctx_free(ctx);
	CHECK_STR(trace, "inst0 inst1 inst3 inst2 close2 close1 close0 ");
}

static int fd_calls;

static void on_ready(struct sonde_gadget_ctx *ctx, int fd, void *arg)
{
	uint64_t v;

	(void)arg;
	CHECK(read(fd, &v, sizeof(v)) == sizeof(v));
	fd_calls++;
	sonde_gadget_cancel(ctx);
}

/* Two fds ready in the same epoll batch: once the first callback says done,
 * the second one must not run (its records would reach stopped sinks). */
static void test_done_ends_batch(void)
{
	struct sonde_gadget_ctx *ctx;
	uint64_t one = 1;
	int a = eventfd(0, EFD_CLOEXEC), b = eventfd(0, EFD_CLOEXEC);

	setup();
	fail_start_of = 99;
	REQUIRE(a >= 0 && b >= 0);
	CHECK(write(a, &one, sizeof(one)) == sizeof(one));
	CHECK(write(b, &one, sizeof(one)) == sizeof(one));
	ctx = sonde_gadget_ctx_new(&image);
	REQUIRE(ctx);
	REQUIRE(sonde_gadget_instantiate(ctx) == 0);
	CHECK(sonde_gadget_watch_fd(ctx, a, on_ready, NULL) == 0);
	CHECK(sonde_gadget_watch_fd(ctx, b, on_ready, NULL) == 0);
	fd_calls = 0;
	CHECK(sonde_gadget_run(ctx, 10000000000LL) == 0);
	CHECK_INT(fd_calls, 1);
	sonde_gadget_ctx_free(ctx);
	close(a);
	close(b);
}

static void test_bad_yaml(void)
{
	static const char bad[] = "datasources: [unclosed\n";
	const struct sonde_gadget_image img = {"bad", bad, sizeof(bad) - 1, &layer, 1};
	struct sonde_gadget_ctx *ctx;

	setup();
	ctx = sonde_gadget_ctx_new(&img);
	REQUIRE(ctx);
	CHECK(sonde_gadget_instantiate(ctx) == -EINVAL);
	sonde_gadget_ctx_free(ctx);
	CHECK_STR(trace, "");
}

TEST_MAIN(TEST(test_registry_order), TEST(test_full_lifecycle), TEST(test_failed_start_unwinds),
          TEST(test_timeout_and_cancel), TEST(test_done_ends_batch), TEST(test_bad_yaml))
