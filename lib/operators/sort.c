/* The sort operator: orders the elements of Array packets by --sort keys. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "core/trim.h"
#include "core/ds_spec.h"
#include "operators/sort.h"
#include "util/array.h"

#define RUN 16 /* insertion-sorted run length of the merge sort */

enum key_type {
	KEY_INT,
	KEY_UINT,
	KEY_FLOAT32,
	KEY_FLOAT64,
	KEY_STRING,
};

struct sort_key {
	struct sonde_field *field;
	enum key_type type;
	uint32_t size;
	bool descending;
};

struct sort_ds {
	struct sonde_ds *ds;
	struct sort_key *keys;
	size_t nkeys;
	struct sonde_record **tmp; /* merge scratch, grown to the largest packet */
	size_t tmp_cap;
};

struct sort {
	struct sonde_gadget_ctx *ctx;
	struct sort_ds *dss; /* referenced Array DataSources */
	size_t n;
};

/* ---- comparing ---- */

static uint64_t read_raw(const struct sort_key *k, const struct sonde_record *rec)
{
	uint32_t len = 0;
	const void *p = sonde_field_get(k->field, rec, &len);
	uint64_t v = 0;

	if (p && len >= k->size)
		memcpy(&v, p, k->size); /* little endian host */
	return v;
}

static int compare_key(const struct sort_key *k, const struct sonde_record *a, const struct sonde_record *b)
{
	switch (k->type) {
	case KEY_INT: {
		unsigned shift = 64 - k->size * 8;
		int64_t x = (int64_t)(read_raw(k, a) << shift) >> shift;
		int64_t y = (int64_t)(read_raw(k, b) << shift) >> shift;

		return (x > y) - (x < y);
	}
	case KEY_UINT: {
		uint64_t x = read_raw(k, a), y = read_raw(k, b);

		return (x > y) - (x < y);
	}
	case KEY_FLOAT32:
	case KEY_FLOAT64: {
		double x = k->type == KEY_FLOAT32 ? sonde_field_float32(k->field, a)
		                                  : sonde_field_float64(k->field, a);
		double y = k->type == KEY_FLOAT32 ? sonde_field_float32(k->field, b)
		                                  : sonde_field_float64(k->field, b);

		/* NaN sorts after every number, so the order stays total */
		if (isnan(x) || isnan(y))
			return isnan(x) - isnan(y);
		return (x > y) - (x < y);
	}
	case KEY_STRING: {
		uint32_t lx, ly;
		const char *x = sonde_field_string(k->field, a, &lx);
		const char *y = sonde_field_string(k->field, b, &ly);
		uint32_t n = lx < ly ? lx : ly;
		int c = n ? memcmp(x, y, n) : 0;

		if (c)
			return c < 0 ? -1 : 1;
		return (lx > ly) - (lx < ly);
	}
	}
	return 0;
}

/* Lexicographic over the keys: the same order as stable sorts from the last
 * key to the first. */
static int compare(const struct sort_ds *s, const struct sonde_record *a, const struct sonde_record *b)
{
	for (size_t i = 0; i < s->nkeys; i++) {
		int c = compare_key(&s->keys[i], a, b);

		if (c)
			return s->keys[i].descending ? -c : c;
	}
	return 0;
}

static void insertion_sort(const struct sort_ds *s, struct sonde_record **a, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct sonde_record *rec = a[i];
		size_t j = i;

		for (; j > 0 && compare(s, a[j - 1], rec) > 0; j--)
			a[j] = a[j - 1];
		a[j] = rec;
	}
}

/* Stable bottom-up merge sort: runs of RUN by insertion, then merges that
 * take from the left run on ties. */
static void merge_sort(const struct sort_ds *s, struct sonde_record **a, size_t n, struct sonde_record **tmp)
{
	struct sonde_record **src = a, **dst = tmp, **swap;

	for (size_t lo = 0; lo < n; lo += RUN)
		insertion_sort(s, a + lo, n - lo < RUN ? n - lo : RUN);
	for (size_t width = RUN; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
			size_t i = lo, j = mid, k = lo;

			while (i < mid && j < hi)
				dst[k++] = compare(s, src[j], src[i]) < 0 ? src[j++] : src[i++];
			while (i < mid)
				dst[k++] = src[i++];
			while (j < hi)
				dst[k++] = src[j++];
		}
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != a)
		memcpy(a, src, n * sizeof(*a));
}

