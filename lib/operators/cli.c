/* The cli operator: writes every referenced DataSource through the sink of
 * its output mode (see cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <sonde/gadget.h>
#include <sonde/log.h>
#include <sonde/sink.h>

#include "core/trim.h"
#include "operators/cli.h"
#include "core/ds_spec.h"
#include "output/outbuf.h"
#include "output/sinks.h"
#include "util/list.h"

#define CLEAR_SCREEN "\033[H\033[2J"

struct cli_ds {
	struct cli *cli;
	struct sonde_ds *ds;
	const struct sonde_sink *sink;
	void *state;
	char *fields; /* selection for a sink that takes one; NULL: its default */
};

struct cli {
	struct sonde_gadget_ctx *ctx;
	struct sonde_outbuf ob;
	struct sonde_sink_env env;
	bool ob_ready;
	int fd;
	bool tty;
	bool failed; /* output broke; the run was cancelled */
	struct cli_ds *dss;
	size_t ndss;
};

/* ---- output ---- */

/* Widths follow the terminal as it is now (it may have been resized). */
static int term_width(const struct sonde_sink_env *env)
{
	const struct cli *cli = env->arg;
	struct winsize ws;

	if (cli->tty && ioctl(cli->fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 0;
}

/* After writing: a broken output cancels the run once. */
static void check_output(struct cli *cli)
{
	if (cli->failed || !outbuf_error(&cli->ob))
		return;
	cli->failed = true;
	/* ETIMEDOUT: the run was already stopping, the writer said why */
	if (outbuf_error(&cli->ob) != -EPIPE && outbuf_error(&cli->ob) != -ETIMEDOUT)
		sonde_err("cli: cannot write the output; stopping");
	sonde_gadget_cancel(cli->ctx);
}

static void flush(struct cli *cli)
{
	if (!cli->ob_ready)
		return;
	for (size_t i = 0; i < cli->ndss; i++)
		if (cli->dss[i].sink && cli->dss[i].sink->flush)
			cli->dss[i].sink->flush(cli->dss[i].state);
	outbuf_flush(&cli->ob);
	check_output(cli);
}

static void on_idle(struct sonde_gadget_ctx *ctx, void *arg)
{
	flush(arg);
}

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct cli_ds *d = arg;

	if (d->cli->failed)
		return 0;
	d->sink->write_record(d->state, rec);
	check_output(d->cli);
	return 0;
}

static int on_array(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct cli_ds *d = arg;

	if (d->cli->failed)
		return 0;
	if (d->sink->write_array) {
		d->sink->write_array(d->state, arr);
	} else {
		for (size_t i = 0; i < arr->len; i++)
			d->sink->write_record(d->state, arr->recs[i]);
	}
	check_output(d->cli);
	return 0;
}

/* ---- params ---- */

/* Whether `mode` is in the comma list `list` (or a registered sink when NULL). */
static bool supports(const char *list, const char *mode)
{
	if (!list)
		return sonde_sink_find(mode) != NULL;
	return util_list_has(list, mode, false);
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
		tok = trim_blanks(tok);
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

static void unknown_mode(const char *mode)
{
	char names[256];

	sonde_sink_names(names, sizeof(names));
	sonde_err("cli: unknown output mode \"%s\" (use %s)", mode, names);
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
			unknown_mode(part->value);
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
		char *name = trim_blanks(tok);

		if (*name == '+' || *name == '-')
			name = trim_blanks(name + 1);
		if (!*name || !sonde_ds_field(ds, name))
			continue;
		if (*out)
			strcat(out, ",");
		strcat(out, trim_blanks(tok));
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
		char *name = trim_blanks(tok);
		bool found = false;

		if (*name == '+' || *name == '-')
			name = trim_blanks(name + 1);
		if (!*name)
			continue;
		for (size_t i = 0; i < cli->ndss && !found; i++)
			found = (cli->dss[i].sink->flags & SONDE_SINK_SELECTS_FIELDS) &&
			        sonde_ds_field(cli->dss[i].ds, name);
		if (!found) {
			sonde_err("cli: unknown field \"%s\" in --fields", name);
			err = -EINVAL;
		}
	}
	free(copy);
	return err;
}

/* The sink of an output mode: a registered one, else the raw strings of a
 * mode only the DataSource knows. */
static const struct sonde_sink *sink_of(const char *mode)
{
	const struct sonde_sink *sink = sonde_sink_find(mode);

	return sink ? sink : &raw_sink;
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
			d->sink = &none_sink;
			continue;
		}
		d->sink = sink_of(mode);
	}
	return 0;
}

