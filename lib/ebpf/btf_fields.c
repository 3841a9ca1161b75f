/* Struct → static fields (spec §2.5 and the special types of §2.4).
 *
 * Every member of the event struct becomes a view (offset, size, kind) into
 * the raw record, so a record from the kernel is emitted without copying.
 * Operators find fields by tags: `type:<name>` for every name met while
 * resolving the member's typedef chain, `name:<member>` and `src:ebpf`. */
#include <stdio.h>
#include <string.h>

#include <sonde/log.h>

#include "internal.h"

#define MAX_TYPE_NAMES EBPF_MAX_TYPE_NAMES
#define MAX_TAGS       (MAX_TYPE_NAMES + 3)
#define MAX_ANNS       3
#define MAX_DEPTH      16
/* Nesting alone does not bound the count: BTF may nest a struct of two
 * members of the same struct 16 times (65 536 fields). Real gadgets have
 * tens of fields. */
#define MAX_FIELDS 1024

/* Templates applied automatically by type name (gadget_<template>). */
static const char *const auto_templates[] = {
    "comm", "pcomm",     "pid",      "ppid",     "tid",        "uid",
    "gid",  "timestamp", "mntns_id", "netns_id", "user_stack", NULL,
};

/* Convenience structs whose members are shown under their short name. */
static const char *const process_structs[] = {"gadget_process", "gadget_creds", "gadget_parent", NULL};

/* Strings and NULL-terminated lists of one field; kept alive until the
 * fields are added (the DataSource copies them). */
struct extra {
	const char *tags[MAX_TAGS + 1];
	const char *anns[2 * MAX_ANNS + 1];
	char *owned[MAX_TAGS + MAX_ANNS];
	size_t ntags, nanns, nowned;
};

struct builder {
	const struct btf *btf;
	const char *role_tag;
	struct sonde_static_field *fields;
	struct extra **extras;
	uint32_t *enum_ids; /* per field: BTF enum id of a plain enum member, or 0 */
	size_t n;
	int err;
	int hidden_subtree; /* > 0 while walking a struct whose members are raw material */
};

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; s && list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static const char *own(struct extra *x, char *s)
{
	if (!s)
		return NULL;
	x->owned[x->nowned++] = s;
	return s;
}

static void add_tag(struct builder *b, struct extra *x, char *tag)
{
	if (!tag) {
		b->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < x->ntags; i++)
		if (strcmp(x->tags[i], tag) == 0) {
			free(tag);
			return;
		}
	if (x->ntags == MAX_TAGS) {
		free(tag);
		return;
	}
	x->tags[x->ntags++] = own(x, tag);
}

static void add_ann(struct builder *b, struct extra *x, const char *key, const char *value)
{
	char *v = strdup(value);

	if (!v) {
		b->err = -ENOMEM;
		return;
	}
	if (x->nanns == MAX_ANNS) {
		free(v);
		return;
	}
	x->anns[2 * x->nanns] = key;
	x->anns[2 * x->nanns + 1] = own(x, v);
	x->nanns++;
}

/* Kind of a scalar type (int, bool, enum, float); INVALID otherwise. */
static enum sonde_kind scalar_kind(const struct btf_type *t)
{
	static const enum sonde_kind s[] = {SONDE_KIND_INT8, SONDE_KIND_INT16, 0, SONDE_KIND_INT32, 0, 0, 0,
	                                    SONDE_KIND_INT64};
	static const enum sonde_kind u[] = {
	    SONDE_KIND_UINT8, SONDE_KIND_UINT16, 0, SONDE_KIND_UINT32, 0, 0, 0, SONDE_KIND_UINT64};
	bool is_signed;

