/* Fields: metadata accessors and typed reads/writes of values in records. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "datasource_internal.h"

void field_free(struct sonde_field *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->full_name);
	free(f->children);
	strlist_free(&f->tags);
	kvlist_free(&f->annotations);
	free(f);
}

const char *sonde_field_name(const struct sonde_field *f)
{
	return f->name;
}

const char *sonde_field_full_name(const struct sonde_field *f)
{
	return f->full_name;
}

enum sonde_kind sonde_field_kind(const struct sonde_field *f)
{
	return f->kind;
}

uint32_t sonde_field_flags(const struct sonde_field *f)
{
	return f->flags;
}

uint32_t sonde_field_size(const struct sonde_field *f)
{
	return f->size;
}

uint32_t sonde_field_offset(const struct sonde_field *f)
{
	return f->offset;
}

uint32_t sonde_field_payload_index(const struct sonde_field *f)
{
	return f->payload_index;
}

uint32_t sonde_field_index(const struct sonde_field *f)
{
	return f->index;
}

int32_t sonde_field_order(const struct sonde_field *f)
{
	return f->order;
}

struct sonde_field *sonde_field_parent(const struct sonde_field *f)
{
	return f->parent;
}

size_t sonde_field_nchildren(const struct sonde_field *f)
{
	return f->nchildren;
}

struct sonde_field *sonde_field_child(const struct sonde_field *f, size_t i)
{
	return i < f->nchildren ? f->children[i] : NULL;
}

struct sonde_ds *sonde_field_ds(const struct sonde_field *f)
{
	return f->ds;
}

void sonde_field_set_flags(struct sonde_field *f, uint32_t flags, bool on)
{
	if (on)
		f->flags |= flags;
	else
		f->flags &= ~flags;
}

void sonde_field_set_hidden(struct sonde_field *f, bool hidden, bool recurse)
{
	sonde_field_set_flags(f, SONDE_FIELD_HIDDEN, hidden);
	if (recurse)
		for (size_t i = 0; i < f->nchildren; i++)
			sonde_field_set_hidden(f->children[i], hidden, true);
}

void sonde_field_unreference(struct sonde_field *f, bool recurse)
{
	f->flags |= SONDE_FIELD_UNREFERENCED;
	if (recurse)
		for (size_t i = 0; i < f->nchildren; i++)
			sonde_field_unreference(f->children[i], true);
}

int sonde_field_rename(struct sonde_field *f, const char *name)
{
	char *n1, *n2;

	if (f->parent || f->nchildren || !name || !*name || sonde_ds_field(f->ds, name))
		return -EINVAL;
	n1 = strdup(name);
	n2 = strdup(name);
	if (!n1 || !n2) {
		free(n1);
		free(n2);
		return -ENOMEM;
	}
	free(f->name);
	free(f->full_name);
	f->name = n1;
	f->full_name = n2;
	return 0;
}

int sonde_field_set_order(struct sonde_field *f, int32_t order)
{
	f->order = order;
	return 0;
}

int sonde_field_add_tag(struct sonde_field *f, const char *tag)
{
	return strlist_add_unique(&f->tags, tag);
}

bool sonde_field_has_tag(const struct sonde_field *f, const char *tag)
{
	return strlist_has(&f->tags, tag);
}

size_t sonde_field_ntags(const struct sonde_field *f)
{
	return f->tags.len;
}

const char *sonde_field_tag_at(const struct sonde_field *f, size_t i)
{
	return i < f->tags.len ? f->tags.items[i] : NULL;
}

int sonde_field_set_annotation(struct sonde_field *f, const char *key, const char *value)
{
	int err = kvlist_set(&f->annotations, key, value);

	if (!err && strcmp(key, "columns.hidden") == 0)
		sonde_field_set_flags(f, SONDE_FIELD_HIDDEN, value && strcmp(value, "true") == 0);
	return err;
}

const char *sonde_field_annotation(const struct sonde_field *f, const char *key)
{
	return kvlist_get(&f->annotations, key);
}

size_t sonde_field_nannotations(const struct sonde_field *f)
{
	return f->annotations.len;
}

void sonde_field_annotation_at(const struct sonde_field *f, size_t i, const char **key, const char **value)
{
	*key = i < f->annotations.len ? f->annotations.keys[i] : NULL;
	*value = i < f->annotations.len ? f->annotations.values[i] : NULL;
}

static void mark_requested_down(struct sonde_field *f, bool requested)
{
	f->requested = requested;
	for (size_t i = 0; i < f->nchildren; i++)
		mark_requested_down(f->children[i], requested);
}

void sonde_field_set_requested(struct sonde_field *f, bool requested)
{
	f->ds->request_declared = true;
	mark_requested_down(f, requested);
	if (requested)
		for (struct sonde_field *p = f->parent; p; p = p->parent)
			p->requested = true;
}

void sonde_ds_declare_requests(struct sonde_ds *ds)
{
	ds->request_declared = true;
}

bool sonde_field_is_requested(const struct sonde_field *f)
{
	return !f->ds->request_declared || f->requested;
}

/* ---- values ---- */

