/* Kernel stacks (spec §2.4, §2.6.7): a gadget_kernel_stack member holds the
 * id bpf_get_stackid() returned for the ig_kstack STACK_TRACE map. Userspace
 * reads the addresses from the map and names them from /proc/kallsyms:
 * "[0]sym; [1]sym; …" — upstream's rendering, a trailing "; " included.
 *
 * kallsyms is read once per run, on the first record that wants a stack
 * (so "gadget info" and runs that never see one do not pay ~100 ms), then
 * sorted by address; each address is a binary search. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sonde/log.h>

#include "format/fmtbuf.h"
#include "internal.h"
#include "util/file.h"

#define KSTACK_MAP     "ig_kstack"
#define KSTACK_TAG     "type:gadget_kernel_stack"
#define KSTACK_OUT_MAX (64 * 1024)
#define UNKNOWN_SYMBOL "[unknown]"
#define KALLSYMS       "/proc/kallsyms"

/* ---- kallsyms ---- */

#define MAX_KALLSYMS (256u << 20) /* ~15 MiB on a distribution kernel */

struct ksym {
	uint64_t addr;
	uint32_t line; /* position in the file: ties keep the last one listed */
	const char *name;
};

struct ebpf_kallsyms {
	char *text; /* the file, names NUL-terminated in place */
	struct ksym *syms;
	size_t n;
	bool hidden; /* every address 0: kptr_restrict hides them from us */
};

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* "ffffffff81000000 T _stext" or "... t name\t[module]": address and name. */
static bool parse_line(char *line, uint64_t *addr, const char **name)
{
	char *end, *p;

	errno = 0;
	*addr = strtoull(line, &end, 16);
	if (end == line || errno || *end != ' ')
		return false;
	p = end + 1;
	while (*p && *p != ' ') /* the type letter */
		p++;
	if (*p != ' ')
		return false;
	p++;
	*name = p;
	while (*p && *p != ' ' && *p != '\t')
		p++;
	*p = 0;
	return p != *name;
}

int ebpf_kallsyms_load(const char *path, struct ebpf_kallsyms **out)
{
	struct ebpf_kallsyms *ks = calloc(1, sizeof(*ks));
	size_t len = 0, cap = 0, lines = 0;
	char *line, *next;
	int err;

	if (!ks)
		return -ENOMEM;
	err = util_read_file(path, MAX_KALLSYMS, &ks->text, &len);
	if (err) {
		free(ks);
		return err;
	}
	for (size_t i = 0; i < len; i++)
		cap += ks->text[i] == '\n';
	ks->syms = calloc(cap + 1, sizeof(*ks->syms));
	if (!ks->syms) {
		ebpf_kallsyms_free(ks);
		return -ENOMEM;
	}
	ks->hidden = true;
	for (line = ks->text; *line; line = next) {
		struct ksym s;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		else
			next = line + strlen(line);
		lines++;
		if (!parse_line(line, &s.addr, &s.name))
			continue; /* tolerated: one bad line should not cost every stack */
		s.line = (uint32_t)lines;
		ks->hidden = ks->hidden && s.addr == 0;
		ks->syms[ks->n++] = s;
	}
	qsort(ks->syms, ks->n, sizeof(*ks->syms), cmp_ksym);
	*out = ks;
	return 0;
}

void ebpf_kallsyms_free(struct ebpf_kallsyms *ks)
{
	if (!ks)
		return;
	free(ks->syms);
	free(ks->text);
	free(ks);
}

size_t ebpf_kallsyms_count(const struct ebpf_kallsyms *ks)
{
	return ks ? ks->n : 0;
}

const char *ebpf_kallsyms_lookup(const struct ebpf_kallsyms *ks, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!ks || !ks->n || ks->hidden || ks->syms[0].addr > addr)
		return UNKNOWN_SYMBOL;
	/* the last entry with syms[i].addr <= addr */
	hi = ks->n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		if (ks->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid - 1;
	}
	return ks->syms[lo].name;
}

/* ---- formatter ---- */

struct kstack_fmt {
	struct ebpf_kstack *ks;
	struct sonde_field *src, *dst;
};

struct ebpf_kstack {
	struct ebpf_gadget *g;
	struct bpf_map *map;
	struct kstack_fmt **fmts;
	size_t nfmts;
	/* first record */
	struct ebpf_kallsyms *syms;
	bool syms_tried;
	uint64_t *stack; /* one map value */
	uint32_t depth;
	char *out;
	uint64_t lost;
};

static bool load_symbols(struct ebpf_kstack *k)
{
	int err;

	if (k->syms_tried)
		return k->syms != NULL;
	k->syms_tried = true;
	k->depth = bpf_map__value_size(k->map) / sizeof(uint64_t);
	k->stack = calloc(k->depth ? k->depth : 1, sizeof(uint64_t));
	k->out = malloc(KSTACK_OUT_MAX);
	if (!k->stack || !k->out) {
		sonde_err("kernel stacks: out of memory");
		return false;
	}
	err = ebpf_kallsyms_load(KALLSYMS, &k->syms);
	if (err) {
		sonde_warn("kernel stacks: cannot read %s: %s; stacks are left empty", KALLSYMS,
		           strerror(-err));
		return false;
	}
	if (k->syms->hidden)
		sonde_warn("kernel stacks: %s shows no addresses (kernel.kptr_restrict); symbols show as %s",
		           KALLSYMS, UNKNOWN_SYMBOL);
	return true;
}