static int on_array(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct sort_ds *s = arg;

	if (arr->len < 2)
		return 0;
	if (arr->len > RUN && grow_array((void **)&s->tmp, &s->tmp_cap, arr->len, sizeof(*s->tmp))) {
		sonde_err("sort: out of memory sorting %zu elements of %s", arr->len, sonde_ds_name(ds));
		return -ENOMEM;
	}
	merge_sort(s, arr->recs, arr->len, s->tmp);
	return 0;
}

/* ---- params ---- */

static int key_type(enum sonde_kind kind, enum key_type *out)
{
	switch (kind) {
	case SONDE_KIND_INT8:
	case SONDE_KIND_INT16:
	case SONDE_KIND_INT32:
	case SONDE_KIND_INT64:
		*out = KEY_INT;
		return 0;
	case SONDE_KIND_UINT8:
	case SONDE_KIND_UINT16:
	case SONDE_KIND_UINT32:
	case SONDE_KIND_UINT64:
		*out = KEY_UINT;
		return 0;
	case SONDE_KIND_FLOAT32:
		*out = KEY_FLOAT32;
		return 0;
	case SONDE_KIND_FLOAT64:
		*out = KEY_FLOAT64;
		return 0;
	case SONDE_KIND_STRING:
	case SONDE_KIND_CSTRING:
		*out = KEY_STRING;
		return 0;
	default:
		return -EINVAL;
	}
}

/* A formatted field sorts by the value it was made from: "4.4 MB" comes
 * before "12 MB" by size, not by text. Formatters make `f` from `f_raw`. */
static struct sonde_field *raw_value_of(struct sonde_ds *ds, struct sonde_field *f)
{
	enum sonde_kind kind = sonde_field_kind(f), raw_kind;
	struct sonde_field *raw;
	char name[256];

	if (kind != SONDE_KIND_STRING && kind != SONDE_KIND_CSTRING)
		return f;
	snprintf(name, sizeof(name), "%s_raw", sonde_field_full_name(f));
	raw = sonde_ds_field(ds, name);
	if (!raw)
		return f;
	raw_kind = sonde_field_kind(raw);
	return raw_kind == SONDE_KIND_STRING || raw_kind == SONDE_KIND_CSTRING ||
	               SONDE_KIND_IS_ARRAY(raw_kind) || raw_kind == SONDE_KIND_BYTES
	           ? f
	           : raw;
}

/* Sets the keys of `s` from "f1,-f2". */
static int set_keys(struct sort_ds *s, char *list)
{
	char *save = NULL, *tok;
	size_t cap = 0;

	if (s->nkeys) {
		sonde_err("sort: data source \"%s\" is given twice", sonde_ds_name(s->ds));
		return -EINVAL;
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *name = trim_blanks(tok);
		bool descending = *name == '-';
		struct sort_key k = {.descending = descending};
		enum sonde_kind kind;

		if (descending)
			name = trim_blanks(name + 1);
		if (!*name)
			continue;
		k.field = sonde_ds_field(s->ds, name);
		if (!k.field) {
			sonde_err("sort: unknown field \"%s\" in data source \"%s\"", name,
			          sonde_ds_name(s->ds));
			return -EINVAL;
		}
		k.field = raw_value_of(s->ds, k.field);
		kind = sonde_field_kind(k.field);
		if ((sonde_field_flags(k.field) & (SONDE_FIELD_EMPTY | SONDE_FIELD_CONTAINER)) ||
		    key_type(kind, &k.type)) {
			sonde_err("sort: field \"%s\" (%s) cannot be used for sorting; use numeric or string "
			          "fields",
			          name, SONDE_KIND_IS_ARRAY(kind) ? "array" : sonde_kind_name(kind));
			return -EINVAL;
		}
		k.size = sonde_kind_size(kind);
		if (grow_array((void **)&s->keys, &cap, s->nkeys + 1, sizeof(*s->keys)))
			return -ENOMEM;
		s->keys[s->nkeys++] = k;
	}
	return 0;
}

static struct sort_ds *find_ds(struct sort *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(sonde_ds_name(st->dss[i].ds), name) == 0)
			return &st->dss[i];
	return NULL;
}

static int set_keys_from(struct sort_ds *s, const char *value)
{
	char *list = strdup(value);
	int err = list ? set_keys(s, list) : -ENOMEM;

	free(list);
	return err;
}

