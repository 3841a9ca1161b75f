/* The filter operator: discards records that do not match the --filter rules. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "operators/filter.h"
#include "filter/pushdown.h"
#include "filter/rules.h"

#define PREFIX "operator.filter."

struct filter {
	struct sonde_gadget_ctx *ctx;
	bool single_param; /* `filter` exists: the gadget has one DataSource */
	size_t n;
	struct sonde_ds **dss;       /* referenced DataSources at instantiate */
	struct filter_rules **rules; /* per DataSource; NULL without rules */
};

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	return filter_rules_match(arg, rec) ? 0 : SONDE_DISCARD;
}

/* Keeps matching elements in order in one pass; the others move past the
 * end, where the array keeps them as spare records. */
static int on_array(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	size_t kept = 0;

	for (size_t i = 0; i < arr->len; i++) {
		struct sonde_record *rec = arr->recs[i];

		if (!filter_rules_match(arg, rec))
			continue;
		arr->recs[i] = arr->recs[kept];
		arr->recs[kept++] = rec;
	}
	arr->len = kept;
	return 0;
}

/* ---- hooks ---- */

static void filter_close(struct sonde_gadget_ctx *ctx, void *state)
{
	struct filter *f = state;

	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		filter_rules_free(f->rules[i]);
	free(f->rules);
	free(f->dss);
	free(f);
}

static int add_param(struct sonde_gadget_ctx *ctx, const char *key, const char *alias,
                     const char *description)
{
	struct sonde_param_desc desc = {.key = key, .alias = alias, .description = description};

	if (!sonde_params_add(sonde_gadget_params(ctx), PREFIX, &desc)) {
		sonde_err("filter: cannot declare param %s%s", PREFIX, key);
		return -EINVAL;
	}
	return 0;
}

#define RULES_HELP                                                                                           \
	"comma-separated rules that must all match: field==value, field!=value, field<value, "               \
	"field<=value, field>value, field>=value, field~regex, field!~regex (\\, for a comma in a value)"

static int filter_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct filter *f;
	size_t nds = sonde_gadget_nds(ctx);
	int err = 0;

	if (nds == 0)
		return 0; /* nothing to filter */
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->ctx = ctx;
	f->dss = calloc(nds, sizeof(*f->dss));
	f->rules = calloc(nds, sizeof(*f->rules));
	if (!f->dss || !f->rules) {
		filter_close(ctx, f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nds; i++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, i);

		if (sonde_ds_is_referenced(ds))
			f->dss[f->n++] = ds;
	}
	if (f->n == 1) {
		f->single_param = true;
		err = add_param(ctx, "filter", "F", "filter rules: " RULES_HELP);
	}
	for (size_t i = 0; i < f->n && !err; i++) {
		char key[256], description[512];

		snprintf(key, sizeof(key), "filter.%s", sonde_ds_name(f->dss[i]));
		snprintf(description, sizeof(description), "filter rules for data source \"%s\": " RULES_HELP,
		         sonde_ds_name(f->dss[i]));
		err = add_param(ctx, key, NULL, description);
	}
	if (err) {
		filter_close(ctx, f);
		return err;
	}
	*state = f;
	return 0;
}

/* Adds the rules of param `key` (unless empty) to *rules. */
static int add_rules(struct filter *f, struct sonde_ds *ds, const char *key, struct filter_rules **rules)
{
	char name[300], err[512];
	struct sonde_param *p;
	const char *spec;
	int r;

	snprintf(name, sizeof(name), PREFIX "%s", key);
	p = sonde_params_find(sonde_gadget_params(f->ctx), name);
	spec = p ? sonde_param_value(p) : "";
	if (!*spec)
		return 0;
	if (!*rules && !(*rules = filter_rules_new(ds))) {
		sonde_err("filter: out of memory");
		return -ENOMEM;
	}
	r = filter_rules_add(*rules, spec, err, sizeof(err));
	if (r)
		sonde_err("%s: %s", key, err);
	return r;
}

/* True if no operator writes these fields before the late filter stage: raw
 * eBPF fields, except timestamps (the formatters rewrite them in place). */
static bool early_safe(const struct filter_rules *rules)
{
	for (size_t j = 0; j < filter_rules_count(rules); j++) {
		const struct sonde_field *fl = filter_rule_field(rules, j);

		if (!sonde_field_has_tag(fl, "src:ebpf") || sonde_field_has_tag(fl, "type:gadget_timestamp"))
			return false;
	}
	return true;
}

static int filter_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct filter *f = state;
	int err = 0;

	for (size_t i = 0; i < f->n && !err; i++) {
		struct sonde_ds *ds = f->dss[i];
		char key[256];

		if (f->single_param)
			err = add_rules(f, ds, "filter", &f->rules[i]);
		snprintf(key, sizeof(key), "filter.%s", sonde_ds_name(ds));
		if (!err)
			err = add_rules(f, ds, key, &f->rules[i]);
	}
	for (size_t i = 0; i < f->n && !err; i++) {
		struct filter_rules *rules = f->rules[i];
		struct sonde_ds *ds = f->dss[i];
		int prio;

		if (!rules)
			continue;
		/* the rules consume their fields: enrichers must fill them */
		for (size_t j = 0; j < filter_rules_count(rules); j++) {
			char text[256];

			sonde_field_set_requested(filter_rule_field(rules, j), true);
			filter_rule_format(rules, j, text, sizeof(text));
			sonde_debug("filter: data source %s: rule %s", sonde_ds_name(ds), text);
		}
		/* rules on nothing but the producer's own fields run before any
		 * enricher, so a discarded record costs no formatting or lookups */
		prio = early_safe(rules) ? SONDE_PHASE_FILTER_EARLY : SONDE_PHASE_FILTER;
		if (sonde_ds_type(ds) == SONDE_DS_ARRAY)
			err = sonde_ds_subscribe_array(ds, on_array, rules, prio);
		else
			err = sonde_ds_subscribe(ds, on_record, rules, prio);
		if (err)
			sonde_err("filter: cannot subscribe to data source %s: %s", sonde_ds_name(ds),
			          strerror(-err));
	}
	if (!err)
		filter_pushdown(ctx, f->dss, f->rules, f->n);
	return err;
}

const struct sonde_operator filter_operator = {
    .name = "filter",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_FILTER,
    .instantiate = filter_instantiate,
    .pre_start = filter_pre_start,
    .close = filter_close,
};
