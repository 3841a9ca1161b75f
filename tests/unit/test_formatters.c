/* The formatters operator on synthetic DataSources: a producer operator adds
 * a DataSource whose fields carry the special type tags, the formatters
 * operator adds and fills the string fields, a sink operator records what it
 * sees. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sonde/sonde.h>

#include "operators/formatters.h"
#include "testlib.h"
#include "util/clock.h"

#define NS 1000000000LL

struct l3 {
	uint8_t addr_raw[16];
	uint8_t version;
};

struct l4 {
	uint8_t addr_raw[16];
	uint16_t port;
	uint16_t proto_raw;
	uint8_t version;
};

struct ev {
	uint64_t ts_raw;
	uint32_t error_raw;
	uint32_t sig_raw;
	uint64_t sc_raw;
	uint32_t flags_raw;
	uint32_t mode_raw;
	uint64_t size_raw;
	uint64_t lat_raw;
	uint32_t plain;     /* errno without _raw and without target: left alone */
	uint32_t custom;    /* signal with formatters.signal.target */
	int32_t neg_raw;    /* errno in a signed field */
	uint32_t shown_raw; /* errno whose own columns.hidden says false */
	uint64_t ts2_raw;   /* timestamp with a custom format */
	char name[8];       /* not special */
	struct l3 src;
	struct l4 dst;
};

#define TAGS(...)                                                                                            \
	(const char *const[])                                                                                \
	{                                                                                                    \
		__VA_ARGS__, NULL                                                                            \
	}
#define M(n, par, k, field, tags, ann)                                                                       \
	{                                                                                                    \
		n, par, k, offsetof(struct ev, field), sizeof(((struct ev *)0)->field), 0, tags, ann         \
	}

enum {
	I_TS,
	I_ERR,
	I_SIG,
	I_SC,
	I_FLAGS,
	I_MODE,
	I_SIZE,
	I_LAT,
	I_PLAIN,
	I_CUSTOM,
	I_NEG,
	I_SHOWN,
	I_TS2,
	I_NAME,
	I_SRC,
	I_SRC_ADDR,
	I_SRC_VER,
	I_DST,
	I_DST_ADDR,
	I_DST_PORT,
	I_DST_PROTO,
	I_DST_VER,
	I_N,
};

/* ---- producer ---- */

static struct {
	bool with_special; /* else only `name` */
	int nrecs;         /* records per run; all get the event below */
	struct ev ev;
	struct sonde_ds *ds;
	int64_t emit_ns; /* time spent emitting */
} src;

