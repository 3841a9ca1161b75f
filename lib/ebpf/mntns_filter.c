/* The gadget's mount-namespace filter, offered on the context as a
 * struct sonde_mntns_filter (sonde/mntns_filter.h).
 *
 * enable() creates a map exactly like the gadget's `gadget_mntns_filter_map`
 * and hands it to libbpf (reuse_fd), so the filter can be filled before the
 * programs are loaded: a container selected at start-up is never missed. The
 * fd stays the same until close, so add/remove from other threads need no
 * lock (the kernel serialises map updates). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sonde/log.h>
#include <sonde/mntns_filter.h>

#include "internal.h"

#define MAP_NAME "gadget_mntns_filter_map"
#define VAR_NAME "gadget_filter_by_mntns"

static int filter_enable(void *impl)
{
	struct ebpf_mntns_filter *f = impl;
	const struct bpf_map *map = f->map;
	int fd;

	if (atomic_load(&f->fd) >= 0)
		return 0;
	if (f->g->loaded) {
		sonde_err("gadget %s: the mount namespace filter is turned on before the gadget starts",
		          f->g->name);
		return -EBUSY;
	}
	if (bpf_map__key_size(map) != sizeof(uint64_t) || bpf_map__value_size(map) > sizeof(uint64_t)) {
		sonde_err(
		    "gadget %s: map '%s' has key/value sizes %u/%u, not 8/<=8: not a mount namespace filter",
		    f->g->name, MAP_NAME, bpf_map__key_size(map), bpf_map__value_size(map));
		return -EINVAL;
	}
	fd = bpf_map_create(bpf_map__type(map), "sonde_mntns", bpf_map__key_size(map),
	                    bpf_map__value_size(map), bpf_map__max_entries(map), NULL);
	if (fd < 0) {
		int err = -errno;

		sonde_err("cannot create the container filter map: %s (use --host to trace every process)",
		          strerror(-err));
		return err;
	}
	atomic_store(&f->fd, fd);
	return 0;
}

static bool filter_enabled(void *impl)
{
	struct ebpf_mntns_filter *f = impl;

	return atomic_load(&f->fd) >= 0;
}

static int filter_add(void *impl, uint64_t mntns)
{
	struct ebpf_mntns_filter *f = impl;
	int fd = atomic_load(&f->fd);
	/* the value is 1 of the map's value size: `__u32` in the ABI header */
	union {
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;
	} one = {0};

	if (fd < 0)
		return -EINVAL;
	switch (f->value_size) {
	case 1:
		one.u8 = 1;
		break;
	case 2:
		one.u16 = 1;
		break;
	case 4:
		one.u32 = 1;
		break;
	default:
		one.u64 = 1;
	}
	/* BPF_ANY: adding twice (an update of a selected container) is harmless */
	return bpf_map_update_elem(fd, &mntns, &one, BPF_ANY) ? -errno : 0;
}

static int filter_remove(void *impl, uint64_t mntns)
{
	struct ebpf_mntns_filter *f = impl;
	int fd = atomic_load(&f->fd);

	if (fd < 0)
		return -EINVAL;
	if (bpf_map_delete_elem(fd, &mntns) && errno != ENOENT)
		return -errno;
	return 0;
}

static const struct sonde_mntns_filter_ops ops = {
    .enable = filter_enable,
    .enabled = filter_enabled,
    .add = filter_add,
    .remove = filter_remove,
};

void ebpf_mntns_filter_offer(struct ebpf_gadget *g)
{
	struct ebpf_mntns_filter *f = &g->mntns;

	atomic_init(&f->fd, -1);
	f->g = g;
	f->map = bpf_object__find_map_by_name(g->obj, MAP_NAME);
	if (!f->map)
		return;
	f->value_size = bpf_map__value_size(f->map);
	f->iface = (struct sonde_mntns_filter){&ops, f};
	sonde_gadget_set_mntns_filter(g->ctx, &f->iface);
}

/* Writes `value` into an integer or bool variable of any size (the ABI says
 * bool; a gadget may declare it wider). */
static void write_flag(void *dst, uint32_t size, bool value)
{
	memset(dst, 0, size);
	switch (size) {
	case 2:
		*(uint16_t *)dst = value;
		break;
	case 4:
		*(uint32_t *)dst = value;
		break;
	case 8:
		*(uint64_t *)dst = value;
		break;
	default:
		*(uint8_t *)dst = value;
	}
}

int ebpf_mntns_filter_apply(struct ebpf_gadget *g)
{
	struct ebpf_mntns_filter *f = &g->mntns;
	int fd = atomic_load(&f->fd);
	int err;

	if (!f->map || fd < 0)
		return 0;
	err = bpf_map__reuse_fd(f->map, fd);
	if (err) {
		sonde_err("map '%s': cannot use the container filter map: %s", MAP_NAME, strerror(-err));
		return err;
	}
	for (size_t i = 0; i < g->nvars; i++) {
		struct ebpf_var *v = &g->vars[i];
		void *dst;

		if (strcmp(v->name, VAR_NAME) != 0)
			continue;
		dst = ebpf_var_data(&v->loc);
		if (!dst) {
			sonde_err("variable '%s': its data section is gone", v->name);
			return -EINVAL;
		}
		write_flag(dst, v->loc.size, true);
		sonde_debug("ebpf: gadget %s filters by mount namespace", g->name);
		return 0;
	}
	sonde_warn("gadget %s has the map '%s' but no '%s': its events are not filtered by container",
	           g->name, MAP_NAME, VAR_NAME);
	return 0;
}

void ebpf_mntns_filter_close(struct ebpf_gadget *g)
{
	int fd = atomic_exchange(&g->mntns.fd, -1);

	if (fd >= 0)
		close(fd);
	if (g->mntns.map)
		sonde_gadget_set_mntns_filter(g->ctx, NULL);
}
