/* The yaml sink: a `---` document per record (see yaml.h); the records of a
 * packet are documents one after the other. */
#include <errno.h>
#include <stdlib.h>

#include "output/sinks.h"
#include "output/yaml.h"

struct ysink {
	struct sonde_outbuf *ob;
	struct yaml_plan *plan;
};

static int yaml_open(struct sonde_ds *ds, const struct sonde_sink_opts *opts, void **state)
{
	struct ysink *y = calloc(1, sizeof(*y));

	if (!y)
		return -ENOMEM;
	y->ob = opts->env->out;
	y->plan = yaml_plan_new(ds);
	if (!y->plan) {
		free(y);
		return -ENOMEM;
	}
	*state = y;
	return 0;
}

static void yaml_declare(void *state, struct sonde_ds *ds)
{
	struct ysink *y = state;

	yaml_plan_request(y->plan);
}

static void yaml_write_record(void *state, const struct sonde_record *rec)
{
	struct ysink *y = state;

	output_yaml_write_record(y->plan, y->ob, rec);
}

static void yaml_close(void *state)
{
	struct ysink *y = state;

	if (!y)
		return;
	yaml_plan_free(y->plan);
	free(y);
}

const struct sonde_sink yaml_sink = {
    .name = "yaml",
    .open = yaml_open,
    .declare = yaml_declare,
    .write_record = yaml_write_record,
    .close = yaml_close,
};
