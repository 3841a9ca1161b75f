/* DataSources: field layout, payload slots, records, subscriptions and emission. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sonde/log.h>

#include "datasource_internal.h"

struct sonde_ds *sonde_ds_new(const char *name, enum sonde_ds_type type)
{
	struct sonde_ds *ds;

	if (!name || !*name || (type != SONDE_DS_SINGLE && type != SONDE_DS_ARRAY))
		return NULL;
	ds = calloc(1, sizeof(*ds));
	if (!ds)
		return NULL;
	ds->name = strdup(name);
	if (!ds->name) {
		free(ds);
		return NULL;
	}
	ds->type = type;
	ds->referenced = true;
	ds->array.ds = ds;
	return ds;
}

void sonde_ds_free(struct sonde_ds *ds)
{
	if (!ds)
		return;
	for (size_t i = 0; i < ds->nfields; i++)
		field_free(ds->fields[i]);
	free(ds->fields);
	kvlist_free(&ds->annotations);
	strlist_free(&ds->tags);
	free(ds->slots);
	free(ds->subs);
	record_free(ds->single);
	for (size_t i = 0; i < ds->array.cap; i++)
		record_free(ds->array.recs[i]);
	free(ds->array.recs);
	free(ds->name);
	free(ds);
}

const char *sonde_ds_name(const struct sonde_ds *ds)
{
	return ds->name;
}

enum sonde_ds_type sonde_ds_type(const struct sonde_ds *ds)
{
	return ds->type;
}

size_t sonde_ds_nfields(const struct sonde_ds *ds)
{
	return ds->nfields;
}

struct sonde_field *sonde_ds_field_at(const struct sonde_ds *ds, size_t index)
{
	return index < ds->nfields ? ds->fields[index] : NULL;
}

struct sonde_field *sonde_ds_field(const struct sonde_ds *ds, const char *full_name)
{
	if (!full_name)
		return NULL;
	for (size_t i = 0; i < ds->nfields; i++) {
		struct sonde_field *f = ds->fields[i];
		if (!(f->flags & SONDE_FIELD_UNREFERENCED) && strcmp(f->full_name, full_name) == 0)
			return f;
	}
	for (size_t i = 0; i < ds->nfields; i++) {
		struct sonde_field *f = ds->fields[i];
		if (!(f->flags & SONDE_FIELD_UNREFERENCED) && strcasecmp(f->full_name, full_name) == 0)
			return f;
	}
	return NULL;
}

size_t sonde_ds_fields_with_tag(const struct sonde_ds *ds, const char *tag, struct sonde_field **out,
                                size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < ds->nfields; i++) {
		struct sonde_field *f = ds->fields[i];
		if ((f->flags & SONDE_FIELD_UNREFERENCED) || !strlist_has(&f->tags, tag))
			continue;
		if (out && n < max)
			out[n] = f;
		n++;
	}
	return n;
}

struct sonde_field *sonde_ds_first_field_with_tag(const struct sonde_ds *ds, const char *tag)
{
	struct sonde_field *f = NULL;

	return sonde_ds_fields_with_tag(ds, tag, &f, 1) ? f : NULL;
}

int sonde_ds_add_annotation(struct sonde_ds *ds, const char *key, const char *value)
{
	return kvlist_set(&ds->annotations, key, value);
}

const char *sonde_ds_annotation(const struct sonde_ds *ds, const char *key)
{
	return kvlist_get(&ds->annotations, key);
}

size_t sonde_ds_nannotations(const struct sonde_ds *ds)
{
	return ds->annotations.len;
}

void sonde_ds_annotation_at(const struct sonde_ds *ds, size_t i, const char **key, const char **value)
{
	*key = i < ds->annotations.len ? ds->annotations.keys[i] : NULL;
	*value = i < ds->annotations.len ? ds->annotations.values[i] : NULL;
}

int sonde_ds_add_tag(struct sonde_ds *ds, const char *tag)
{
	return strlist_add_unique(&ds->tags, tag);
}

bool sonde_ds_has_tag(const struct sonde_ds *ds, const char *tag)
{
	return strlist_has(&ds->tags, tag);
}

void sonde_ds_unreference(struct sonde_ds *ds)
{
	ds->referenced = false;
}

bool sonde_ds_is_referenced(const struct sonde_ds *ds)
{
	return ds->referenced;
}

uint32_t sonde_ds_npayloads(const struct sonde_ds *ds)
{
	return (uint32_t)ds->nslots;
}

void sonde_ds_on_field_added(struct sonde_ds *ds, sonde_field_added_fn fn, void *arg)
{
	ds->on_field_added = fn;
	ds->on_field_added_arg = arg;
}

/* ---- layout ---- */

