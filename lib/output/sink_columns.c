/* The columns sink: a table with a header (see columns.h for the layout).
 * The header is written before the first record, before every packet of an
 * array DataSource, and at start when this is the only DataSource printed;
 * each header fits the widths to the terminal as it is then. */
#include <errno.h>
#include <stdlib.h>

#include "output/columns.h"
#include "output/sinks.h"

struct csink {
	struct sonde_ds *ds;
	const struct sonde_sink_env *env;
	const char *clear;
	struct columns *cols;
	bool header_done;
};

static int columns_open(struct sonde_ds *ds, const struct sonde_sink_opts *opts, void **state)
{
	struct csink *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	*c = (struct csink){.ds = ds, .env = opts->env, .clear = opts->clear_screen};
	err = columns_new(ds, opts->fields, &c->cols);
	if (err) {
		free(c);
		return err;
	}
	*state = c;
	return 0;
}

static void columns_declare(void *state, struct sonde_ds *ds)
{
	struct csink *c = state;

	columns_request(c->cols);
}

static void header(struct csink *c)
{
	struct sonde_outbuf *ob = c->env->out;

	if (c->clear)
		outbuf_puts(ob, c->clear);
	columns_fit(c->cols, c->env->term_width ? c->env->term_width(c->env) : 0);
	columns_write_header(c->cols, ob);
}

static void columns_start(void *state)
{
	struct csink *c = state;

	if (sonde_ds_type(c->ds) != SONDE_DS_SINGLE)
		return;
	header(c);
	c->header_done = true;
}

static void columns_write_record(void *state, const struct sonde_record *rec)
{
	struct csink *c = state;

	if (!c->header_done) {
		header(c);
		c->header_done = true;
	}
	columns_write_row(c->cols, c->env->out, rec);
}

static void columns_write_array(void *state, const struct sonde_array *arr)
{
	struct csink *c = state;

	header(c);
	for (size_t i = 0; i < arr->len; i++)
		columns_write_row(c->cols, c->env->out, arr->recs[i]);
}

static void columns_close(void *state)
{
	struct csink *c = state;

	if (!c)
		return;
	columns_free(c->cols);
	free(c);
}

const struct sonde_sink columns_sink = {
    .name = "columns",
    .flags = SONDE_SINK_SELECTS_FIELDS,
    .open = columns_open,
    .declare = columns_declare,
    .start = columns_start,
    .write_record = columns_write_record,
    .write_array = columns_write_array,
    .close = columns_close,
};
