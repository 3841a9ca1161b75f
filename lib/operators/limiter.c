/* The limiter operator: truncates Array packets to --max-entries elements. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "core/ds_spec.h"
#include "operators/limiter.h"

#define PARAM "operator.limiter.max-entries"

struct limit {
	struct sonde_ds *ds;
	long max; /* -1: no limit */
	bool given;
};

struct limiter {
	struct sonde_gadget_ctx *ctx;
	struct limit *limits; /* referenced Array DataSources */
	size_t n;
};

/* Dropped elements stay past the end as the array's spare records. */
static int on_array(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	const struct limit *l = arg;

	if (arr->len > (size_t)l->max)
		arr->len = (size_t)l->max;
	return 0;
}

static int parse_count(const char *spec, const char *s, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < -1) {
		sonde_err("limiter: invalid max-entries \"%s\" in \"%s\": use -1 (no limit) or a count >= 0",
		          s, spec);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static struct limit *find_limit(struct limiter *lim, const char *name)
{
	for (size_t i = 0; i < lim->n; i++)
		if (strcmp(sonde_ds_name(lim->limits[i].ds), name) == 0)
			return &lim->limits[i];
	return NULL;
}

/* "N" for every Array DataSource or "ds:N,ds2:M". */
static int parse_spec(struct limiter *lim, const char *spec)
{
	struct ds_spec ds;
	int err = ds_spec_parse(spec, ',', &ds);

	if (err)
		return err;
	if (ds.nplain > 1 || (ds.nplain && ds.nprefixed)) {
		sonde_err("limiter: max-entries \"%s\": give one count, or \"ds:N,ds2:M\" per data source "
		          "(not both)",
		          spec);
		err = -EINVAL;
	}
	for (size_t i = 0; i < ds.n && !err; i++) {
		const struct ds_spec_part *part = &ds.parts[i];
		struct limit *l;
		long v = 0; /* parse_count sets it on success; gcc -O3 cannot see that */

		if (!part->ds) {
			err = parse_count(spec, part->value, &v);
			for (size_t j = 0; j < lim->n && !err; j++)
				lim->limits[j] = (struct limit){lim->limits[j].ds, v, true};
			continue;
		}
		l = find_limit(lim, part->ds);
		if (!l) {
			ds_spec_report_bad_ds(lim->ctx, "limiter", part->ds, spec);
			err = -EINVAL;
		} else if (l->given) {
			sonde_err("limiter: data source \"%s\" is given twice in \"%s\"", part->ds, spec);
			err = -EINVAL;
		} else {
			err = parse_count(spec, part->value, &v);
			*l = (struct limit){l->ds, v, true};
		}
	}
	ds_spec_free(&ds);
	return err;
}

/* ---- hooks ---- */

static void limiter_close(struct sonde_gadget_ctx *ctx, void *state)
{
	struct limiter *lim = state;

	if (!lim)
		return;
	free(lim->limits);
	free(lim);
}

static const struct sonde_param_desc max_entries_param = {
    .key = "max-entries",
    .description = "keep at most this many elements per packet of array data sources (-1: all); per "
                   "data source \"ds:N,ds2:M\"",
    .default_value = "-1",
};

static int limiter_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct limiter *lim = NULL;

	for (size_t i = 0; i < sonde_gadget_nds(ctx); i++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, i);

		if (sonde_ds_type(ds) != SONDE_DS_ARRAY || !sonde_ds_is_referenced(ds))
			continue;
		if (!lim) {
			lim = calloc(1, sizeof(*lim));
			if (lim)
				lim->limits = calloc(sonde_gadget_nds(ctx), sizeof(*lim->limits));
			if (!lim || !lim->limits) {
				limiter_close(ctx, lim);
				return -ENOMEM;
			}
			lim->ctx = ctx;
		}
		lim->limits[lim->n++] = (struct limit){ds, -1, false};
	}
	if (!lim)
		return 0; /* no array: nothing to limit */
	if (!sonde_params_add(sonde_gadget_params(ctx), "operator.limiter.", &max_entries_param)) {
		sonde_err("limiter: cannot declare param " PARAM);
		limiter_close(ctx, lim);
		return -EINVAL;
	}
	*state = lim;
	return 0;
}

static int limiter_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct limiter *lim = state;
	struct sonde_param *p = sonde_params_find(sonde_gadget_params(ctx), PARAM);
	int err = parse_spec(lim, p ? sonde_param_value(p) : "");

	for (size_t i = 0; i < lim->n && !err; i++) {
		struct limit *l = &lim->limits[i];

		if (l->max < 0)
			continue;
		sonde_debug("limiter: data source %s: at most %ld entries", sonde_ds_name(l->ds), l->max);
		err = sonde_ds_subscribe_array(l->ds, on_array, l, SONDE_PHASE_LIMIT);
	}
	return err;
}

const struct sonde_operator limiter_operator = {
    .name = "limiter",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_LIMIT,
    .instantiate = limiter_instantiate,
    .pre_start = limiter_pre_start,
    .close = limiter_close,
};
