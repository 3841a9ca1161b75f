/* Discovery of the gadget ABI in an object's BTF (spec §2.1).
 *
 * The gadget macros leave uninitialised global `const void *` variables whose
 * names carry the meaning (`gadget_tracer_<name>___<map>___<struct>` …). Every
 * VAR of the BTF is matched against the prefix table; what a marker refers to
 * (maps, structs, programs) is validated here so that later stages can trust it. */
#include <stdio.h>
#include <string.h>

#include <sonde/log.h>

#include "internal.h"

#define SEP "___"

/* ---- BTF helpers ---- */

uint32_t ebpf_btf_type_chain(const struct btf *btf, uint32_t id, const char **names, size_t *nnames)
{
	for (int depth = 0; depth < 32; depth++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name;

		if (!t || id == 0)
			return 0;
		name = btf__name_by_offset(btf, t->name_off);
		if (names && name && *name && *nnames < EBPF_MAX_TYPE_NAMES)
			names[(*nnames)++] = name;
		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return id;
		}
	}
	return 0;
}

uint32_t ebpf_find_var(const struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_VAR);

	return id > 0 ? (uint32_t)id : 0;
}

/* `const void *NAME` with global linkage: what every marker macro emits. */
static bool is_marker(const struct btf *btf, const struct btf_type *var)
{
	const struct btf_type *ptr, *cst;

	if (btf_var(var)->linkage != BTF_VAR_GLOBAL_ALLOCATED)
		return false;
	ptr = btf__type_by_id(btf, var->type);
	if (!ptr || !btf_is_ptr(ptr))
		return false;
	cst = btf__type_by_id(btf, ptr->type);
	return cst && btf_is_const(cst) && cst->type == 0;
}

/* `const volatile T NAME` (operator-settable variables). */
static bool is_const_volatile(const struct btf *btf, const struct btf_type *var)
{
	const struct btf_type *cst = btf__type_by_id(btf, var->type), *vol;

	if (!cst || !btf_is_const(cst))
		return false;
	vol = btf__type_by_id(btf, cst->type);
	return vol && btf_is_volatile(vol);
}

int ebpf_var_locate(struct ebpf_gadget *g, uint32_t var_id, struct ebpf_var_loc *loc)
{
	uint32_t n = btf__type_cnt(g->btf);

	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(g->btf, id);
		const struct btf_var_secinfo *vs;
		struct bpf_map *map;

		if (!btf_is_datasec(t))
			continue;
		vs = btf_var_secinfos(t);
		for (uint16_t i = 0; i < btf_vlen(t); i++, vs++) {
			if (vs->type != var_id)
				continue;
			/* libbpf tags each internal map with its DATASEC's id. */
			bpf_object__for_each_map(map, g->obj)
			{
				size_t sz = 0;

				if (!bpf_map__is_internal(map) || bpf_map__btf_value_type_id(map) != id)
					continue;
				if (!bpf_map__initial_value(map, &sz) || vs->offset + (size_t)vs->size > sz)
					break;
				loc->map = map;
				loc->offset = vs->offset;
				loc->size = vs->size;
				return 0;
			}
			sonde_err("variable '%s': section %s has no data map",
			          btf__name_by_offset(g->btf, btf__type_by_id(g->btf, var_id)->name_off),
			          btf__name_by_offset(g->btf, t->name_off));
			return -ENOENT;
		}
	}
	sonde_err("variable '%s' is in no data section",
	          btf__name_by_offset(g->btf, btf__type_by_id(g->btf, var_id)->name_off));
	return -ENOENT;
}

void *ebpf_var_data(const struct ebpf_var_loc *loc)
{
	size_t sz = 0;
	/* The internal map's image is plain writable memory until load; that is
	 * how skeletons set .rodata, and how params reach the verifier. */
	char *base = (char *)bpf_map__initial_value(loc->map, &sz);

	if (!base || loc->offset + (size_t)loc->size > sz)
		return NULL;
	return base + loc->offset;
}

/* ---- name splitting ---- */

struct parts {
	char *buf;
	char *v[16];
	size_t n;
};

