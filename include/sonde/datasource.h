/* DataSources: named streams of records with typed fields.
 *
 * A record is a set of payloads. Payload slots are reserved when fields are
 * added: a block of static members (e.g. the raw eBPF event struct) shares one
 * slot, every other field gets its own. Slots of fixed-size fields are
 * preallocated when the DataSource is sealed, so emitting never allocates.
 */
#ifndef SONDE_DATASOURCE_H
#define SONDE_DATASOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sonde/phase.h>

/* Field kinds; values match the upstream wire enum. */
enum sonde_kind {
	SONDE_KIND_INVALID = 0,
	SONDE_KIND_BOOL = 1,
	SONDE_KIND_INT8 = 2,
	SONDE_KIND_INT16 = 3,
	SONDE_KIND_INT32 = 4,
	SONDE_KIND_INT64 = 5,
	SONDE_KIND_UINT8 = 6,
	SONDE_KIND_UINT16 = 7,
	SONDE_KIND_UINT32 = 8,
	SONDE_KIND_UINT64 = 9,
	SONDE_KIND_FLOAT32 = 10,
	SONDE_KIND_FLOAT64 = 11,
	SONDE_KIND_STRING = 12,
	SONDE_KIND_CSTRING = 13,
	SONDE_KIND_BYTES = 14,
};
#define SONDE_KIND_ARRAY_OF    0x10000000u
#define SONDE_KIND_ELEM(k)     ((enum sonde_kind)((uint32_t)(k) & ~SONDE_KIND_ARRAY_OF))
#define SONDE_KIND_IS_ARRAY(k) (((uint32_t)(k)&SONDE_KIND_ARRAY_OF) != 0)

/* Field flags; values match the upstream wire flags. */
enum sonde_field_flag {
	SONDE_FIELD_EMPTY = 1,     /* grouping node without a value */
	SONDE_FIELD_CONTAINER = 2, /* blob holding static members */
	SONDE_FIELD_HIDDEN = 4,
	SONDE_FIELD_HAS_PARENT = 8,
	SONDE_FIELD_STATIC_MEMBER = 16,
	SONDE_FIELD_UNREFERENCED = 32,
};

enum sonde_ds_type {
	SONDE_DS_UNDEFINED = 0,
	SONDE_DS_SINGLE = 1,
	SONDE_DS_ARRAY = 2,
};

/* Returned by a subscriber to drop a record (or a whole packet). */
#define SONDE_DISCARD 1

struct sonde_ds;
struct sonde_field;

/* One payload slot of a record. `data` may point into foreign memory
 * (zero copy from a ring buffer) for the duration of an emit; read values
 * through sonde_field_get, which also sees members written since. */
struct sonde_payload {
	void *data;
	uint32_t len;
	uint32_t cap; /* bytes owned at `own` */
	void *own;    /* storage owned by the record */
};

struct sonde_record {
	struct sonde_payload *payloads;
	uint32_t npayloads;
};

struct sonde_array {
	struct sonde_record **recs;
	size_t len;
	size_t cap;
	struct sonde_ds *ds;
};

typedef int (*sonde_record_fn)(struct sonde_ds *ds, struct sonde_record *rec, void *arg);
typedef int (*sonde_array_fn)(struct sonde_ds *ds, struct sonde_array *arr, void *arg);

/* ---- DataSource ---- */
struct sonde_ds *sonde_ds_new(const char *name, enum sonde_ds_type type);
void sonde_ds_free(struct sonde_ds *ds);
const char *sonde_ds_name(const struct sonde_ds *ds);
enum sonde_ds_type sonde_ds_type(const struct sonde_ds *ds);
size_t sonde_ds_nfields(const struct sonde_ds *ds);
struct sonde_field *sonde_ds_field_at(const struct sonde_ds *ds, size_t index);
/* Lookup by full name (`proc.comm`); exact first, then case-insensitive. */
struct sonde_field *sonde_ds_field(const struct sonde_ds *ds, const char *full_name);
/* Fills `out` (up to `max`) with fields carrying any of the tags; returns the count found. */
size_t sonde_ds_fields_with_tag(const struct sonde_ds *ds, const char *tag, struct sonde_field **out,
                                size_t max);
struct sonde_field *sonde_ds_first_field_with_tag(const struct sonde_ds *ds, const char *tag);

