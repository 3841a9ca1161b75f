/* The annotate operator: --annotate ds[.field]:key=value (see annotate.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "core/field_config.h"
#include "operators/annotate.h"

/* One parsed entry; the strings point into a private copy of the param. */
struct entry {
	const char *ds_name;
	const char *field_name; /* NULL: a DataSource annotation */
	const char *key;
	const char *value;
	struct sonde_ds *ds;
	struct sonde_field *field;
};

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = 0;
	return s;
}

/* Splits `buf` in place at unescaped commas, dropping the escapes; returns
 * the number of pieces written to `out` (at most max). */
static size_t split_entries(char *buf, char **out, size_t max)
{
	size_t n = 0;
	char *w = buf, *start = buf;

	for (char *r = buf;; r++) {
		if (*r == '\\' && (r[1] == ',' || r[1] == '\\')) {
			*w++ = *++r;
			continue;
		}
		if (*r == ',' || !*r) {
			bool last = !*r;

			*w = 0;
			if (n < max)
				out[n++] = start;
			if (last)
				break;
			start = w = r + 1;
			continue;
		}
		*w++ = *r;
	}
	return n;
}

static void list_ds_names(struct sonde_gadget_ctx *ctx, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = 0;
	for (size_t i = 0; i < sonde_gadget_nds(ctx) && len < outlen; i++)
		len += (size_t)snprintf(out + len, outlen - len, "%s%s", i ? ", " : "",
		                        sonde_ds_name(sonde_gadget_ds_at(ctx, i)));
}

static int parse_entry(struct sonde_gadget_ctx *ctx, char *s, struct entry *e)
{
	char *colon, *eq, *dot, names[256];

	colon = strchr(s, ':');
	eq = colon ? strchr(colon + 1, '=') : NULL;
	if (!colon || !eq) {
		sonde_err("annotate: invalid entry \"%s\": want ds:key=value or ds.field:key=value", s);
		return -EINVAL;
	}
	*colon = 0;
	*eq = 0;
	e->key = trim(colon + 1);
	e->value = eq + 1;
	dot = strchr(s, '.');
	if (dot) {
		*dot = 0;
		e->field_name = trim(dot + 1);
	}
	e->ds_name = trim(s);
	if (!*e->ds_name || !*e->key || (e->field_name && !*e->field_name)) {
		sonde_err("annotate: invalid entry \"%s%s%s:%s=%s\": data source, field and key must not be "
		          "empty",
		          e->ds_name, e->field_name ? "." : "", e->field_name ? e->field_name : "", e->key,
		          e->value);
		return -EINVAL;
	}
	for (char *k = (char *)e->key; *k; k++)
		*k = (char)tolower((unsigned char)*k);
	e->ds = sonde_gadget_ds(ctx, e->ds_name);
	if (!e->ds) {
		list_ds_names(ctx, names, sizeof(names));
		sonde_err("annotate: unknown data source \"%s\" (this gadget has: %s)", e->ds_name,
		          *names ? names : "none");
		return -ENOENT;
	}
	if (e->field_name) {
		e->field = sonde_ds_field(e->ds, e->field_name);
		if (!e->field) {
			sonde_err("annotate: data source \"%s\" has no field \"%s\"", e->ds_name,
			          e->field_name);
			return -ENOENT;
		}
	}
	if (!strcmp(e->key, "template") && e->field && !template_annotations(e->value)) {
		sonde_err("annotate: unknown template \"%s\" for %s.%s", e->value, e->ds_name, e->field_name);
		return -EINVAL;
	}
	return 0;
}

static int apply(const struct entry *e)
{
	const char *const *tmpl;
	int err = 0;

	if (!e->field)
		return sonde_ds_add_annotation(e->ds, e->key, e->value);
	if (!strcmp(e->key, "template") && (tmpl = template_annotations(e->value)))
		for (size_t i = 0; tmpl[i] && !err; i += 2)
			err = sonde_field_set_annotation(e->field, tmpl[i], tmpl[i + 1]);
	return err ? err : sonde_field_set_annotation(e->field, e->key, e->value);
}

static int annotate_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	static int active; /* no state: the param is read in pre-start */

	*state = &active;
	return 0;
}

static int annotate_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct sonde_param *p = sonde_params_find(sonde_gadget_params(ctx), "operator.annotate.annotate");
	const char *value = p ? sonde_param_value(p) : "";
	size_t max = 1, n;
	char *copy, **pieces;
	struct entry *entries;
	int err = 0;

	if (!*value)
		return 0;
	for (const char *c = value; *c; c++)
		max += *c == ',';
	copy = strdup(value);
	pieces = calloc(max, sizeof(*pieces));
	entries = calloc(max, sizeof(*entries));
	if (!copy || !pieces || !entries) {
		err = -ENOMEM;
		goto out;
	}
	n = split_entries(copy, pieces, max);
	/* check everything first: a bad entry leaves nothing half applied */
	for (size_t i = 0; i < n && !err; i++) {
		char *s = trim(pieces[i]);

		if (*s)
			err = parse_entry(ctx, s, &entries[i]);
	}
	for (size_t i = 0; i < n && !err; i++)
		if (entries[i].ds)
			err = apply(&entries[i]);
out:
	if (err == -ENOMEM)
		sonde_err("annotate: out of memory");
	free(entries);
	free(pieces);
	free(copy);
	return err;
}

static const struct sonde_param_desc annotate_params[] = {
    {
        .key = "annotate",
        .description = "annotations for this run: \"ds:key=value\" for a data source, "
                       "\"ds.field:key=value\" for a field; comma-separated (\\, for a comma in a value)",
        .type_hint = "[]string",
    },
};

const struct sonde_operator annotate_operator = {
    .name = "annotate",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_ANNOTATE,
    .instance_params = annotate_params,
    .ninstance_params = sizeof(annotate_params) / sizeof(annotate_params[0]),
    .instantiate = annotate_instantiate,
    .pre_start = annotate_pre_start,
};
