/* Tracers (spec §2.9): a ring buffer (or perf buffer) whose samples become
 * records of a Single DataSource.
 *
 * The reader is an fd of the run loop; each wakeup consumes everything that is
 * ready. A sample at least as large as the event struct is emitted in place
 * (payload points into the ring); shorter ones are copied into a zero-padded
 * scratch buffer, so a gadget may send only the used head of its struct (a
 * string up to its NUL) and every field still reads the same. Nothing is
 * allocated per event. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/log.h>

#include "internal.h"

#define LOST_INTERVAL_NS 1000000000LL
/* Gadgets wake the reader only when a ring is an eighth full (gadget/buffer.h);
 * smaller amounts are read on this timer, which bounds their delay. */
#define DRAIN_INTERVAL_NS 20000000LL
/* Records per wakeup. libbpf 1.1 keeps consuming a ring buffer for as long as
 * producers keep up (and a sink may itself trigger the traced event), so the
 * sample callback ends a batch by returning BUDGET_SPENT; the ring fd stays
 * readable and the loop comes back after serving timers and other fds. */
#define RING_BUDGET  4096
#define BUDGET_SPENT (-EAGAIN)

int ebpf_tracer_setup(struct ebpf_gadget *g, struct ebpf_tracer *t)
{
	const char *rest, *rest_len;
	char name[256];
	int err;

	t->ds = sonde_gadget_add_ds(g->ctx, t->name, SONDE_DS_SINGLE);
	if (!t->ds) {
		sonde_err("tracer '%s': cannot create its datasource", t->name);
		return -EINVAL;
	}
	err = ebpf_add_struct_fields(t->ds, g->btf, t->struct_id, NULL, &t->slot, ebpf_enum_formatter_add, g);
	if (err)
		return err;

	rest = ebpf_ds_annotation(g, t->ds, "ebpf.rest.name");
	rest_len = ebpf_ds_annotation(g, t->ds, "ebpf.rest.len");
	if (rest && *rest) {
		t->rest = sonde_ds_add_field(t->ds, rest, SONDE_KIND_BYTES, NULL);
		if (!t->rest) {
			sonde_err("tracer '%s': cannot add field '%s' for trailing bytes", t->name, rest);
			return -EINVAL;
		}
	}
	if (rest_len && *rest_len) {
		t->rest_len = sonde_ds_field(t->ds, rest_len);
		if (!t->rest || !t->rest_len || !sonde_kind_is_int(sonde_field_kind(t->rest_len)) ||
		    !(sonde_field_flags(t->rest_len) & SONDE_FIELD_STATIC_MEMBER)) {
			sonde_err("tracer '%s': ebpf.rest.len must name an integer member of struct %s "
			          "(and ebpf.rest.name must be set)",
			          t->name, t->struct_name);
			return -EINVAL;
		}
	}

	snprintf(name, sizeof(name), "%s_lost_samples", t->map_name);
	t->lost_map = bpf_object__find_map_by_name(g->obj, name);
	if (t->lost_map && (bpf_map__type(t->lost_map) != BPF_MAP_TYPE_PERCPU_ARRAY ||
	                    bpf_map__value_size(t->lost_map) != sizeof(uint64_t) ||
	                    bpf_map__key_size(t->lost_map) != sizeof(uint32_t))) {
		sonde_warn("tracer '%s': map '%s' is not a per-CPU u64 counter; lost samples not counted",
		           t->name, name);
		t->lost_map = NULL;
	}
	return 0;
}

/* Ring sizes. One ring serves every CPU, and each can fill it at once while
 * the reader is scheduled out, so it grows with the CPU count: per CPU room
 * for RING_EVENTS_PER_CPU events of the full event struct, RING_MIN_PER_CPU
 * at least (2 MiB: at 600 k opens/s, ~18 ms of trace_open's ~190-byte
 * records), rounded up to a power of two, RING_MAX in all. The ring-size
 * param replaces the per-CPU amount; a <map>_max_entries variable (a gadget
 * param of its own) wins over both. */
#define RING_MIN_PER_CPU    (2ull << 20)
#define RING_EVENTS_PER_CPU 2048ull
#define RING_MAX            (1ull << 30)

static const char *const ring_tags[] = {"group:eBPF", NULL};