/* "f1,-f2" for every Array DataSource or "ds:f1,f2;ds2:f3". */
static int parse_spec(struct sort *st, const char *spec)
{
	struct ds_spec ds;
	int err = ds_spec_parse(spec, ';', &ds);

	if (err) {
		sonde_err("sort: out of memory");
		return err;
	}
	if (ds.nprefixed && ds.nplain) {
		sonde_err("sort: \"%s\" mixes fields with and without a data source; use \"ds:f1,f2;ds2:f3\"",
		          spec);
		err = -EINVAL;
	} else if (ds.nplain > 1) {
		sonde_err(
		    "sort: \"%s\" has several field lists; name their data sources: \"ds:f1,f2;ds2:f3\"",
		    spec);
		err = -EINVAL;
	}
	for (size_t i = 0; i < ds.n && !err; i++) {
		const struct ds_spec_part *part = &ds.parts[i];
		struct sort_ds *s;

		if (!part->ds) {
			for (size_t j = 0; j < st->n && !err; j++)
				err = set_keys_from(&st->dss[j], part->value);
			continue;
		}
		s = find_ds(st, part->ds);
		if (!s) {
			ds_spec_report_bad_ds(st->ctx, "sort", part->ds, spec);
			err = -EINVAL;
			break;
		}
		err = set_keys_from(s, part->value);
	}
	ds_spec_free(&ds);
	if (err == -ENOMEM)
		sonde_err("sort: out of memory");
	return err;
}

/* ---- hooks ---- */

static void sort_close(struct sonde_gadget_ctx *ctx, void *state)
{
	struct sort *st = state;

	if (!st)
		return;
	for (size_t i = 0; i < st->n; i++) {
		free(st->dss[i].keys);
		free(st->dss[i].tmp);
	}
	free(st->dss);
	free(st);
}

static const struct sonde_param_desc sort_param = {
    .key = "sort",
    .description = "sort array data sources by fields: \"f1,-f2\" (a '-' sorts descending); per data "
                   "source \"ds:f1,f2;ds2:f3\"",
};

static int sort_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct sort *st = NULL;
	struct sonde_param *p;
	const char *dflt;

	for (size_t i = 0; i < sonde_gadget_nds(ctx); i++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, i);

		if (sonde_ds_type(ds) != SONDE_DS_ARRAY || !sonde_ds_is_referenced(ds))
			continue;
		if (!st) {
			st = calloc(1, sizeof(*st));
			if (st)
				st->dss = calloc(sonde_gadget_nds(ctx), sizeof(*st->dss));
			if (!st || !st->dss) {
				sort_close(ctx, st);
				return -ENOMEM;
			}
			st->ctx = ctx;
		}
		st->dss[st->n++].ds = ds;
	}
	if (!st)
		return 0; /* no array: nothing to sort */
	p = sonde_params_add(sonde_gadget_params(ctx), "operator.sort.", &sort_param);
	if (!p) {
		sonde_err("sort: cannot declare param operator.sort.sort");
		sort_close(ctx, st);
		return -EINVAL;
	}
	/* the gadget's own default order (gadget.yaml operator.sort.sort), as top's by CPU */
	dflt = sonde_config_scalar(
	    sonde_config_path(sonde_gadget_config(ctx), "operator", "sort", "sort", NULL));
	if (dflt && sonde_param_set_default(p, dflt)) {
		sonde_err("sort: invalid default order \"%s\" in the gadget's operator.sort.sort", dflt);
		sort_close(ctx, st);
		return -EINVAL;
	}
	*state = st;
	return 0;
}

static int sort_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct sort *st = state;
	struct sonde_param *p = sonde_params_find(sonde_gadget_params(ctx), "operator.sort.sort");
	const char *spec = p ? sonde_param_value(p) : "";
	int err = *spec ? parse_spec(st, spec) : 0;

	for (size_t i = 0; i < st->n && !err; i++) {
		struct sort_ds *s = &st->dss[i];

		if (!s->nkeys)
			continue;
		for (size_t j = 0; j < s->nkeys; j++)
			sonde_field_set_requested(s->keys[j].field, true);
		sonde_debug("sort: data source %s: %zu key(s)", sonde_ds_name(s->ds), s->nkeys);
		err = sonde_ds_subscribe_array(s->ds, on_array, s, SONDE_PHASE_SORT);
	}
	return err;
}

const struct sonde_operator sort_operator = {
    .name = "sort",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_SORT,
    .instantiate = sort_instantiate,
    .pre_start = sort_pre_start,
    .close = sort_close,
};
