/* The ebpf image operator: lifecycle of one eBPF layer (spec §2.12).
 *
 * instantiate: open the object (never loaded: this is also "gadget info"),
 *   discover the ABI markers, create DataSources, fields and params.
 * pre_start:   validate param values, so bad input fails before anything starts.
 * start:       write params and operator variables into the data sections,
 *   resize and replace maps, load, start readers, attach, start iterators.
 * stop:        final iterator fetches, detach in reverse, drain the readers.
 * close:       free everything. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sonde/config.h>
#include <sonde/log.h>

#include "ebpf.h"
#include "internal.h"
#include "util/clock.h"

const char *ebpf_ds_annotation(struct ebpf_gadget *g, struct sonde_ds *ds, const char *key)
{
	const char *v = sonde_ds_annotation(ds, key);
	struct sonde_config *cfg;

	if (v)
		return v;
	cfg = sonde_gadget_config(g->ctx);
	return cfg ? sonde_config_str(cfg, "datasources", sonde_ds_name(ds), "annotations", key, NULL) : NULL;
}

int ebpf_fetch_schedule(struct ebpf_gadget *g, struct sonde_ds *ds, int64_t *interval_ns, uint64_t *count)
{
	const char *iv = ebpf_ds_annotation(g, ds, "fetch-interval");
	const char *cv = ebpf_ds_annotation(g, ds, "fetch-count");
	char *end = NULL;

	*interval_ns = 0;
	*count = 1;
	if (iv && *iv && (sonde_parse_duration_ns(iv, interval_ns) || *interval_ns < 0)) {
		sonde_err("datasource %s: invalid fetch-interval '%s' (want a duration like 500ms)",
		          sonde_ds_name(ds), iv);
		return -EINVAL;
	}
	if (cv && *cv) {
		errno = 0;
		*count = strtoull(cv, &end, 10);
		if (errno || *end || strchr(cv, '-')) {
			sonde_err("datasource %s: invalid fetch-count '%s'", sonde_ds_name(ds), cv);
			return -EINVAL;
		}
	}
	return 0;
}

void ebpf_producer_finished(struct ebpf_gadget *g)
{
	if (g->producers_running)
		g->producers_running--;
	/* Tracers produce until stopped; without them, the last finished
	 * iterator ends the run (snapshot gadgets exit by themselves). */
	if (g->producers_running == 0 && g->ntracers == 0)
		sonde_gadget_cancel(g->ctx);
}

/* ---- teardown ---- */

static void stop_all(struct ebpf_gadget *g)
{
	int64_t t0 = util_now_ns(), t1;
	bool attached = g->nlinks > 0;

	ebpf_iters_stop(g);
	ebpf_mapiters_stop(g);
	ebpf_detach_all(g);
	t1 = util_now_ns();
	ebpf_tracers_stop(g);
	ebpf_sockets_release(g);
	g->producers_running = 0;
	if (attached)
		sonde_debug("ebpf: gadget %s detached in %.3f ms, readers drained in %.3f ms", g->name,
		            (double)(t1 - t0) / 1e6, (double)(util_now_ns() - t1) / 1e6);
}

void ebpf_gadget_free(struct ebpf_gadget *g)
{
	if (!g)
		return;
	stop_all(g);
	for (size_t i = 0; i < g->ntracers; i++) {
		free(g->tracers[i].name);
		free(g->tracers[i].map_name);
		free(g->tracers[i].struct_name);
	}
	free(g->tracers);
	for (size_t i = 0; i < g->niters; i++) {
		free(g->iters[i].name);
		free(g->iters[i].struct_name);
		free(g->iters[i].progs);
		free(g->iters[i].links);
		free(g->iters[i].buf);
	}
	free(g->iters);
	for (size_t i = 0; i < g->nmapiters; i++) {
		free(g->mapiters[i].name);
		free(g->mapiters[i].map_name);
	}
	free(g->mapiters);
	free(g->targets);
	free(g->sk_targets);
	for (size_t i = 0; i < g->nparams; i++)
		free(g->params[i].var);
	free(g->params);
	for (size_t i = 0; i < g->nvars; i++)
		free(g->vars[i].name);
	free(g->vars);
	for (size_t i = 0; i < g->ntracer_maps; i++)
		free(g->tracer_maps[i]);
	free(g->tracer_maps);
	free(g->links);
	ebpf_enum_formatters_free(g);
	ebpf_kstack_formatters_free(g);
	ebpf_pf_free(g);
	ebpf_mntns_filter_close(g);
	bpf_object__close(g->obj);
	free(g->image);
	free(g->core_btf);
	free(g->name);
	free(g);
}