	switch (btf_kind(t)) {
	case BTF_KIND_INT: {
		uint8_t enc = btf_int_encoding(t);

		if (enc & BTF_INT_BOOL)
			return t->size == 1 ? SONDE_KIND_BOOL : SONDE_KIND_INVALID;
		if (btf_int_offset(t) != 0 || btf_int_bits(t) != t->size * 8)
			return SONDE_KIND_INVALID;
		is_signed = enc & BTF_INT_SIGNED;
		break;
	}
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		is_signed = btf_kflag(t);
		break;
	case BTF_KIND_FLOAT:
		return t->size == 4   ? SONDE_KIND_FLOAT32
		       : t->size == 8 ? SONDE_KIND_FLOAT64
		                      : SONDE_KIND_INVALID;
	default:
		return SONDE_KIND_INVALID;
	}
	if (t->size < 1 || t->size > 8)
		return SONDE_KIND_INVALID;
	return is_signed ? s[t->size - 1] : u[t->size - 1];
}

static bool names_have(const char **names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return true;
	return false;
}

static const char *auto_template(const char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strncmp(names[i], "gadget_", 7) == 0 && in_list(auto_templates, names[i] + 7))
			return names[i] + 7;
	return NULL;
}

/* Appends one field; returns its index or -1. */
/* What a member of struct gadget_user_stack holds (include/gadget/types.h):
 * input of the stack symbolizer, listed hidden in a gadget's help. */
static const char *user_stack_member(const char *member)
{
	static const char *const desc[][2] = {
	    {"major", "User stack: major device number of the executable's file system"},
	    {"minor", "User stack: minor device number of the executable's file system"},
	    {"inode", "User stack: inode of the executable"},
	    {"mtime_sec", "User stack: modification time of the executable (seconds)"},
	    {"mtime_nsec", "User stack: modification time of the executable (nanoseconds part)"},
	    {"base_addr_hash", "User stack: hash that tells one address space from another"},
	    {"stack_id", "User stack: id of the stack in the gadget's stack map"},
	    {"tgid_level0", "User stack: process ID in the initial PID namespace"},
	    {"pid_level0", "User stack: thread ID in the initial PID namespace"},
	    {"pidns_level0", "User stack: inode of the initial PID namespace"},
	    {"pid_level1", "User stack: thread ID one PID namespace down (0 if none)"},
	    {"pidns_level1", "User stack: inode of the PID namespace one level down (0 if none)"},
	    {"otel_correlation_id", "User stack: correlation ID from the OpenTelemetry profiler"},
	    {"boot_timestamp", "User stack: boot-time nanoseconds when the stack was collected"},
	};

	for (size_t i = 0; i < sizeof(desc) / sizeof(desc[0]); i++)
		if (!strcmp(member, desc[i][0]))
			return desc[i][1];
	return NULL;
}

static int push(struct builder *b, const char *member, int parent, enum sonde_kind kind, uint32_t offset,
                uint32_t size, const char **names, size_t nnames, const char *parent_struct, bool hide)
{
	struct extra *x;
	const char *tpl;

	if (b->n >= MAX_FIELDS) {
		b->err = -E2BIG;
		return -1;
	}
	x = calloc(1, sizeof(*x));
	if (!x || grow_array_by_len((void **)&b->fields, b->n, sizeof(*b->fields)) ||
	    grow_array_by_len((void **)&b->extras, b->n, sizeof(*b->extras)) ||
	    grow_array_by_len((void **)&b->enum_ids, b->n, sizeof(*b->enum_ids))) {
		free(x);
		b->err = -ENOMEM;
		return -1;
	}
	b->extras[b->n] = x;
	b->enum_ids[b->n] = 0;
	for (size_t i = 0; i < nnames; i++) {
		char *tag;

		if (asprintf(&tag, "type:%s", names[i]) < 0)
			tag = NULL;
		add_tag(b, x, tag);
	}
	{
		char *tag;

		if (asprintf(&tag, "name:%s", member) < 0)
			tag = NULL;
		add_tag(b, x, tag);
	}
	add_tag(b, x, strdup("src:ebpf"));
	if (b->role_tag)
		add_tag(b, x, strdup(b->role_tag));
	tpl = auto_template(names, nnames);
	if (tpl)
		add_ann(b, x, "template", tpl);
	if (in_list(process_structs, parent_struct))
		add_ann(b, x, "columns.alias", member);
	if (hide || b->hidden_subtree)
		add_ann(b, x, "columns.hidden", "true");
	if (b->hidden_subtree && user_stack_member(member))
		add_ann(b, x, "description", user_stack_member(member));
	b->fields[b->n] = (struct sonde_static_field){
	    .name = member,
	    .parent = parent,
	    .kind = kind,
	    .offset = offset,
	    .size = size,
	    .tags = x->tags,
	    .annotations = x->anns,
	};
	/* Counted even after an error so that builder_free releases it. */
	b->n++;
	return b->err ? -1 : (int)b->n - 1;
}

