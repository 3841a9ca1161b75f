/* Maps and variables shared with other operators (spec §2.7), through
 * context variables:
 *  - replaceable maps (`gadget_sockets`, `otel_generic_params`): the context
 *    variable of that name holds an `int *` map fd that replaces the gadget's
 *    own map, if compatible;
 *  - `gadget_var_*` globals: the context variable of the same name points to
 *    the new value, which must hold the variable's size in bytes;
 *  - after load, every map is published as `map/<name>` (a struct bpf_map *).
 * The mount-namespace filter (`gadget_mntns_filter_map` and
 * `gadget_filter_by_mntns`) is not among them: it is a typed interface
 * (sonde/mntns_filter.h, mntns_filter.c). */
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <sonde/log.h>

#include "internal.h"

static const char *const replaceable[] = {"gadget_sockets", "otel_generic_params", NULL};

static bool compatible(const struct bpf_map *map, int fd, char *why, size_t whylen)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(why, whylen, "fd %d is not a map: %s", fd, strerror(errno));
		return false;
	}
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) || info.max_entries != bpf_map__max_entries(map) ||
	    info.map_flags != bpf_map__map_flags(map)) {
		snprintf(
		    why, whylen,
		    "type/key/value/entries/flags %u/%u/%u/%u/%u differ from the gadget's %u/%u/%u/%u/%u",
		    info.type, info.key_size, info.value_size, info.max_entries, info.map_flags,
		    bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map),
		    bpf_map__max_entries(map), bpf_map__map_flags(map));
		return false;
	}
	return true;
}

int ebpf_apply_operator_vars(struct ebpf_gadget *g)
{
	char why[256];

	for (size_t i = 0; replaceable[i]; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(g->obj, replaceable[i]);
		const int *fd = sonde_gadget_var(g->ctx, replaceable[i]);
		int err;

		if (!map || !fd || *fd < 0)
			continue;
		if (!compatible(map, *fd, why, sizeof(why))) {
			sonde_warn("map '%s': replacement from another operator not used: %s", replaceable[i],
			           why);
			continue;
		}
		err = bpf_map__reuse_fd(map, *fd);
		if (err) {
			sonde_err("map '%s': cannot use the replacement map: %s", replaceable[i],
			          strerror(-err));
			return err;
		}
		sonde_debug("ebpf: map '%s' replaced by fd %d", replaceable[i], *fd);
		/* reuse_fd renames the map after the kernel's: publish the gadget's name too */
		{
			char var[64];

			snprintf(var, sizeof(var), "map/%s", replaceable[i]);
			sonde_gadget_set_var(g->ctx, var, map);
		}
	}
	for (size_t i = 0; i < g->nvars; i++) {
		struct ebpf_var *v = &g->vars[i];
		const void *val;
		void *dst;

		/* set by the typed filter (mntns_filter.c), never from a variable:
		 * a `bool` behind a pointer is 1 byte, the gadget's flag may be wider */
		if (strncmp(v->name, "gadget_var_", 11) != 0)
			continue;
		val = sonde_gadget_var(g->ctx, v->name);
		if (!val)
			continue;
		dst = ebpf_var_data(&v->loc);
		if (!dst) {
			sonde_err("variable '%s': its data section is gone", v->name);
			return -EINVAL;
		}
		memcpy(dst, val, v->loc.size);
		sonde_debug("ebpf: variable '%s' set by an operator", v->name);
	}
	return 0;
}

void ebpf_publish_maps(struct ebpf_gadget *g)
{
	struct bpf_map *map;

	bpf_object__for_each_map(map, g->obj)
	{
		char name[300];

		if (bpf_map__is_internal(map))
			continue;
		snprintf(name, sizeof(name), "map/%s", bpf_map__name(map));
		sonde_gadget_set_var(g->ctx, name, map);
	}
}
