/* Map iterators (spec §2.11): a hash map drained periodically with
 * BPF_MAP_LOOKUP_AND_DELETE_BATCH, so each fetch carries per-interval deltas.
 * Records have two payloads: the key struct and the value struct.
 *
 * Params map-fetch-interval (`500ms` for all, or `ds1:500ms,ds2:2s`) and
 * map-fetch-count (0 = unlimited) are added only when a map iterator exists. */
#include <stdio.h>
#include <string.h>

#include <sonde/log.h>

#include "internal.h"

#define BATCH 100

int ebpf_mapiter_setup(struct ebpf_gadget *g, struct ebpf_mapiter *mi)
{
	int err;

	mi->ds = sonde_gadget_add_ds(g->ctx, mi->name, SONDE_DS_ARRAY);
	if (!mi->ds) {
		sonde_err("map iterator '%s': cannot create its datasource", mi->name);
		return -EINVAL;
	}
	err = ebpf_add_struct_fields(mi->ds, g->btf, mi->key_id, "role:key", &mi->key_slot,
	                             ebpf_enum_formatter_add, g);
	if (!err)
		err = ebpf_add_struct_fields(mi->ds, g->btf, mi->value_id, NULL, &mi->value_slot,
		                             ebpf_enum_formatter_add, g);
	return err;
}

int ebpf_mapiters_params(struct ebpf_gadget *g)
{
	static const char *const tags[] = {"group:eBPF", NULL};
	const struct sonde_param_desc interval = {
	    .key = "map-fetch-interval",
	    .description = "Interval between map fetches: a duration for every map iterator, or "
	                   "<datasource>:<duration>,…",
	    .default_value = "1000ms",
	    .tags = tags,
	};
	const struct sonde_param_desc count = {
	    .key = "map-fetch-count",
	    .description = "Number of map fetches before the gadget stops (0 = unlimited)",
	    .default_value = "0",
	    .type_hint = "uint",
	    .tags = tags,
	};

	if (g->nmapiters == 0)
		return 0;
	g->map_fetch_interval = sonde_params_add(sonde_gadget_params(g->ctx), EBPF_PARAM_PREFIX, &interval);
	g->map_fetch_count = sonde_params_add(sonde_gadget_params(g->ctx), EBPF_PARAM_PREFIX, &count);
	if (!g->map_fetch_interval || !g->map_fetch_count) {
		sonde_err("cannot add the map-fetch-* params");
		return -EINVAL;
	}
	return 0;
}

/* Interval for one DataSource from "dur" or "ds:dur,ds2:dur" (no mixing). */
static int interval_for(const char *value, const char *ds, int64_t *out)
{
	char buf[512], *save = NULL, *tok;
	bool per_ds = strchr(value, ':') != NULL;

	if (!per_ds)
		return sonde_parse_duration_ns(value, out) || *out < 0 ? -EINVAL : 0;
	if (snprintf(buf, sizeof(buf), "%s", value) >= (int)sizeof(buf))
		return -EINVAL;
	*out = 1000000000LL; /* default for DataSources not listed */
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');

		if (!colon)
			return -EINVAL; /* mixing global and per-DS values */
		*colon = '\0';
		if (strcmp(tok, ds) == 0) {
			if (sonde_parse_duration_ns(colon + 1, out) || *out < 0)
				return -EINVAL;
		}
	}
	return 0;
}

static void write_back(struct ebpf_mapiter *mi)
{
	char v[64];

	snprintf(v, sizeof(v), "%lldns", (long long)mi->timer.interval_ns);
	sonde_ds_add_annotation(mi->ds, "fetch-interval", mi->timer.interval_ns ? v : "0");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)mi->timer.count);
	sonde_ds_add_annotation(mi->ds, "fetch-count", v);
}

int ebpf_mapiter_fetch(struct ebpf_mapiter *mi)
{
	int fd = bpf_map__fd(mi->map);
	uint64_t in = 0, out = 0;
	bool first = true;
	struct sonde_array *arr;
	size_t n = 0;
	int err;

	while (n < mi->cap) {
		__u32 count = (__u32)(mi->cap - n < BATCH ? mi->cap - n : BATCH);
		err =
		    bpf_map_lookup_and_delete_batch(fd, first ? NULL : &in, &out, mi->keys + n * mi->key_size,
		                                    mi->values + n * mi->value_size, &count, NULL);

		n += count;
		if (err == -ENOENT)
			break;
		if (err) {
			sonde_err("map iterator '%s': draining map '%s' failed: %s", mi->name, mi->map_name,
			          strerror(-err));
			return err;
		}
		in = out;
		first = false;
	}
	arr = sonde_ds_array(mi->ds);
	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct sonde_record *rec = sonde_array_append(arr);

		if (!rec)
			return -ENOMEM;
		rec->payloads[mi->key_slot].data = mi->keys + i * mi->key_size;
		rec->payloads[mi->key_slot].len = mi->key_size;
		rec->payloads[mi->value_slot].data = mi->values + i * mi->value_size;
		rec->payloads[mi->value_slot].len = mi->value_size;
	}
	err = sonde_ds_emit_array(mi->ds, arr);
	if (err < 0)
		sonde_warn("map iterator '%s': a subscriber failed: %s", mi->name, strerror(-err));
	return 0;
}

static int fetch_owner(void *owner)
{
	return ebpf_mapiter_fetch(owner);
}

static int start_one(struct ebpf_gadget *g, struct ebpf_mapiter *mi)
{
	const char *flush = sonde_ds_annotation(mi->ds, "ebpf.map.flush-on-stop");
	const char *value = sonde_param_value(g->map_fetch_interval);

	if (interval_for(value, mi->name, &mi->timer.interval_ns)) {
		sonde_err("param map-fetch-interval: invalid value '%s' (want a duration or "
		          "<datasource>:<duration>,…)",
		          value);
		return -EINVAL;
	}
	mi->timer.count = sonde_param_uint(g->map_fetch_count);
	if (mi->timer.interval_ns == 0 && mi->timer.count > 1) {
		sonde_err("map iterator '%s': map-fetch-count > 1 needs a map-fetch-interval", mi->name);
		return -EINVAL;
	}
	write_back(mi);
	mi->flush_on_stop = flush && strcmp(flush, "true") == 0;
	mi->cap = bpf_map__max_entries(mi->map);
	mi->keys = calloc(mi->cap ? mi->cap : 1, mi->key_size);
	mi->values = calloc(mi->cap ? mi->cap : 1, mi->value_size);
	if (!mi->keys || !mi->values)
		return -ENOMEM;
	mi->timer.g = g;
	mi->timer.kind = "map iterator";
	mi->timer.name = mi->name;
	mi->timer.fetch = fetch_owner;
	mi->timer.owner = mi;
	return ebpf_fetch_timer_start(&mi->timer);
}

int ebpf_mapiters_start(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->nmapiters; i++) {
		int err = start_one(g, &g->mapiters[i]);

		if (err)
			return err;
	}
	return 0;
}

void ebpf_mapiters_stop(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->nmapiters; i++) {
		struct ebpf_mapiter *mi = &g->mapiters[i];

		ebpf_fetch_timer_stop(&mi->timer);
		if (mi->flush_on_stop && g->loaded && mi->keys && ebpf_mapiter_fetch(mi))
			sonde_warn("map iterator '%s': flush on stop failed", mi->name);
		mi->flush_on_stop = false;
		free(mi->keys);
		free(mi->values);
		mi->keys = mi->values = NULL;
	}
}
