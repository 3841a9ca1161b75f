/* The ustack operator: user stack addresses, build ids and symbols (see
 * ustack.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "format/fmtbuf.h"
#include "host/elf_symbols.h"
#include "host/ustack_symbolizer.h"
#include "operators/ustack.h"
#include "util/array.h"

#define USTACK_TAG     "type:gadget_user_stack"
#define USTACK_MAP     "map/ig_ustack"
#define BUILD_ID_MAP   "map/ig_build_id"
#define MAX_DEPTH      127 /* GADGET_USER_MAX_STACK_DEPTH */
#define SYMBOL_OUT_MAX (MAX_DEPTH * (ELF_SYMBOLS_NAME_MAX + 2) + 1)

/* struct gadget_user_stack's members the operator reads */
enum member {
	M_STACK_ID,
	M_TGID0,
	M_PID0,
	M_PIDNS0,
	M_PID1,
	M_PIDNS1,
	M_MAJOR,
	M_MINOR,
	M_INODE,
	M_MTIME_SEC,
	M_MTIME_NSEC,
	M_BASE_HASH,
	M_COUNT,
};

static const char *const member_names[M_COUNT] = {
    [M_STACK_ID] = "stack_id",   [M_TGID0] = "tgid_level0",     [M_PID0] = "pid_level0",
    [M_PIDNS0] = "pidns_level0", [M_PID1] = "pid_level1",       [M_PIDNS1] = "pidns_level1",
    [M_MAJOR] = "major",         [M_MINOR] = "minor",           [M_INODE] = "inode",
    [M_MTIME_SEC] = "mtime_sec", [M_MTIME_NSEC] = "mtime_nsec", [M_BASE_HASH] = "base_addr_hash",
};

struct ustack_op;

struct ustack_field {
	struct ustack_op *op;
	struct sonde_ds *ds;
	struct sonde_field *src;
	struct sonde_field *m[M_COUNT];
	struct sonde_field *addresses, *buildid, *symbols;
};

struct ustack_op {
	struct sonde_gadget_ctx *ctx;
	struct ustack_field **fields;
	size_t nfields;
	bool symbolize;
	char proc[4096];
	/* first record */
	bool maps_tried;
	int stack_fd, build_id_fd; /* -1: none */
	uint32_t depth;
	struct ustack_symbolizer *sym;
	uint64_t *stack;
	struct bpf_stack_build_id *ids;
	struct ustack_sym *names;
	char *out;
	/* warned once, then counted */
	uint64_t lost, gone;
};

/* ---- per record ---- */

static bool find_maps(struct ustack_op *o)
{
	struct bpf_map *stack, *ids;

	if (o->maps_tried)
		return o->stack_fd >= 0;
	o->maps_tried = true;
	o->stack_fd = o->build_id_fd = -1;
	stack = sonde_gadget_var(o->ctx, USTACK_MAP);
	if (!stack || bpf_map__fd(stack) < 0) {
		sonde_warn("ustack: the gadget has a gadget_user_stack field but no ig_ustack map "
		           "(include <gadget/user_stack_map.h>); user stacks are left empty");
		return false;
	}
	o->depth = bpf_map__value_size(stack) / sizeof(uint64_t);
	if (o->depth == 0 || o->depth > MAX_DEPTH) {
		sonde_warn("ustack: ig_ustack holds %u addresses per stack, not 1..%d; user stacks are left "
		           "empty",
		           o->depth, MAX_DEPTH);
		return false;
	}
	ids = sonde_gadget_var(o->ctx, BUILD_ID_MAP);
	/* optional: older gadgets lack it, and it is empty without collect-build-id */
	if (ids && bpf_map__max_entries(ids) > 0 && bpf_map__fd(ids) >= 0) {
		if (bpf_map__value_size(ids) == MAX_DEPTH * sizeof(struct bpf_stack_build_id))
			o->build_id_fd = bpf_map__fd(ids);
		else
			sonde_warn(
			    "ustack: ig_build_id has values of %u bytes, not %zu; build ids are left empty",
			    bpf_map__value_size(ids), MAX_DEPTH * sizeof(struct bpf_stack_build_id));
	}
	o->stack = calloc(o->depth, sizeof(*o->stack));
	o->ids = calloc(MAX_DEPTH, sizeof(*o->ids));
	o->names = calloc(o->depth, sizeof(*o->names));
	o->out = malloc(SYMBOL_OUT_MAX);
	if (o->symbolize)
		o->sym = ustack_symbolizer_new(o->proc, NULL);
	if (!o->stack || !o->ids || !o->names || !o->out || (o->symbolize && !o->sym)) {
		sonde_err("ustack: out of memory");
		return false;
	}
	o->stack_fd = bpf_map__fd(stack);
	return true;
}