/* Splits on "___"; at most 16 parts, none empty. */
static int split(const char *s, struct parts *p)
{
	char *cur;

	memset(p, 0, sizeof(*p));
	p->buf = strdup(s);
	if (!p->buf)
		return -ENOMEM;
	cur = p->buf;
	for (;;) {
		char *sep = strstr(cur, SEP);

		if (p->n == 16 || !*cur)
			goto bad;
		p->v[p->n++] = cur;
		if (!sep)
			return 0;
		*sep = '\0';
		cur = sep + strlen(SEP);
	}
bad:
	free(p->buf);
	p->buf = NULL;
	return -EINVAL;
}

/* ---- markers ---- */

static int find_struct(struct ebpf_gadget *g, const char *what, const char *name, uint32_t *id,
                       uint32_t *size)
{
	int sid = btf__find_by_name_kind(g->btf, name, BTF_KIND_STRUCT);

	if (sid <= 0)
		sid = btf__find_by_name_kind(g->btf, name, BTF_KIND_UNION);
	if (sid <= 0) {
		sonde_err("%s: struct '%s' not found in the eBPF object's BTF", what, name);
		return -ENOENT;
	}
	*id = (uint32_t)sid;
	*size = btf__type_by_id(g->btf, (uint32_t)sid)->size;
	if (*size == 0) {
		sonde_err("%s: struct '%s' is empty", what, name);
		return -EINVAL;
	}
	return 0;
}

