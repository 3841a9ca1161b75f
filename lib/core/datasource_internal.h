/* Internal layout of DataSources and fields, shared by datasource.c and field.c. */
#ifndef SONDE_DATASOURCE_INTERNAL_H
#define SONDE_DATASOURCE_INTERNAL_H

#include <sonde/datasource.h>

#include "kvlist.h"
#include "record_aside.h"

#define NO_PAYLOAD UINT32_MAX

struct sonde_field {
	char *name;
	char *full_name;
	enum sonde_kind kind;
	uint32_t flags;
	uint32_t size; /* 0 = variable */
	uint32_t offset;
	uint32_t payload_index;
	uint32_t index;
	int32_t order;
	bool requested;
	struct sonde_field *parent;
	struct sonde_field **children;
	size_t nchildren, children_cap;
	struct strlist tags;
	struct kvlist annotations;
	struct sonde_ds *ds;
};

struct subscription {
	int priority;
	sonde_record_fn record_fn;
	sonde_array_fn array_fn;
	void *arg;
};

struct payload_slot {
	uint32_t size;     /* preallocated bytes; 0 for variable-size values */
	bool static_block; /* holds static members (e.g. a raw eBPF event) */
};

struct sonde_ds {
	char *name;
	enum sonde_ds_type type;
	struct sonde_field **fields;
	size_t nfields, fields_cap;
	struct kvlist annotations;
	struct strlist tags;
	struct payload_slot *slots;
	size_t nslots, slots_cap;
	struct subscription *subs;
	size_t nsubs, subs_cap;
	bool sealed;
	bool referenced;
	bool request_declared; /* some consumer declared the fields it needs */
	struct sonde_record *single;
	struct sonde_array array;
	uint64_t lost;
	sonde_field_added_fn on_field_added;
	void *on_field_added_arg;
};

void field_free(struct sonde_field *f);
struct sonde_record *record_new(const struct sonde_ds *ds);
void record_free(struct sonde_record *rec);
void record_reset(const struct sonde_ds *ds, struct sonde_record *rec);

#endif