static bool has_typedef(const struct btf *btf, uint32_t id)
{
	for (int depth = 0; depth < 32; depth++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (!t || !(btf_is_typedef(t) || btf_is_mod(t)))
			return false;
		if (btf_is_typedef(t))
			return true;
		id = t->type;
	}
	return false;
}

static void walk(struct builder *b, uint32_t struct_id, uint32_t base, int parent, int depth);

static void add_member(struct builder *b, const struct btf_type *st, const struct btf_member *m,
                       uint32_t base, int parent, int depth)
{
	const char *member = btf__name_by_offset(b->btf, m->name_off);
	const char *parent_struct = btf__name_by_offset(b->btf, st->name_off);
	const char *names[MAX_TYPE_NAMES];
	size_t nnames = 0;
	uint32_t bit_off = btf_member_bit_offset(st, (uint32_t)(m - btf_members(st)));
	uint32_t off, id;
	const struct btf_type *t;
	enum sonde_kind kind;
	int idx;

	if (btf_member_bitfield_size(st, (uint32_t)(m - btf_members(st))) || bit_off % 8) {
		sonde_debug("ebpf: member '%s' is a bitfield, skipped", member ? member : "");
		return;
	}
	off = base + bit_off / 8;
	id = ebpf_btf_type_chain(b->btf, m->type, names, &nnames);
	t = btf__type_by_id(b->btf, id);
	if (!t || id == 0)
		return;
	if (!member || !*member) {
		/* Anonymous struct/union: its members belong to the enclosing struct. */
		if (btf_is_struct(t) || btf_is_union(t))
			walk(b, id, off, parent, depth + 1);
		return;
	}
	if (strncmp(member, "__", 2) == 0)
		return;

	if (btf_is_struct(t) || btf_is_union(t)) {
		const char *sname = btf__name_by_offset(b->btf, t->name_off);

		if (t->size == 0)
			return;
		/* A user stack's members (stack id, inode, pid levels …) are input for
		 * the stack symbolizer, not something to show. */
		bool raw = sname && strcmp(sname, "gadget_user_stack") == 0;

		idx = push(b, member, parent, SONDE_KIND_BYTES, off, t->size, names, nnames, parent_struct,
		           in_list(process_structs, sname));
		b->hidden_subtree += raw;
		if (idx >= 0)
			walk(b, id, off, idx, depth + 1);
		b->hidden_subtree -= raw;
		return;
	}
	if (btf_is_array(t)) {
		const struct btf_array *arr = btf_array(t);
		const char *enames[MAX_TYPE_NAMES];
		size_t nenames = 0;
		uint32_t eid = ebpf_btf_type_chain(b->btf, arr->type, enames, &nenames);
		const struct btf_type *et = btf__type_by_id(b->btf, eid);
		uint32_t size;

		if (!et || eid == 0 || arr->nelems == 0 || !btf__resolve_size(b->btf, id))
			return;
		size = (uint32_t)btf__resolve_size(b->btf, id);
		for (size_t i = 0; i < nenames && nnames < MAX_TYPE_NAMES; i++)
			names[nnames++] = enames[i];
		if (btf_is_int(et) && names_have(enames, nenames, "char"))
			kind = SONDE_KIND_CSTRING;
		else if ((kind = scalar_kind(et)) != SONDE_KIND_INVALID)
			kind = (enum sonde_kind)((uint32_t)kind | SONDE_KIND_ARRAY_OF);
		else {
			sonde_debug("ebpf: member '%s' is an array of unsupported elements, skipped", member);
			return;
		}
		push(b, member, parent, kind, off, size, names, nnames, parent_struct, false);
		return;
	}
	kind = scalar_kind(t);
	if (kind == SONDE_KIND_INVALID || t->size == 0) {
		sonde_debug("ebpf: member '%s' has an unsupported type, skipped", member);
		return;
	}
	idx = push(b, member, parent, kind, off, t->size, names, nnames, parent_struct, false);
	/* Enum formatters are for plain `enum E` members, not typedefs of enums. */
	if (idx >= 0 && (btf_is_enum(t) || btf_is_enum64(t)) && !has_typedef(b->btf, m->type))
		b->enum_ids[idx] = id;
}