static int add_fields(struct sonde_ds *ds)
{
	const struct sonde_static_field m[I_N] = {
	    M("ts_raw", -1, SONDE_KIND_UINT64, ts_raw, TAGS("type:gadget_timestamp", "name:ts_raw"), NULL),
	    M("error_raw", -1, SONDE_KIND_UINT32, error_raw, TAGS("type:gadget_errno"), NULL),
	    M("sig_raw", -1, SONDE_KIND_UINT32, sig_raw, TAGS("type:gadget_signal"), NULL),
	    M("sc_raw", -1, SONDE_KIND_UINT64, sc_raw, TAGS("type:gadget_syscall"), NULL),
	    M("flags_raw", -1, SONDE_KIND_UINT32, flags_raw, TAGS("type:gadget_file_flags"), NULL),
	    M("mode_raw", -1, SONDE_KIND_UINT32, mode_raw, TAGS("type:gadget_file_mode"), NULL),
	    M("size_raw", -1, SONDE_KIND_UINT64, size_raw, TAGS("type:gadget_bytes"), NULL),
	    M("lat_raw", -1, SONDE_KIND_UINT64, lat_raw, TAGS("type:gadget_duration"), NULL),
	    M("plain", -1, SONDE_KIND_UINT32, plain, TAGS("type:gadget_errno"), NULL),
	    M("custom", -1, SONDE_KIND_UINT32, custom, TAGS("type:gadget_signal"),
	      TAGS("formatters.signal.target", "signame")),
	    M("neg_raw", -1, SONDE_KIND_INT32, neg_raw, TAGS("type:gadget_errno"), NULL),
	    M("shown_raw", -1, SONDE_KIND_UINT32, shown_raw, TAGS("type:gadget_errno"),
	      TAGS("columns.hidden", "false")),
	    M("ts2_raw", -1, SONDE_KIND_UINT64, ts2_raw, TAGS("type:gadget_timestamp"),
	      TAGS("formatters.timestamp.format", "15:04:05.000")),
	    M("name", -1, SONDE_KIND_CSTRING, name, NULL, NULL),
	    M("src", -1, SONDE_KIND_BYTES, src, TAGS("type:gadget_l3endpoint_t"), NULL),
	    M("addr_raw", I_SRC, SONDE_KIND_BYTES, src.addr_raw,
	      TAGS("type:gadget_ip_addr_t", "name:addr_raw"), NULL),
	    M("version", I_SRC, SONDE_KIND_UINT8, src.version, TAGS("name:version"), NULL),
	    M("dst", -1, SONDE_KIND_BYTES, dst, TAGS("type:gadget_l4endpoint_t"), NULL),
	    M("addr_raw", I_DST, SONDE_KIND_BYTES, dst.addr_raw,
	      TAGS("type:gadget_ip_addr_t", "name:addr_raw"), NULL),
	    M("port", I_DST, SONDE_KIND_UINT16, dst.port, TAGS("name:port"), NULL),
	    M("proto_raw", I_DST, SONDE_KIND_UINT16, dst.proto_raw, TAGS("name:proto_raw"), NULL),
	    M("version", I_DST, SONDE_KIND_UINT8, dst.version, TAGS("name:version"), NULL),
	};

	if (!src.with_special)
		return sonde_ds_add_static_fields(ds, sizeof(struct ev), &m[I_NAME], 1, NULL);
	return sonde_ds_add_static_fields(ds, sizeof(struct ev), m, I_N, NULL);
}

static void emit(struct sonde_gadget_ctx *ctx, void *arg)
{
	int64_t t0 = util_now_ns();

	for (int i = 0; i < src.nrecs; i++) {
		struct sonde_record *rec = sonde_ds_record(src.ds);

		rec->payloads[0].data = &src.ev; /* zero copy, as the ebpf tracer does */
		rec->payloads[0].len = sizeof(src.ev);
		sonde_ds_emit(src.ds, rec);
	}
	src.emit_ns = util_now_ns() - t0;
	sonde_gadget_cancel(ctx);
}

static int src_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	src.ds = sonde_gadget_add_ds(ctx, "events", SONDE_DS_SINGLE);
	if (!src.ds || add_fields(src.ds))
		return -EINVAL;
	*state = &src;
	return 0;
}

static int src_start(struct sonde_gadget_ctx *ctx, void *state)
{
	int id = sonde_gadget_add_timer(ctx, 1000000, 1000000, emit, NULL);

	return id < 0 ? id : 0;
}

static const struct sonde_operator src_operator = {
    .name = "testsrc",
    .kind = SONDE_OP_DATA,
    .priority = -10, /* before formatters: its DataSource must exist */
    .instantiate = src_instantiate,
    .start = src_start,
};

/* ---- sink ---- */

#define NSEEN 12
static const char *const seen_names[NSEEN] = {"ts",   "error", "sig", "sc",      "flags",    "mode",
                                              "size", "lat",   "neg", "signame", "src.addr", "ts2"};

