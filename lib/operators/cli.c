/* The cli operator: prints every referenced DataSource in its output mode. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "core/trim.h"
#include "operators/cli.h"
#include "operators/ds_spec.h"
#include "output/columns.h"
#include "output/json.h"
#include "output/outbuf.h"
#include "output/yaml.h"

#define CLI_PRIORITY 10000
#define CLEAR_SCREEN "\033[H\033[2J"

enum mode {
	MODE_NONE,
	MODE_COLUMNS,
	MODE_JSON,
	MODE_JSONPRETTY,
	MODE_YAML,
	MODE_CUSTOM, /* a mode only a DataSource knows: print its strings raw */
};

static const char *const builtin_modes[] = {"columns", "json", "jsonpretty", "none", "yaml", NULL};

struct cli_ds {
	struct cli *cli;
	struct sonde_ds *ds;
	enum mode mode;
	struct sonde_columns *cols;
	struct sonde_json_plan *json;
	struct sonde_yaml_plan *yaml;
	bool header_done;
	bool clear; /* clear the screen before each packet / header */
};

struct cli {
	struct sonde_gadget_ctx *ctx;
	struct sonde_outbuf ob;
	bool ob_ready;
	int fd;
	bool tty;
	bool failed; /* output broke; the run was cancelled */
	struct cli_ds *dss;
	size_t ndss;
};

/* ---- output ---- */

static int term_width(int fd)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

/* After writing: a broken output cancels the run once. */
static void check_output(struct cli *cli)
{
	if (cli->failed || !sonde_outbuf_error(&cli->ob))
		return;
	cli->failed = true;
	if (sonde_outbuf_error(&cli->ob) != -EPIPE)
		sonde_err("cli: cannot write the output; stopping");
	sonde_gadget_cancel(cli->ctx);
}

static void flush(struct cli *cli)
{
	if (!cli->ob_ready)
		return;
	sonde_outbuf_flush(&cli->ob);
	check_output(cli);
}

static void on_idle(struct sonde_gadget_ctx *ctx, void *arg)
{
	flush(arg);
}

static void columns_header(struct cli_ds *d)
{
	struct sonde_outbuf *ob = &d->cli->ob;

	if (d->clear)
		sonde_outbuf_puts(ob, CLEAR_SCREEN);
	/* widths follow the terminal as it is now (it may have been resized) */
	sonde_columns_fit(d->cols, d->cli->tty ? term_width(d->cli->fd) : 0);
	sonde_columns_write_header(d->cols, ob);
}

static void write_raw(struct cli_ds *d, const struct sonde_record *rec)
{
	struct sonde_outbuf *ob = &d->cli->ob;

	if (d->clear)
		sonde_outbuf_puts(ob, CLEAR_SCREEN);
	for (size_t i = 0; i < sonde_ds_nfields(d->ds); i++) {
		struct sonde_field *f = sonde_ds_field_at(d->ds, i);
		enum sonde_kind k = sonde_field_kind(f);
		const char *s;
		uint32_t len;

		if (sonde_field_flags(f) &
		    (SONDE_FIELD_UNREFERENCED | SONDE_FIELD_EMPTY | SONDE_FIELD_CONTAINER))
			continue;
		if (k != SONDE_KIND_STRING && k != SONDE_KIND_CSTRING)
			continue;
		s = sonde_field_string(f, rec, &len);
		sonde_outbuf_write(ob, s, len);
	}
}

static void write_record(struct cli_ds *d, const struct sonde_record *rec)
{
	struct sonde_outbuf *ob = &d->cli->ob;

	switch (d->mode) {
	case MODE_COLUMNS:
		if (!d->header_done) {
			columns_header(d);
			d->header_done = true;
		}
		sonde_columns_write_row(d->cols, ob, rec);
		break;
	case MODE_JSON:
	case MODE_JSONPRETTY:
		sonde_json_write_record(d->json, ob, rec);
		sonde_outbuf_putc(ob, '\n');
		break;
	case MODE_YAML:
		sonde_yaml_write_record(d->yaml, ob, rec);
		break;
	case MODE_CUSTOM:
		write_raw(d, rec);
		break;
	case MODE_NONE:
		break;
	}
}

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct cli_ds *d = arg;

	if (d->cli->failed)
		return 0;
	write_record(d, rec);
	check_output(d->cli);
	return 0;
}

