/* The socket enricher: fills the `gadget_sockets` map of <gadget/sockets-map.h>
 * (socket → owning process) for gadgets that declare it (spec §2.7, §9.1).
 *
 * Upstream fills it from kprobes; this one works without them, from BPF
 * iterators, cgroup sock hooks and tracepoints (socket_enricher.bpf.c says
 * which). One enricher per process, shared by every run that needs it and
 * stopped with the last one (upstream's SocketEnricher operator does the
 * same): its map is an LRU hash of `socket-enricher-max-entries` entries
 * (the first run's value), created here and handed to each gadget before
 * load (bpf_map__reuse_fd), as the mount-namespace filter is.
 *
 * CO-RE: `struct gadget_socket_value` is preserve_access_index, so libbpf
 * relocates every access against the kernel's BTF, where it is not: "failed
 * to resolve CO-RE relocation". Upstream passes its own BTF of the struct as
 * an extra relocation target (cilium/ebpf); libbpf has no such option but
 * takes a whole target BTF (btf_custom_path). So sonde writes, once per
 * process, the kernel's BTF plus the enricher's struct into a memfd and
 * opens every object that uses the map with it. The struct is the map's
 * real layout: the fixed members only (the optional cwd/exepath are not
 * collected, so gadgets see them as absent through bpf_core_field_exists). */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <sonde/log.h>

#include "internal.h"
#include "util/clock.h"

#define MAP_NAME     "gadget_sockets"
#define VALUE_STRUCT "gadget_socket_value"
#define OPTIONAL     "optional_fields_start"
#define KERNEL_BTF   "/sys/kernel/btf/vmlinux"
#define DEFAULT_MAX  "16384"
/* How long a closed socket's entry stays (upstream: 5 s, swept every 2 s). */
#define GRACE_NS (5 * 1000000000LL)
#define SWEEP_NS (1 * 1000000000LL)

extern const char sonde_bpf_socket_enricher_obj[], sonde_bpf_socket_enricher_obj_end[];

/* struct gadget_socket_key, padding included */
struct se_key {
	uint32_t netns;
	uint16_t family;
	uint8_t proto;
	uint16_t port;
};
_Static_assert(sizeof(struct se_key) == 12, "upstream's key is 12 bytes");

/* .bss of socket_enricher.bpf.c, in declaration order */
struct se_counters {
	uint64_t inserted, closed, update_errors;
};

static pthread_mutex_t se_lock = PTHREAD_MUTEX_INITIALIZER;

/* The merged BTF (built once per process, kept for its lifetime). */
static int btf_fd = -1;
static char btf_path[64];
static uint32_t value_size;   /* of the struct in that BTF */
static uint32_t deletion_off; /* offset of deletion_timestamp in it */

/* The running enricher. */
static struct {
	int refs;
	struct bpf_object *obj;
	int map_fd;
	uint32_t max_entries;
	struct bpf_link *links[16];
	size_t nlinks;
	uint64_t evicted_reported;
	/* the sweeper of closed sockets' entries */
	pthread_t sweeper;
	bool sweeping;
	pthread_mutex_t sweep_lock;
	pthread_cond_t sweep_cond;
	bool sweep_stop;
	atomic_uint_fast64_t purged;
} se = {.map_fd = -1, .sweep_lock = PTHREAD_MUTEX_INITIALIZER, .sweep_cond = PTHREAD_COND_INITIALIZER};

/* ---- the merged BTF ---- */

/* Copies type `id` of src (ints, arrays, typedefs, modifiers, structs of
 * them) into dst; returns the new id or -errno. Structs stop before
 * `optional_fields_start`, which then gives their size. */
