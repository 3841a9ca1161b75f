/* The cli operator in a real gadget run: a test producer operator emits
 * records, the cli operator prints them to a pipe given as "cli.fd". */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>

#include "operators/cli.h"
#include "test_output_fixture.h"

/* ---- a producer operator configured by each test ---- */

struct src_cfg {
	enum sonde_ds_type type;
	int nrecs;                     /* records (single) or elements of one packet (array) */
	bool forever;                  /* keep emitting every millisecond, never done */
	const char *const *ds_ann;     /* annotations of "events" */
	bool second_ds;                /* also a DataSource "other" with a string field "text" */
	const char *const *second_ann; /* annotations of "other" */
};

/* Requested-ness of some fields, as seen while the gadget runs. */
static bool req_name, req_secret, req_pid, req_skipme;

static struct src_cfg cfg;
static struct fixture fx;
static struct sonde_ds *other;
static struct sonde_field *other_text;
static bool emitted; /* the timer may tick again before the loop sees "done" */

static void emit(struct sonde_gadget_ctx *ctx, void *arg)
{
	struct raw_event ev;

	if (emitted && !cfg.forever)
		return;
	emitted = true;
	fixture_event(&ev);
	req_name = sonde_field_is_requested(fx.st[F_NAME]);
	req_secret = sonde_field_is_requested(fx.secret);
	req_pid = sonde_field_is_requested(fx.st[F_PID]);
	req_skipme = sonde_field_is_requested(fx.skipme);
	if (cfg.type == SONDE_DS_ARRAY) {
		struct sonde_array *arr = sonde_ds_array(fx.ds);

		for (int i = 0; i < cfg.nrecs; i++) {
			ev.proc.pid = 100 + (uint32_t)i;
			fixture_fill(&fx, sonde_array_append(arr), &ev, "x", 1);
		}
		sonde_ds_emit_array(fx.ds, arr);
	} else {
		for (int i = 0; i < cfg.nrecs; i++) {
			struct sonde_record *rec = sonde_ds_record(fx.ds);

			ev.proc.pid = 100 + (uint32_t)i;
			fixture_fill(&fx, rec, &ev, "x", 1);
			sonde_ds_emit(fx.ds, rec);
		}
	}
	if (other) {
		struct sonde_record *rec = sonde_ds_record(other);

		sonde_field_put_string(other_text, rec, "line one\nline two\n", 18);
		sonde_ds_emit(other, rec);
	}
	if (!cfg.forever)
		sonde_gadget_cancel(ctx);
}

static int src_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct sonde_ds *ds = sonde_gadget_add_ds(ctx, "events", cfg.type);

	emitted = false;
	if (!ds || !fixture_populate(&fx, ds))
		return -ENOMEM;
	for (size_t i = 0; cfg.ds_ann && cfg.ds_ann[i]; i += 2)
		sonde_ds_add_annotation(ds, cfg.ds_ann[i], cfg.ds_ann[i + 1]);
	other = NULL;
	if (cfg.second_ds) {
		other = sonde_gadget_add_ds(ctx, "other", SONDE_DS_SINGLE);
		other_text = other ? sonde_ds_add_field(other, "text", SONDE_KIND_STRING, NULL) : NULL;
		if (!other_text)
			return -ENOMEM;
		for (size_t i = 0; cfg.second_ann && cfg.second_ann[i]; i += 2)
			sonde_ds_add_annotation(other, cfg.second_ann[i], cfg.second_ann[i + 1]);
	}
	*state = &cfg;
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
    .priority = 0,
    .instantiate = src_instantiate,
    .start = src_start,
};

/* ---- running ---- */

static char last_err[512];
static int nerrors, nwarnings;

static void capture_log(enum sonde_log_level level, const char *msg, void *arg)
{
	if (level == SONDE_LOG_ERROR) {
		nerrors++;
		snprintf(last_err, sizeof(last_err), "%s", msg);
	} else if (level == SONDE_LOG_WARN) {
		nwarnings++;
		snprintf(last_err, sizeof(last_err), "%s", msg);
	}
}

static const struct sonde_gadget_image image = {.name = "test"};

/* Runs a gadget with the given params (name, value pairs); returns the run's
 * result and the printed text in *out (caller frees). */