/* A foreign block (and the member written aside) copied into owned storage. */
static int materialize(const struct sonde_record *rec, uint32_t slot)
{
	struct sonde_payload *p = &rec->payloads[slot];
	const struct record_aside *a = record_aside(rec, slot);

	if (p->len > p->cap)
		return -EINVAL;
	memmove(p->own, p->data, p->len);
	p->data = p->own;
	if (a) {
		memcpy((char *)p->own + a->off, a->bytes, a->len);
		record_aside_of(rec)->len = 0;
	}
	return 0;
}

const void *sonde_field_get(const struct sonde_field *f, const struct sonde_record *rec, uint32_t *len)
{
	struct sonde_payload *p; /* the record's storage; the patch may be folded in below */

	if (f->payload_index >= rec->npayloads)
		return NULL;
	p = &rec->payloads[f->payload_index];
	if (!p->data)
		return NULL;
	if (f->flags & SONDE_FIELD_STATIC_MEMBER) {
		if ((uint64_t)f->offset + f->size > p->len)
			return NULL;
		const struct record_aside *a = record_aside(rec, f->payload_index);

		if (a) {
			if (f->offset == a->off && f->size == a->len) {
				if (len)
					*len = f->size;
				return a->bytes;
			}
			/* a read across the written member (its parent struct): the block as written */
			if (f->offset < (uint64_t)a->off + a->len && (uint64_t)f->offset + f->size > a->off &&
			    materialize(rec, f->payload_index))
				return NULL;
		}
		if (len)
			*len = f->size;
		return (const char *)p->data + f->offset;
	}
	if (len)
		*len = p->len;
	return p->data;
}

/* Makes the payload of a non-static field hold `len` bytes in owned storage. */
static void *owned_storage(struct sonde_payload *p, uint32_t len)
{
	if (len > p->cap) {
		uint32_t ncap = p->cap ? p->cap : 32;
		void *n;

		while (ncap < len)
			ncap = ncap > UINT32_MAX / 2 ? len : ncap * 2; /* no wrap to 0 */
		n = realloc(p->own, ncap);
		if (!n)
			return NULL;
		p->own = n;
		p->cap = ncap;
	}
	p->data = p->own;
	p->len = len;
	return p->own;
}