static int copy_type(struct btf *dst, const struct btf *src, uint32_t id, int depth)
{
	const struct btf_type *t = btf__type_by_id(src, id);
	const char *name;
	int ref, elem, idx, sid;

	if (!t || depth > 8)
		return -EINVAL;
	name = btf__name_by_offset(src, t->name_off);
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		return btf__add_int(dst, name, t->size, btf_int_encoding(t));
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
		ref = copy_type(dst, src, t->type, depth + 1);
		if (ref < 0)
			return ref;
		if (btf_kind(t) == BTF_KIND_TYPEDEF)
			return btf__add_typedef(dst, name, ref);
		return btf_kind(t) == BTF_KIND_CONST ? btf__add_const(dst, ref) : btf__add_volatile(dst, ref);
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);

		elem = copy_type(dst, src, a->type, depth + 1);
		idx = elem < 0 ? elem : copy_type(dst, src, a->index_type, depth + 1);
		return idx < 0 ? idx : btf__add_array(dst, idx, elem, a->nelems);
	}
	case BTF_KIND_STRUCT: {
		const struct btf_member *m = btf_members(t);
		uint16_t n = btf_vlen(t);
		int *types = calloc(n ? n : 1, sizeof(*types));
		uint32_t size = t->size, i, kept = 0;

		if (!types)
			return -ENOMEM;
		/* member types first: btf__add_field must follow its struct directly */
		for (i = 0; i < n; i++) {
			if (!strcmp(btf__name_by_offset(src, m[i].name_off), OPTIONAL)) {
				size = btf_member_bit_offset(t, i) / 8;
				break;
			}
			types[i] = copy_type(dst, src, m[i].type, depth + 1);
			if (types[i] < 0) {
				int err = types[i];

				free(types);
				return err;
			}
			kept++;
		}
		sid = btf__add_struct(dst, name, size);
		for (i = 0; sid >= 0 && i < kept; i++) {
			int err = btf__add_field(dst, btf__name_by_offset(src, m[i].name_off), types[i],
			                         btf_member_bit_offset(t, i), btf_member_bitfield_size(t, i));
			if (err)
				sid = err;
		}
		free(types);
		return sid;
	}
	default:
		return -EOPNOTSUPP;
	}
}

/* The enricher's own object, opened (never loaded) for its BTF or to run. */
static struct bpf_object *open_enricher(const char *custom_btf)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = "socket_enricher",
	            .btf_custom_path = custom_btf);

	return bpf_object__open_mem(
	    sonde_bpf_socket_enricher_obj,
	    (size_t)(sonde_bpf_socket_enricher_obj_end - sonde_bpf_socket_enricher_obj), &opts);
}