static int reserve_slot(struct sonde_ds *ds, uint32_t size, bool static_block, uint32_t *index)
{
	if (grow_array((void **)&ds->slots, &ds->slots_cap, ds->nslots + 1, sizeof(*ds->slots)))
		return -ENOMEM;
	ds->slots[ds->nslots].size = size;
	ds->slots[ds->nslots].static_block = static_block;
	*index = (uint32_t)ds->nslots++;
	return 0;
}

static int add_child(struct sonde_field *parent, struct sonde_field *child)
{
	if (grow_array((void **)&parent->children, &parent->children_cap, parent->nchildren + 1,
	               sizeof(*parent->children)))
		return -ENOMEM;
	parent->children[parent->nchildren++] = child;
	return 0;
}

static char *join_name(const struct sonde_field *parent, const char *name)
{
	char *s;

	if (!parent)
		return strdup(name);
	if (asprintf(&s, "%s.%s", parent->full_name, name) < 0)
		return NULL;
	return s;
}

static struct sonde_field *find_exact(const struct sonde_ds *ds, const char *full_name)
{
	for (size_t i = 0; i < ds->nfields; i++)
		if (strcmp(ds->fields[i]->full_name, full_name) == 0)
			return ds->fields[i];
	return NULL;
}

/* Creates a field, links it to its parent and appends it to the DataSource. */
static struct sonde_field *new_field(struct sonde_ds *ds, const char *name, enum sonde_kind kind,
                                     uint32_t flags, struct sonde_field *parent)
{
	struct sonde_field *f;

	if (ds->sealed) {
		sonde_err("datasource %s: cannot add field %s after the run started", ds->name, name);
		return NULL;
	}
	if (!name || !*name) {
		sonde_err("datasource %s: field without a name", ds->name);
		return NULL;
	}
	if (grow_array((void **)&ds->fields, &ds->fields_cap, ds->nfields + 1, sizeof(*ds->fields)))
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->name = strdup(name);
	f->full_name = join_name(parent, name);
	if (!f->name || !f->full_name || (parent && add_child(parent, f))) {
		field_free(f);
		return NULL;
	}
	if (find_exact(ds, f->full_name)) {
		sonde_err("datasource %s: duplicate field %s", ds->name, f->full_name);
		if (parent)
			parent->nchildren--;
		field_free(f);
		return NULL;
	}
	f->kind = kind;
	f->flags = flags | (parent ? SONDE_FIELD_HAS_PARENT : 0);
	f->parent = parent;
	f->ds = ds;
	f->index = (uint32_t)ds->nfields;
	f->payload_index = NO_PAYLOAD;
	ds->fields[ds->nfields++] = f;
	return f;
}

static int add_tags_annotations(struct sonde_field *f, const char *const *tags, const char *const *ann)
{
	for (size_t i = 0; tags && tags[i]; i++)
		if (strlist_add_unique(&f->tags, tags[i]))
			return -ENOMEM;
	for (size_t i = 0; ann && ann[i] && ann[i + 1]; i += 2)
		if (kvlist_set(&f->annotations, ann[i], ann[i + 1]))
			return -ENOMEM;
	return 0;
}

static void notify_added(struct sonde_ds *ds, struct sonde_field *f)
{
	if (ds->on_field_added)
		ds->on_field_added(ds, f, ds->on_field_added_arg);
	if (kvlist_get(&f->annotations, "columns.hidden") &&
	    strcmp(kvlist_get(&f->annotations, "columns.hidden"), "true") == 0)
		f->flags |= SONDE_FIELD_HIDDEN;
}

int sonde_ds_add_static_fields(struct sonde_ds *ds, uint32_t total_size,
                               const struct sonde_static_field *members, size_t n, struct sonde_field **out)
{
	struct sonde_field **made;
	uint32_t slot;
	size_t first = ds->nfields;
	int err;

	if (ds->sealed)
		return -EBUSY;
	made = calloc(n ? n : 1, sizeof(*made));
	if (!made)
		return -ENOMEM;
	err = reserve_slot(ds, total_size, true, &slot);
	if (err)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct sonde_static_field *m = &members[i];
		struct sonde_field *parent = NULL;

		if (m->parent >= (int)i || (m->offset + (uint64_t)m->size > total_size)) {
			sonde_err("datasource %s: static field %s lies outside its block", ds->name,
			          m->name ? m->name : "?");
			err = -EINVAL;
			goto undo;
		}
		if (m->parent >= 0)
			parent = made[m->parent];
		made[i] = new_field(ds, m->name, m->kind, m->flags | SONDE_FIELD_STATIC_MEMBER, parent);
		if (!made[i]) {
			err = -EINVAL;
			goto undo;
		}
		made[i]->offset = m->offset;
		made[i]->size = m->size;
		made[i]->payload_index = slot;
		made[i]->order = 0;
		err = add_tags_annotations(made[i], m->tags, m->annotations);
		if (err)
			goto undo;
	}
	for (size_t i = 0; i < n; i++) {
		notify_added(ds, made[i]);
		if (out)
			out[i] = made[i];
	}
	goto out;
