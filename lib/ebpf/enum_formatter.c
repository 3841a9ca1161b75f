/* Enum formatters (spec §2.4): a member declared `enum E` gets a sibling
 * string field with the enumerator's name; the raw field is hidden.
 *
 * Target name: field annotation ebpf.formatter.enum, else the member name
 * minus "_raw"; neither → no formatter. Enums whose name ends in "_set" are
 * bit sets: every enumerator v with (x & v) == v, joined by
 * ebpf.formatter.bitfield.separator (default "|"). Values come from the
 * object's own BTF (the vmlinux.h it was built with), except for an enum
 * the program relocates with CO-RE (its values are the running kernel's):
 * that one is named from the kernel's enum (kernel_enums.c). Upstream
 * prefers a same-named kernel enum for every enum, which would cost every
 * gadget a 40 ms vmlinux BTF parse here. */
#include <stdio.h>
#include <string.h>

#include <sonde/log.h>

#include "internal.h"

struct ebpf_enum_fmt {
	struct sonde_field *src, *dst;
	bool is_signed;
	bool bitfield;
	char *sep;
	size_t n;
	uint64_t *vals;
	char **names;
	char *buf; /* joined names of a bit set, sized for all of them */
	size_t buflen;
};

static void fmt_free(struct ebpf_enum_fmt *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	free(f->vals);
	free(f->sep);
	free(f->buf);
	free(f);
}

void ebpf_enum_formatters_free(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->nenums; i++)
		fmt_free(g->enums[i]);
	free(g->enums);
	g->enums = NULL;
	g->nenums = 0;
}

static int format(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct ebpf_enum_fmt *f = arg;
	uint64_t x = 0;
	int64_t sx = 0;
	size_t len = 0;

	if (!sonde_field_is_requested(f->dst))
		return 0;
	if (f->is_signed ? !sonde_field_as_int64(f->src, rec, &sx) : !sonde_field_as_uint64(f->src, rec, &x))
		return 0;
	if (f->is_signed)
		x = (uint64_t)sx;
	if (!f->bitfield) {
		for (size_t i = 0; i < f->n; i++)
			if (f->vals[i] == x)
				return sonde_field_put_string(f->dst, rec, f->names[i],
				                              (uint32_t)strlen(f->names[i]));
		return sonde_field_put_string(f->dst, rec, "UNKNOWN", 7);
	}
	for (size_t i = 0; i < f->n; i++) {
		size_t nl;

		/* A zero enumerator is part of every value: only name it for 0. */
		if ((x & f->vals[i]) != f->vals[i] || (f->vals[i] == 0 && x != 0))
			continue;
		nl = strlen(f->names[i]);
		if (len) {
			memcpy(f->buf + len, f->sep, strlen(f->sep));
			len += strlen(f->sep);
		}
		memcpy(f->buf + len, f->names[i], nl);
		len += nl;
	}
	return sonde_field_put_string(f->dst, rec, f->buf, (uint32_t)len);
}

static int load_values(struct ebpf_enum_fmt *f, const struct btf *btf, const struct btf_type *t)
{
	size_t total = 0;

	f->n = btf_vlen(t);
	f->vals = calloc(f->n ? f->n : 1, sizeof(*f->vals));
	f->names = calloc(f->n ? f->n : 1, sizeof(*f->names));
	if (!f->vals || !f->names)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		const char *name;

		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t) + i;

			name = btf__name_by_offset(btf, e->name_off);
			f->vals[i] = f->is_signed ? (uint64_t)(int64_t)e->val : (uint32_t)e->val;
		} else {
			const struct btf_enum64 *e = btf_enum64(t) + i;

			name = btf__name_by_offset(btf, e->name_off);
			f->vals[i] = btf_enum64_value(e);
		}
		f->names[i] = strdup(name ? name : "");
		if (!f->names[i])
			return -ENOMEM;
		total += strlen(f->names[i]) + strlen(f->sep);
	}
	f->buflen = total + 1;
	f->buf = malloc(f->buflen);
	return f->buf ? 0 : -ENOMEM;
}

int ebpf_enum_formatter_add(void *arg, struct sonde_ds *ds, struct sonde_field *src, uint32_t enum_id)
{
	struct ebpf_gadget *g = arg;
	const struct btf_type *t = btf__type_by_id(g->btf, enum_id);
	const char *ename = t ? btf__name_by_offset(g->btf, t->name_off) : NULL;
	const char *target = sonde_field_annotation(src, "ebpf.formatter.enum");
	const char *sep = sonde_field_annotation(src, "ebpf.formatter.bitfield.separator");
	const char *name = sonde_field_name(src);
	const struct btf *vbtf;
	const struct btf_type *vt;
	struct sonde_field_opts opts = {.sz = sizeof(opts), .has_order = true};
	struct ebpf_enum_fmt *f;
	char derived[256];
	size_t nl = strlen(name);
	int err;

	if (!t)
		return -EINVAL;
	if (!target || !*target) {
		if (nl <= 4 || strcmp(name + nl - 4, "_raw") != 0)
			return 0; /* nowhere to put the name */
		snprintf(derived, sizeof(derived), "%.*s", (int)(nl - 4), name);
		target = derived;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->src = src;
	f->is_signed = btf_kflag(t);
	f->bitfield = ename && strlen(ename) > 4 && strcmp(ename + strlen(ename) - 4, "_set") == 0;
	f->sep = strdup(sep ? sep : "|");
	vbtf = g->btf;
	vt = t;
	if (ebpf_enum_core_relocated(g, enum_id)) {
		const struct btf_type *kt = ebpf_kernel_enum(ename, &vbtf);

		if (kt)
			vt = kt;
		else
			vbtf = g->btf;
	}
	err = f->sep ? load_values(f, vbtf, vt) : -ENOMEM;
	if (!err && append_array(&g->enums, &g->nenums, &f, sizeof(f)))
		err = -ENOMEM;
	if (err) {
		fmt_free(f);
		return err;
	}
	opts.parent = sonde_field_parent(src);
	opts.order = sonde_field_order(src);
	f->dst = sonde_ds_add_field(ds, target, SONDE_KIND_STRING, &opts);
	if (!f->dst) {
		sonde_err("datasource %s: cannot add enum field '%s' for '%s'", sonde_ds_name(ds), target,
		          sonde_field_full_name(src));
		return -EINVAL;
	}
	sonde_field_set_hidden(src, true, false);
	return sonde_ds_subscribe(ds, format, f, SONDE_PHASE_FORMAT);
}