static int build_btf(void)
{
	struct bpf_object *obj = NULL;
	struct btf *kernel = NULL;
	const struct btf *own;
	const struct btf_type *t;
	const void *raw;
	uint32_t raw_len;
	int64_t t0 = util_now_ns();
	int id, fd = -1, err;

	obj = open_enricher(NULL);
	if (!obj) {
		err = errno ? -errno : -EINVAL;
		sonde_err("socket enricher: cannot open its eBPF object: %s", strerror(-err));
		return err;
	}
	own = bpf_object__btf(obj);
	id = own ? btf__find_by_name_kind(own, VALUE_STRUCT, BTF_KIND_STRUCT) : -ENOENT;
	kernel = btf__parse(KERNEL_BTF, NULL);
	if (!kernel) {
		err = errno ? -errno : -ENOENT;
		sonde_err("socket enricher: cannot read the kernel BTF %s: %s", KERNEL_BTF, strerror(-err));
		goto out;
	}
	err = id < 0 ? id : copy_type(kernel, own, (uint32_t)id, 0);
	if (err < 0) {
		sonde_err("socket enricher: cannot add struct %s to the kernel BTF: %s", VALUE_STRUCT,
		          strerror(-err));
		goto out;
	}
	t = btf__type_by_id(kernel, (uint32_t)err);
	value_size = t->size;
	for (uint16_t i = 0; i < btf_vlen(t); i++)
		if (!strcmp(btf__name_by_offset(kernel, btf_members(t)[i].name_off), "deletion_timestamp"))
			deletion_off = btf_member_bit_offset(t, i) / 8;
	if (!deletion_off || deletion_off + 8 > value_size) {
		sonde_err("socket enricher: struct %s has no deletion_timestamp", VALUE_STRUCT);
		err = -EINVAL;
		goto out;
	}
	raw = btf__raw_data(kernel, &raw_len);
	fd = memfd_create("sonde-sockets-btf", MFD_CLOEXEC);
	if (fd < 0 || !raw || write(fd, raw, raw_len) != (ssize_t)raw_len) {
		err = fd < 0 || !raw ? -errno : -EIO;
		sonde_err("socket enricher: cannot write the merged BTF: %s", strerror(-err));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	btf_fd = fd;
	snprintf(btf_path, sizeof(btf_path), "/proc/self/fd/%d", fd);
	err = 0;
	sonde_debug("socket enricher: kernel BTF + %s (%u bytes) in %.1f ms", VALUE_STRUCT, value_size,
	            (double)(util_now_ns() - t0) / 1e6);
out:
	btf__free(kernel);
	bpf_object__close(obj);
	return err;
}

int ebpf_sockets_btf_path(const char **path)
{
	int err = 0;

	pthread_mutex_lock(&se_lock);
	if (btf_fd < 0)
		err = build_btf();
	pthread_mutex_unlock(&se_lock);
	*path = err ? NULL : btf_path;
	return err;
}

/* ---- the enricher ---- */

/* The .bss counters, read from the kernel: without a skeleton, libbpf 1.1
 * keeps only the initial image in memory (bpf_map__initial_value). */
static bool counters(struct se_counters *c)
{
	struct bpf_map *m;
	uint8_t buf[64];
	uint32_t zero = 0;

	bpf_object__for_each_map(m, se.obj)
	{
		if (!bpf_map__is_internal(m) || !strstr(bpf_map__name(m), ".bss") ||
		    bpf_map__value_size(m) < sizeof(*c) || bpf_map__value_size(m) > sizeof(buf))
			continue;
		if (bpf_map_lookup_elem(bpf_map__fd(m), &zero, buf))
			return false;
		memcpy(c, buf, sizeof(*c));
		return true;
	}
	return false;
}

static uint64_t count_entries(int fd, uint32_t max)
{
	uint8_t key[64], next[64];
	uint64_t n = 0;
	void *prev = NULL;

	while (n <= max && bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

/* Reports sockets lost to a full map since the last report. */
static void report_evictions(void)
{
	struct se_counters cnt, *c = &cnt;
	uint64_t live, gone, evicted;

	if (!se.obj || !counters(c))
		return;
	live = count_entries(se.map_fd, se.max_entries);
	sonde_debug("socket enricher: %" PRIu64 " sockets recorded, %" PRIu64 " closed, %" PRIu64
	            " in the map",
	            c->inserted, c->closed, live);
	gone = atomic_load(&se.purged) + live;
	evicted = c->inserted > gone ? c->inserted - gone : 0;
	if (evicted > se.evicted_reported) {
		sonde_warn("socket enricher: its map of %u sockets was full, %" PRIu64
		           " entries were evicted (param socket-enricher-max-entries)",
		           se.max_entries, evicted - se.evicted_reported);
		se.evicted_reported = evicted;
	}
	if (c->update_errors)
		sonde_warn("socket enricher: %" PRIu64 " sockets could not be recorded", c->update_errors);
}

/* Deletes the entries of sockets closed more than GRACE_NS ago. */
static void sweep(int fd)
{
	struct se_key key, next, *dead = NULL;
	size_t ndead = 0, cap = 0;
	uint8_t *val = malloc(value_size);
	int64_t now = util_now_ns();
	void *prev = NULL;
	uint64_t ts;

	/* collect first: deleting the current key would restart the walk */
	while (val && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, val))
			continue;
		memcpy(&ts, val + deletion_off, sizeof(ts));
		if (!ts || now - (int64_t)ts < GRACE_NS)
			continue;
		if (ndead == cap) {
			struct se_key *d = realloc(dead, (cap = cap ? 2 * cap : 64) * sizeof(*d));

			if (!d)
				break;
			dead = d;
		}
		dead[ndead++] = key;
	}
	for (size_t i = 0; i < ndead; i++) {
		/* still the closed one (a new socket on the port clears the mark) */
		if (bpf_map_lookup_elem(fd, &dead[i], val))
			continue;
		memcpy(&ts, val + deletion_off, sizeof(ts));
		if (ts && bpf_map_delete_elem(fd, &dead[i]) == 0)
			atomic_fetch_add(&se.purged, 1);
	}
	free(dead);
	free(val);
}

static void *sweeper_main(void *arg)
{
	int fd = *(int *)arg;
	struct timespec until;

	pthread_mutex_lock(&se.sweep_lock);
	while (!se.sweep_stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += SWEEP_NS / 1000000000LL;
		pthread_cond_timedwait(&se.sweep_cond, &se.sweep_lock, &until);
		if (se.sweep_stop)
			break;
		pthread_mutex_unlock(&se.sweep_lock);
		sweep(fd);
		pthread_mutex_lock(&se.sweep_lock);
	}
	pthread_mutex_unlock(&se.sweep_lock);
	return NULL;
}

static int sweeper_start(void)
{
	pthread_condattr_t attr;
	sigset_t all, old;
	int err;

	/* the map's timestamps are CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_destroy(&se.sweep_cond);
	pthread_cond_init(&se.sweep_cond, &attr);
	pthread_condattr_destroy(&attr);
	se.sweep_stop = false;
	/* SIGINT and SIGTERM stay with the thread that runs the gadget's loop:
	 * they must interrupt its write to a stalled stdout (sonde run) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&se.sweeper, NULL, sweeper_main, &se.map_fd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	se.sweeping = true;
	return 0;
}

static void sweeper_stop(void)
{
	if (!se.sweeping)
		return;
	pthread_mutex_lock(&se.sweep_lock);
	se.sweep_stop = true;
	pthread_cond_signal(&se.sweep_cond);
	pthread_mutex_unlock(&se.sweep_lock);
	pthread_join(se.sweeper, NULL);
	se.sweeping = false;
}

static void se_stop(void)
{
	sweeper_stop();
	report_evictions();
	ebpf_destroy_links(se.links, se.nlinks);
	se.nlinks = 0;
	bpf_object__close(se.obj);
	se.obj = NULL;
	if (se.map_fd >= 0)
		close(se.map_fd);
	se.map_fd = -1;
	se.evicted_reported = 0;
	atomic_store(&se.purged, 0);
}

/* Runs the task_file iterator once: every socket already open. */
static int initial_scan(struct bpf_program *prog)
{
	struct bpf_link *link = bpf_program__attach_iter(prog, NULL);
	char buf[4096];
	ssize_t n;
	int fd, err = 0;

	if (!link)
		return -errno;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = -errno;
	} else {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		if (n < 0)
			err = -errno;
		close(fd);
	}
	bpf_link__destroy(link);
	return err;
}

/* Which programs the enricher cannot do without; the others only make it
 * miss some sockets (e.g. cgroup/sock_release before 5.9: UDP entries stay
 * until their port is reused). */
static bool essential(const char *sec)
{
	return !strcmp(sec, "tracepoint/sock/inet_sock_set_state") || !strncmp(sec, "cgroup/post_bind", 16) ||
	       !strcmp(sec, "sockops");
}

static int se_start(uint32_t max_entries)
{
	struct bpf_program *prog, *scan = NULL;
	struct bpf_map *map;
	char root[PATH_MAX];
	const char *path;
	int64_t t0 = util_now_ns();
	int err, cg = -1;

	if (btf_fd < 0 && (err = build_btf()))
		return err;
	path = btf_path;
	se.max_entries = max_entries;
	se.map_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, MAP_NAME, sizeof(struct se_key), value_size,
	                           max_entries, NULL);
	if (se.map_fd < 0) {
		err = -errno;
		sonde_err("socket enricher: cannot create its map of %u sockets: %s", max_entries,
		          strerror(-err));
		return err;
	}
	se.obj = open_enricher(path);
	if (!se.obj) {
		err = errno ? -errno : -EINVAL;
		sonde_err("socket enricher: cannot open its eBPF object: %s", strerror(-err));
		goto fail;
	}
	map = bpf_object__find_map_by_name(se.obj, MAP_NAME);
	err = map ? bpf_map__reuse_fd(map, se.map_fd) : -ENOENT;
	if (err) {
		sonde_err("socket enricher: cannot use its map: %s", strerror(-err));
		goto fail;
	}
	ebpf_libbpf_log_reset();
	err = bpf_object__load(se.obj);
	if (err) {
		const char *failed = ebpf_libbpf_failed_prog();

		sonde_err("socket enricher: cannot load its eBPF program%s%s: %s%s%s", failed ? " " : "s",
		          failed ? failed : "", strerror(-err), *ebpf_libbpf_verifier() ? "; verifier: " : "",
		          ebpf_libbpf_verifier());
		goto fail;
	}
	err = ebpf_tracefs_ensure();
	if (err)
		goto fail;
	err = ebpf_cgroup2_root(root, sizeof(root));
	cg = err ? -1 : open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		err = err ? err : -errno;
		sonde_err("socket enricher: no cgroup v2 hierarchy to attach to: %s", strerror(-err));
		goto fail;
	}
	/* live sources first: a socket made during the scan is seen by one or the other */
	bpf_object__for_each_program(prog, se.obj)
	{
		const char *sec = bpf_program__section_name(prog);
		struct bpf_link *link;

		if (!strncmp(sec, "iter/", 5)) {
			scan = prog;
			continue;
		}
		link = !strncmp(sec, "cgroup/", 7) || !strcmp(sec, "sockops")
		           ? bpf_program__attach_cgroup(prog, cg)
		           : bpf_program__attach(prog);
		if (!link) {
			err = -errno;
			if (essential(sec)) {
				sonde_err("socket enricher: cannot attach %s: %s", sec, strerror(-err));
				goto fail;
			}
			sonde_warn("socket enricher: %s not attached (%s): some sockets may be missed", sec,
			           strerror(-err));
			continue;
		}
		if (se.nlinks == sizeof(se.links) / sizeof(se.links[0])) {
			bpf_link__destroy(link);
			err = -E2BIG;
			goto fail;
		}
		se.links[se.nlinks++] = link;
	}
	close(cg);
	cg = -1;
	err = scan ? initial_scan(scan) : -ENOENT;
	if (err) {
		sonde_err("socket enricher: the scan of open sockets failed: %s", strerror(-err));
		goto fail;
	}
	err = sweeper_start();
	if (err) {
		sonde_err("socket enricher: cannot start its sweeper thread: %s", strerror(-err));
		goto fail;
	}
	sonde_debug("socket enricher: started in %.1f ms, %" PRIu64 " sockets found",
	            (double)(util_now_ns() - t0) / 1e6, count_entries(se.map_fd, max_entries));
	return 0;