/* The --fields selection of every DataSource whose sink takes one. */
static int select_fields(struct cli *cli)
{
	bool set, shared_checked = false;
	const char *fields = param_value(cli->ctx, "operator.cli.fields", &set);
	size_t nselecting = 0;
	int err = 0;

	for (size_t i = 0; i < cli->ndss; i++)
		nselecting += (cli->dss[i].sink->flags & SONDE_SINK_SELECTS_FIELDS) != 0;
	for (size_t i = 0; i < cli->ndss && !err; i++) {
		struct cli_ds *d = &cli->dss[i];
		char *spec = NULL;
		bool global;

		if (!(d->sink->flags & SONDE_SINK_SELECTS_FIELDS))
			continue;
		err = fields_for(cli->ctx, fields, d->ds, &spec, &global);
		if (!err && spec && global && nselecting > 1) {
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
		d->fields = spec;
	}
	return err;
}

static int open_sink(struct cli_ds *d)
{
	if ((d->sink->flags & SONDE_SINK_BINARY) && d->cli->tty) {
		sonde_err("cli: output mode \"%s\" writes binary data: redirect the output to a file or "
		          "a pipe (\"> capture.pcapng\", \"| tcpdump -r -\")",
		          d->sink->name);
		return -EINVAL;
	}
	const char *clear = sonde_ds_annotation(d->ds, "cli.clear-screen-before");
	struct sonde_sink_opts opts = {
	    .env = &d->cli->env,
	    .fields = d->fields,
	    .clear_screen = d->cli->tty && clear && strcmp(clear, "true") == 0 ? CLEAR_SCREEN : NULL,
	};

	return d->sink->open ? d->sink->open(d->ds, &opts, &d->state) : 0;
}

static int subscribe(struct cli_ds *d)
{
	if (d->sink->declare)
		d->sink->declare(d->state, d->ds);
	if (!d->sink->write_record && !d->sink->write_array)
		return 0; /* prints nothing: no subscriber at all */
	if (sonde_ds_type(d->ds) == SONDE_DS_ARRAY)
		return sonde_ds_subscribe_array(d->ds, on_array, d, SONDE_PHASE_SINK);
	return d->sink->write_record ? sonde_ds_subscribe(d->ds, on_record, d, SONDE_PHASE_SINK) : 0;
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
	cli->env = (struct sonde_sink_env){.out = &cli->ob, .term_width = term_width, .arg = cli};
	err = choose_modes(cli);
	if (!err)
		err = select_fields(cli);
	for (size_t i = 0; i < cli->ndss && !err; i++)
		err = open_sink(&cli->dss[i]);
	if (!err) {
		err = outbuf_init(&cli->ob, cli->fd, 0);
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

/* With one DataSource its sink may show a preamble at once (a columns
 * header), so the user sees the gadget is running before the first event.
 * With several, each waits for its first record so a header stands right
 * above its rows. */
static int cli_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct cli *cli = state;
	struct cli_ds *d = cli->ndss == 1 ? &cli->dss[0] : NULL;

	if (d && d->sink->start) {
		d->sink->start(d->state);
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
		struct cli_ds *d = &cli->dss[i];

		if (d->state && d->sink->close)
			d->sink->close(d->state);
		free(d->fields);
	}
	free(cli->dss);
	if (cli->ob_ready)
		outbuf_fini(&cli->ob);
	free(cli);
}

static const struct sonde_param_desc cli_params[] = {
    {
        .key = "output",
        .alias = "o",
        .description = "output mode for all data sources (\"mode\") or per data source "
                       "(\"ds:mode,ds2:mode\"): columns, json, jsonpretty, yaml, none or pcap-ng",
        .default_value = "columns",
    },
    {
        .key = "fields",
        .description = "columns to show: \"f1,f2\" replaces the default list, \"+f\" / \"-f\" add or "
                       "remove; per data source \"ds:f1,f2;ds2:f3\"",
    },
};

const struct sonde_operator cli_operator = {
    .name = "cli",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_SINK,
    .instance_params = cli_params,
    .ninstance_params = sizeof(cli_params) / sizeof(cli_params[0]),
    .instantiate = cli_instantiate,
    .pre_start = cli_pre_start,
    .start = cli_start,
    .stop = cli_stop,
    .close = cli_close,
};
