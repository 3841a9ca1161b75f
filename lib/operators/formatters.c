/* The formatters operator: one converter per special-type field, grouped per
 * DataSource. Fields are added at instantiate (before the DataSource is
 * sealed); subscriptions in pre-start; which targets a sink wants is known
 * only after every pre-start, so converters decide at start whether to run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "format/bytes.h"
#include "format/duration.h"
#include "format/endpoint.h"
#include "format/errno_names.h"
#include "format/file_flags.h"
#include "format/file_mode.h"
#include "format/signal_names.h"
#include "format/syscall_names.h"
#include "format/timestamp.h"
#include "operators/formatters.h"
#include "util/array.h"

#define MAX_TAGGED 256
#define OUT_MAX    256

/* Upstream's order: it decides the order of the added fields (and columns). */
enum conv_kind {
	C_SIGNAL,
	C_ERRNO,
	C_SYSCALL,
	C_TIMESTAMP,
	C_BYTES,
	C_DURATION,
	C_FILE_FLAGS,
	C_FILE_MODE,
	C_L3,
	C_L4,
	C_NKINDS,
};

static const struct {
	const char *tag;
	const char *name; /* formatters.<name>.target */
	const char *tmpl; /* template of the new field */
} kinds[C_NKINDS] = {
    [C_SIGNAL] = {"type:gadget_signal", "signal", NULL},
    [C_ERRNO] = {"type:gadget_errno", "errno", "errorString"},
    [C_SYSCALL] = {"type:gadget_syscall", "syscall", NULL},
    [C_TIMESTAMP] = {"type:gadget_timestamp", "timestamp", "timestamp"},
    [C_BYTES] = {"type:gadget_bytes", "bytes", "bytes"},
    [C_DURATION] = {"type:gadget_duration", "duration", "duration"},
    [C_FILE_FLAGS] = {"type:gadget_file_flags", "file_flags", NULL},
    [C_FILE_MODE] = {"type:gadget_file_mode", "file_mode", NULL},
    [C_L3] = {"type:gadget_l3endpoint_t", "l3endpoint", NULL},
    [C_L4] = {"type:gadget_l4endpoint_t", "l4endpoint", NULL},
};

struct conv {
	enum conv_kind kind;
	struct sonde_field *src, *dst; /* endpoints: dst = addr */
	uint8_t src_size;              /* bytes of an integer (or bool) source, 0 otherwise */
	bool src_signed;
	/* endpoints */
	struct sonde_field *addr_raw, *version, *port, *proto_raw, *proto, *endpoint;
	struct timefmt *tf; /* timestamps */
	/* decided at start */
	bool active;      /* some output of this converter is wanted */
	bool want_dst;    /* dst (addr) requested */
	bool want_proto;  /* L4 */
	bool want_ep;     /* L4 */
	bool rewrite_raw; /* timestamp: the raw field is output, give it wall-clock time */
};

struct fmt_ds {
	struct formatters *fm;
	struct sonde_ds *ds;
	struct conv *convs; /* priority 0 */
	size_t nconvs;
	struct conv *l4; /* priority 1 */
	size_t nl4;
};

struct formatters {
	struct fmt_ds *dss;
	size_t ndss;
	int64_t boot_to_wall_ns;
};

/* ---- per record ---- */

static void put(struct sonde_field *f, struct sonde_record *rec, const char *s, size_t n)
{
	sonde_field_put_string(f, rec, s, (uint32_t)n);
}

/* An integer source, widened as sonde_field_as_uint64 does (signed values
 * sign-extended, a short value reads 0); false for a non-integer or absent
 * value. Its size and sign come from the conv: one lookup per event instead
 * of three. */
static bool read_uint(const struct conv *c, const struct sonde_record *rec, uint64_t *v)
{
	uint32_t len = 0;
	const void *p = sonde_field_get(c->src, rec, &len);

	if (!p || !c->src_size)
		return false;
	*v = 0;
	if (len < c->src_size)
		return true;
	switch (c->src_size) {
	case 1:
		*v = c->src_signed ? (uint64_t)(int64_t) * (const int8_t *)p : *(const uint8_t *)p;
		break;
	case 2: {
		uint16_t x;

		memcpy(&x, p, 2);
		*v = c->src_signed ? (uint64_t)(int64_t)(int16_t)x : x;
		break;
	}
	case 4: {
		uint32_t x;

		memcpy(&x, p, 4);
		*v = c->src_signed ? (uint64_t)(int64_t)(int32_t)x : x;
		break;
	}
	default:
		memcpy(v, p, 8);
		break;
	}
	return true;
}