/* Default bytes per CPU for the tracers of map m (every map when NULL). */
static uint64_t default_per_cpu(struct ebpf_gadget *g, const struct bpf_map *m)
{
	uint64_t most = 0, per_cpu;

	for (size_t i = 0; i < g->ntracers; i++)
		if ((!m || g->tracers[i].map == m) && g->tracers[i].struct_size > most)
			most = g->tracers[i].struct_size;
	/* the record header is 8 bytes; records are 8-byte aligned */
	per_cpu = RING_EVENTS_PER_CPU * ((most + 8 + 7) & ~7ull);
	return per_cpu < RING_MIN_PER_CPU ? RING_MIN_PER_CPU : per_cpu;
}

int ebpf_tracers_params(struct ebpf_gadget *g)
{
	uint64_t per_cpu;
	char def[32];
	struct sonde_param_desc d = {
	    .key = "ring-size",
	    .description = "Ring buffer size per CPU for the events of each tracer, in bytes (K, M, G "
	                   "suffixes). Events that come while it is full (sonde behind, its output "
	                   "blocked) are lost and reported. The default holds 2048 whole events of "
	                   "the gadget per CPU, 2M at least; rounded up to a power of two, 1G in all "
	                   "at most",
	    .default_value = def,
	    .tags = ring_tags,
	};

	if (g->ntracers == 0)
		return 0;
	per_cpu = default_per_cpu(g, NULL);
	if (per_cpu % (1u << 20) == 0)
		snprintf(def, sizeof(def), "%" PRIu64 "M", per_cpu >> 20);
	else
		snprintf(def, sizeof(def), "%" PRIu64 "K", (per_cpu + 1023) >> 10);
	g->ring_size = sonde_params_add(sonde_gadget_params(g->ctx), EBPF_PARAM_PREFIX, &d);
	if (!g->ring_size) {
		sonde_err("cannot add the ring-size param");
		return -EINVAL;
	}
	return 0;
}

/* "" -> 0 (default); "4M" -> 4194304. -EINVAL for anything else. */
static int parse_ring_size(const char *v, uint64_t *out)
{
	char *end;
	uint64_t n, mul = 1;

	*out = 0;
	if (!v || !*v)
		return 0;
	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		mul = 1ull << 10, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1ull << 20, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1ull << 30, end++;
	if (*end == 'i' && mul > 1)
		end++;
	if ((*end == 'B' || *end == 'b') && end[-1] != 'b')
		end++;
	if (*end || n == 0 || n > RING_MAX / mul)
		return -EINVAL;
	*out = n * mul;
	return 0;
}

int ebpf_tracers_check_params(struct ebpf_gadget *g)
{
	uint64_t v;

	if (g->ring_size && parse_ring_size(sonde_param_value(g->ring_size), &v)) {
		sonde_err("param 'ring-size': invalid size '%s' (want bytes per CPU, like 2M or 512K; "
		          "at most 1G)",
		          sonde_param_value(g->ring_size));
		return -EINVAL;
	}
	return 0;
}

static void size_ring(struct ebpf_gadget *g, struct bpf_map *m)
{
	int ncpus = libbpf_num_possible_cpus();
	char var[256];
	uint64_t per_cpu = 0, want, size = bpf_map__max_entries(m);

	/* A size chosen through a <map>_max_entries variable (a param) stands. */
	snprintf(var, sizeof(var), "%s_max_entries", bpf_map__name(m));
	if (ebpf_find_var(g->btf, var))
		return;
	if (g->ring_size && sonde_param_is_set(g->ring_size)) {
		parse_ring_size(sonde_param_value(g->ring_size), &per_cpu); /* checked at pre_start */
		size = (uint64_t)sysconf(_SC_PAGESIZE);                     /* it may also shrink */
	}
	if (!per_cpu)
		per_cpu = default_per_cpu(g, m); /* only grows what the gadget declares */
	want = (uint64_t)(ncpus > 0 ? ncpus : 1) * per_cpu;
	if (want > RING_MAX)
		want = RING_MAX;
	while (size && size < want && size <= RING_MAX / 2)
		size *= 2;
	if (size != bpf_map__max_entries(m) && bpf_map__set_max_entries(m, (uint32_t)size) == 0)
		sonde_debug("map '%s': ring buffer of %" PRIu64 " KiB for %d CPUs", bpf_map__name(m),
		            size >> 10, ncpus);
}

