/* Kernel push-down of `==` filter rules into the eBPF process params. */
#include <stdio.h>
#include <string.h>

#include <sonde/log.h>

#include "filter/pushdown.h"

#define EBPF_PREFIX "operator.oci.ebpf."

/* A well-known process param and the field type it filters. */
struct process_key {
	const char *key;
	const char *type_tag;
	bool in_creds;     /* lives in gadget_process.creds */
	bool needs_opt_in; /* may differ between the kernel's check and the record */
};

static const struct process_key process_keys[] = {
    {"pid", "type:gadget_pid", false, false},  {"tid", "type:gadget_tid", false, true},
    {"comm", "type:gadget_comm", false, true}, {"uid", "type:gadget_uid", true, false},
    {"gid", "type:gadget_gid", true, false},
};

static bool param_has_tag(const struct sonde_param *p, const char *tag)
{
	const char *const *tags = sonde_param_desc(p)->tags;

	for (size_t i = 0; tags && tags[i]; i++)
		if (strcmp(tags[i], tag) == 0)
			return true;
	return false;
}

static bool fed_by_ebpf(const struct sonde_ds *ds)
{
	return sonde_ds_first_field_with_tag(ds, "src:ebpf") != NULL;
}

/* The event struct itself is a gadget_process (e.g. snapshot_process): its
 * root holds the creds and parent blocks. */
static bool root_is_process(const struct sonde_ds *ds)
{
	bool creds = false, parent = false;

	for (size_t i = 0; i < sonde_ds_nfields(ds); i++) {
		struct sonde_field *f = sonde_ds_field_at(ds, i);

		if (sonde_field_parent(f))
			continue;
		creds |= sonde_field_has_tag(f, "type:gadget_creds");
		parent |= sonde_field_has_tag(f, "type:gadget_parent");
	}
	return creds && parent;
}

static bool is_process_block(const struct sonde_ds *ds, const struct sonde_field *container)
{
	if (container)
		return sonde_field_has_tag(container, "type:gadget_process");
	return root_is_process(ds);
}

/* Whether `f` holds exactly what the kernel param `k` filters. */
static bool kernel_filters(const struct process_key *k, const struct sonde_ds *ds,
                           const struct sonde_field *f)
{
	const char *ann = sonde_field_annotation(f, "filter.pushdown");
	const struct sonde_field *container = sonde_field_parent(f);

	if (!sonde_field_has_tag(f, k->type_tag))
		return false;
	if (ann && strcmp(ann, "false") == 0)
		return false;
	if (k->needs_opt_in && !(ann && strcmp(ann, "true") == 0))
		return false;
	if (k->in_creds) {
		if (!container || !sonde_field_has_tag(container, "type:gadget_creds"))
			return false;
		container = sonde_field_parent(container);
	}
	return is_process_block(ds, container);
}

/* The value an `==` rule of `rules` asks for the field of `k`, or NULL. */
static const char *wanted(const struct process_key *k, const struct sonde_ds *ds,
                          const struct filter_rules *rules, const struct sonde_field **field)
{
	for (size_t i = 0; i < filter_rules_count(rules); i++) {
		const struct sonde_field *f = filter_rule_field(rules, i);
		const char *v = filter_rule_value(rules, i);

		if (filter_rule_op(rules, i) != FILTER_EQ || !kernel_filters(k, ds, f))
			continue;
		/* the kernel compares at most size-1 characters plus the NUL */
		if (sonde_field_kind(f) == SONDE_KIND_CSTRING && (!*v || strlen(v) >= sonde_field_size(f)))
			continue;
		*field = f;
		return v;
	}
	return NULL;
}

static struct filter_rules *rules_of(const struct sonde_ds *ds, struct sonde_ds *const *dss,
                                     struct filter_rules *const *rules, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (dss[i] == ds)
			return rules[i];
	return NULL;
}

/* Pushes one key down when every eBPF-fed DataSource asks the same value. */
static bool push_key(struct sonde_gadget_ctx *ctx, const struct process_key *k, struct sonde_ds *const *dss,
                     struct filter_rules *const *rules, size_t n)
{
	struct sonde_param *p;
	const struct sonde_field *field = NULL;
	const char *value = NULL;
	char name[64], err[256];
	bool partial = false;

	snprintf(name, sizeof(name), EBPF_PREFIX "%s", k->key);
	p = sonde_params_find(sonde_gadget_params(ctx), name);
	if (!p || !param_has_tag(p, "group:Process") || sonde_param_is_set(p))
		return false;
	for (size_t i = 0; i < sonde_gadget_nds(ctx); i++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, i);
		const struct sonde_field *f = NULL;
		const char *v;

		if (!fed_by_ebpf(ds))
			continue;
		v = wanted(k, ds, rules_of(ds, dss, rules, n), &f);
		if (!v || (value && strcmp(value, v) != 0)) {
			partial = true;
			continue;
		}
		if (!value) {
			value = v;
			field = f;
		}
	}
	if (!value)
		return false;
	if (partial) {
		sonde_debug("filter: %s==%s not pushed down: the kernel param %s would also filter other "
		            "data sources",
		            sonde_field_full_name(field), value, name);
		return false;
	}
	if (strcmp(value, sonde_param_value(p)) == 0)
		return false; /* the param's default means "any" */
	if (sonde_param_set(p, value, err, sizeof(err))) {
		sonde_debug("filter: %s==%s not pushed down: %s", sonde_field_full_name(field), value, err);
		return false;
	}
	sonde_debug("filter: pushed down %s==%s to the kernel (param %s=%s)", sonde_field_full_name(field),
	            value, name, value);
	return true;
}

int filter_pushdown(struct sonde_gadget_ctx *ctx, struct sonde_ds *const *dss,
                    struct filter_rules *const *rules, size_t n)
{
	int pushed = 0;

	for (size_t i = 0; i < sizeof(process_keys) / sizeof(process_keys[0]); i++)
		pushed += push_key(ctx, &process_keys[i], dss, rules, n);
	return pushed;
}