static void classify_src(struct conv *c)
{
	enum sonde_kind k = sonde_field_kind(c->src);

	if (k == SONDE_KIND_BOOL || sonde_kind_is_int(k)) {
		c->src_size = (uint8_t)sonde_kind_size(k);
		c->src_signed = sonde_kind_is_signed(k);
	}
}

static void convert_endpoint(struct conv *c, struct sonde_record *rec)
{
	uint8_t addr[16] = {0};
	uint32_t len = 0;
	const void *raw = sonde_field_get(c->addr_raw, rec, &len);
	uint8_t version = sonde_field_uint8(c->version, rec);
	char ip[FMT_IP_MAX], out[FMT_ENDPOINT_MAX];
	size_t n;

	if (raw)
		memcpy(addr, raw, len < sizeof(addr) ? len : sizeof(addr));
	n = fmt_ip(addr, version, ip, sizeof(ip));
	if (c->want_dst)
		put(c->dst, rec, ip, n);
	if (c->kind != C_L4)
		return;
	if (c->want_ep) {
		n = fmt_l4endpoint(addr, version, sonde_field_uint16(c->port, rec), out, sizeof(out));
		put(c->endpoint, rec, out, n);
	}
	if (c->want_proto && c->proto) {
		n = fmt_ip_proto(sonde_field_uint16(c->proto_raw, rec), out, sizeof(out));
		put(c->proto, rec, out, n);
	}
}

static void convert(struct formatters *fm, struct conv *c, struct sonde_record *rec)
{
	char out[OUT_MAX];
	size_t n = 0;
	uint64_t v;
	int64_t sv;

	if (c->kind == C_L3 || c->kind == C_L4) {
		convert_endpoint(c, rec);
		return;
	}
	if (!read_uint(c, rec, &v))
		return;
	switch (c->kind) {
	case C_SIGNAL:
		n = fmt_signal((uint32_t)v, out, sizeof(out));
		break;
	case C_ERRNO:
		/* a signed source may hold a negative errno (-ENOENT) */
		sv = (int64_t)v;
		if (c->src_signed && sv < 0)
			v = (uint64_t)0 - (uint64_t)sv; /* INT64_MIN too */
		n = fmt_errno(v > UINT32_MAX ? UINT32_MAX : (uint32_t)v, out, sizeof(out));
		break;
	case C_SYSCALL:
		n = fmt_syscall(v, out, sizeof(out));
		break;
	case C_TIMESTAMP: {
		int64_t wall = wall_from_boot_ns(fm->boot_to_wall_ns, v);

		if (c->rewrite_raw)
			sonde_field_put_uint(c->src, rec, (uint64_t)wall);
		if (!c->want_dst)
			return;
		n = timefmt_format(c->tf, wall, out, sizeof(out));
		break;
	}
	case C_BYTES:
		n = fmt_bytes(v, out, sizeof(out));
		break;
	case C_DURATION:
		n = fmt_duration((int64_t)v, out, sizeof(out));
		break;
	case C_FILE_FLAGS:
		n = fmt_file_flags((uint32_t)v, out, sizeof(out));
		break;
	case C_FILE_MODE:
		n = fmt_file_mode((uint32_t)v, out, sizeof(out));
		break;
	default:
		return;
	}
	put(c->dst, rec, out, n);
}

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct fmt_ds *d = arg;

	for (size_t i = 0; i < d->nconvs; i++)
		if (d->convs[i].active)
			convert(d->fm, &d->convs[i], rec);
	return 0;
}

static int on_record_l4(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct fmt_ds *d = arg;

	for (size_t i = 0; i < d->nl4; i++)
		if (d->l4[i].active)
			convert(d->fm, &d->l4[i], rec);
	return 0;
}