static void walk(struct builder *b, uint32_t struct_id, uint32_t base, int parent, int depth)
{
	const struct btf_type *st = btf__type_by_id(b->btf, struct_id);
	const struct btf_member *m;

	if (!st || depth > MAX_DEPTH) {
		if (st)
			sonde_debug("ebpf: structs nested too deep, inner members skipped");
		return;
	}
	m = btf_members(st);
	for (uint16_t i = 0; i < btf_vlen(st) && !b->err; i++)
		add_member(b, st, &m[i], base, parent, depth);
}

static void builder_free(struct builder *b)
{
	for (size_t i = 0; i < b->n; i++) {
		for (size_t j = 0; j < b->extras[i]->nowned; j++)
			free(b->extras[i]->owned[j]);
		free(b->extras[i]);
	}
	free(b->extras);
	free(b->fields);
	free(b->enum_ids);
}

int ebpf_add_struct_fields(struct sonde_ds *ds, const struct btf *btf, uint32_t type_id, const char *role_tag,
                           uint32_t *slot, ebpf_enum_fn on_enum, void *arg)
{
	const struct btf_type *st = btf__type_by_id(btf, type_id);
	struct builder b = {.btf = btf, .role_tag = role_tag};
	struct sonde_field **made = NULL;
	uint32_t before;
	int err;

	if (!st || !(btf_is_struct(st) || btf_is_union(st))) {
		sonde_err("datasource %s: type %u is not a struct", sonde_ds_name(ds), type_id);
		return -EINVAL;
	}
	walk(&b, type_id, 0, -1, 0);
	if (b.err) {
		builder_free(&b);
		if (b.err == -E2BIG)
			sonde_err("datasource %s: struct %s has more than %d fields", sonde_ds_name(ds),
			          btf__name_by_offset(btf, st->name_off), MAX_FIELDS);
		else
			sonde_err("datasource %s: out of memory building fields", sonde_ds_name(ds));
		return b.err;
	}
	made = calloc(b.n ? b.n : 1, sizeof(*made));
	if (!made) {
		builder_free(&b);
		return -ENOMEM;
	}
	before = sonde_ds_npayloads(ds);
	err = sonde_ds_add_static_fields(ds, st->size, b.fields, b.n, made);
	for (size_t i = 0; !err && on_enum && i < b.n; i++)
		if (b.enum_ids[i])
			err = on_enum(arg, ds, made[i], b.enum_ids[i]);
	builder_free(&b);
	free(made);
	if (err) {
		sonde_err("datasource %s: cannot add the fields of struct %s: %s", sonde_ds_name(ds),
		          btf__name_by_offset(btf, st->name_off), strerror(-err));
		return err;
	}
	*slot = before;
	return 0;
}