/* Pages per CPU of a perf buffer (a power of two, as perf wants): the same
 * bytes per CPU as a ring, ring-size or the default, so that the param the
 * lost-events warning points at works for perf event arrays too. A fixed 64
 * pages held 180 of tcpdump's 1400-byte packets per CPU. */
static size_t perf_pages(struct ebpf_gadget *g, struct ebpf_tracer *t)
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), per_cpu = 0, max;
	size_t pages = 1;

	if (g->ring_size && sonde_param_is_set(g->ring_size))
		parse_ring_size(sonde_param_value(g->ring_size), &per_cpu); /* checked at pre_start */
	if (!per_cpu)
		per_cpu = default_per_cpu(g, t->map);
	max = RING_MAX / (uint64_t)(ncpus > 0 ? ncpus : 1);
	if (per_cpu > max)
		per_cpu = max;
	while ((uint64_t)pages * page < per_cpu && (uint64_t)pages * 2 * page <= max)
		pages *= 2;
	return pages;
}

/* 1 if the kernel has ring buffers, 0 if not (creating one is EINVAL),
 * else the error that kept us from knowing (no fd left, no memory):
 * libbpf_probe_bpf_map_type says 0 for any failure, and a process out of
 * fds would have taken perf buffers for a kernel without rings. */
static int probe_ringbuf(void)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, NULL, 0, 0, (uint32_t)sysconf(_SC_PAGESIZE), NULL);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == EINVAL ? 0 : -errno;
}

int ebpf_tracers_fix_maps(struct ebpf_gadget *g)
{
	int have_ringbuf;

	if (g->ntracer_maps == 0)
		return 0;
	have_ringbuf = probe_ringbuf();
	if (have_ringbuf < 0) {
		sonde_err("cannot probe the kernel for ring buffers: %s", strerror(-have_ringbuf));
		return have_ringbuf;
	}
	if (have_ringbuf > 0) {
		for (size_t i = 0; i < g->ntracer_maps; i++) {
			struct bpf_map *m = bpf_object__find_map_by_name(g->obj, g->tracer_maps[i]);

			if (m && bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF)
				size_ring(g, m);
		}
		return 0;
	}
	for (size_t i = 0; i < g->ntracer_maps; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(g->obj, g->tracer_maps[i]);

		if (!m || bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF)
			continue;
		/* max_entries 0: libbpf sizes a perf event array to the CPU count. */
		if (bpf_map__set_type(m, BPF_MAP_TYPE_PERF_EVENT_ARRAY) || bpf_map__set_key_size(m, 4) ||
		    bpf_map__set_value_size(m, 4) || bpf_map__set_max_entries(m, 0)) {
			sonde_err("map '%s': cannot fall back to a perf event array", g->tracer_maps[i]);
			return -EINVAL;
		}
		sonde_info("ring buffers unsupported by this kernel: map '%s' uses a perf buffer",
		           g->tracer_maps[i]);
	}
	return 0;
}

/* ---- per sample ---- */

static void emit(struct ebpf_tracer *t, void *data, size_t size)
{
	struct sonde_record *rec = sonde_ds_record(t->ds);
	struct sonde_payload *p;
	int err;

	if (!rec)
		return;
	p = &rec->payloads[t->slot];
	if (size >= t->struct_size) {
		p->data = data;
	} else {
		/* Beyond scratch_used the scratch is zero: clear only what the
		 * last sample wrote past this one (subscribers never write to
		 * foreign payload memory, so nothing else dirties it). */
		memcpy(t->scratch, data, size);
		if (t->scratch_used > size)
			memset((char *)t->scratch + size, 0, t->scratch_used - size);
		t->scratch_used = size;
		p->data = t->scratch;
	}
	p->len = t->struct_size;
	if (t->rest) {
		struct sonde_payload *rp = &rec->payloads[sonde_field_payload_index(t->rest)];
		uint64_t avail = size > t->struct_size ? size - t->struct_size : 0, n = avail;

		if (t->rest_len && (!sonde_field_as_uint64(t->rest_len, rec, &n) || n > avail)) {
			if (t->emit_errors++ == 0)
				sonde_warn("tracer '%s': %s says %" PRIu64
				           " trailing bytes, sample has %" PRIu64 "; record dropped",
				           t->name, sonde_field_name(t->rest_len), n, avail);
			return;
		}
		rp->data = (char *)data + t->struct_size;
		rp->len = (uint32_t)n;
	}
	err = sonde_ds_emit(t->ds, rec);
	if (err < 0 && t->emit_errors++ == 0)
		sonde_warn("tracer '%s': a subscriber failed: %s", t->name, strerror(-err));
}