undo:
	/* Leave the DataSource as it was before the call. */
	while (ds->nfields > first) {
		struct sonde_field *f = ds->fields[--ds->nfields];
		if (f->parent)
			f->parent->nchildren--;
		field_free(f);
	}
	ds->nslots--;
out:
	free(made);
	return err;
}

struct sonde_field *sonde_ds_add_field(struct sonde_ds *ds, const char *name, enum sonde_kind kind,
                                       const struct sonde_field_opts *opts)
{
	struct sonde_field_opts o = {0};
	struct sonde_field *f;
	uint32_t size;

	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	if (o.parent && o.parent->ds != ds) {
		sonde_err("datasource %s: parent of %s belongs to another datasource", ds->name, name);
		return NULL;
	}
	f = new_field(ds, name, kind, o.flags & ~(uint32_t)SONDE_FIELD_STATIC_MEMBER, o.parent);
	if (!f)
		return NULL;
	f->order = o.has_order ? o.order : (int32_t)f->index;
	if (add_tags_annotations(f, o.tags, o.annotations))
		goto fail;
	if (!(f->flags & SONDE_FIELD_EMPTY)) {
		size = SONDE_KIND_IS_ARRAY(kind) || kind == SONDE_KIND_BYTES ? o.size : sonde_kind_size(kind);
		f->size = size;
		if (reserve_slot(ds, size, false, &f->payload_index))
			goto fail;
	}
	notify_added(ds, f);
	return f;
fail:
	ds->nfields--;
	if (f->parent)
		f->parent->nchildren--;
	field_free(f);
	return NULL;
}

/* ---- records ---- */

struct sonde_record *record_new(const struct sonde_ds *ds)
{
	struct record_impl *impl = calloc(1, sizeof(*impl));
	struct sonde_record *rec = impl ? &impl->pub : NULL;

	if (!rec)
		return NULL;
	rec->npayloads = (uint32_t)ds->nslots;
	rec->payloads = calloc(ds->nslots ? ds->nslots : 1, sizeof(*rec->payloads));
	if (!rec->payloads) {
		free(impl);
		return NULL;
	}
	for (size_t i = 0; i < ds->nslots; i++) {
		uint32_t size = ds->slots[i].size;
		if (!size)
			continue;
		rec->payloads[i].own = calloc(1, size);
		if (!rec->payloads[i].own) {
			record_free(rec);
			return NULL;
		}
		rec->payloads[i].cap = size;
	}
	record_reset(ds, rec);
	return rec;
}

void record_free(struct sonde_record *rec)
{
	if (!rec)
		return;
	for (uint32_t i = 0; i < rec->npayloads; i++)
		free(rec->payloads[i].own);
	free(rec->payloads);
	free((struct record_impl *)rec);
}

/* Points every slot back at its own storage. Added fixed-size values are zeroed;
 * static blocks keep their bytes (producers overwrite or re-point them). */
void record_reset(const struct sonde_ds *ds, struct sonde_record *rec)
{
	/* runs for every event: counts and arrays in locals (the stores below
	 * could alias them otherwise), small values zeroed inline */
	struct sonde_payload *p = rec->payloads;
	const struct payload_slot *slots = ds->slots;
	uint32_t n = rec->npayloads;

	record_aside_of(rec)->len = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t size = slots[i].size;

		p[i].data = p[i].own;
		p[i].len = size;
		if (!size || slots[i].static_block)
			continue;
		switch (size) {
		case 1:
			*(uint8_t *)p[i].own = 0;
			break;
		case 4:
			memset(p[i].own, 0, 4);
			break;
		case 8:
			memset(p[i].own, 0, 8);
			break;
		default:
			memset(p[i].own, 0, size);
		}
	}
}

int sonde_ds_seal(struct sonde_ds *ds)
{
	if (ds->sealed)
		return 0;
	if (ds->type == SONDE_DS_SINGLE) {
		ds->single = record_new(ds);
		if (!ds->single)
			return -ENOMEM;
	}
	ds->sealed = true;
	return 0;
}

