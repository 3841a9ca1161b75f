/* Iterators (spec §2.10): iter/ programs whose bpf_seq_write output is a
 * sequence of structs, emitted as ONE array per fetch on an Array DataSource.
 *
 * Schedule (DS annotations): fetch-interval 0 and fetch-count 1 → one fetch
 * right after start, then the producer is finished (snapshot gadgets end by
 * themselves); interval > 0 → a fetch every interval, `count` times (0 =
 * until stopped); ebpf.iter.fetch-on-stop=true → one more fetch at stop. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sonde/log.h>

#include "internal.h"

#define READ_CHUNK (64u << 10)
#define MAX_FETCH  (1u << 30)

int ebpf_split_records(size_t len, uint32_t size, size_t *n)
{
	if (size == 0 || len % size) {
		*n = 0;
		return -EINVAL;
	}
	*n = len / size;
	return 0;
}

int ebpf_iter_setup(struct ebpf_gadget *g, struct ebpf_iter *it)
{
	int err;

	it->ds = sonde_gadget_add_ds(g->ctx, it->name, SONDE_DS_ARRAY);
	if (!it->ds) {
		sonde_err("iterator '%s': cannot create its datasource", it->name);
		return -EINVAL;
	}
	err = ebpf_add_struct_fields(it->ds, g->btf, it->struct_id, NULL, &it->slot, ebpf_enum_formatter_add,
	                             g);
	if (err)
		return err;
	/* Written back so that consumers (and gadget info) see the schedule. */
	if (!sonde_ds_annotation(it->ds, "fetch-interval"))
		sonde_ds_add_annotation(it->ds, "fetch-interval", "0");
	if (!sonde_ds_annotation(it->ds, "fetch-count"))
		sonde_ds_add_annotation(it->ds, "fetch-count", "1");
	return 0;
}