static int ring_sample(void *ctx, void *data, size_t size)
{
	struct ebpf_tracer *t = ctx;

	emit(t, data, size);
	return --t->budget > 0 ? 0 : BUDGET_SPENT;
}

static void perf_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct ebpf_tracer *t = ctx;

	/* Perf pads raw samples to 8 bytes; without a rest field, trailing
	 * bytes are padding and the struct view ignores them. */
	emit(t, data, size);
}

static void perf_lost(void *ctx, int cpu, __u64 count)
{
	struct ebpf_tracer *t = ctx;

	t->perf_lost += count;
}

static void on_ready(struct sonde_gadget_ctx *ctx, int fd, void *arg)
{
	struct ebpf_tracer *t = arg;
	int err;

	t->budget = RING_BUDGET;
	/* perf_buffer__consume is bounded: it reads each CPU buffer up to the
	 * head it saw on entry. */
	err = t->rb ? ring_buffer__consume(t->rb) : perf_buffer__consume(t->pb);
	if (err < 0 && err != BUDGET_SPENT && t->emit_errors++ == 0)
		sonde_warn("tracer '%s': reading map '%s' failed: %s", t->name, t->map_name, strerror(-err));
}

static void drain_tick(struct sonde_gadget_ctx *ctx, void *arg)
{
	struct ebpf_gadget *g = arg;

	for (size_t i = 0; i < g->ntracers; i++)
		if (g->tracers[i].rb)
			on_ready(ctx, -1, &g->tracers[i]);
}

/* ---- lost samples ---- */

/* Losses since the last call. The per-CPU counters only grow and are never
 * reset from here: a reset after the read would drop what the kernel
 * counted in between, and that is when losses happen (the reader is behind,
 * often scheduled out between the two calls). lost_vals holds this read,
 * then the last one. */
static uint64_t drain_lost_map(struct ebpf_tracer *t)
{
	uint64_t *now = t->lost_vals, *seen = t->lost_vals + (t->ncpus > 0 ? t->ncpus : 0);
	uint32_t key = 0;
	uint64_t sum = 0;
	int fd;

	if (!t->lost_map || !t->lost_vals)
		return 0;
	fd = bpf_map__fd(t->lost_map);
	if (fd < 0 || bpf_map_lookup_elem(fd, &key, now))
		return 0;
	for (int i = 0; i < t->ncpus; i++) {
		sum += now[i] - seen[i];
		seen[i] = now[i];
	}
	return sum;
}

void ebpf_tracers_account_lost(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->ntracers; i++) {
		struct ebpf_tracer *t = &g->tracers[i];
		/* With a counter, perf's loss records count the same drops again,
		 * and those of the last full stretch not at all: the kernel writes
		 * one only in front of the next sample that fits. */
		uint64_t lost = t->lost_map ? drain_lost_map(t) : t->perf_lost;

		t->perf_lost = 0;
		if (!lost)
			continue;
		sonde_ds_report_lost(t->ds, lost);
		/* The one report of a loss (the CLI prints no total): the count
		 * since the last one, and why. */
		sonde_warn("%s: lost %" PRIu64 " events: ring buffer '%s' full, sonde read it too slowly "
		           "(its output blocked or no CPU left; a larger --ring-size gives more slack)",
		           t->name, lost, t->map_name);
	}
}

static void lost_tick(struct sonde_gadget_ctx *ctx, void *arg)
{
	ebpf_tracers_account_lost(arg);
}

/* ---- lifecycle ---- */