static bool ds_name_taken(struct ebpf_gadget *g, const char *name)
{
	for (size_t i = 0; i < g->ntracers; i++)
		if (strcmp(g->tracers[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < g->niters; i++)
		if (strcmp(g->iters[i].name, name) == 0)
			return true;
	for (size_t i = 0; i < g->nmapiters; i++)
		if (strcmp(g->mapiters[i].name, name) == 0)
			return true;
	return false;
}

static int add_tracer(struct ebpf_gadget *g, const char *var, const char *spec)
{
	struct ebpf_tracer t = {0};
	struct parts p;
	enum bpf_map_type type;
	char what[300];
	int err;

	if (split(spec, &p) || p.n != 3) {
		sonde_err("tracer marker '%s': expected gadget_tracer_<name>___<map>___<struct>", var);
		free(p.buf);
		return -EINVAL;
	}
	err = -EINVAL;
	if (ds_name_taken(g, p.v[0])) {
		sonde_err("tracer '%s': a datasource with this name already exists", p.v[0]);
		goto out;
	}
	t.map = bpf_object__find_map_by_name(g->obj, p.v[1]);
	if (!t.map) {
		sonde_err("tracer '%s': map '%s' not found in the eBPF object", p.v[0], p.v[1]);
		err = -ENOENT;
		goto out;
	}
	type = bpf_map__type(t.map);
	if (type != BPF_MAP_TYPE_RINGBUF && type != BPF_MAP_TYPE_PERF_EVENT_ARRAY) {
		sonde_err("tracer '%s': map '%s' has a wrong type (%s), expected ringbuf or perf event array",
		          p.v[0], p.v[1],
		          libbpf_bpf_map_type_str(type) ? libbpf_bpf_map_type_str(type) : "?");
		goto out;
	}
	snprintf(what, sizeof(what), "tracer '%s'", p.v[0]);
	err = find_struct(g, what, p.v[2], &t.struct_id, &t.struct_size);
	if (err)
		goto out;
	t.name = strdup(p.v[0]);
	t.map_name = strdup(p.v[1]);
	t.struct_name = strdup(p.v[2]);
	t.watched_fd = -1;
	t.g = g;
	err = -ENOMEM;
	if (!t.name || !t.map_name || !t.struct_name)
		goto out_free;
	if (append_array(&g->tracers, &g->ntracers, &t, sizeof(t)))
		goto out_free;
	sonde_debug("ebpf: tracer '%s' reads map '%s' with struct '%s' (%u bytes)", t.name, t.map_name,
	            t.struct_name, t.struct_size);
	err = 0;
	goto out;
out_free:
	free(t.name);
	free(t.map_name);
	free(t.struct_name);
out:
	free(p.buf);
	return err;
}

static int add_iter(struct ebpf_gadget *g, const char *var, const char *spec)
{
	struct ebpf_iter it = {0};
	struct parts p;
	char what[300];
	int err;

	if (split(spec, &p) || p.n < 3) {
		sonde_err("iterator marker '%s': expected gadget_iter_<name>___<struct>___<prog>[___<prog>…]",
		          var);
		free(p.buf);
		return -EINVAL;
	}
	err = 0;
	for (size_t i = 0; i < g->niters; i++)
		if (strcmp(g->iters[i].name, p.v[0]) == 0) {
			sonde_debug("ebpf: duplicate iterator '%s' ignored", p.v[0]);
			goto out;
		}
	err = -EINVAL;
	if (ds_name_taken(g, p.v[0])) {
		sonde_err("iterator '%s': a datasource with this name already exists", p.v[0]);
		goto out;
	}
	snprintf(what, sizeof(what), "iterator '%s'", p.v[0]);
	err = find_struct(g, what, p.v[1], &it.struct_id, &it.struct_size);
	if (err)
		goto out;
	err = -ENOMEM;
	it.nprogs = p.n - 2;
	it.progs = calloc(it.nprogs, sizeof(*it.progs));
	it.links = calloc(it.nprogs, sizeof(*it.links));
	it.name = strdup(p.v[0]);
	it.struct_name = strdup(p.v[1]);
	if (!it.progs || !it.links || !it.name || !it.struct_name)
		goto out_free;
	for (size_t i = 0; i < it.nprogs; i++) {
		const char *pname = p.v[i + 2], *sec;

		it.progs[i] = bpf_object__find_program_by_name(g->obj, pname);
		if (!it.progs[i]) {
			sonde_err("iterator '%s': program '%s' not found in the eBPF object", it.name, pname);
			err = -ENOENT;
			goto out_free;
		}
		sec = bpf_program__section_name(it.progs[i]);
		if (strncmp(sec, "iter/", 5) != 0 && strncmp(sec, "iter.s/", 7) != 0) {
			sonde_err("iterator '%s': program '%s' (%s) is not an iter/ program", it.name, pname,
			          sec);
			err = -EINVAL;
			goto out_free;
		}
	}
	it.timer.timer_id = -1;
	it.g = g;
	if (append_array(&g->iters, &g->niters, &it, sizeof(it)))
		goto out_free;
	sonde_debug("ebpf: iterator '%s' with struct '%s' and %zu program(s)", it.name, it.struct_name,
	            it.nprogs);
	err = 0;
	goto out;
out_free:
	free(it.progs);
	free(it.links);
	free(it.name);
	free(it.struct_name);
out:
	free(p.buf);
	return err;
}

static int struct_of(const struct btf *btf, uint32_t type_id, uint32_t *resolved)
{
	const struct btf_type *t;

	if (!type_id)
		return -ENOENT;
	*resolved = ebpf_btf_resolve(btf, type_id);
	t = btf__type_by_id(btf, *resolved);
	return t && (btf_is_struct(t) || btf_is_union(t)) ? 0 : -EINVAL;
}

static int add_mapiter(struct ebpf_gadget *g, const char *var, const char *spec)
{
	struct ebpf_mapiter mi = {0};
	struct parts p;
	int err = -EINVAL;

	if (split(spec, &p) || p.n != 2) {
		sonde_err("map iterator marker '%s': expected gadget_mapiter_<name>___<map>", var);
		free(p.buf);
		return -EINVAL;
	}
	if (ds_name_taken(g, p.v[0])) {
		sonde_err("map iterator '%s': a datasource with this name already exists", p.v[0]);
		goto out;
	}
	mi.map = bpf_object__find_map_by_name(g->obj, p.v[1]);
	if (!mi.map) {
		sonde_err("map iterator '%s': map '%s' not found in the eBPF object", p.v[0], p.v[1]);
		err = -ENOENT;
		goto out;
	}
	if (bpf_map__type(mi.map) != BPF_MAP_TYPE_HASH) {
		sonde_err("map iterator '%s': map '%s' must be a hash map", p.v[0], p.v[1]);
		goto out;
	}
	if (struct_of(g->btf, bpf_map__btf_key_type_id(mi.map), &mi.key_id) ||
	    struct_of(g->btf, bpf_map__btf_value_type_id(mi.map), &mi.value_id)) {
		sonde_err("map iterator '%s': key and value of map '%s' must both be structs", p.v[0],
		          p.v[1]);
		goto out;
	}
	mi.key_size = btf__type_by_id(g->btf, mi.key_id)->size;
	mi.value_size = btf__type_by_id(g->btf, mi.value_id)->size;
	if (mi.key_size != bpf_map__key_size(mi.map) || mi.value_size != bpf_map__value_size(mi.map)) {
		sonde_err("map iterator '%s': struct sizes do not match map '%s' key/value sizes", p.v[0],
		          p.v[1]);
		goto out;
	}
	err = -ENOMEM;
	mi.name = strdup(p.v[0]);
	mi.map_name = strdup(p.v[1]);
	mi.timer.timer_id = -1;
	mi.g = g;
	if (!mi.name || !mi.map_name || append_array(&g->mapiters, &g->nmapiters, &mi, sizeof(mi))) {
		free(mi.name);
		free(mi.map_name);
		goto out;
	}
	err = 0;
out:
	free(p.buf);
	return err;
}

static int add_iter_target(struct ebpf_gadget *g, const char *var, const char *spec)
{
	struct ebpf_iter_target tg;
	struct parts p;
	int err = -EINVAL;

	if (split(spec, &p) || p.n != 2) {
		sonde_err("iterator target marker '%s': expected gadget_mapelem_iter_target_<prog>___<map>",
		          var);
		free(p.buf);
		return -EINVAL;
	}
	tg.prog = bpf_object__find_program_by_name(g->obj, p.v[0]);
	tg.map = bpf_object__find_map_by_name(g->obj, p.v[1]);
	if (!tg.prog || strcmp(bpf_program__section_name(tg.prog), "iter/bpf_map_elem") != 0) {
		sonde_err("iterator target '%s': program '%s' must exist with section iter/bpf_map_elem", var,
		          p.v[0]);
		goto out;
	}
	if (!tg.map) {
		sonde_err("iterator target '%s': map '%s' not found in the eBPF object", var, p.v[1]);
		goto out;
	}
	for (size_t i = 0; i < g->ntargets; i++)
		if (g->targets[i].prog == tg.prog) {
			sonde_err("program '%s' is bound to a map twice", p.v[0]);
			goto out;
		}
	err = -ENOMEM;
	if (append_array(&g->targets, &g->ntargets, &tg, sizeof(tg)))
		goto out;
	err = 0;
out:
	free(p.buf);
	return err;
}

static int add_sk_target(struct ebpf_gadget *g, const char *var, const char *spec)
{
	struct ebpf_sk_target tg = {0};
	enum bpf_map_type mt;
	enum ebpf_sec_kind kind;
	struct parts p;
	int err = -EINVAL;

	if (split(spec, &p) || p.n != 2) {
		sonde_err("sk target marker '%s': expected gadget_sk_prog_target_<prog>___<map>", var);
		free(p.buf);
		return -EINVAL;
	}
	tg.prog = bpf_object__find_program_by_name(g->obj, p.v[0]);
	tg.map = bpf_object__find_map_by_name(g->obj, p.v[1]);
	kind = tg.prog ? ebpf_section_kind(bpf_program__section_name(tg.prog), NULL) : EBPF_SEC_UNKNOWN;
	if (kind != EBPF_SEC_SK_SKB && kind != EBPF_SEC_SK_MSG) {
		sonde_err("sk target '%s': program '%s' must exist with an sk_skb/… or sk_msg section", var,
		          p.v[0]);
		goto out;
	}
	mt = tg.map ? bpf_map__type(tg.map) : BPF_MAP_TYPE_UNSPEC;
	if (mt != BPF_MAP_TYPE_SOCKMAP && mt != BPF_MAP_TYPE_SOCKHASH) {
		sonde_err("sk target '%s': map '%s' must exist and be a SOCKMAP or SOCKHASH", var, p.v[1]);
		goto out;
	}
	for (size_t i = 0; i < g->nsk_targets; i++)
		if (g->sk_targets[i].prog == tg.prog) {
			sonde_err("program '%s' is bound to a map twice", p.v[0]);
			goto out;
		}
	err = -ENOMEM;
	if (append_array(&g->sk_targets, &g->nsk_targets, &tg, sizeof(tg)))
		goto out;
	err = 0;
out:
	free(p.buf);
	return err;
}

static int add_param(struct ebpf_gadget *g, const char *var)
{
	uint32_t id;

	for (size_t i = 0; i < g->nparams; i++)
		if (strcmp(g->params[i].var, var) == 0)
			return 0; /* duplicates are harmless */
	id = ebpf_find_var(g->btf, var);
	if (!id) {
		sonde_err("param '%s': GADGET_PARAM names a variable that does not exist", var);
		return -ENOENT;
	}
	return ebpf_param_define(g, var, id);
}

static int add_var(struct ebpf_gadget *g, const char *name, const struct btf_type *t, uint32_t id)
{
	struct ebpf_var v = {0};
	int err;

	if (!is_const_volatile(g->btf, t)) {
		sonde_debug("ebpf: variable '%s' is not const volatile, ignored", name);
		return 0;
	}
	err = ebpf_var_locate(g, id, &v.loc);
	if (err)
		return err;
	v.name = strdup(name);
	if (!v.name || append_array(&g->vars, &g->nvars, &v, sizeof(v))) {
		free(v.name);
		return -ENOMEM;
	}
	return 0;
}

static int add_tracer_map(struct ebpf_gadget *g, const char *map)
{
	char *s;

	if (!bpf_object__find_map_by_name(g->obj, map)) {
		sonde_err("tracer map marker names map '%s' which does not exist", map);
		return -ENOENT;
	}
	s = strdup(map);
	if (!s || append_array(&g->tracer_maps, &g->ntracer_maps, &s, sizeof(s))) {
		free(s);
		return -ENOMEM;
	}
	return 0;
}

static bool has_prefix(const char *s, const char *prefix, const char **rest)
{
	size_t n = strlen(prefix);

	if (strncmp(s, prefix, n) != 0)
		return false;
	*rest = s + n;
	return true;
}

int ebpf_discover(struct ebpf_gadget *g)
{
	uint32_t n = btf__type_cnt(g->btf);
	int err;

	/* BTF order is declaration order, which also orders params and DataSources. */
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(g->btf, id);
		const char *name, *rest;

		if (!btf_is_var(t))
			continue;
		name = btf__name_by_offset(g->btf, t->name_off);
		if (!name || strncmp(name, "gadget_", 7) != 0)
			continue;
		if (strncmp(name, "gadget_var_", 11) == 0 || strcmp(name, "gadget_filter_by_mntns") == 0) {
			err = add_var(g, name, t, id);
			if (err)
				return err;
			continue;
		}
		if (!is_marker(g->btf, t)) {
			sonde_debug("ebpf: '%s' is not a `const void *` marker, ignored", name);
			continue;
		}
		if (has_prefix(name, "gadget_tracer_", &rest))
			err = add_tracer(g, name, rest);
		else if (has_prefix(name, "gadget_iter_", &rest))
			err = add_iter(g, name, rest);
		else if (has_prefix(name, "gadget_snapshotter_", &rest)) {
			sonde_warn("gadget uses the deprecated GADGET_SNAPSHOTTER marker '%s'", name);
			err = add_iter(g, name, rest);
		} else if (has_prefix(name, "gadget_mapiter_", &rest))
			err = add_mapiter(g, name, rest);
		else if (has_prefix(name, "gadget_mapelem_iter_target_", &rest))
			err = add_iter_target(g, name, rest);
		else if (has_prefix(name, "gadget_sk_prog_target_", &rest))
			err = add_sk_target(g, name, rest);
		else if (has_prefix(name, "gadget_map_tracer_", &rest))
			err = add_tracer_map(g, rest);
		else if (has_prefix(name, "gadget_param_", &rest))
			err = add_param(g, rest);
		else {
			sonde_debug("ebpf: marker '%s' not handled", name);
			err = 0;
		}
		if (err)
			return err;
	}
	return 0;
}