int sonde_ds_add_annotation(struct sonde_ds *ds, const char *key, const char *value);
const char *sonde_ds_annotation(const struct sonde_ds *ds, const char *key);
size_t sonde_ds_nannotations(const struct sonde_ds *ds);
void sonde_ds_annotation_at(const struct sonde_ds *ds, size_t i, const char **key, const char **value);
int sonde_ds_add_tag(struct sonde_ds *ds, const char *tag);
bool sonde_ds_has_tag(const struct sonde_ds *ds, const char *tag);
void sonde_ds_unreference(struct sonde_ds *ds);
bool sonde_ds_is_referenced(const struct sonde_ds *ds);
uint32_t sonde_ds_npayloads(const struct sonde_ds *ds);

/* Options for adding a field. Zero-initialise; set .sz = sizeof. */
struct sonde_field_opts {
	size_t sz;
	uint32_t flags;
	struct sonde_field *parent; /* makes it a sub-field: full name parent.name */
	int32_t order;
	bool has_order;                 /* else order = field index */
	const char *const *tags;        /* NULL-terminated */
	const char *const *annotations; /* NULL-terminated key, value pairs */
	uint32_t size;                  /* fixed size for BYTES / arrays; 0 = variable */
};

/* A static member inside a block added by sonde_ds_add_static_fields. */
struct sonde_static_field {
	const char *name; /* member name, e.g. "comm" */
	int parent;       /* index into the same array, -1 for top level */
	enum sonde_kind kind;
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	const char *const *tags;        /* NULL-terminated, may be NULL */
	const char *const *annotations; /* NULL-terminated key, value pairs, may be NULL */
};

/* Reserves one payload slot of `total_size` bytes; members are views into it.
 * Returned fields are written to `out` (n entries) when non-NULL. */
int sonde_ds_add_static_fields(struct sonde_ds *ds, uint32_t total_size,
                               const struct sonde_static_field *members, size_t n, struct sonde_field **out);
/* Adds a field with its own payload slot (none if EMPTY). */
struct sonde_field *sonde_ds_add_field(struct sonde_ds *ds, const char *name, enum sonde_kind kind,
                                       const struct sonde_field_opts *opts);

/* Called when a field is added, so configuration (gadget.yaml) can decorate it. */
typedef void (*sonde_field_added_fn)(struct sonde_ds *ds, struct sonde_field *f, void *arg);
void sonde_ds_on_field_added(struct sonde_ds *ds, sonde_field_added_fn fn, void *arg);

/* Freezes the layout and preallocates records. Adding fields afterwards fails. */
int sonde_ds_seal(struct sonde_ds *ds);
bool sonde_ds_sealed(const struct sonde_ds *ds);

/* ---- Subscriptions and emission ---- */
/* Per-record subscriber; for arrays called per element (SONDE_DISCARD removes it).
 * `priority` is a phase (enum sonde_phase in sonde/phase.h). */
int sonde_ds_subscribe(struct sonde_ds *ds, sonde_record_fn fn, void *arg, int priority);
/* Whole-array subscriber (array DataSources only). */
int sonde_ds_subscribe_array(struct sonde_ds *ds, sonde_array_fn fn, void *arg, int priority);
bool sonde_ds_has_subscribers(const struct sonde_ds *ds);

/* The single reusable record of a Single DataSource (cleared). */
struct sonde_record *sonde_ds_record(struct sonde_ds *ds);
/* Runs subscribers in ascending priority. Returns 0 (also when discarded) or
 * the first negative error of a subscriber. */
int sonde_ds_emit(struct sonde_ds *ds, struct sonde_record *rec);

/* Arrays: take the DS's reusable array (emptied), append records, emit. */
struct sonde_array *sonde_ds_array(struct sonde_ds *ds);
struct sonde_record *sonde_array_append(struct sonde_array *arr);
void sonde_array_remove(struct sonde_array *arr, size_t index);
int sonde_ds_emit_array(struct sonde_ds *ds, struct sonde_array *arr);

/* Lost-event accounting, reported by producers. */
void sonde_ds_report_lost(struct sonde_ds *ds, uint64_t n);
uint64_t sonde_ds_lost(const struct sonde_ds *ds);

/* ---- Fields ---- */
const char *sonde_field_name(const struct sonde_field *f);
const char *sonde_field_full_name(const struct sonde_field *f);
enum sonde_kind sonde_field_kind(const struct sonde_field *f);
uint32_t sonde_field_flags(const struct sonde_field *f);
uint32_t sonde_field_size(const struct sonde_field *f); /* 0 = variable */
uint32_t sonde_field_offset(const struct sonde_field *f);
uint32_t sonde_field_payload_index(const struct sonde_field *f);
uint32_t sonde_field_index(const struct sonde_field *f);
int32_t sonde_field_order(const struct sonde_field *f);
struct sonde_field *sonde_field_parent(const struct sonde_field *f);
size_t sonde_field_nchildren(const struct sonde_field *f);
struct sonde_field *sonde_field_child(const struct sonde_field *f, size_t i);
struct sonde_ds *sonde_field_ds(const struct sonde_field *f);