/* ---- instantiate: fields ---- */

/* "ENOENT, ESRCH, …" for value.one-of, built once. */
static const char *one_of(const char *(*name_of)(uint32_t), uint32_t max, char *buf, size_t cap)
{
	size_t len = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i <= max; i++) {
		const char *name = name_of(i);
		int n;

		if (!name)
			continue;
		n = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", name);
		if (n < 0 || (size_t)n >= cap - len)
			break;
		len += (size_t)n;
	}
	return buf;
}

/* Target name: formatters.<kind>.target, else the name minus "_raw". */
static const char *target_name(const struct sonde_field *src, enum conv_kind kind, char *buf, size_t cap)
{
	const char *name = sonde_field_name(src);
	size_t n = strlen(name);
	char key[64];
	const char *t;

	snprintf(key, sizeof(key), "formatters.%s.target", kinds[kind].name);
	t = sonde_field_annotation(src, key);
	if (t && *t)
		return t;
	if (n > 4 && strcmp(name + n - 4, "_raw") == 0) {
		snprintf(buf, cap, "%.*s", (int)(n - 4), name);
		return buf;
	}
	sonde_debug("formatters: field %s has neither a %s annotation nor a _raw suffix; not formatted",
	            sonde_field_full_name(src), key);
	return NULL;
}

/* Hides the source unless its own configuration decided. */
static void hide_source(struct sonde_field *src)
{
	if (!sonde_field_annotation(src, "columns.hidden"))
		sonde_field_set_hidden(src, true, false);
}

static int add_scalar(struct conv *c, struct sonde_ds *ds)
{
	char names[2048]; /* value.one-of: the DataSource copies it */
	const char *ann[5] = {NULL};
	size_t nann = 0;
	struct sonde_field_opts opts = {.sz = sizeof(opts), .has_order = true, .annotations = ann};
	char buf[256];
	const char *target;
	int err;

	if (!sonde_kind_is_int(sonde_field_kind(c->src))) {
		sonde_debug("formatters: field %s (%s) is not an integer; not formatted",
		            sonde_field_full_name(c->src), kinds[c->kind].tag);
		return 1;
	}
	target = target_name(c->src, c->kind, buf, sizeof(buf));
	if (!target)
		return 1;
	if (kinds[c->kind].tmpl) {
		ann[nann++] = "template";
		ann[nann++] = kinds[c->kind].tmpl;
	}
	if (c->kind == C_ERRNO || c->kind == C_SIGNAL) {
		ann[nann++] = "value.one-of";
		ann[nann++] = c->kind == C_ERRNO ? one_of(errno_name, 200, names, sizeof(names))
		                                 : one_of(signal_name, 64, names, sizeof(names));
	}
	if (c->kind == C_TIMESTAMP) {
		const char *layout = sonde_field_annotation(c->src, "formatters.timestamp.format");

		if (sonde_field_size(c->src) != 8) {
			sonde_debug("formatters: timestamp %s is not 64 bits; not formatted",
			            sonde_field_full_name(c->src));
			return 1;
		}
		c->tf = malloc(sizeof(*c->tf));
		if (!c->tf)
			return -ENOMEM;
		err = timefmt_init(c->tf, layout && *layout ? layout : NULL);
		if (err) {
			sonde_err("formatters: field %s: formatters.timestamp.format is too long",
			          sonde_field_full_name(c->src));
			return err;
		}
	}
	opts.parent = sonde_field_parent(c->src);
	opts.order = sonde_field_order(c->src);
	c->dst = sonde_ds_add_field(ds, target, SONDE_KIND_STRING, &opts);
	if (!c->dst) {
		/* e.g. a member of the same name exists: upstream skips the field too */
		sonde_warn("formatters: cannot add field '%s' for %s in datasource %s", target,
		           sonde_field_full_name(c->src), sonde_ds_name(ds));
		return 1;
	}
	hide_source(c->src);
	return 0;
}

static struct sonde_field *child_with_tag(struct sonde_field *f, const char *tag)
{
	struct sonde_field *found = NULL;