static int run_with(const char *const *params, char **out)
{
	struct sonde_gadget_ctx *ctx;
	int p[2], fd, err;
	char msg[256];

	*out = NULL;
	last_err[0] = 0;
	nerrors = nwarnings = 0;
	sonde_operator_unregister_all();
	sonde_operator_register(&src_operator);
	sonde_operator_register(&cli_operator);
	sonde_register_builtin_sinks(); /* what cli prints through */
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fd = p[1];
	ctx = sonde_gadget_ctx_new(&image);
	if (!ctx)
		return -ENOMEM;
	err = sonde_gadget_instantiate(ctx);
	for (size_t i = 0; !err && params && params[i]; i += 2) {
		err = sonde_params_set(sonde_gadget_params(ctx), params[i], params[i + 1], msg, sizeof(msg));
		if (err)
			fprintf(stderr, "param %s: %s\n", params[i], msg);
	}
	if (!err)
		sonde_gadget_set_var(ctx, "cli.fd", &fd);
	sonde_log_set_sink(capture_log, NULL);
	if (!err)
		err = sonde_gadget_run(ctx, 5000000000LL);
	sonde_log_set_sink(NULL, NULL);
	sonde_gadget_ctx_free(ctx);
	close(p[1]);
	*out = read_all(p[0]);
	close(p[0]);
	return err;
}