static void hex(struct fmtbuf *b, uint64_t v, int width)
{
	char tmp[16];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (n < width)
		tmp[sizeof(tmp) - 1 - n++] = '0';
	fmtbuf_put(b, tmp + sizeof(tmp) - n, (size_t)n);
}

static int put_addresses(struct ustack_op *o, struct ustack_field *f, struct sonde_record *rec, uint32_t n)
{
	struct fmtbuf b = fmtbuf_init(o->out, SYMBOL_OUT_MAX);

	for (uint32_t i = 0; i < n; i++) {
		fmtbuf_put(&b, "0x", 2);
		hex(&b, o->stack[i], 16);
		fmtbuf_put(&b, "; ", 2);
	}
	return sonde_field_put_string(f->addresses, rec, b.buf, (uint32_t)b.len);
}

/* Upstream's rendering of struct bpf_stack_build_id, up to the first empty
 * entry; nothing when the stack has no entry (collect-build-id off). */
static int put_build_ids(struct ustack_op *o, struct ustack_field *f, struct sonde_record *rec,
                         uint32_t stack_id, uint32_t n)
{
	struct fmtbuf b = fmtbuf_init(o->out, SYMBOL_OUT_MAX);

	if (o->build_id_fd < 0 || bpf_map_lookup_elem(o->build_id_fd, &stack_id, o->ids))
		return sonde_field_put_string(f->buildid, rec, "", 0);
	for (uint32_t i = 0; i < n && i < MAX_DEPTH; i++) {
		const struct bpf_stack_build_id *id = &o->ids[i];

		if (id->status == BPF_STACK_BUILD_ID_EMPTY)
			break;
		if (id->status == BPF_STACK_BUILD_ID_VALID) {
			for (int k = 0; k < BPF_BUILD_ID_SIZE; k++)
				hex(&b, id->build_id[k], 2);
			fmtbuf_put(&b, " +", 2);
			hex(&b, id->offset, 0);
		} else {
			hex(&b, id->ip, 0);
		}
		fmtbuf_put(&b, "; ", 2);
	}
	return sonde_field_put_string(f->buildid, rec, b.buf, (uint32_t)b.len);
}

static int put_symbols(struct ustack_op *o, struct ustack_field *f, struct sonde_record *rec, uint32_t n)
{
	struct ustack_task t = {
	    .tgid = sonde_field_uint32(f->m[M_TGID0], rec),
	    .base_addr_hash = sonde_field_uint32(f->m[M_BASE_HASH], rec),
	    .pid = {sonde_field_uint32(f->m[M_PID0], rec), sonde_field_uint32(f->m[M_PID1], rec)},
	    .pidns = {sonde_field_uint32(f->m[M_PIDNS0], rec), sonde_field_uint32(f->m[M_PIDNS1], rec)},
	    .exe_inode = sonde_field_uint64(f->m[M_INODE], rec),
	    .exe_mtime_sec = (int64_t)sonde_field_uint64(f->m[M_MTIME_SEC], rec),
	    .exe_mtime_nsec = sonde_field_uint32(f->m[M_MTIME_NSEC], rec),
	};
	struct fmtbuf b = fmtbuf_init(o->out, SYMBOL_OUT_MAX);
	int err;

	if (n == 0)
		return sonde_field_put_string(f->symbols, rec, "", 0);
	if (!t.pid[0] || !t.pidns[0]) {
		sonde_debug("ustack: user stack with invalid pid or pid namespace");
		return sonde_field_put_string(f->symbols, rec, "", 0);
	}
	err = ustack_symbolizer_resolve(o->sym, &t, o->stack, n, o->names);
	if (err) {
		if (o->gone++ == 0)
			sonde_warn("ustack: process %u: %s; its user stack symbols are left empty (further "
			           "cases at debug level)",
			           t.pid[0],
			           err == -ENOENT ? "in no pid namespace of this /proc"
			                          : "exited before its memory map could be read");
		else
			sonde_debug("ustack: process %u: no memory map (%s); symbols left empty", t.pid[0],
			            strerror(-err));
		return sonde_field_put_string(f->symbols, rec, "", 0);
	}
	for (uint32_t i = 0; i < n; i++) {
		if (o->names[i].name) {
			fmtbuf_puts(&b, o->names[i].name);
		} else {
			fmtbuf_put(&b, "0x", 2);
			hex(&b, o->stack[i], 0);
		}
		fmtbuf_put(&b, "; ", 2);
	}
	return sonde_field_put_string(f->symbols, rec, b.buf, (uint32_t)b.len);
}

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct ustack_field *f = arg;
	struct ustack_op *o = f->op;
	bool want_addr = sonde_field_is_requested(f->addresses);
	bool want_ids = sonde_field_is_requested(f->buildid);
	bool want_syms = o->symbolize && sonde_field_is_requested(f->symbols);
	uint32_t stack_id, n = 0;
	int err = 0;

	if (!want_addr && !want_ids && !want_syms)
		return 0;
	if (sonde_field_uint64(f->m[M_INODE], rec) == 0)
		return 0; /* collect-ustack off */
	if (!find_maps(o))
		return 0;
	stack_id = sonde_field_uint32(f->m[M_STACK_ID], rec);
	if (bpf_map_lookup_elem(o->stack_fd, &stack_id, o->stack)) {
		/* a negative id (-EFAULT, -EEXIST …) or an entry a newer stack replaced */
		if (o->lost++ == 0)
			sonde_warn("ustack: stack with id %d is lost (%s); such stacks are left empty "
			           "(further cases not reported)",
			           (int32_t)stack_id, strerror(errno));
		return 0;
	}
	while (n < o->depth && o->stack[n])
		n++;
	if (want_addr)
		err = put_addresses(o, f, rec, n);
	if (!err && want_ids)
		err = put_build_ids(o, f, rec, stack_id, n);
	if (!err && want_syms)
		err = put_symbols(o, f, rec, n);
	return err;
}

