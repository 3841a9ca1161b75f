/* The json and jsonpretty sinks: one JSON object per line per record, one
 * JSON array per packet of an array DataSource (see json.h). */
#include <errno.h>
#include <stdlib.h>

#include "output/json.h"
#include "output/sinks.h"

struct jsink {
	struct sonde_outbuf *ob;
	struct json_plan *plan;
};

static int open_with(struct sonde_ds *ds, const struct sonde_sink_opts *opts, unsigned flags, void **state)
{
	struct jsink *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	if (sonde_ds_type(ds) == SONDE_DS_ARRAY)
		flags |= JSON_IN_ARRAY;
	j->ob = opts->env->out;
	j->plan = json_plan_new(ds, flags);
	if (!j->plan) {
		free(j);
		return -ENOMEM;
	}
	*state = j;
	return 0;
}

static int json_open(struct sonde_ds *ds, const struct sonde_sink_opts *opts, void **state)
{
	return open_with(ds, opts, 0, state);
}

static int jsonpretty_open(struct sonde_ds *ds, const struct sonde_sink_opts *opts, void **state)
{
	return open_with(ds, opts, JSON_PRETTY, state);
}

static void json_declare(void *state, struct sonde_ds *ds)
{
	struct jsink *j = state;

	json_plan_request(j->plan);
}

static void json_write_record(void *state, const struct sonde_record *rec)
{
	struct jsink *j = state;

	output_json_write_record(j->plan, j->ob, rec);
	outbuf_putc(j->ob, '\n');
}

static void json_write_array(void *state, const struct sonde_array *arr)
{
	struct jsink *j = state;

	output_json_write_array(j->plan, j->ob, arr);
	outbuf_putc(j->ob, '\n');
}

static void json_close(void *state)
{
	struct jsink *j = state;

	if (!j)
		return;
	json_plan_free(j->plan);
	free(j);
}

const struct sonde_sink json_sink = {
    .name = "json",
    .open = json_open,
    .declare = json_declare,
    .write_record = json_write_record,
    .write_array = json_write_array,
    .close = json_close,
};

const struct sonde_sink jsonpretty_sink = {
    .name = "jsonpretty",
    .open = jsonpretty_open,
    .declare = json_declare,
    .write_record = json_write_record,
    .write_array = json_write_array,
    .close = json_close,
};
