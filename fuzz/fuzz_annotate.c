/* --annotate ds[.field]:key=value (CLI flags, and remote requests to the
 * daemon) applied to a gadget's DataSources, then one record printed by the
 * cli sink, so hostile values of columns.width, columns.alias, template, ...
 * reach the writers that read them.
 *
 * Input: the first line is cli's --output (columns, json, yaml, "ds:mode"),
 * the second its --fields, the rest the --annotate value. The gadget has the
 * DataSource "open" (proc.comm, fname, a hidden field, a uint64) and "other". */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <sonde/sonde.h>

#include "operators/annotate.h"
#include "operators/cli.h"
#include "fuzz_input.h"

static struct sonde_ds *open_ds;
static struct sonde_field *fname, *comm, *secret, *count;

static int src_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct sonde_field_opts empty = {.sz = sizeof(empty), .flags = SONDE_FIELD_EMPTY};
	struct sonde_field_opts child = {.sz = sizeof(child)};
	struct sonde_field_opts hid = {.sz = sizeof(hid), .flags = SONDE_FIELD_HIDDEN};
	struct sonde_ds *other;
	struct sonde_field *proc;

	open_ds = sonde_gadget_add_ds(ctx, "open", SONDE_DS_SINGLE);
	other = sonde_gadget_add_ds(ctx, "other", SONDE_DS_SINGLE);
	if (!open_ds || !other)
		return -ENOMEM;
	proc = sonde_ds_add_field(open_ds, "proc", SONDE_KIND_INVALID, &empty);
	child.parent = proc;
	comm = proc ? sonde_ds_add_field(open_ds, "comm", SONDE_KIND_STRING, &child) : NULL;
	fname = sonde_ds_add_field(open_ds, "fname", SONDE_KIND_STRING, NULL);
	secret = sonde_ds_add_field(open_ds, "secret", SONDE_KIND_STRING, &hid);
	count = sonde_ds_add_field(open_ds, "count", SONDE_KIND_UINT64, NULL);
	if (!comm || !fname || !secret || !count || !sonde_ds_add_field(other, "x", SONDE_KIND_FLOAT64, NULL))
		return -ENOMEM;
	*state = &open_ds;
	return 0;
}

/* One record, then the run ends: the event loop is not what is fuzzed here. */
static int src_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct sonde_record *rec = sonde_ds_record(open_ds);
	static const char name[] = "/tmp/\xe2\x80\xa8quote\"\tnew\nline\xff\xfe and a long tail past eighty "
	                           "columns so that cutting, ellipsis and folding all have work to do";

	sonde_field_put_string(comm, rec, "cat", 3);
	sonde_field_put_string(fname, rec, name, sizeof(name) - 1);
	sonde_field_put_string(secret, rec, "h", 1);
	sonde_field_put_uint(count, rec, UINT64_MAX);
	sonde_ds_emit(open_ds, rec);
	sonde_gadget_cancel(ctx);
	return 0;
}

static const struct sonde_operator src_operator = {
    .name = "fuzzsrc",
    .priority = -2000000, /* instantiates before annotate, like an image operator */
    .instantiate = src_instantiate,
    .start = src_start,
};

static const struct sonde_gadget_image image = {.name = "fuzz"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int devnull = -1;
	struct sonde_gadget_ctx *ctx;
	const char *values[3] = {"", "", ""};
	static const char *const keys[3] = {"output", "fields", "annotate"};
	char *text, *rest, err[512];

	fuzz_init_once();
	if (devnull < 0) {
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		sonde_operator_unregister_all();
		sonde_operator_register(&src_operator);
		sonde_operator_register(&annotate_operator);
		sonde_operator_register(&cli_operator);
		sonde_register_builtin_sinks(); /* what cli prints through */
	}
	text = fuzz_cstring(data, len);
	if (!text)
		return 0;
	rest = text;
	for (size_t i = 0; i < 2 && rest; i++)
		values[i] = strsep(&rest, "\n");
	if (rest)
		values[2] = rest;
	ctx = sonde_gadget_ctx_new(&image);
	if (ctx && sonde_gadget_instantiate(ctx) == 0) {
		int r = 0;

		for (size_t i = 0; i < 3 && !r; i++)
			if (*values[i])
				r = sonde_params_set(sonde_gadget_params(ctx), keys[i], values[i], err,
				                     sizeof(err));
		sonde_gadget_set_var(ctx, "cli.fd", &devnull);
		if (!r)
			sonde_gadget_run(ctx, 1000000000LL);
	}
	sonde_gadget_ctx_free(ctx);
	free(text);
	return 0;
}