void sonde_field_set_flags(struct sonde_field *f, uint32_t flags, bool on);
void sonde_field_set_hidden(struct sonde_field *f, bool hidden, bool recurse);
void sonde_field_unreference(struct sonde_field *f, bool recurse);
int sonde_field_rename(struct sonde_field *f, const char *name); /* root fields only */
int sonde_field_set_order(struct sonde_field *f, int32_t order);

int sonde_field_add_tag(struct sonde_field *f, const char *tag);
bool sonde_field_has_tag(const struct sonde_field *f, const char *tag);
size_t sonde_field_ntags(const struct sonde_field *f);
const char *sonde_field_tag_at(const struct sonde_field *f, size_t i);

int sonde_field_set_annotation(struct sonde_field *f, const char *key, const char *value);
const char *sonde_field_annotation(const struct sonde_field *f, const char *key);
size_t sonde_field_nannotations(const struct sonde_field *f);
void sonde_field_annotation_at(const struct sonde_field *f, size_t i, const char **key, const char **value);

/* Requested-ness: a sink marks what it will output; unrequested enrichment may be skipped. */
void sonde_field_set_requested(struct sonde_field *f, bool requested);
bool sonde_field_is_requested(const struct sonde_field *f);
/* Declares that consumers request fields explicitly, even if none asks for any
 * (a sink that prints nothing): until then every field counts as requested. */
void sonde_ds_declare_requests(struct sonde_ds *ds);

/* ---- Values ---- */
/* Raw bytes of the field in a record; *len receives the length. NULL if absent. */
const void *sonde_field_get(const struct sonde_field *f, const struct sonde_record *rec, uint32_t *len);
/* Copies (static member: exact size, zero-filled if shorter for strings) or stores the bytes. */
int sonde_field_set(const struct sonde_field *f, struct sonde_record *rec, const void *data, uint32_t len);

bool sonde_field_bool(const struct sonde_field *f, const struct sonde_record *rec);
int8_t sonde_field_int8(const struct sonde_field *f, const struct sonde_record *rec);
int16_t sonde_field_int16(const struct sonde_field *f, const struct sonde_record *rec);
int32_t sonde_field_int32(const struct sonde_field *f, const struct sonde_record *rec);
int64_t sonde_field_int64(const struct sonde_field *f, const struct sonde_record *rec);
uint8_t sonde_field_uint8(const struct sonde_field *f, const struct sonde_record *rec);
uint16_t sonde_field_uint16(const struct sonde_field *f, const struct sonde_record *rec);
uint32_t sonde_field_uint32(const struct sonde_field *f, const struct sonde_record *rec);
uint64_t sonde_field_uint64(const struct sonde_field *f, const struct sonde_record *rec);
float sonde_field_float32(const struct sonde_field *f, const struct sonde_record *rec);
double sonde_field_float64(const struct sonde_field *f, const struct sonde_record *rec);
/* Any integer kind widened; returns false for non-integer kinds. */
bool sonde_field_as_int64(const struct sonde_field *f, const struct sonde_record *rec, int64_t *out);
bool sonde_field_as_uint64(const struct sonde_field *f, const struct sonde_record *rec, uint64_t *out);
/* String view (CString stops at the first NUL); not NUL-terminated. */
const char *sonde_field_string(const struct sonde_field *f, const struct sonde_record *rec, uint32_t *len);

int sonde_field_put_bool(const struct sonde_field *f, struct sonde_record *rec, bool v);
int sonde_field_put_int(const struct sonde_field *f, struct sonde_record *rec, int64_t v);
int sonde_field_put_uint(const struct sonde_field *f, struct sonde_record *rec, uint64_t v);
int sonde_field_put_float(const struct sonde_field *f, struct sonde_record *rec, double v);
int sonde_field_put_string(const struct sonde_field *f, struct sonde_record *rec, const char *s,
                           uint32_t len);

/* Helpers on kinds. */
const char *sonde_kind_name(enum sonde_kind kind);
uint32_t sonde_kind_size(enum sonde_kind kind); /* 0 for variable-size kinds */
bool sonde_kind_is_int(enum sonde_kind kind);
bool sonde_kind_is_signed(enum sonde_kind kind);

#endif