/* ---- instantiate ---- */

static struct sonde_field *member(struct sonde_field *src, const char *name)
{
	char tag[64];

	snprintf(tag, sizeof(tag), "name:%s", name);
	for (size_t i = 0; i < sonde_field_nchildren(src); i++) {
		struct sonde_field *c = sonde_field_child(src, i);

		if (sonde_field_has_tag(c, tag))
			return c;
	}
	return NULL;
}

static struct sonde_field *add_sub(struct sonde_ds *ds, struct sonde_field *src, const char *name,
                                   const char *desc)
{
	char tag[64];
	const char *tags[] = {tag, "operator:ustack", NULL};
	const char *anns[] = {"description", desc, NULL};
	struct sonde_field_opts opts = {.sz = sizeof(opts),
	                                .flags = SONDE_FIELD_HIDDEN,
	                                .parent = src,
	                                .tags = tags,
	                                .annotations = anns};
	struct sonde_field *f;

	snprintf(tag, sizeof(tag), "name:%s", name);
	f = sonde_ds_add_field(ds, name, SONDE_KIND_STRING, &opts);
	if (!f)
		sonde_err("ustack: datasource %s: cannot add field %s.%s", sonde_ds_name(ds),
		          sonde_field_full_name(src), name);
	return f;
}

static int add_one(struct ustack_op *o, struct sonde_ds *ds, struct sonde_field *src)
{
	struct ustack_field *f = calloc(1, sizeof(*f));

	if (!f || append_array(&o->fields, &o->nfields, &f, sizeof(f))) {
		free(f);
		return -ENOMEM;
	}
	f->op = o;
	f->ds = ds;
	f->src = src;
	for (int i = 0; i < M_COUNT; i++) {
		f->m[i] = member(src, member_names[i]);
		if (!f->m[i] || !sonde_kind_is_int(sonde_field_kind(f->m[i]))) {
			sonde_warn("ustack: %s.%s has no integer member %s; not a user stack of upstream's "
			           "layout, left as it is",
			           sonde_ds_name(ds), sonde_field_full_name(src), member_names[i]);
			o->nfields--;
			free(f);
			return 0;
		}
	}
	/* upstream hides the raw struct; its members stay in JSON */
	sonde_field_set_hidden(src, true, true);
	f->addresses = add_sub(ds, src, "addresses", "User stack: addresses of the frames, innermost first");
	f->buildid = add_sub(ds, src, "buildid",
	                     "User stack: build id and file offset of each frame (collect-build-id)");
	f->symbols = add_sub(ds, src, "symbols",
	                     "User stack: function of each frame from the ELF symbol tables (0x… when "
	                     "unknown; empty when the process exited before its memory map was read)");
	if (!f->addresses || !f->buildid || !f->symbols)
		return -EINVAL;
	return 0;
}