static int on_array(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct cli_ds *d = arg;
	struct sonde_outbuf *ob = &d->cli->ob;

	if (d->cli->failed)
		return 0;
	switch (d->mode) {
	case MODE_COLUMNS:
		columns_header(d);
		for (size_t i = 0; i < arr->len; i++)
			sonde_columns_write_row(d->cols, ob, arr->recs[i]);
		break;
	case MODE_JSON:
	case MODE_JSONPRETTY:
		sonde_json_write_array(d->json, ob, arr);
		sonde_outbuf_putc(ob, '\n');
		break;
	default:
		for (size_t i = 0; i < arr->len; i++)
			write_record(d, arr->recs[i]);
		break;
	}
	check_output(d->cli);
	return 0;
}

/* ---- params ---- */

/* Whether `mode` is in the comma list `list` (or the default set when NULL). */
static bool supports(const char *list, const char *mode)
{
	const char *p = list;
	size_t n = strlen(mode);

	if (!list) {
		for (size_t i = 0; builtin_modes[i]; i++)
			if (strcmp(builtin_modes[i], mode) == 0)
				return true;
		return false;
	}
	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && memcmp(p, mode, n) == 0)
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

/* Default mode of a DataSource: its annotation, else columns, else its first
 * supported mode in lexical order (as upstream sorts the list). */
static int default_mode(struct sonde_ds *ds, char *out, size_t outlen)
{
	const char *list = sonde_ds_annotation(ds, "cli.supported-output-modes");
	const char *def = sonde_ds_annotation(ds, "cli.default-output-mode");
	char *copy, *save = NULL, *tok, *best = NULL;

	if (def && *def) {
		if (supports(list, def)) {
			snprintf(out, outlen, "%s", def);
			return 0;
		}
		sonde_warn(
		    "cli: default output mode \"%s\" of data source \"%s\" is not among its supported modes",
		    def, sonde_ds_name(ds));
	}
	if (supports(list, "columns")) {
		snprintf(out, outlen, "columns");
		return 0;
	}
	copy = strdup(list ? list : "");
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		tok = sonde_trim_blanks(tok);
		if (*tok && (!best || strcmp(tok, best) < 0))
			best = tok;
	}
	snprintf(out, outlen, "%s", best ? best : "none");
	free(copy);
	return 0;
}

static bool referenced_ds(struct sonde_gadget_ctx *ctx, const char *name)
{
	struct sonde_ds *ds = sonde_gadget_ds(ctx, name);

	return ds && sonde_ds_is_referenced(ds);
}

static bool known_mode(struct sonde_gadget_ctx *ctx, const char *mode)
{
	if (supports(NULL, mode))
		return true;
	for (size_t i = 0; i < sonde_gadget_nds(ctx); i++)
		if (supports(sonde_ds_annotation(sonde_gadget_ds_at(ctx, i), "cli.supported-output-modes"),
		             mode))
			return true;
	return false;
}

/* Mode requested for `ds` by the `output` value ("mode" or "ds:mode,ds2:mode");
 * *out is empty when the value says nothing about this DataSource. */