/* Reads the iterator fd to the end, appending to it->buf; closes fd. */
static int read_fd(struct ebpf_iter *it, int fd, const char *prog, size_t *len)
{
	int err = 0;

	for (;;) {
		ssize_t n;

		if (it->cap - *len < READ_CHUNK) {
			size_t ncap = it->cap ? it->cap * 2 : 4 * READ_CHUNK;
			char *nbuf;

			if (ncap > MAX_FETCH) {
				sonde_err("iterator '%s': program '%s' produced more than %u bytes", it->name,
				          prog, MAX_FETCH);
				err = -E2BIG;
				break;
			}
			nbuf = realloc(it->buf, ncap);
			if (!nbuf) {
				err = -ENOMEM;
				break;
			}
			it->buf = nbuf;
			it->cap = ncap;
		}
		n = read(fd, it->buf + *len, it->cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			sonde_err("iterator '%s': reading program '%s' failed: %s", it->name, prog,
			          strerror(errno));
			break;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	close(fd);
	return err;
}

static int create_fd(void *link)
{
	int fd = bpf_iter_create(bpf_link__fd(link));

	return fd < 0 ? -errno : fd;
}

struct ns_read {
	struct ebpf_iter *it;
	struct bpf_link *link;
	const char *prog;
	size_t *len;
};

/* The sockets an iterator lists are those of the namespace it is opened in. */
static int read_in_netns(void *arg, int nsfd, uint64_t netns)
{
	struct ns_read *r = arg;
	int fd = ebpf_in_netns(nsfd, create_fd, r->link);

	if (fd < 0) {
		sonde_err("iterator '%s': cannot run program '%s' in network namespace %" PRIu64 ": %s",
		          r->it->name, r->prog, netns, strerror(-fd));
		return fd;
	}
	return read_fd(r->it, fd, r->prog, r->len);
}

/* Reads one iterator link to the end (in each selected network namespace
 * for socket iterators), appending to it->buf. */
static int read_link(struct ebpf_iter *it, struct bpf_link *link, struct bpf_program *prog, size_t *len)
{
	const char *name = bpf_program__name(prog);
	int fd;

	if (ebpf_iter_per_netns(prog)) {
		struct ns_read r = {it, link, name, len};

		return ebpf_iter_netns_each(it->g, read_in_netns, &r);
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		sonde_err("iterator '%s': cannot run program '%s': %s", it->name, name, strerror(errno));
		return -errno;
	}
	return read_fd(it, fd, name, len);
}

int ebpf_iter_fetch(struct ebpf_iter *it)
{
	struct sonde_array *arr;
	size_t len = 0, n;
	int err;

	for (size_t i = 0; i < it->nprogs; i++) {
		if (!it->links[i])
			continue;
		err = read_link(it, it->links[i], it->progs[i], &len);
		if (err)
			return err;
	}
	if (ebpf_split_records(len, it->struct_size, &n)) {
		sonde_err(
		    "iterator '%s': programs returned %zu bytes, not a multiple of struct %s (%u bytes)",
		    it->name, len, it->struct_name, it->struct_size);
		return -EINVAL;
	}
	arr = sonde_ds_array(it->ds);
	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct sonde_record *rec = sonde_array_append(arr);

		if (!rec)
			return -ENOMEM;
		/* Zero copy: records view the fetch buffer, alive until the next fetch. */
		rec->payloads[it->slot].data = it->buf + i * it->struct_size;
		rec->payloads[it->slot].len = it->struct_size;
	}
	err = sonde_ds_emit_array(it->ds, arr);
	if (err < 0)
		sonde_warn("iterator '%s': a subscriber failed: %s", it->name, strerror(-err));
	return 0;
}

static int fetch_owner(void *owner)
{
	return ebpf_iter_fetch(owner);
}

static const struct bpf_map *target_map(struct ebpf_gadget *g, const struct bpf_program *prog)
{
	for (size_t i = 0; i < g->ntargets; i++)
		if (g->targets[i].prog == prog)
			return g->targets[i].map;
	return NULL;
}

static int attach_iter(struct ebpf_gadget *g, struct ebpf_iter *it, size_t i)
{
	struct bpf_program *prog = it->progs[i];
	const struct bpf_map *map = target_map(g, prog);
	union bpf_iter_link_info info = {0};
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);

	if (!bpf_program__autoload(prog))
		return 0; /* disabled in gadget.yaml */
	if (strcmp(ebpf_prog_section(prog), "iter/bpf_map_elem") == 0) {
		if (!map) {
			sonde_err("program '%s' (%s): no map bound with GADGET_ITER_TARGET_MAP",
			          bpf_program__name(prog), ebpf_prog_section(prog));
			return -EINVAL;
		}
		info.map.map_fd = (uint32_t)bpf_map__fd(map);
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	ebpf_libbpf_log_reset();
	it->links[i] = bpf_program__attach_iter(prog, &opts);
	if (!it->links[i]) {
		int err = errno ? -errno : -EINVAL;

		sonde_err("program '%s' (%s): cannot load/attach on this kernel: %s%s%s",
		          bpf_program__name(prog), ebpf_prog_section(prog), strerror(-err),
		          *ebpf_libbpf_reason() ? "; libbpf: " : "", ebpf_libbpf_reason());
		return err;
	}
	return 0;
}

static int start_one(struct ebpf_gadget *g, struct ebpf_iter *it)
{
	const char *fos;
	int err;

	for (size_t i = 0; i < it->nprogs; i++) {
		err = attach_iter(g, it, i);
		if (err)
			return err;
	}
	err = ebpf_fetch_schedule(g, it->ds, &it->timer.interval_ns, &it->timer.count);
	if (err)
		return err;
	fos = sonde_ds_annotation(it->ds, "ebpf.iter.fetch-on-stop");
	it->fetch_on_stop = fos && strcmp(fos, "true") == 0;
	it->timer.g = g;
	it->timer.kind = "iterator";
	it->timer.name = it->name;
	it->timer.fetch = fetch_owner;
	it->timer.owner = it;
	return ebpf_fetch_timer_start(&it->timer);
}

int ebpf_iters_start(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->niters; i++) {
		int err = start_one(g, &g->iters[i]);

		if (err)
			return err;
	}
	return 0;
}

void ebpf_iters_stop(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->niters; i++) {
		struct ebpf_iter *it = &g->iters[i];

		ebpf_fetch_timer_stop(&it->timer);
		if (it->fetch_on_stop && g->loaded && ebpf_iter_fetch(it))
			sonde_warn("iterator '%s': fetch on stop failed", it->name);
		it->fetch_on_stop = false;
		for (size_t j = 0; j < it->nprogs; j++) {
			bpf_link__destroy(it->links[j]);
			it->links[j] = NULL;
		}
	}
}