/* ---- hooks ---- */

static int open_object(struct ebpf_gadget *g, const struct sonde_layer *layer)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = g->name);
	char why[256];
	int err;

	if (!layer || !layer->data || !layer->len) {
		sonde_err("gadget %s: the eBPF layer is empty", g->name);
		return -EINVAL;
	}
	err = ebpf_elf_check(layer->data, layer->len, why, sizeof(why));
	if (err) {
		sonde_err("gadget %s: invalid eBPF object: %s", g->name, why);
		return err;
	}
	/* libbpf keeps pointing into the buffer until load; the image may be
	 * read-only or unaligned, so it gets a private copy. */
	g->image = malloc(layer->len);
	if (!g->image)
		return -ENOMEM;
	memcpy(g->image, layer->data, layer->len);
	g->image_len = layer->len;
	g->core_btf = ebpf_core_btf_path(g->image, g->image_len);
	g->core_btf_used = ebpf_core_btf_usable(g->core_btf);
	opts.btf_custom_path = g->core_btf_used ? g->core_btf : NULL;
	ebpf_libbpf_log_reset();
	g->obj = bpf_object__open_mem(g->image, g->image_len, &opts);
	if (!g->obj) {
		err = errno ? -errno : -EINVAL;
		sonde_err("gadget %s: cannot open the eBPF object: %s%s%s", g->name, strerror(-err),
		          *ebpf_libbpf_reason() ? "; libbpf: " : "", ebpf_libbpf_reason());
		return err;
	}
	/* gadget_sockets readers relocate against the kernel's BTF plus the
	 * socket enricher's struct (socket_enricher.c): open again with it.
	 * Their minimal kernel BTF cannot be cached (bpftool would not find
	 * the struct either). */
	if (bpf_object__find_map_by_name(g->obj, "gadget_sockets") && !opts.btf_custom_path) {
		const char *path;

		free(g->core_btf);
		g->core_btf = NULL;
		g->core_btf_used = false;
		bpf_object__close(g->obj);
		g->obj = NULL;
		err = ebpf_sockets_btf_path(&path);
		if (err)
			return err;
		opts.btf_custom_path = path;
		g->obj = bpf_object__open_mem(g->image, g->image_len, &opts);
		if (!g->obj) {
			err = errno ? -errno : -EINVAL;
			sonde_err("gadget %s: cannot open the eBPF object: %s", g->name, strerror(-err));
			return err;
		}
		g->sockets_map = bpf_object__find_map_by_name(g->obj, "gadget_sockets");
	}
	g->btf = bpf_object__btf(g->obj);
	if (!g->btf) {
		sonde_err("gadget %s: invalid eBPF object: missing BTF", g->name);
		return -ENOENT;
	}
	return 0;
}

int ebpf_gadget_open(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, struct ebpf_gadget **out)
{
	struct ebpf_gadget *g;
	int err;

	ebpf_libbpf_log_install();
	ebpf_pf_hook_install();
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->ctx = ctx;
	atomic_init(&g->mntns.fd, -1);
	g->name = strdup(sonde_gadget_name(ctx));
	if (!g->name) {
		free(g);
		return -ENOMEM;
	}
	err = open_object(g, layer);
	if (!err)
		err = ebpf_discover(g);
	if (!err)
		err = ebpf_check_programs(g);
	for (size_t i = 0; i < g->ntracers && !err; i++)
		err = ebpf_tracer_setup(g, &g->tracers[i]);
	for (size_t i = 0; i < g->niters && !err; i++)
		err = ebpf_iter_setup(g, &g->iters[i]);
	for (size_t i = 0; i < g->nmapiters && !err; i++)
		err = ebpf_mapiter_setup(g, &g->mapiters[i]);
	if (!err)
		err = ebpf_mapiters_params(g);
	if (!err)
		err = ebpf_tracers_params(g);
	if (!err)
		err = ebpf_tc_params(g);
	if (!err)
		err = ebpf_perf_check(g);
	if (!err)
		err = ebpf_sockets_params(g);
	if (!err)
		err = ebpf_kstack_formatters_add(g);
	if (!err)
		err = ebpf_pf_params(g);
	if (!err)
		ebpf_mntns_filter_offer(g);
	if (err) {
		ebpf_gadget_free(g);
		return err;
	}
	*out = g;
	return 0;
}

static int ebpf_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct ebpf_gadget *g = NULL;
	int err = ebpf_gadget_open(ctx, layer, &g);

	if (!err)
		*state = g;
	return err;
}