static int requested_mode(struct sonde_gadget_ctx *ctx, const char *value, struct sonde_ds *ds, char *out,
                          size_t outlen)
{
	const char *global = NULL;
	struct ds_spec spec;
	int err = ds_spec_parse(value, ',', &spec);

	*out = 0;
	for (size_t i = 0; i < spec.n && !err; i++) {
		const struct ds_spec_part *part = &spec.parts[i];

		err = -EINVAL;
		if (!*part->value)
			sonde_err("cli: --output \"%s\": missing mode", value);
		else if (!known_mode(ctx, part->value))
			sonde_err(
			    "cli: unknown output mode \"%s\" (use columns, json, jsonpretty, yaml or none)",
			    part->value);
		else if (part->ds && !referenced_ds(ctx, part->ds))
			sonde_err("cli: --output names unknown data source \"%s\"", part->ds);
		else if (!part->ds && global)
			sonde_err("cli: --output \"%s\" gives more than one mode for all data sources",
			          value);
		else
			err = 0;
		if (err)
			break;
		if (!part->ds)
			global = part->value;
		else if (strcmp(part->ds, sonde_ds_name(ds)) == 0)
			snprintf(out, outlen, "%s", part->value);
	}
	if (!err && !*out && global)
		snprintf(out, outlen, "%s", global);
	ds_spec_free(&spec);
	return err;
}

/* Field selection for `ds` from "f1,f2" or "ds:f1,f2;ds2:f3". *out is NULL
 * (default columns) or an allocated spec; *global says it came unprefixed. */
static int fields_for(struct sonde_gadget_ctx *ctx, const char *value, struct sonde_ds *ds, char **out,
                      bool *global)
{
	const char *mine = NULL, *all = NULL;
	struct ds_spec spec;
	int err = ds_spec_parse(value, ';', &spec);

	*out = NULL;
	*global = false;
	for (size_t i = 0; i < spec.n && !err; i++) {
		const struct ds_spec_part *part = &spec.parts[i];

		if (!part->ds) {
			all = part->value;
		} else if (!referenced_ds(ctx, part->ds)) {
			sonde_err("cli: --fields names unknown data source \"%s\"", part->ds);
			err = -EINVAL;
		} else if (strcmp(part->ds, sonde_ds_name(ds)) == 0) {
			mine = part->value;
		}
	}
	if (!err && (mine || all)) {
		*out = strdup(mine ? mine : all);
		*global = !mine;
		if (!*out)
			err = -ENOMEM;
	}
	ds_spec_free(&spec);
	return err;
}

/* An unprefixed field list shared by several DataSources: keep only the names
 * this one has (check_shared_spec makes sure each name exists somewhere). */
static char *filter_spec(struct sonde_ds *ds, const char *spec)
{
	char *copy = strdup(spec), *out = calloc(1, strlen(spec) + 1), *save = NULL, *tok;

	if (!copy || !out) {
		free(copy);
		free(out);
		return NULL;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *name = sonde_trim_blanks(tok);

		if (*name == '+' || *name == '-')
			name = sonde_trim_blanks(name + 1);
		if (!*name || !sonde_ds_field(ds, name))
			continue;
		if (*out)
			strcat(out, ",");
		strcat(out, sonde_trim_blanks(tok));
	}
	free(copy);
	return out;
}

/* For an unprefixed list with several columns DataSources: every name must
 * exist in at least one of them. */
static int check_shared_spec(struct cli *cli, const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		char *name = sonde_trim_blanks(tok);
		bool found = false;

		if (*name == '+' || *name == '-')
			name = sonde_trim_blanks(name + 1);
		if (!*name)
			continue;
		for (size_t i = 0; i < cli->ndss && !found; i++)
			found = cli->dss[i].mode == MODE_COLUMNS && sonde_ds_field(cli->dss[i].ds, name);
		if (!found) {
			sonde_err("cli: unknown field \"%s\" in --fields", name);
			err = -EINVAL;
		}
	}
	free(copy);
	return err;
}

static enum mode mode_of(const char *name)
{
	if (!strcmp(name, "columns"))
		return MODE_COLUMNS;
	if (!strcmp(name, "json"))
		return MODE_JSON;
	if (!strcmp(name, "jsonpretty"))
		return MODE_JSONPRETTY;
	if (!strcmp(name, "yaml"))
		return MODE_YAML;
	if (!strcmp(name, "none"))
		return MODE_NONE;
	return MODE_CUSTOM;
}