static int start_one(struct ebpf_gadget *g, struct ebpf_tracer *t)
{
	int fd = bpf_map__fd(t->map), efd, err;

	t->scratch = calloc(1, t->struct_size);
	t->scratch_used = 0;
	if (!t->scratch)
		return -ENOMEM;
	if (t->lost_map) {
		t->ncpus = libbpf_num_possible_cpus();
		t->lost_vals = t->ncpus > 0 ? calloc(2 * (size_t)t->ncpus, sizeof(uint64_t)) : NULL;
		if (!t->lost_vals)
			return t->ncpus > 0 ? -ENOMEM : t->ncpus;
	}
	ebpf_libbpf_log_reset();
	if (bpf_map__type(t->map) == BPF_MAP_TYPE_RINGBUF) {
		t->rb = ring_buffer__new(fd, ring_sample, t, NULL);
		efd = t->rb ? ring_buffer__epoll_fd(t->rb) : -1;
	} else {
		size_t pages = perf_pages(g, t);

		t->pb = perf_buffer__new(fd, pages, perf_sample, perf_lost, t, NULL);
		sonde_debug("tracer '%s': perf buffer of %zu KiB per CPU", t->name,
		            pages * (size_t)sysconf(_SC_PAGESIZE) >> 10);
		efd = t->pb ? perf_buffer__epoll_fd(t->pb) : -1;
	}
	if (efd < 0) {
		err = errno ? -errno : -EINVAL;
		sonde_err("tracer '%s': cannot read map '%s': %s%s%s", t->name, t->map_name, strerror(-err),
		          *ebpf_libbpf_reason() ? "; libbpf: " : "", ebpf_libbpf_reason());
		return err;
	}
	err = sonde_gadget_watch_fd(g->ctx, efd, on_ready, t);
	if (err) {
		sonde_err("tracer '%s': cannot watch its reader: %s", t->name, strerror(-err));
		return err;
	}
	t->watched_fd = efd;
	return 0;
}

int ebpf_tracers_start(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->ntracers; i++) {
		int err = start_one(g, &g->tracers[i]);

		if (err)
			return err; /* caller runs ebpf_tracers_stop */
	}
	if (g->ntracers) {
		int id = sonde_gadget_add_timer(g->ctx, LOST_INTERVAL_NS, LOST_INTERVAL_NS, lost_tick, g);

		if (id < 0) {
			sonde_err("cannot start the lost-samples timer: %s", strerror(-id));
			return id;
		}
		g->lost_timer = id;
		id = sonde_gadget_add_timer(g->ctx, DRAIN_INTERVAL_NS, DRAIN_INTERVAL_NS, drain_tick, g);
		if (id < 0) {
			sonde_err("cannot start the ring drain timer: %s", strerror(-id));
			return id;
		}
		g->drain_timer = id;
	}
	return 0;
}

void ebpf_tracers_stop(struct ebpf_gadget *g)
{
	if (g->lost_timer > 0) {
		sonde_gadget_remove_timer(g->ctx, g->lost_timer);
		g->lost_timer = 0;
	}
	if (g->drain_timer > 0) {
		sonde_gadget_remove_timer(g->ctx, g->drain_timer);
		g->drain_timer = 0;
	}
	for (size_t i = 0; i < g->ntracers; i++) {
		struct ebpf_tracer *t = &g->tracers[i];

		if (t->watched_fd >= 0) {
			sonde_gadget_unwatch_fd(g->ctx, t->watched_fd);
			t->watched_fd = -1;
		}
		/* Programs are detached by now: what is in the buffer is final. */
		for (int round = 0; t->rb && round < 1024; round++) {
			t->budget = RING_BUDGET;
			if (ring_buffer__consume(t->rb) != BUDGET_SPENT)
				break;
		}
		if (t->pb)
			perf_buffer__consume(t->pb);
	}
	if (g->loaded)
		ebpf_tracers_account_lost(g);
	for (size_t i = 0; i < g->ntracers; i++) {
		struct ebpf_tracer *t = &g->tracers[i];

		ring_buffer__free(t->rb);
		perf_buffer__free(t->pb);
		t->rb = NULL;
		t->pb = NULL;
		free(t->scratch);
		t->scratch = NULL;
		free(t->lost_vals);
		t->lost_vals = NULL;
	}
}