static int ebpf_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct ebpf_gadget *g = state;
	char buf[4096], why[256];

	/* Encode into scratch space: the real write happens at start. */
	for (size_t i = 0; i < g->nparams; i++) {
		const struct ebpf_param *p = &g->params[i];

		if (p->loc.size > sizeof(buf))
			continue;
		if (ebpf_param_encode(p->kind, p->loc.size, sonde_param_value(p->param), buf, why,
		                      sizeof(why))) {
			sonde_err("param '%s': %s", sonde_param_key(p->param), why);
			return -EINVAL;
		}
	}
	if (ebpf_pf_check_params(g))
		return -EINVAL;
	return ebpf_tracers_check_params(g);
}

static int load(struct ebpf_gadget *g)
{
	int64_t t0 = util_now_ns();
	const char *prog_name;
	int err;

	ebpf_libbpf_log_reset();
	err = bpf_object__load(g->obj);
	if (!err) {
		g->loaded = true;
		g->load_ns = util_now_ns() - t0;
		return 0;
	}
	/* A cached kernel BTF that does not fit must not fail the next run too. */
	if (g->core_btf_used)
		ebpf_core_btf_invalidate(g->core_btf);
	prog_name = ebpf_libbpf_failed_prog();
	if (prog_name) {
		struct bpf_program *prog = bpf_object__find_program_by_name(g->obj, prog_name);
		const char *sec = prog ? ebpf_prog_section(prog) : "?";
		const char *missing = ebpf_missing_feature(ebpf_section_kind(sec, NULL), err);

		/* errno says it all unless the verifier explained itself or
		 * the kernel visibly lacks what the program kind needs. */
		sonde_err("program '%s' (%s): cannot load/attach on this kernel: %s%s%s%s%s", prog_name, sec,
		          strerror(-err), missing ? ": " : "", missing ? missing : "",
		          *ebpf_libbpf_verifier() ? "; verifier: " : "", ebpf_libbpf_verifier());
	} else {
		sonde_err("gadget %s: cannot load the eBPF object: %s%s%s", g->name, strerror(-err),
		          *ebpf_libbpf_reason() ? "; libbpf: " : "", ebpf_libbpf_reason());
	}
	return err;
}

static int ebpf_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct ebpf_gadget *g = state;
	int64_t t0;
	int err;

	err = ebpf_params_write(g);
	if (!err)
		err = ebpf_apply_operator_vars(g);
	if (!err)
		err = ebpf_mntns_filter_apply(g);
	if (!err)
		err = ebpf_sockets_apply(g);
	if (!err)
		err = ebpf_resize_maps(g);
	if (!err)
		err = ebpf_tracers_fix_maps(g);
	if (!err)
		err = ebpf_prepare_programs(g);
	if (!err)
		err = ebpf_pf_prepare(g);
	if (!err) {
		err = load(g);
		ebpf_pf_loaded(g, !err);
	} else {
		ebpf_pf_loaded(g, false);
	}
	if (err)
		return err;
	ebpf_publish_maps(g);
	err = ebpf_tracers_start(g);
	if (!err) {
		t0 = util_now_ns();
		err = ebpf_attach_all(g);
		g->attach_ns = util_now_ns() - t0;
	}
	if (!err)
		err = ebpf_iters_start(g);
	if (!err)
		err = ebpf_mapiters_start(g);
	if (err) {
		/* The context only stops operators whose start succeeded. */
		stop_all(g);
		return err;
	}
	sonde_debug("ebpf: gadget %s loaded in %.3f ms%s, attached in %.3f ms", g->name,
	            (double)g->load_ns / 1e6, g->core_btf_used ? " (kernel types from the cache)" : "",
	            (double)g->attach_ns / 1e6);
	if (!g->core_btf_used && g->core_btf)
		ebpf_core_btf_generate(g->core_btf, g->image, g->image_len);
	return 0;
}

static int ebpf_stop(struct sonde_gadget_ctx *ctx, void *state)
{
	stop_all(state);
	return 0;
}

static void ebpf_close(struct sonde_gadget_ctx *ctx, void *state)
{
	ebpf_gadget_free(state);
}

const struct sonde_operator ebpf_operator = {
    .name = "ebpf",
    .kind = SONDE_OP_IMAGE,
    .media_type = SONDE_MEDIA_TYPE_EBPF,
    .instantiate = ebpf_instantiate,
    .pre_start = ebpf_pre_start,
    .start = ebpf_start,
    .stop = ebpf_stop,
    .close = ebpf_close,
};