bool sonde_ds_sealed(const struct sonde_ds *ds)
{
	return ds->sealed;
}

struct sonde_record *sonde_ds_record(struct sonde_ds *ds)
{
	if (!ds->sealed && sonde_ds_seal(ds))
		return NULL;
	if (!ds->single)
		return NULL;
	record_reset(ds, ds->single);
	return ds->single;
}

struct sonde_array *sonde_ds_array(struct sonde_ds *ds)
{
	if (ds->type != SONDE_DS_ARRAY || (!ds->sealed && sonde_ds_seal(ds)))
		return NULL;
	ds->array.len = 0;
	return &ds->array;
}

struct sonde_record *sonde_array_append(struct sonde_array *arr)
{
	struct sonde_record *rec;

	if (arr->len == arr->cap) {
		size_t old = arr->cap;
		if (grow_array((void **)&arr->recs, &arr->cap, arr->len + 1, sizeof(*arr->recs)))
			return NULL;
		for (size_t i = old; i < arr->cap; i++)
			arr->recs[i] = NULL;
	}
	if (!arr->recs[arr->len]) {
		arr->recs[arr->len] = record_new(arr->ds);
		if (!arr->recs[arr->len])
			return NULL;
	}
	rec = arr->recs[arr->len++];
	record_reset(arr->ds, rec);
	return rec;
}

void sonde_array_remove(struct sonde_array *arr, size_t index)
{
	struct sonde_record *rec;

	if (index >= arr->len)
		return;
	rec = arr->recs[index];
	memmove(&arr->recs[index], &arr->recs[index + 1], (arr->len - index - 1) * sizeof(*arr->recs));
	/* keep the record allocated as a spare past the end */
	arr->recs[--arr->len] = rec;
}

/* ---- subscriptions ---- */

static int add_subscription(struct sonde_ds *ds, sonde_record_fn rfn, sonde_array_fn afn, void *arg,
                            int priority)
{
	size_t pos;

	if (grow_array((void **)&ds->subs, &ds->subs_cap, ds->nsubs + 1, sizeof(*ds->subs)))
		return -ENOMEM;
	/* ascending priority, ties in registration order */
	pos = ds->nsubs;
	while (pos > 0 && ds->subs[pos - 1].priority > priority)
		pos--;
	memmove(&ds->subs[pos + 1], &ds->subs[pos], (ds->nsubs - pos) * sizeof(*ds->subs));
	ds->subs[pos] = (struct subscription){priority, rfn, afn, arg};
	ds->nsubs++;
	return 0;
}

int sonde_ds_subscribe(struct sonde_ds *ds, sonde_record_fn fn, void *arg, int priority)
{
	return fn ? add_subscription(ds, fn, NULL, arg, priority) : -EINVAL;
}

int sonde_ds_subscribe_array(struct sonde_ds *ds, sonde_array_fn fn, void *arg, int priority)
{
	if (!fn || ds->type != SONDE_DS_ARRAY)
		return -EINVAL;
	return add_subscription(ds, NULL, fn, arg, priority);
}

bool sonde_ds_has_subscribers(const struct sonde_ds *ds)
{
	return ds->nsubs > 0;
}

int sonde_ds_emit(struct sonde_ds *ds, struct sonde_record *rec)
{
	for (size_t i = 0; i < ds->nsubs; i++) {
		const struct subscription *s = &ds->subs[i];
		int r;

		if (!s->record_fn)
			continue;
		r = s->record_fn(ds, rec, s->arg);
		if (r == SONDE_DISCARD)
			return 0;
		if (r < 0)
			return r;
	}
	return 0;
}

int sonde_ds_emit_array(struct sonde_ds *ds, struct sonde_array *arr)
{
	for (size_t i = 0; i < ds->nsubs; i++) {
		const struct subscription *s = &ds->subs[i];
		int r;

		if (s->array_fn) {
			r = s->array_fn(ds, arr, s->arg);
			if (r == SONDE_DISCARD)
				return 0;
			if (r < 0)
				return r;
			continue;
		}
		for (size_t j = 0; j < arr->len;) {
			r = s->record_fn(ds, arr->recs[j], s->arg);
			if (r < 0)
				return r;
			if (r == SONDE_DISCARD)
				sonde_array_remove(arr, j);
			else
				j++;
		}
	}
	return 0;
}

void sonde_ds_report_lost(struct sonde_ds *ds, uint64_t n)
{
	ds->lost += n;
}

uint64_t sonde_ds_lost(const struct sonde_ds *ds)
{
	return ds->lost;
}
