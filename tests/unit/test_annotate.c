/* The annotate operator: --annotate entries applied before the sinks look,
 * and clear errors for what does not exist. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <sonde/sonde.h>

#include "operators/annotate.h"
#include "operators/cli.h"
#include "testlib.h"

static struct sonde_ds *ds, *other;
static struct sonde_field *fname, *comm, *hidden;

static void emit(struct sonde_gadget_ctx *ctx, void *arg)
{
	struct sonde_record *rec = sonde_ds_record(ds);

	sonde_field_put_string(fname, rec, "/etc/hosts", 10);
	sonde_field_put_string(comm, rec, "cat", 3);
	sonde_field_put_string(hidden, rec, "h", 1);
	sonde_ds_emit(ds, rec);
	sonde_gadget_cancel(ctx);
}

static int src_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct sonde_field_opts empty = {.sz = sizeof(empty), .flags = SONDE_FIELD_EMPTY};
	struct sonde_field_opts child = {.sz = sizeof(child)};
	struct sonde_field_opts hid = {.sz = sizeof(hid), .flags = SONDE_FIELD_HIDDEN};
	struct sonde_field *proc;

	ds = sonde_gadget_add_ds(ctx, "open", SONDE_DS_SINGLE);
	other = sonde_gadget_add_ds(ctx, "other", SONDE_DS_SINGLE);
	if (!ds || !other)
		return -ENOMEM;
	proc = sonde_ds_add_field(ds, "proc", SONDE_KIND_INVALID, &empty);
	child.parent = proc;
	comm = proc ? sonde_ds_add_field(ds, "comm", SONDE_KIND_STRING, &child) : NULL;
	fname = sonde_ds_add_field(ds, "fname", SONDE_KIND_STRING, NULL);
	hidden = sonde_ds_add_field(ds, "secret", SONDE_KIND_STRING, &hid);
	if (!comm || !fname || !hidden || !sonde_ds_add_field(other, "x", SONDE_KIND_STRING, NULL))
		return -ENOMEM;
	sonde_ds_unreference(other); /* keep the cli output to "open" */
	*state = &ds;
	return 0;
}

static int src_start(struct sonde_gadget_ctx *ctx, void *state)
{
	int id = sonde_gadget_add_timer(ctx, 1000000, 1000000, emit, NULL);

	return id < 0 ? id : 0;
}

static const struct sonde_operator src_operator = {
    .name = "testsrc",
    .priority = -2000000, /* instantiates before annotate like an image operator */
    .instantiate = src_instantiate,
    .start = src_start,
};

static char last_err[512];
static int nerrors;

static void capture_log(enum sonde_log_level level, const char *msg, void *arg)
{
	if (level == SONDE_LOG_ERROR) {
		nerrors++;
		snprintf(last_err, sizeof(last_err), "%s", msg);
	}
}

static char *read_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	ssize_t n;

	while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (buf)
		buf[len] = 0;
	return buf;
}

static const struct sonde_gadget_image image = {.name = "test"};

/* Runs with --annotate `value` (NULL: not set); the cli output in *out, the
 * context kept in *ctxp for inspection when non-NULL. */
static int run(const char *value, char **out, struct sonde_gadget_ctx **ctxp)
{
	struct sonde_gadget_ctx *ctx;
	char msg[256];
	int p[2], fd, err;

	last_err[0] = 0;
	nerrors = 0;
	*out = NULL;
	sonde_operator_unregister_all();
	sonde_operator_register(&src_operator);
	sonde_operator_register(&annotate_operator);
	sonde_operator_register(&cli_operator);
	sonde_register_builtin_sinks(); /* what cli prints through */
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fd = p[1];
	ctx = sonde_gadget_ctx_new(&image);
	if (!ctx)
		return -ENOMEM;
	err = sonde_gadget_instantiate(ctx);
	if (!err && value)
		err = sonde_params_set(sonde_gadget_params(ctx), "annotate", value, msg, sizeof(msg));
	sonde_gadget_set_var(ctx, "cli.fd", &fd);
	sonde_log_set_sink(capture_log, NULL);
	if (!err)
		err = sonde_gadget_run(ctx, 5000000000LL);
	sonde_log_set_sink(NULL, NULL);
	close(p[1]);
	*out = read_all(p[0]);
	close(p[0]);
	if (ctxp)
		*ctxp = ctx;
	else
		sonde_gadget_ctx_free(ctx);
	return err;
}

static void test_param_declared(void)
{
	struct sonde_gadget_ctx *ctx;
	struct sonde_param *p;
	char *out;

	CHECK_INT(run(NULL, &out, &ctx), 0);
	p = sonde_params_find(sonde_gadget_params(ctx), "operator.annotate.annotate");
	REQUIRE(p);
	CHECK_STR(sonde_param_desc(p)->type_hint, "[]string");
	CHECK_STR(sonde_param_key(p), "annotate");
	/* without the param nothing changes */
	CHECK_STR(out, "PROC.COMM        FNAME\ncat              /etc/hosts\n");
	CHECK(sonde_field_annotation(fname, "columns.width") == NULL);
	sonde_gadget_ctx_free(ctx);
	free(out);
}