static void op_free(struct ustack_op *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nfields; i++)
		free(o->fields[i]);
	free(o->fields);
	ustack_symbolizer_free(o->sym);
	free(o->stack);
	free(o->ids);
	free(o->names);
	free(o->out);
	free(o);
}

static int parse_symbolizers(const char *v, bool *symbolize)
{
	char *copy, *tok, *save = NULL;
	int err = 0;

	*symbolize = false;
	if (!v || !*v || !strcmp(v, "none"))
		return 0;
	if (!strcmp(v, "auto")) {
		*symbolize = true;
		return 0;
	}
	copy = strdup(v);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "symtab")) {
			*symbolize = true;
		} else if (!strcmp(tok, "debuginfod-cache") ||
		           !strcmp(tok, "debuginfod-cache-on-ig-server") ||
		           !strcmp(tok, "otel-ebpf-profiler")) {
			sonde_warn("ustack: symbolizer \"%s\" is not implemented in sonde; ignored", tok);
		} else {
			sonde_err(
			    "ustack: invalid symbolizer \"%s\" (want none, auto, or a comma-separated list "
			    "of symtab, debuginfod-cache, debuginfod-cache-on-ig-server, "
			    "otel-ebpf-profiler)",
			    tok);
			err = -EINVAL;
		}
	}
	free(copy);
	return err;
}

static int ustack_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct ustack_op *o = calloc(1, sizeof(*o));
	const char *root = getenv("HOST_ROOT");
	int err = 0;

	if (!o)
		return -ENOMEM;
	o->ctx = ctx;
	o->stack_fd = o->build_id_fd = -1;
	if (!root || !strcmp(root, "/"))
		root = "";
	snprintf(o->proc, sizeof(o->proc), "%s/proc", root);
	for (size_t d = 0; d < sonde_gadget_nds(ctx) && !err; d++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, d);
		size_t n = sonde_ds_nfields(ds); /* not the fields added here */

		for (size_t i = 0; i < n && !err; i++) {
			struct sonde_field *f = sonde_ds_field_at(ds, i);

			if (sonde_field_has_tag(f, USTACK_TAG))
				err = add_one(o, ds, f);
		}
	}
	if (err == -ENOMEM)
		sonde_err("ustack: out of memory");
	if (err || o->nfields == 0) {
		op_free(o);
		return err;
	}
	*state = o;
	return 0;
}

static int ustack_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct ustack_op *o = state;
	struct sonde_param *p = sonde_params_find(sonde_gadget_params(ctx), "operator.ustack.symbolizers");
	int err = parse_symbolizers(p ? sonde_param_value(p) : "auto", &o->symbolize);

	for (size_t i = 0; i < o->nfields && !err; i++)
		err = sonde_ds_subscribe(o->fields[i]->ds, on_record, o->fields[i], SONDE_PHASE_ENRICH);
	return err;
}

static void ustack_close(struct sonde_gadget_ctx *ctx, void *state)
{
	struct ustack_op *o = state;

	if (o && o->sym) {
		struct ustack_symbolizer_stats st;

		ustack_symbolizer_stats(o->sym, &st);
		sonde_debug(
		    "ustack: %" PRIu64 " maps read, %" PRIu64 " ELF files read (%" PRIu64
		    " evicted), %zu symbols cached, %" PRIu64 " stacks lost, %" PRIu64 " without a process",
		    st.maps_reads, st.tables_loaded, st.tables_evicted, st.symbols_cached, o->lost, o->gone);
	}
	op_free(o);
}

static const struct sonde_param_desc ustack_params[] = {
    {
        .key = "symbolizers",
        .description = "Symbolizers to use: \"none\", \"auto\", or a comma-separated list among "
                       "\"symtab\", \"debuginfod-cache\", \"debuginfod-cache-on-ig-server\", "
                       "\"otel-ebpf-profiler\" (sonde implements symtab)",
        .default_value = "auto",
    },
    {
        .key = "debuginfod-cache-path",
        .description = "Path to the debuginfod cache directory (upstream's; sonde has no debuginfod "
                       "symbolizer and ignores it)",
        .default_value = "",
    },
};

const struct sonde_operator ustack_operator = {
    .name = "ustack",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_ENRICH,
    .instance_params = ustack_params,
    .ninstance_params = sizeof(ustack_params) / sizeof(ustack_params[0]),
    .instantiate = ustack_instantiate,
    .pre_start = ustack_pre_start,
    .close = ustack_close,
};