fail:
	if (cg >= 0)
		close(cg);
	se_stop();
	return err;
}

int ebpf_socket_enricher_acquire(uint32_t max_entries, int *map_fd)
{
	int err = 0;

	pthread_mutex_lock(&se_lock);
	if (se.refs == 0)
		err = se_start(max_entries);
	else if (max_entries != se.max_entries)
		sonde_debug("socket enricher: already running with %u entries, not %u", se.max_entries,
		            max_entries);
	if (!err) {
		se.refs++;
		*map_fd = se.map_fd;
	}
	pthread_mutex_unlock(&se_lock);
	return err;
}

void ebpf_socket_enricher_release(void)
{
	pthread_mutex_lock(&se_lock);
	if (se.refs > 0 && --se.refs == 0)
		se_stop();
	else if (se.refs > 0)
		report_evictions();
	pthread_mutex_unlock(&se_lock);
}

/* ---- the gadget's side ---- */

int ebpf_sockets_params(struct ebpf_gadget *g)
{
	static const struct sonde_param_desc d = {
	    .key = "socket-enricher-max-entries",
	    .description = "Sockets the socket enricher keeps (oldest evicted beyond); the first running "
	                   "gadget that uses it sets it",
	    .default_value = DEFAULT_MAX,
	    .type_hint = "uint32",
	};

	if (!g->sockets_map)
		return 0;
	g->sockets_max = sonde_params_add(sonde_gadget_params(g->ctx), EBPF_PARAM_PREFIX, &d);
	if (!g->sockets_max) {
		sonde_err("cannot add the socket-enricher-max-entries param");
		return -EINVAL;
	}
	return 0;
}

int ebpf_sockets_apply(struct ebpf_gadget *g)
{
	uint64_t max;
	int fd, err;

	if (!g->sockets_map || g->sockets_acquired)
		return 0;
	max = g->sockets_max ? sonde_param_uint(g->sockets_max) : 16384;
	if (max == 0 || max > (1u << 24)) {
		sonde_err("param socket-enricher-max-entries: %" PRIu64 " is not in 1..%u", max, 1u << 24);
		return -EINVAL;
	}
	err = ebpf_socket_enricher_acquire((uint32_t)max, &fd);
	if (err)
		return err;
	g->sockets_acquired = true;
	err = bpf_map__reuse_fd(g->sockets_map, fd);
	if (err) {
		sonde_err("map '%s': cannot use the socket enricher's map: %s", MAP_NAME, strerror(-err));
		return err;
	}
	sonde_debug("ebpf: gadget %s reads the socket enricher's map", g->name);
	return 0;
}

void ebpf_sockets_release(struct ebpf_gadget *g)
{
	if (!g->sockets_acquired)
		return;
	g->sockets_acquired = false;
	ebpf_socket_enricher_release();
}