static const char *param_value(struct sonde_gadget_ctx *ctx, const char *name, bool *set)
{
	struct sonde_param *p = sonde_params_find(sonde_gadget_params(ctx), name);

	if (!p) {
		*set = false;
		return "";
	}
	*set = sonde_param_is_set(p);
	return sonde_param_value(p);
}

static int choose_modes(struct cli *cli)
{
	bool out_set;
	const char *output = param_value(cli->ctx, "operator.cli.output", &out_set);
	int err;

	/* the static default "columns" means "each DataSource's own default" */
	if (!out_set && strcmp(output, "columns") == 0)
		output = "";
	for (size_t i = 0; i < cli->ndss; i++) {
		struct cli_ds *d = &cli->dss[i];
		const char *list = sonde_ds_annotation(d->ds, "cli.supported-output-modes");
		char mode[64];

		err = requested_mode(cli->ctx, output, d->ds, mode, sizeof(mode));
		if (!err && !*mode)
			err = default_mode(d->ds, mode, sizeof(mode));
		if (err)
			return err;
		if (!supports(list, mode)) {
			sonde_warn(
			    "cli: output mode \"%s\" is not supported by data source \"%s\"; skipping it",
			    mode, sonde_ds_name(d->ds));
			d->mode = MODE_NONE;
			continue;
		}
		d->mode = mode_of(mode);
	}
	return 0;
}

static int build_columns(struct cli *cli)
{
	bool set, shared_checked = false;
	const char *fields = param_value(cli->ctx, "operator.cli.fields", &set);
	size_t ncolumns = 0;
	int err = 0;

	for (size_t i = 0; i < cli->ndss; i++)
		ncolumns += cli->dss[i].mode == MODE_COLUMNS;
	for (size_t i = 0; i < cli->ndss && !err; i++) {
		struct cli_ds *d = &cli->dss[i];
		char *spec = NULL;
		bool global;

		if (d->mode != MODE_COLUMNS)
			continue;
		err = fields_for(cli->ctx, fields, d->ds, &spec, &global);
		if (!err && spec && global && ncolumns > 1) {
			char *filtered;

			if (!shared_checked) {
				err = check_shared_spec(cli, spec);
				shared_checked = true;
			}
			filtered = err ? NULL : filter_spec(d->ds, spec);
			if (!err && !filtered)
				err = -ENOMEM;
			free(spec);
			spec = filtered;
		}
		if (!err)
			err = sonde_columns_new(d->ds, spec, &d->cols);
		free(spec);
	}
	return err;
}

static int subscribe(struct cli_ds *d)
{
	bool array = sonde_ds_type(d->ds) == SONDE_DS_ARRAY;
	const char *clear = sonde_ds_annotation(d->ds, "cli.clear-screen-before");

	d->clear = d->cli->tty && clear && strcmp(clear, "true") == 0;
	switch (d->mode) {
	case MODE_NONE:
		sonde_ds_declare_requests(d->ds); /* prints nothing: needs nothing */
		return 0;
	case MODE_COLUMNS:
		sonde_columns_request(d->cols);
		break;
	case MODE_JSON:
	case MODE_JSONPRETTY:
		d->json = sonde_json_plan_new(d->ds, (d->mode == MODE_JSONPRETTY ? SONDE_JSON_PRETTY : 0) |
		                                         (array ? SONDE_JSON_IN_ARRAY : 0));
		if (!d->json)
			return -ENOMEM;
		sonde_json_plan_request(d->json);
		break;
	case MODE_YAML:
		d->yaml = sonde_yaml_plan_new(d->ds);
		if (!d->yaml)
			return -ENOMEM;
		sonde_yaml_plan_request(d->yaml);
		break;
	case MODE_CUSTOM:
		for (size_t i = 0; i < sonde_ds_nfields(d->ds); i++) {
			struct sonde_field *f = sonde_ds_field_at(d->ds, i);
			enum sonde_kind k = sonde_field_kind(f);

			if (!(sonde_field_flags(f) & SONDE_FIELD_UNREFERENCED) &&
			    (k == SONDE_KIND_STRING || k == SONDE_KIND_CSTRING))
				sonde_field_set_requested(f, true);
		}
		break;
	}
	if (array)
		return sonde_ds_subscribe_array(d->ds, on_array, d, CLI_PRIORITY);
	return sonde_ds_subscribe(d->ds, on_record, d, CLI_PRIORITY);
}