	for (size_t i = 0; i < sonde_field_nchildren(f); i++) {
		struct sonde_field *ch = sonde_field_child(f, i);

		if ((sonde_field_flags(ch) & SONDE_FIELD_UNREFERENCED) || !sonde_field_has_tag(ch, tag))
			continue;
		if (found)
			return NULL; /* ambiguous */
		found = ch;
	}
	return found;
}

static struct sonde_field *add_sub(struct sonde_ds *ds, struct sonde_field *parent, const char *name,
                                   uint32_t flags, const char *const *tags, const char *const *ann)
{
	struct sonde_field_opts opts = {
	    .sz = sizeof(opts), .flags = flags, .parent = parent, .tags = tags, .annotations = ann};

	return sonde_ds_add_field(ds, name, SONDE_KIND_STRING, &opts);
}

static int add_endpoint(struct conv *c, struct sonde_ds *ds)
{
	static const char *const ep_tags[] = {"endpoint", NULL};
	static const char *const ep_ann[] = {"json.skip", "true", NULL};
	const char *what = sonde_field_full_name(c->src);
	char name[256];
	size_t n;

	c->addr_raw = child_with_tag(c->src, "type:gadget_ip_addr_t");
	if (!c->addr_raw)
		c->addr_raw = child_with_tag(c->src, "name:addr_raw");
	c->version = child_with_tag(c->src, "name:version");
	if (c->kind == C_L4) {
		c->port = child_with_tag(c->src, "name:port");
		c->proto_raw = child_with_tag(c->src, "name:proto_raw");
	}
	if (!c->addr_raw || !c->version || sonde_field_size(c->addr_raw) < 16 ||
	    sonde_field_kind(c->version) != SONDE_KIND_UINT8 ||
	    (c->kind == C_L4 && (!c->port || sonde_field_kind(c->port) != SONDE_KIND_UINT16)) ||
	    (c->proto_raw && sonde_field_kind(c->proto_raw) != SONDE_KIND_UINT16)) {
		sonde_debug("formatters: endpoint %s lacks addr_raw/version%s; not formatted", what,
		            c->kind == C_L4 ? "/port" : "");
		return 1;
	}
	n = strlen(sonde_field_name(c->addr_raw));
	snprintf(name, sizeof(name), "%s", sonde_field_name(c->addr_raw));
	if (n > 4 && strcmp(name + n - 4, "_raw") == 0)
		name[n - 4] = 0;
	c->dst = add_sub(ds, c->src, name, 0, NULL, NULL);
	if (!c->dst) {
		sonde_warn("formatters: cannot add field '%s' to endpoint %s", name, what);
		return 1;
	}
	sonde_field_unreference(c->addr_raw, true);
	sonde_field_set_annotation(c->src, "columns.replace", sonde_field_full_name(c->dst));
	/* only the struct's own column shows, with the text of the replacement */
	sonde_field_set_hidden(c->src, true, true);
	sonde_field_set_hidden(c->src, false, false);
	if (c->kind != C_L4)
		return 0;
	if (c->proto_raw) {
		n = strlen(sonde_field_name(c->proto_raw));
		snprintf(name, sizeof(name), "%.*s", (int)(n - 4), sonde_field_name(c->proto_raw));
		c->proto = add_sub(ds, c->src, name, SONDE_FIELD_HIDDEN, NULL, NULL);
		if (!c->proto) {
			sonde_warn("formatters: cannot add field '%s' to endpoint %s", name, what);
			return 1;
		}
	}
	c->endpoint = add_sub(ds, c->src, "endpoint", SONDE_FIELD_HIDDEN, ep_tags, ep_ann);
	if (!c->endpoint) {
		sonde_warn("formatters: cannot add field 'endpoint' to endpoint %s", what);
		return 1;
	}
	sonde_field_set_annotation(c->src, "columns.replace", sonde_field_full_name(c->endpoint));
	return 0;
}