int sonde_field_set(const struct sonde_field *f, struct sonde_record *rec, const void *data, uint32_t len)
{
	struct sonde_payload *p;
	void *dst;

	if (f->payload_index >= rec->npayloads)
		return -EINVAL;
	p = &rec->payloads[f->payload_index];
	if (f->flags & SONDE_FIELD_STATIC_MEMBER) {
		bool is_string = f->kind == SONDE_KIND_CSTRING || f->kind == SONDE_KIND_STRING;

		if (!p->data || (uint64_t)f->offset + f->size > p->len)
			return -EINVAL;
		if (len > f->size || (!is_string && len != f->size))
			return -EINVAL;
		/* The block may be a read-only view of kernel memory. A small member
		 * goes aside (one per block): copying a 1 KiB event into owned storage
		 * to change 8 bytes of it cost more than the rest of the event's
		 * formatting. Anything else copies the block (and the patch) first. */
		if (p->data != p->own) {
			struct record_aside *a = record_aside_of(rec);
			const struct record_aside *mine = record_aside(rec, f->payload_index);

			if (f->size && f->size <= sizeof(a->bytes) &&
			    (mine ? mine->off == f->offset && mine->len == f->size
			          : !a->len || a->base != rec->payloads[a->slot].data)) {
				memcpy(a->bytes, data, len);
				memset(a->bytes + len, 0, f->size - len);
				a->base = p->data;
				a->slot = f->payload_index;
				a->off = f->offset;
				a->len = f->size;
				return 0;
			}
			if (materialize(rec, f->payload_index))
				return -EINVAL;
		}
		dst = (char *)p->data + f->offset;
		memcpy(dst, data, len);
		if (len < f->size)
			memset((char *)dst + len, 0, f->size - len);
		return 0;
	}
	if (f->size && len != f->size)
		return -EINVAL;
	dst = owned_storage(p, len);
	if (!dst && len)
		return -ENOMEM;
	if (len)
		memcpy(dst, data, len);
	return 0;
}

#define GETTER(fname, type)                                                                                  \
	type sonde_field_##fname(const struct sonde_field *f, const struct sonde_record *rec)                \
	{                                                                                                    \
		uint32_t len = 0;                                                                            \
		const void *v = sonde_field_get(f, rec, &len);                                               \
		type out = 0;                                                                                \
		if (v && len >= sizeof(type))                                                                \
			memcpy(&out, v, sizeof(type));                                                       \
		return out;                                                                                  \
	}

GETTER(int8, int8_t)
GETTER(int16, int16_t)
GETTER(int32, int32_t)
GETTER(int64, int64_t)
GETTER(uint8, uint8_t)
GETTER(uint16, uint16_t)
GETTER(uint32, uint32_t)
GETTER(uint64, uint64_t)
GETTER(float32, float)
GETTER(float64, double)

bool sonde_field_bool(const struct sonde_field *f, const struct sonde_record *rec)
{
	return sonde_field_uint8(f, rec) == 1;
}

bool sonde_field_as_int64(const struct sonde_field *f, const struct sonde_record *rec, int64_t *out)
{
	switch (f->kind) {
	case SONDE_KIND_BOOL:
	case SONDE_KIND_UINT8:
		*out = sonde_field_uint8(f, rec);
		return true;
	case SONDE_KIND_INT8:
		*out = sonde_field_int8(f, rec);
		return true;
	case SONDE_KIND_INT16:
		*out = sonde_field_int16(f, rec);
		return true;
	case SONDE_KIND_UINT16:
		*out = sonde_field_uint16(f, rec);
		return true;
	case SONDE_KIND_INT32:
		*out = sonde_field_int32(f, rec);
		return true;
	case SONDE_KIND_UINT32:
		*out = sonde_field_uint32(f, rec);
		return true;
	case SONDE_KIND_INT64:
	case SONDE_KIND_UINT64:
		*out = sonde_field_int64(f, rec);
		return true;
	default:
		return false;
	}
}

bool sonde_field_as_uint64(const struct sonde_field *f, const struct sonde_record *rec, uint64_t *out)
{
	int64_t v;

	if (f->kind == SONDE_KIND_UINT64) {
		*out = sonde_field_uint64(f, rec);
		return true;
	}
	if (!sonde_field_as_int64(f, rec, &v))
		return false;
	*out = (uint64_t)v;
	return true;
}

const char *sonde_field_string(const struct sonde_field *f, const struct sonde_record *rec, uint32_t *len)
{
	uint32_t n = 0;
	const char *s = sonde_field_get(f, rec, &n);

	if (!s) {
		*len = 0;
		return "";
	}
	if (f->kind == SONDE_KIND_CSTRING) {
		const char *nul = memchr(s, 0, n);
		if (nul)
			n = (uint32_t)(nul - s);
	}
	*len = n;
	return s;
}

int sonde_field_put_bool(const struct sonde_field *f, struct sonde_record *rec, bool v)
{
	uint8_t b = v;

	return sonde_field_set(f, rec, &b, 1);
}