static void test_field_annotations_reach_cli(void)
{
	char *out;

	CHECK_INT(run("open.proc.comm:columns.width=30", &out, NULL), 0);
	CHECK_STR(out, "PROC.COMM                      FNAME\n"
	               "cat                            /etc/hosts\n");
	free(out);
	CHECK_INT(run("open.fname:columns.hidden=true, open.proc.comm:columns.alias=cmd", &out, NULL), 0);
	CHECK_STR(out, "CMD\ncat\n");
	free(out);
	/* a hidden field shown, keys case-insensitive */
	CHECK_INT(run("open.secret:Columns.Hidden=false,open.fname:COLUMNS.WIDTH=12", &out, NULL), 0);
	CHECK_STR(out, "PROC.COMM        FNAME        SECRET\ncat              /etc/hosts   h\n");
	free(out);
	/* a template expands */
	CHECK_INT(run("open.fname:template=timestamp", &out, NULL), 0);
	CHECK_STR(out, "PROC.COMM\ncat\n");
	free(out);
}

static void test_ds_annotations_and_escapes(void)
{
	struct sonde_gadget_ctx *ctx;
	char *out;

	CHECK_INT(run("open:cli.clear-screen-before=true,open:my.list=a\\,b\\,c,open.fname:description=x=y:z",
	              &out, &ctx),
	          0);
	CHECK_STR(sonde_ds_annotation(ds, "cli.clear-screen-before"), "true");
	CHECK_STR(sonde_ds_annotation(ds, "my.list"), "a,b,c");
	/* the value is everything after the first '=' */
	CHECK_STR(sonde_field_annotation(fname, "description"), "x=y:z");
	/* not a terminal: no clearing even when asked */
	CHECK(out && strstr(out, "\033[") == NULL);
	sonde_gadget_ctx_free(ctx);
	free(out);
	/* empty entries are ignored */
	CHECK_INT(run(" , open:k=v ,,", &out, &ctx), 0);
	CHECK_STR(sonde_ds_annotation(ds, "k"), "v");
	sonde_gadget_ctx_free(ctx);
	free(out);
	/* an empty value is a value */
	CHECK_INT(run("open.fname:columns.alias=", &out, &ctx), 0);
	CHECK_STR(sonde_field_annotation(fname, "columns.alias"), "");
	sonde_gadget_ctx_free(ctx);
	free(out);
}

static void test_errors(void)
{
	static const struct {
		const char *value;
		int err;
		const char *msg;
	} cases[] = {
	    {"nope:cli.clear-screen-before=true", -ENOENT,
	     "unknown data source \"nope\" (this gadget has: open, other)"},
	    {"open.nofield:columns.width=5", -ENOENT, "data source \"open\" has no field \"nofield\""},
	    {"open.proc.nofield:columns.width=5", -ENOENT, "no field \"proc.nofield\""},
	    {"open.fname=5", -EINVAL, "invalid entry \"open.fname=5\""},
	    {"open.fname:columns.width", -EINVAL, "invalid entry \"open.fname:columns.width\""},
	    {"open:=x", -EINVAL, "must not be empty"},
	    {":k=v", -EINVAL, "must not be empty"},
	    {"open.:k=v", -EINVAL, "must not be empty"},
	    {"open.fname:template=nosuch", -EINVAL, "unknown template \"nosuch\""},
	    /* a good entry before a bad one is not applied either */
	    {"open.fname:columns.width=40,bad:k=v", -ENOENT, "\"bad\""},
	};
	char *out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = run(cases[i].value, &out, NULL);

		if (err != cases[i].err || nerrors != 1 || !strstr(last_err, cases[i].msg)) {
			fprintf(stderr, "--annotate %s: err %d (want %d), %d errors, last \"%s\"\n",
			        cases[i].value, err, cases[i].err, nerrors, last_err);
			test_failures++;
		}
		/* nothing printed: the run stopped before start */
		CHECK(out && !*out);
		free(out);
	}
	{
		struct sonde_gadget_ctx *ctx;

		CHECK_INT(run("open.fname:columns.width=40,bad:k=v", &out, &ctx), -ENOENT);
		CHECK(sonde_field_annotation(fname, "columns.width") == NULL);
		sonde_gadget_ctx_free(ctx);
		free(out);
	}
}

TEST_MAIN(TEST(test_param_declared), TEST(test_field_annotations_reach_cli),
          TEST(test_ds_annotations_and_escapes), TEST(test_errors))