static int scan_ds(struct fmt_ds *d)
{
	struct sonde_field *fields[MAX_TAGGED];

	for (int k = 0; k < C_NKINDS; k++) {
		size_t n = sonde_ds_fields_with_tag(d->ds, kinds[k].tag, fields, MAX_TAGGED);

		if (n > MAX_TAGGED) {
			sonde_warn("formatters: datasource %s has %zu %s fields; formatting the first %d",
			           sonde_ds_name(d->ds), n, kinds[k].tag, MAX_TAGGED);
			n = MAX_TAGGED;
		}
		for (size_t i = 0; i < n; i++) {
			struct conv c = {.kind = (enum conv_kind)k, .src = fields[i]};
			int err;

			classify_src(&c);
			err = (k == C_L3 || k == C_L4) ? add_endpoint(&c, d->ds) : add_scalar(&c, d->ds);

			if (err == 0)
				err = k == C_L4
				          ? append_array(&d->l4, &d->nl4, &c, sizeof(struct conv))
				          : append_array(&d->convs, &d->nconvs, &c, sizeof(struct conv));
			if (err)
				free(c.tf);
			if (err < 0)
				return err;
		}
	}
	return 0;
}

static void formatters_free(struct formatters *fm)
{
	if (!fm)
		return;
	for (size_t i = 0; i < fm->ndss; i++) {
		for (size_t j = 0; j < fm->dss[i].nconvs; j++)
			free(fm->dss[i].convs[j].tf);
		free(fm->dss[i].convs);
		free(fm->dss[i].l4);
	}
	free(fm->dss);
	free(fm);
}

/* ---- hooks ---- */

static int formatters_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	size_t nds = sonde_gadget_nds(ctx);
	struct formatters *fm = calloc(1, sizeof(*fm));
	int err = 0;

	*state = NULL;
	if (!fm || !(fm->dss = calloc(nds ? nds : 1, sizeof(*fm->dss)))) {
		free(fm);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nds && !err; i++) {
		struct fmt_ds *d = &fm->dss[fm->ndss];

		d->fm = fm;
		d->ds = sonde_gadget_ds_at(ctx, i);
		if (!sonde_ds_is_referenced(d->ds) || sonde_ds_sealed(d->ds))
			continue;
		err = scan_ds(d);
		if (d->nconvs || d->nl4)
			fm->ndss++;
		else
			memset(d, 0, sizeof(*d));
	}
	if (err || fm->ndss == 0) {
		if (err == -ENOMEM)
			sonde_err("formatters: out of memory");
		formatters_free(fm);
		return err;
	}
	*state = fm;
	return 0;
}

static int formatters_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct formatters *fm = state;
	int err = 0;

	for (size_t i = 0; i < fm->ndss && !err; i++) {
		struct fmt_ds *d = &fm->dss[i];

		if (d->nconvs)
			err = sonde_ds_subscribe(d->ds, on_record, d, SONDE_PHASE_FORMAT);
		/* after the L3 part of other formatters, as upstream */
		if (!err && d->nl4)
			err = sonde_ds_subscribe(d->ds, on_record_l4, d, SONDE_PHASE_FORMAT_LATE);
	}
	return err;
}

static void decide(struct conv *c)
{
	c->want_dst = sonde_field_is_requested(c->dst);
	c->want_proto = c->proto && sonde_field_is_requested(c->proto);
	c->want_ep = c->endpoint && sonde_field_is_requested(c->endpoint);
	c->rewrite_raw = c->kind == C_TIMESTAMP && sonde_field_is_requested(c->src);
	c->active = c->want_dst || c->want_proto || c->want_ep || c->rewrite_raw;
}

static int formatters_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct formatters *fm = state;

	fm->boot_to_wall_ns = boot_to_wall_offset_ns();
	for (size_t i = 0; i < fm->ndss; i++) {
		for (size_t j = 0; j < fm->dss[i].nconvs; j++)
			decide(&fm->dss[i].convs[j]);
		for (size_t j = 0; j < fm->dss[i].nl4; j++)
			decide(&fm->dss[i].l4[j]);
	}
	return 0;
}

static void formatters_close(struct sonde_gadget_ctx *ctx, void *state)
{
	formatters_free(state);
}

const struct sonde_operator formatters_operator = {
    .name = "formatters",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_FORMAT,
    .instantiate = formatters_instantiate,
    .pre_start = formatters_pre_start,
    .start = formatters_start,
    .close = formatters_close,
};