int sonde_field_put_int(const struct sonde_field *f, struct sonde_record *rec, int64_t v)
{
	uint32_t size = sonde_kind_size(f->kind);
	union {
		int8_t i8;
		int16_t i16;
		int32_t i32;
		int64_t i64;
	} u;

	if (!sonde_kind_is_int(f->kind))
		return -EINVAL;
	switch (size) {
	case 1:
		u.i8 = (int8_t)v;
		break;
	case 2:
		u.i16 = (int16_t)v;
		break;
	case 4:
		u.i32 = (int32_t)v;
		break;
	default:
		u.i64 = v;
		break;
	}
	return sonde_field_set(f, rec, &u, size);
}

int sonde_field_put_uint(const struct sonde_field *f, struct sonde_record *rec, uint64_t v)
{
	return sonde_field_put_int(f, rec, (int64_t)v);
}

int sonde_field_put_float(const struct sonde_field *f, struct sonde_record *rec, double v)
{
	float f32 = (float)v;

	if (f->kind == SONDE_KIND_FLOAT32)
		return sonde_field_set(f, rec, &f32, sizeof(f32));
	if (f->kind == SONDE_KIND_FLOAT64)
		return sonde_field_set(f, rec, &v, sizeof(v));
	return -EINVAL;
}

/* The general path of sonde_field_put_string, kept out of line so that the
 * fast path below needs no stack frame. */
static __attribute__((noinline)) int put_string_slow(const struct sonde_field *f, struct sonde_record *rec,
                                                     const char *s, uint32_t len)
{
	if ((f->flags & SONDE_FIELD_STATIC_MEMBER) && len >= f->size && f->kind == SONDE_KIND_CSTRING)
		len = f->size - 1; /* keep room for the terminating NUL */
	return sonde_field_set(f, rec, s, len);
}

int sonde_field_put_string(const struct sonde_field *f, struct sonde_record *rec, const char *s, uint32_t len)
{
	struct sonde_payload *p;

	if (f->kind != SONDE_KIND_STRING && f->kind != SONDE_KIND_CSTRING && f->kind != SONDE_KIND_BYTES)
		return -EINVAL;
	/* The enrichers' strings (names, formatted values; about fifteen per
	 * event, most short or empty) into storage that already fits: what
	 * sonde_field_set does for them, without its general checks. */
	if ((f->flags & SONDE_FIELD_STATIC_MEMBER) || f->size || f->payload_index >= rec->npayloads)
		return put_string_slow(f, rec, s, len);
	p = &rec->payloads[f->payload_index];
	if (len > p->cap)
		return put_string_slow(f, rec, s, len);
	p->data = p->own;
	p->len = len;
	if (len)
		memcpy(p->own, s, len);
	return 0;
}

/* ---- kinds ---- */

const char *sonde_kind_name(enum sonde_kind kind)
{
	static const char *const names[] = {"invalid", "bool",    "int8",   "int16",  "int32",
	                                    "int64",   "uint8",   "uint16", "uint32", "uint64",
	                                    "float32", "float64", "string", "string", "bytes"};
	enum sonde_kind k = SONDE_KIND_ELEM(kind);

	return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "invalid";
}

uint32_t sonde_kind_size(enum sonde_kind kind)
{
	switch (kind) {
	case SONDE_KIND_BOOL:
	case SONDE_KIND_INT8:
	case SONDE_KIND_UINT8:
		return 1;
	case SONDE_KIND_INT16:
	case SONDE_KIND_UINT16:
		return 2;
	case SONDE_KIND_INT32:
	case SONDE_KIND_UINT32:
	case SONDE_KIND_FLOAT32:
		return 4;
	case SONDE_KIND_INT64:
	case SONDE_KIND_UINT64:
	case SONDE_KIND_FLOAT64:
		return 8;
	default:
		return 0;
	}
}

bool sonde_kind_is_int(enum sonde_kind kind)
{
	return kind >= SONDE_KIND_INT8 && kind <= SONDE_KIND_UINT64;
}

bool sonde_kind_is_signed(enum sonde_kind kind)
{
	return kind >= SONDE_KIND_INT8 && kind <= SONDE_KIND_INT64;
}