static struct {
	const char *const *request; /* fields to request, NULL = declare nothing */
	char seen[NSEEN][128];
	char endpoint[64], proto[32];
	uint64_t ts_raw;
	int records;
	bool light; /* only count (cost measurement) */
} sink;

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	uint32_t len;
	const char *s;

	sink.records++;
	if (sink.light)
		return 0;
	for (int i = 0; i < NSEEN; i++) {
		struct sonde_field *f = sonde_ds_field(ds, seen_names[i]);

		s = f ? sonde_field_string(f, rec, &len) : "(no field)";
		snprintf(sink.seen[i], sizeof(sink.seen[i]), "%.*s", f ? (int)len : 10, s);
	}
	if (!sonde_ds_field(ds, "dst"))
		return 0;
	s = sonde_field_string(sonde_ds_field(ds, "dst.endpoint"), rec, &len);
	snprintf(sink.endpoint, sizeof(sink.endpoint), "%.*s", (int)len, s);
	s = sonde_field_string(sonde_ds_field(ds, "dst.proto"), rec, &len);
	snprintf(sink.proto, sizeof(sink.proto), "%.*s", (int)len, s);
	sink.ts_raw = sonde_field_uint64(sonde_ds_field(ds, "ts_raw"), rec);
	return 0;
}

static int sink_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	*state = &sink;
	return 0;
}

static int sink_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct sonde_ds *ds = sonde_gadget_ds(ctx, "events");

	for (size_t i = 0; sink.request && sink.request[i]; i++)
		sonde_field_set_requested(sonde_ds_field(ds, sink.request[i]), true);
	return sonde_ds_subscribe(ds, on_record, NULL, SONDE_PHASE_SINK);
}

static const struct sonde_operator sink_operator = {
    .name = "testsink",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_SINK,
    .instantiate = sink_instantiate,
    .pre_start = sink_pre_start,
};

/* ---- helpers ---- */

static struct sonde_gadget_image image = {.name = "test"};

static struct sonde_gadget_ctx *open_ctx(const char *yaml, bool formatters)
{
	struct sonde_gadget_ctx *ctx;