static int format(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct kstack_fmt *f = arg;
	struct ebpf_kstack *k = f->ks;
	uint32_t id = sonde_field_uint32(f->src, rec);
	struct fmtbuf b;
	int fd;

	if (!sonde_field_is_requested(f->dst))
		return 0;
	fd = bpf_map__fd(k->map);
	if (fd < 0 || !load_symbols(k))
		return sonde_field_put_string(f->dst, rec, "", 0);
	if (bpf_map_lookup_elem(fd, &id, k->stack)) {
		/* a negative id (-EFAULT, -EEXIST…) or an entry evicted by a newer stack */
		if (k->lost++ == 0)
			sonde_warn("kernel stacks: stack with id %d is lost (%s); such stacks are left empty",
			           (int32_t)id, strerror(errno));
		return sonde_field_put_string(f->dst, rec, "", 0);
	}
	b = fmtbuf_init(k->out, KSTACK_OUT_MAX);
	for (uint32_t i = 0; i < k->depth && k->stack[i]; i++) {
		fmtbuf_putc(&b, '[');
		fmtbuf_uint(&b, i, 0, '0');
		fmtbuf_putc(&b, ']');
		fmtbuf_puts(&b, ebpf_kallsyms_lookup(k->syms, k->stack[i]));
		fmtbuf_put(&b, "; ", 2);
	}
	return sonde_field_put_string(f->dst, rec, b.buf, (uint32_t)b.len);
}

static int add_one(struct ebpf_kstack *k, struct sonde_ds *ds, struct sonde_field *src)
{
	const char *target = sonde_field_annotation(src, "ebpf.formatter.kstack");
	const char *name = sonde_field_name(src);
	struct sonde_field_opts opts = {.sz = sizeof(opts), .has_order = true};
	size_t nl = strlen(name);
	struct kstack_fmt *f;
	char derived[256];

	if (!target || !*target) {
		if (nl <= 4 || strcmp(name + nl - 4, "_raw") != 0) {
			sonde_warn("kernel stack field %s: neither ebpf.formatter.kstack nor a _raw suffix; "
			           "not symbolised",
			           sonde_field_full_name(src));
			return 0;
		}
		snprintf(derived, sizeof(derived), "%.*s", (int)(nl - 4), name);
		target = derived;
	}
	if (sonde_field_kind(src) != SONDE_KIND_UINT32 && sonde_field_kind(src) != SONDE_KIND_INT32) {
		sonde_warn("kernel stack field %s is not a 32-bit stack id; not symbolised",
		           sonde_field_full_name(src));
		return 0;
	}
	f = calloc(1, sizeof(*f));
	if (!f || append_array(&k->fmts, &k->nfmts, &f, sizeof(f))) {
		free(f);
		return -ENOMEM;
	}
	f->ks = k;
	f->src = src;
	opts.parent = sonde_field_parent(src);
	opts.order = sonde_field_order(src);
	f->dst = sonde_ds_add_field(ds, target, SONDE_KIND_STRING, &opts);
	if (!f->dst) {
		sonde_err("datasource %s: cannot add kernel stack field '%s' for '%s'", sonde_ds_name(ds),
		          target, sonde_field_full_name(src));
		return -EINVAL;
	}
	sonde_field_set_hidden(src, true, false);
	return sonde_ds_subscribe(ds, format, f, SONDE_PHASE_FORMAT);
}

static int add_for_ds(struct ebpf_gadget *g, struct sonde_ds *ds)
{
	size_t n = ds ? sonde_ds_fields_with_tag(ds, KSTACK_TAG, NULL, 0) : 0;
	struct sonde_field **fields;
	int err = 0;

	if (!n)
		return 0;
	if (!g->kstack) {
		struct bpf_map *map = bpf_object__find_map_by_name(g->obj, KSTACK_MAP);

		if (!map || bpf_map__type(map) != BPF_MAP_TYPE_STACK_TRACE) {
			sonde_err(
			    "gadget %s: datasource %s has a gadget_kernel_stack field but the object has no "
			    "%s stack trace map (include <gadget/kernel_stack_map.h>)",
			    g->name, sonde_ds_name(ds), KSTACK_MAP);
			return -EINVAL;
		}
		g->kstack = calloc(1, sizeof(*g->kstack));
		if (!g->kstack)
			return -ENOMEM;
		g->kstack->g = g;
		g->kstack->map = map;
	}
	fields = calloc(n, sizeof(*fields));
	if (!fields)
		return -ENOMEM;
	n = sonde_ds_fields_with_tag(ds, KSTACK_TAG, fields, n);
	for (size_t i = 0; i < n && !err; i++)
		err = add_one(g->kstack, ds, fields[i]);
	free(fields);
	return err;
}

int ebpf_kstack_formatters_add(struct ebpf_gadget *g)
{
	int err = 0;

	for (size_t i = 0; i < g->ntracers && !err; i++)
		err = add_for_ds(g, g->tracers[i].ds);
	for (size_t i = 0; i < g->niters && !err; i++)
		err = add_for_ds(g, g->iters[i].ds);
	for (size_t i = 0; i < g->nmapiters && !err; i++)
		err = add_for_ds(g, g->mapiters[i].ds);
	if (err == -ENOMEM)
		sonde_err("gadget %s: out of memory adding kernel stack fields", g->name);
	return err;
}

void ebpf_kstack_formatters_free(struct ebpf_gadget *g)
{
	struct ebpf_kstack *k = g->kstack;

	if (!k)
		return;
	for (size_t i = 0; i < k->nfmts; i++)
		free(k->fmts[i]);
	free(k->fmts);
	ebpf_kallsyms_free(k->syms);
	free(k->stack);
	free(k->out);
	free(k);
	g->kstack = NULL;
}