static void reset_cfg(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.type = SONDE_DS_SINGLE;
	cfg.nrecs = 2;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* ---- tests ---- */

static void test_columns_default(void)
{
	char *out;

	reset_cfg();
	CHECK_INT(run_with(NULL, &out), 0);
	REQUIRE(out);
	CHECK(strncmp(out, "PROC             PROC.PID   PROC.COMM  ", 39) == 0);
	CHECK_INT(count(out, "PROC.PID"), 1); /* header once */
	CHECK_INT(count(out, "\n"), 3);
	CHECK(strstr(out, "\n<20 bytes>       100        bash ") != NULL);
	CHECK(strstr(out, "\n<20 bytes>       101        bash ") != NULL);
	CHECK(strstr(out, "\x1b[") == NULL); /* not a terminal: no clearing */
	free(out);

	/* no event at all: the header is still there, at start */
	cfg.nrecs = 0;
	CHECK_INT(run_with(NULL, &out), 0);
	REQUIRE(out);
	CHECK(strncmp(out, "PROC             PROC.PID   PROC.COMM  ", 39) == 0);
	CHECK_INT(count(out, "\n"), 1);
	free(out);
}

static void test_fields(void)
{
	static const char *const p1[] = {"operator.cli.fields", "name,proc.pid", NULL};
	static const char *const p2[] = {"operator.cli.fields", "events:name,-name,+secret", NULL};
	char *out;

	reset_cfg();
	CHECK_INT(run_with(p1, &out), 0);
	CHECK_STR(out, "NAME             PROC.PID\nhello            100\nhello            101\n");
	free(out);
	CHECK_INT(run_with(p2, &out), 0);
	CHECK_STR(out, "SECRET\ns3cret\ns3cret\n");
	free(out);
}

static void test_json_modes(void)
{
	static const char *const json[] = {"operator.cli.output", "json", NULL};
	static const char *const pretty[] = {"operator.cli.output", "jsonpretty", NULL};
	static const char *const per_ds[] = {"operator.cli.output", "events:json", NULL};
	char *out;

	reset_cfg();
	CHECK_INT(run_with(json, &out), 0);
	CHECK_INT(count(out, "\n"), 2);
	CHECK(strncmp(out, "{\"arr\":[1,-2,3],\"blob\":\"deadbeef\",", 34) == 0);
	CHECK(strstr(out, "\"pid\":100},") != NULL);
	CHECK(strstr(out, "\"u8\":255}\n{\"arr\"") != NULL);
	free(out);
	CHECK_INT(run_with(per_ds, &out), 0);
	CHECK_INT(count(out, "\n"), 2);
	CHECK(out[0] == '{');
	free(out);
	CHECK_INT(run_with(pretty, &out), 0);
	CHECK(strncmp(out, "{\n  \"arr\": [\n    1,\n", 20) == 0);
	CHECK(strstr(out, "\n  \"u8\": 255\n}\n{\n  \"arr\"") != NULL);
	free(out);
}

static void test_yaml_and_none(void)
{
	static const char *const yaml[] = {"o", "yaml", NULL};
	static const char *const none[] = {"operator.cli.output", "none", NULL};
	char *out;

	reset_cfg();
	CHECK_INT(run_with(yaml, &out), 0);
	CHECK_INT(count(out, "---\n"), 2);
	CHECK(strncmp(out, "---\narr:\n- 1\n- -2\n- 3\nblob: deadbeef\n", 35) == 0);
	CHECK(strstr(out, "proc:\n  comm: bash\n  pid: 101\n") != NULL);
	free(out);
	CHECK_INT(run_with(none, &out), 0);
	CHECK_STR(out, "");
	free(out);
}

static void test_array_ds(void)
{
	static const char *const json[] = {"operator.cli.output", "json", NULL};
	static const char *const yaml[] = {"operator.cli.output", "yaml", NULL};
	static const char *const cols[] = {"operator.cli.fields", "proc.pid", NULL};
	char *out;

	reset_cfg();
	cfg.type = SONDE_DS_ARRAY;
	cfg.nrecs = 3;
	CHECK_INT(run_with(json, &out), 0);
	CHECK_INT(count(out, "\n"), 1);
	CHECK(strncmp(out, "[{\"arr\"", 7) == 0);
	CHECK_INT(count(out, "\"pid\""), 3);
	CHECK(strstr(out, "}]\n") != NULL);
	free(out);
	CHECK_INT(run_with(yaml, &out), 0);
	CHECK_INT(count(out, "---\n"), 3);
	free(out);
	CHECK_INT(run_with(cols, &out), 0);
	CHECK_STR(out, "PROC.PID\n100\n101\n102\n");
	free(out);
	cfg.nrecs = 0; /* an empty packet: header only / [] */
	CHECK_INT(run_with(cols, &out), 0);
	CHECK_STR(out, "PROC.PID\n");
	free(out);
	CHECK_INT(run_with(json, &out), 0);
	CHECK_STR(out, "[]\n");
	free(out);
}

static void test_ds_annotations(void)
{
	static const char *const def_json[] = {"cli.default-output-mode", "json", NULL};
	static const char *const only_yaml[] = {"cli.supported-output-modes", "yaml, json", NULL};
	static const char *const custom[] = {"cli.supported-output-modes", "histogram", NULL};
	static const char *const columns[] = {"operator.cli.output", "columns", NULL};
	static const char *const histo[] = {"operator.cli.output", "other:histogram,none", NULL};
	char *out;

	reset_cfg();
	cfg.ds_ann = def_json;
	CHECK_INT(run_with(NULL, &out), 0);
	CHECK(out[0] == '{');
	free(out);
	/* an explicit mode wins over the default */
	CHECK_INT(run_with(columns, &out), 0);
	CHECK(strncmp(out, "PROC ", 5) == 0);
	free(out);
	/* no columns among the supported modes: the first in lexical order */
	cfg.ds_ann = only_yaml;
	CHECK_INT(run_with(NULL, &out), 0);
	CHECK(out[0] == '{');
	free(out);
	/* an unsupported mode skips the DataSource with a warning */
	CHECK_INT(run_with(columns, &out), 0);
	CHECK_STR(out, "");
	CHECK_INT(nwarnings, 1);
	CHECK(strstr(last_err, "\"columns\" is not supported by data source \"events\"") != NULL);
	free(out);
	/* a custom mode prints the record's strings as they are */
	cfg.ds_ann = NULL;
	cfg.second_ds = true;
	cfg.second_ann = custom;
	CHECK_INT(run_with(histo, &out), 0);
	CHECK_STR(out, "line one\nline two\n");
	free(out);
}

static void test_errors(void)
{
	static const char *const bad_mode[] = {"operator.cli.output", "xml", NULL};
	static const char *const bad_ds[] = {"operator.cli.output", "nope:json", NULL};
	static const char *const bad_field[] = {"operator.cli.fields", "name,nope", NULL};
	static const char *const bad_fields_ds[] = {"operator.cli.fields", "nope:name", NULL};
	static const char *const two[] = {"operator.cli.output", "json,yaml", NULL};
	char *out;

	reset_cfg();
	CHECK_INT(run_with(bad_mode, &out), -EINVAL);
	CHECK_STR(last_err,
	          "cli: unknown output mode \"xml\" (use columns, json, jsonpretty, yaml, none or pcap-ng)");
	CHECK_STR(out, "");
	free(out);
	CHECK_INT(run_with(bad_ds, &out), -EINVAL);
	CHECK(strstr(last_err, "unknown data source \"nope\"") != NULL);
	free(out);
	CHECK_INT(run_with(bad_field, &out), -EINVAL);
	CHECK(strstr(last_err, "unknown field \"nope\"") != NULL);
	CHECK_INT(nerrors, 1);
	free(out);
	CHECK_INT(run_with(bad_fields_ds, &out), -EINVAL);
	CHECK(strstr(last_err, "unknown data source \"nope\"") != NULL);
	free(out);
	CHECK_INT(run_with(two, &out), -EINVAL);
	free(out);
}

/* Two DataSources in columns mode share an unprefixed field list: each keeps
 * the names it has; a name neither has is an error. */
static void test_two_datasources(void)
{
	static const char *const shared[] = {"operator.cli.fields", "name,text", NULL};
	static const char *const unknown[] = {"operator.cli.fields", "name,nope", NULL};
	static const char *const modes[] = {"operator.cli.output", "events:none,other:json", NULL};
	char *out;

	reset_cfg();
	cfg.nrecs = 1;
	cfg.second_ds = true;
	CHECK_INT(run_with(shared, &out), 0);
	CHECK(strstr(out, "NAME\nhello\n") != NULL);
	CHECK(strstr(out, "TEXT\nline one\\nline …\n") != NULL);
	free(out);
	CHECK_INT(run_with(unknown, &out), -EINVAL);
	CHECK(strstr(last_err, "unknown field \"nope\"") != NULL);
	free(out);
	CHECK_INT(run_with(modes, &out), 0);
	CHECK_STR(out, "{\"text\":\"line one\\nline two\\n\"}\n");
	free(out);
}

static void test_requested_fields(void)
{
	static const char *const cols[] = {"operator.cli.fields", "name", NULL};
	static const char *const json[] = {"operator.cli.output", "json", NULL};
	char *out;

	reset_cfg();
	CHECK_INT(run_with(cols, &out), 0);
	CHECK(req_name);
	CHECK(!req_secret);
	CHECK(!req_pid);
	free(out);
	CHECK_INT(run_with(json, &out), 0);
	CHECK(req_name);
	CHECK(req_secret);
	CHECK(req_pid);
	CHECK(!req_skipme);
	free(out);
}

/* On a terminal: widths fit its width, clear-screen-before is honoured. */
static void test_tty(void)
{
	static const char *const ann[] = {"cli.clear-screen-before", "true", NULL};
	static const char *const p[] = {"operator.cli.fields", "proc.pid,name", NULL};
	struct sonde_gadget_ctx *ctx;
	struct winsize ws = {.ws_row = 24, .ws_col = 40};
	struct termios tio;
	int master, slave;
	char msg[256], *out;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	REQUIRE(master >= 0);
	REQUIRE(grantpt(master) == 0 && unlockpt(master) == 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY);
	REQUIRE(slave >= 0);
	tcgetattr(slave, &tio);
	cfmakeraw(&tio);
	tcsetattr(slave, TCSANOW, &tio);
	ioctl(slave, TIOCSWINSZ, &ws);

	reset_cfg();
	cfg.type = SONDE_DS_ARRAY;
	cfg.ds_ann = ann;
	sonde_operator_unregister_all();
	sonde_operator_register(&src_operator);
	sonde_operator_register(&cli_operator);
	sonde_register_builtin_sinks(); /* what cli prints through */
	ctx = sonde_gadget_ctx_new(&image);
	REQUIRE(ctx);
	REQUIRE(sonde_gadget_instantiate(ctx) == 0);
	REQUIRE(sonde_params_set(sonde_gadget_params(ctx), p[0], p[1], msg, sizeof(msg)) == 0);
	sonde_gadget_set_var(ctx, "cli.fd", &slave);
	CHECK_INT(sonde_gadget_run(ctx, 5000000000LL), 0);
	sonde_gadget_ctx_free(ctx);
	fcntl(master, F_SETFL, O_NONBLOCK);
	out = read_all(master);
	/* 10 + 16 configured, scaled to 15 + 24 (+ 1 separator) = 40 */
	CHECK_STR(out, "\033[H\033[2JPROC.PID        NAME\n"
	               "100             hello\n"
	               "101             hello\n");
	free(out);
	close(slave);
	close(master);
}

/* A reader that goes away ends the run instead of killing the process. */
static void test_epipe_cancels(void)
{
	struct sonde_gadget_ctx *ctx;
	struct timespec t0, t1;
	int p[2], fd, err;
	double secs;

	signal(SIGPIPE, SIG_DFL);
	reset_cfg();
	cfg.forever = true;
	cfg.nrecs = 100;
	sonde_operator_unregister_all();
	sonde_operator_register(&src_operator);
	sonde_operator_register(&cli_operator);
	sonde_register_builtin_sinks(); /* what cli prints through */
	REQUIRE(pipe2(p, O_CLOEXEC) == 0);
	close(p[0]);
	fd = p[1];
	ctx = sonde_gadget_ctx_new(&image);
	REQUIRE(ctx);
	REQUIRE(sonde_gadget_instantiate(ctx) == 0);
	sonde_gadget_set_var(ctx, "cli.fd", &fd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = sonde_gadget_run(ctx, 10000000000LL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK_INT(err, 0);
	CHECK(secs < 5);
	sonde_gadget_ctx_free(ctx);
	close(p[1]);
}

/* "Get gadget info" instantiates and closes: nothing printed, nothing leaked. */
static void test_info_only(void)
{
	struct sonde_gadget_ctx *ctx;

	reset_cfg();
	sonde_operator_unregister_all();
	sonde_operator_register(&src_operator);
	sonde_operator_register(&cli_operator);
	sonde_register_builtin_sinks(); /* what cli prints through */
	ctx = sonde_gadget_ctx_new(&image);
	REQUIRE(ctx);
	CHECK_INT(sonde_gadget_instantiate(ctx), 0);
	CHECK(sonde_params_find(sonde_gadget_params(ctx), "operator.cli.output") != NULL);
	CHECK(sonde_params_find(sonde_gadget_params(ctx), "operator.cli.fields") != NULL);
	{
		bool amb = false;
		struct sonde_param *o = sonde_params_find_key(sonde_gadget_params(ctx), "o", &amb);

		CHECK(o != NULL);
		if (o)
			CHECK_STR(sonde_param_value(o), "columns");
	}
	sonde_gadget_ctx_free(ctx);
}

/* A sink registered next to the built-in ones: `-o count` finds it, it sees
 * every record and writes through the writer the cli gives it. */
struct counter {
	struct sonde_outbuf *ob;
	struct sonde_field *pid;
	int opened, declared, records, closed;
};
static struct counter counter;

static int count_open(struct sonde_ds *ds, const struct sonde_sink_opts *opts, void **state)
{
	counter.ob = opts->env->out;
	counter.pid = sonde_ds_field(ds, "proc.pid");
	counter.opened++;
	CHECK(opts->fields == NULL); /* takes no selection */
	*state = &counter;
	return 0;
}

static void count_declare(void *state, struct sonde_ds *ds)
{
	counter.declared++;
	sonde_field_set_requested(counter.pid, true);
}

static void count_write(void *state, const struct sonde_record *rec)
{
	struct counter *c = state;

	c->records++;
	outbuf_puts(c->ob, "pid ");
	outbuf_put_u64(c->ob, sonde_field_uint32(c->pid, rec));
	outbuf_putc(c->ob, '\n');
}

static void count_close(void *state)
{
	((struct counter *)state)->closed++;
}

static void test_registered_sink(void)
{
	static const struct sonde_sink count_sink = {
	    .name = "count",
	    .open = count_open,
	    .declare = count_declare,
	    .write_record = count_write,
	    .close = count_close,
	};
	static const char *const params[] = {"operator.cli.output", "count", NULL};
	char *out;

	sonde_register_builtin_sinks();
	REQUIRE(sonde_sink_register(&count_sink) == 0);
	reset_cfg();
	memset(&counter, 0, sizeof(counter));
	CHECK_INT(run_with(params, &out), 0);
	CHECK_STR(out, "pid 100\npid 101\n");
	CHECK_INT(counter.opened, 1);
	CHECK_INT(counter.declared, 1);
	CHECK_INT(counter.records, 2);
	CHECK_INT(counter.closed, 1);
	CHECK(req_pid);
	CHECK(!req_name); /* only what the sink declared */
	free(out);
}

TEST_MAIN(TEST(test_columns_default), TEST(test_fields), TEST(test_json_modes), TEST(test_yaml_and_none),
          TEST(test_array_ds), TEST(test_ds_annotations), TEST(test_errors), TEST(test_two_datasources),
          TEST(test_requested_fields), TEST(test_tty), TEST(test_epipe_cancels), TEST(test_info_only),
          TEST(test_registered_sink))