	sonde_operator_unregister_all();
	sonde_operator_register(&src_operator);
	if (formatters)
		sonde_operator_register(&formatters_operator);
	sonde_operator_register(&sink_operator);
	sonde_register_builtin_sinks(); /* and the built-in field templates */
	image.config_yaml = yaml;
	image.config_len = yaml ? strlen(yaml) : 0;
	ctx = sonde_gadget_ctx_new(&image);
	if (ctx && sonde_gadget_instantiate(ctx)) {
		sonde_gadget_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

static int run(struct sonde_gadget_ctx *ctx)
{
	memset(sink.seen, 0, sizeof(sink.seen));
	sink.records = 0;
	return sonde_gadget_run(ctx, 5 * NS);
}

static int64_t boottime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void default_event(void)
{
	memset(&src.ev, 0, sizeof(src.ev));
	src.ev.error_raw = ENOENT;
	src.ev.sig_raw = 9;
	src.ev.sc_raw = 257;
	src.ev.flags_raw = 01101; /* O_WRONLY|O_CREAT|O_TRUNC */
	src.ev.mode_raw = 0640;
	src.ev.size_raw = 1500000;
	src.ev.lat_raw = 1234567;
	src.ev.plain = 1;
	src.ev.custom = 15;
	src.ev.neg_raw = -EACCES;
	src.ev.shown_raw = 0;
	strcpy(src.ev.name, "x");
	src.ev.src.addr_raw[0] = 192;
	src.ev.src.addr_raw[1] = 168;
	src.ev.src.addr_raw[2] = 0;
	src.ev.src.addr_raw[3] = 1;
	src.ev.src.version = 4;
	src.ev.dst.addr_raw[15] = 1;
	src.ev.dst.version = 6;
	src.ev.dst.port = 443;
	src.ev.dst.proto_raw = 6;
}

static void reset(void)
{
	memset(&src, 0, sizeof(src));
	memset(&sink, 0, sizeof(sink));
	src.with_special = true;
	src.nrecs = 1;
	default_event();
}

static struct sonde_field *field(struct sonde_gadget_ctx *ctx, const char *name)
{
	return sonde_ds_field(sonde_gadget_ds(ctx, "events"), name);
}

static bool hidden(struct sonde_field *f)
{
	return f && (sonde_field_flags(f) & SONDE_FIELD_HIDDEN);
}

/* ---- tests ---- */

static void test_fields_added(void)
{
	static const char yaml[] =
	    "datasources:\n  events:\n    fields:\n      error:\n        annotations:\n"
	    "          columns.width: 20\n          description: what failed\n";
	static const char *const added[] = {
	    "ts",      "error", "sig", "sc",       "flags",    "mode",      "size",         "lat", "neg",
	    "signame", "shown", "ts2", "src.addr", "dst.addr", "dst.proto", "dst.endpoint", NULL};
	struct sonde_gadget_ctx *ctx;
	struct sonde_field *f;

	reset();
	ctx = open_ctx(yaml, true);
	REQUIRE(ctx);
	for (size_t i = 0; added[i]; i++) {
		f = field(ctx, added[i]);
		if (!f || sonde_field_kind(f) != SONDE_KIND_STRING) {
			fprintf(stderr, "field %s missing or not a string\n", added[i]);
			test_failures++;
		}
	}
	/* no target: left alone; not special: nothing */
	CHECK(field(ctx, "plain") && !hidden(field(ctx, "plain")));
	CHECK(!field(ctx, "custom_str") && !field(ctx, "name_str"));
	CHECK(hidden(field(ctx, "custom"))); /* the source of signame */
	/* sources hidden, unless they said otherwise */
	CHECK(hidden(field(ctx, "ts_raw")));
	CHECK(hidden(field(ctx, "error_raw")));
	CHECK(hidden(field(ctx, "flags_raw")));
	CHECK(!hidden(field(ctx, "shown_raw")));
	/* templates: timestamp hidden (width 35), errno errorString, bytes/duration right-aligned */
	CHECK(hidden(field(ctx, "ts")));
	CHECK_STR(sonde_field_annotation(field(ctx, "ts"), "columns.width"), "35");
	CHECK(!hidden(field(ctx, "error")));
	CHECK_STR(sonde_field_annotation(field(ctx, "error"), "template"), "errorString");
	CHECK_STR(sonde_field_annotation(field(ctx, "neg"), "columns.width"), "12");
	CHECK_STR(sonde_field_annotation(field(ctx, "size"), "columns.alignment"), "right");
	CHECK_STR(sonde_field_annotation(field(ctx, "lat"), "columns.width"), "20");
	CHECK(strstr(sonde_field_annotation(field(ctx, "error"), "value.one-of"), "ENOENT") != NULL);
	CHECK(strstr(sonde_field_annotation(field(ctx, "sig"), "value.one-of"), "SIGKILL") != NULL);
	/* gadget.yaml configures the added field like any other */
	CHECK_STR(sonde_field_annotation(field(ctx, "error"), "columns.width"), "20");
	CHECK_STR(sonde_field_annotation(field(ctx, "error"), "description"), "what failed");
	CHECK(!hidden(field(ctx, "flags")) && !hidden(field(ctx, "mode")));
	/* endpoints: addr_raw leaves the output, the struct column shows the text */
	CHECK(!field(ctx, "src.addr_raw") && !field(ctx, "dst.addr_raw"));
	CHECK_STR(sonde_field_annotation(field(ctx, "src"), "columns.replace"), "src.addr");
	CHECK_STR(sonde_field_annotation(field(ctx, "dst"), "columns.replace"), "dst.endpoint");
	CHECK(!hidden(field(ctx, "src")) && hidden(field(ctx, "src.addr")) &&
	      hidden(field(ctx, "src.version")));
	CHECK(hidden(field(ctx, "dst.proto")) && hidden(field(ctx, "dst.endpoint")) &&
	      hidden(field(ctx, "dst.port")));
	CHECK_STR(sonde_field_annotation(field(ctx, "dst.endpoint"), "json.skip"), "true");
	CHECK(sonde_field_has_tag(field(ctx, "dst.endpoint"), "endpoint"));
	CHECK(sonde_field_parent(field(ctx, "src.addr")) == field(ctx, "src"));
	/* order: after the static fields, in upstream's formatter order
	 * (signal, errno, syscall, timestamp, bytes, duration, flags, mode) */
	{
		static const char *const order[] = {"name",  "sig",   "signame", "error", "neg",
		                                    "shown", "sc",    "ts",      "ts2",   "size",
		                                    "lat",   "flags", "mode",    NULL};

		for (size_t i = 1; order[i]; i++) {
			f = field(ctx, order[i]);
			if (!f || !field(ctx, order[i - 1]) ||
			    sonde_field_index(f) <= sonde_field_index(field(ctx, order[i - 1])) ||
			    sonde_field_order(f) != 0) {
				fprintf(stderr, "field %s does not come after %s\n", order[i], order[i - 1]);
				test_failures++;
			}
		}
	}
	sonde_gadget_ctx_free(ctx);
}

static void test_values(void)
{
	struct sonde_gadget_ctx *ctx;
	int64_t boot, before, after;

	setenv("TZ", "UTC0", 1);
	tzset();
	reset();
	ctx = open_ctx(NULL, true);
	REQUIRE(ctx);
	boot = boottime_ns();
	src.ev.ts_raw = (uint64_t)boot;
	src.ev.ts2_raw = (uint64_t)boot;
	before = realtime_ns();
	CHECK_INT(run(ctx), 0);
	after = realtime_ns();
	CHECK_INT(sink.records, 1);
	CHECK_STR(sink.seen[1], "ENOENT");
	CHECK_STR(sink.seen[2], "SIGKILL");
	CHECK_STR(sink.seen[3], "SYS_OPENAT");
	CHECK_STR(sink.seen[4], "O_WRONLY|O_CREAT|O_TRUNC");
	CHECK_STR(sink.seen[5], "-rw-r-----");
	CHECK_STR(sink.seen[6], "1.5 MB");
	CHECK_STR(sink.seen[7], "1.23ms");
	CHECK_STR(sink.seen[8], "EACCES");
	CHECK_STR(sink.seen[9], "SIGTERM");
	CHECK_STR(sink.seen[10], "192.168.0.1");
	CHECK_STR(sink.endpoint, "::1:443");
	CHECK_STR(sink.proto, "TCP");
	/* the raw timestamp now holds wall-clock ns, and the text says the same */
	CHECK(sink.ts_raw >= (uint64_t)before - 10000000 && sink.ts_raw <= (uint64_t)after);
	{
		char want[64];
		struct tm tm;
		time_t sec = (time_t)(sink.ts_raw / NS);

		localtime_r(&sec, &tm);
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm);
		CHECK(strncmp(sink.seen[0], want, strlen(want)) == 0);
		snprintf(want + strlen(want), sizeof(want) - strlen(want), ".%09llu",
		         (unsigned long long)(sink.ts_raw % NS));
		CHECK(strncmp(sink.seen[0], want, strlen(want)) == 0);
		CHECK_INT(strlen(sink.seen[0]), 30);  /* local zone here is UTC: "...Z" */
		CHECK_INT(strlen(sink.seen[11]), 12); /* 15:04:05.000 */
		CHECK(strncmp(sink.seen[11], want + 11, 12) == 0);
	}
	sonde_gadget_ctx_free(ctx);

	/* zeros and unknown numbers */
	reset();
	memset(&src.ev, 0, sizeof(src.ev));
	src.ev.error_raw = 4000;
	src.ev.sig_raw = 0;
	src.ev.sc_raw = UINT64_MAX;
	src.ev.flags_raw = 3;
	src.ev.size_raw = UINT64_MAX;
	src.ev.lat_raw = UINT64_MAX;
	src.ev.dst.version = 9;
	ctx = open_ctx(NULL, true);
	REQUIRE(ctx);
	before = realtime_ns();
	CHECK_INT(run(ctx), 0);
	CHECK_STR(sink.seen[1], "error#4000");
	CHECK_STR(sink.seen[2], "signal#0");
	CHECK_STR(sink.seen[3], "SYS_UNKNOWN");
	CHECK_STR(sink.seen[4], "");
	CHECK_STR(sink.seen[5], "----------");
	CHECK_STR(sink.seen[6], "18 EB");
	CHECK_STR(sink.seen[7], "-1ns");
	CHECK_STR(sink.seen[8], "");  /* errno 0 */
	CHECK_STR(sink.seen[10], ""); /* version 0 */
	CHECK_STR(sink.endpoint, "");
	CHECK_STR(sink.proto, "HOPOPT");
	/* a zero timestamp means "now" */
	CHECK(sink.ts_raw >= (uint64_t)before && sink.ts_raw <= (uint64_t)realtime_ns());
	sonde_gadget_ctx_free(ctx);
}

static void test_requested_only(void)
{
	static const char *const only_error[] = {"error", "src", NULL};
	struct sonde_gadget_ctx *ctx;
	int64_t boot = boottime_ns();

	reset();
	src.ev.ts_raw = (uint64_t)boot;
	sink.request = only_error;
	ctx = open_ctx(NULL, true);
	REQUIRE(ctx);
	CHECK_INT(run(ctx), 0);
	CHECK_INT(sink.records, 1);
	CHECK_STR(sink.seen[1], "ENOENT");
	CHECK_STR(sink.seen[10], "192.168.0.1"); /* src requested: its sub-fields too */
	/* nobody asked: nothing computed */
	CHECK_STR(sink.seen[0], "");
	CHECK_STR(sink.seen[2], "");
	CHECK_STR(sink.seen[4], "");
	CHECK_STR(sink.seen[6], "");
	CHECK_STR(sink.endpoint, "");
	/* the raw timestamp is not output either: not rewritten */
	CHECK_INT(sink.ts_raw, boot);
	sonde_gadget_ctx_free(ctx);
}

static void test_nothing_to_do(void)
{
	struct sonde_gadget_ctx *ctx;

	reset();
	src.with_special = false;
	ctx = open_ctx(NULL, true);
	REQUIRE(ctx);
	CHECK_INT(sonde_ds_nfields(sonde_gadget_ds(ctx, "events")), 1);
	CHECK_INT(run(ctx), 0);
	CHECK_INT(sink.records, 1);
	sonde_gadget_ctx_free(ctx);
}

/* Per-record cost of formatting every field of the event above (13 string
 * fields and a timestamp rewrite), against the same run without formatters.
 * Printed only: no timing assertions. */
static void test_cost(void)
{
	const int n = 200000;
	int64_t with, without;
	struct sonde_gadget_ctx *ctx;

	for (int pass = 0; pass < 2; pass++) {
		reset();
		src.nrecs = n;
		sink.light = true;
		src.ev.ts_raw = (uint64_t)boottime_ns();
		ctx = open_ctx(NULL, pass == 0);
		REQUIRE(ctx);
		CHECK_INT(run(ctx), 0);
		CHECK_INT(sink.records, n);
		if (pass == 0)
			with = src.emit_ns;
		else
			without = src.emit_ns;
		sonde_gadget_ctx_free(ctx);
	}
	printf("  formatters: %.0f ns/record for 16 outputs (emit %.0f ns/record without, %.0f with)\n",
	       (double)(with - without) / n, (double)without / n, (double)with / n);
}

TEST_MAIN(TEST(test_fields_added), TEST(test_values), TEST(test_requested_only), TEST(test_nothing_to_do),
          TEST(test_cost))