/* ---- hooks ---- */

static int cli_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct cli *cli = calloc(1, sizeof(*cli));

	if (!cli)
		return -ENOMEM;
	cli->ctx = ctx;
	*state = cli;
	return 0;
}

static int cli_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct cli *cli = state;
	int *fdp = sonde_gadget_var(ctx, "cli.fd");
	int err;

	cli->fd = fdp ? *fdp : STDOUT_FILENO;
	cli->tty = isatty(cli->fd);
	cli->dss = calloc(sonde_gadget_nds(ctx) + 1, sizeof(*cli->dss));
	if (!cli->dss)
		return -ENOMEM;
	for (size_t i = 0; i < sonde_gadget_nds(ctx); i++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, i);

		if (!sonde_ds_is_referenced(ds))
			continue;
		cli->dss[cli->ndss++] = (struct cli_ds){.cli = cli, .ds = ds};
	}
	err = choose_modes(cli);
	if (!err)
		err = build_columns(cli);
	if (!err) {
		err = sonde_outbuf_init(&cli->ob, cli->fd, 0);
		cli->ob_ready = !err;
	}
	for (size_t i = 0; i < cli->ndss && !err; i++)
		err = subscribe(&cli->dss[i]);
	if (!err)
		err = sonde_gadget_on_idle(ctx, on_idle, cli);
	if (err == -ENOMEM)
		sonde_err("cli: out of memory");
	return err;
}

/* With one stream of single records, its header shows up at once so the user
 * sees the gadget is running before the first event. With several, each header
 * waits for its first record so it stands right above its rows. */
static int cli_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct cli *cli = state;
	struct cli_ds *d = cli->ndss == 1 ? &cli->dss[0] : NULL;

	if (d && d->mode == MODE_COLUMNS && sonde_ds_type(d->ds) == SONDE_DS_SINGLE) {
		columns_header(d);
		d->header_done = true;
		flush(cli);
	}
	return 0;
}

static int cli_stop(struct sonde_gadget_ctx *ctx, void *state)
{
	flush(state);
	return 0;
}

static void cli_close(struct sonde_gadget_ctx *ctx, void *state)
{
	struct cli *cli = state;

	if (!cli)
		return;
	flush(cli);
	for (size_t i = 0; i < cli->ndss; i++) {
		sonde_columns_free(cli->dss[i].cols);
		sonde_json_plan_free(cli->dss[i].json);
		sonde_yaml_plan_free(cli->dss[i].yaml);
	}
	free(cli->dss);
	if (cli->ob_ready)
		sonde_outbuf_fini(&cli->ob);
	free(cli);
}

static const struct sonde_param_desc cli_params[] = {
    {
        .key = "output",
        .alias = "o",
        .description = "output mode for all data sources (\"mode\") or per data source "
                       "(\"ds:mode,ds2:mode\"): columns, json, jsonpretty, yaml or none",
        .default_value = "columns",
    },
    {
        .key = "fields",
        .description = "columns to show: \"f1,f2\" replaces the default list, \"+f\" / \"-f\" add or "
                       "remove; per data source \"ds:f1,f2;ds2:f3\"",
    },
};

const struct sonde_operator sonde_cli_operator = {
    .name = "cli",
    .kind = SONDE_OP_DATA,
    .priority = CLI_PRIORITY,
    .instance_params = cli_params,
    .ninstance_params = sizeof(cli_params) / sizeof(cli_params[0]),
    .instantiate = cli_instantiate,
    .pre_start = cli_pre_start,
    .start = cli_start,
    .stop = cli_stop,
    .close = cli_close,
};
