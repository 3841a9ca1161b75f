/* Streaming JSON writer driven by a precomputed per-DataSource plan. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "fieldtree.h"
#include "json.h"
#include "numfmt.h"
#include "utf8.h"
#include "value.h"

/* A piece of constant text inside the plan's pool. */
struct lit {
	uint32_t off, len;
};

struct jnode {
	const struct sonde_field *field;
	struct sonde_vinfo v;
	bool object;
	uint32_t first_child, nchildren;
	struct lit key;   /* separator + indentation + "name": */
	uint32_t sep_len; /* bytes of the separator at the start of key */
	struct lit open;  /* object / array opener (+ newline and indentation) */
	struct lit close; /* object / array closer (newline and indentation +) */
	struct lit esep;  /* between array elements */
};

struct sonde_json_plan {
	struct jnode *nodes;
	size_t n;
	char *pool;
	size_t pool_len, pool_cap;
	bool pretty;
	struct sonde_ftree tree;
};

/* ---- building ---- */

static int pool_add(struct sonde_json_plan *p, const char *s, size_t n)
{
	if (p->pool_len + n > p->pool_cap) {
		size_t ncap = p->pool_cap ? p->pool_cap : 256;
		char *np;

		while (ncap < p->pool_len + n)
			ncap *= 2;
		np = realloc(p->pool, ncap);
		if (!np)
			return -ENOMEM;
		p->pool = np;
		p->pool_cap = ncap;
	}
	memcpy(p->pool + p->pool_len, s, n);
	p->pool_len += n;
	return 0;
}

static int pool_indent(struct sonde_json_plan *p, unsigned level)
{
	for (unsigned i = 0; i < level; i++)
		if (pool_add(p, "  ", 2))
			return -ENOMEM;
	return 0;
}

/* Text built by a sequence of pool_* calls between lit_begin and lit_end. */
static uint32_t lit_begin(const struct sonde_json_plan *p)
{
	return (uint32_t)p->pool_len;
}

static struct lit lit_end(const struct sonde_json_plan *p, uint32_t start)
{
	return (struct lit){start, (uint32_t)(p->pool_len - start)};
}

/* A JSON string literal into the pool, via a temporary memory buffer. */
static int pool_json_string(struct sonde_json_plan *p, const char *s)
{
	struct sonde_outbuf tmp;
	int err;

	if (sonde_outbuf_init(&tmp, -1, 64))
		return -ENOMEM;
	sonde_json_write_string(&tmp, s, strlen(s));
	err = tmp.err ? tmp.err : pool_add(p, tmp.data, tmp.len);
	sonde_outbuf_fini(&tmp);
	return err;
}

/* `base`: indentation level of the record's own braces. */
static int build_node(struct sonde_json_plan *p, size_t i, unsigned base)
{
	const struct sonde_ftree_node *tn = &p->tree.nodes[i];
	struct jnode *jn = &p->nodes[i];
	unsigned level = base + tn->depth; /* indentation of this node's key */
	uint32_t s;
	int err = 0;

	jn->field = tn->field;
	jn->object = i == 0 || tn->object;
	jn->first_child = tn->first_child;
	jn->nchildren = tn->nchildren;
	if (tn->field)
		jn->v = sonde_vinfo_of(sonde_field_kind(tn->field));

	if (i > 0) {
		s = lit_begin(p);
		err |= pool_add(p, p->pretty ? ",\n" : ",", p->pretty ? 2 : 1);
		jn->sep_len = p->pretty ? 2 : 1;
		if (p->pretty)
			err |= pool_indent(p, level);
		err |= pool_json_string(p, tn->name);
		err |= pool_add(p, p->pretty ? ": " : ":", p->pretty ? 2 : 1);
		jn->key = lit_end(p, s);
	}
	if (jn->object || jn->v.type == SONDE_V_NUMARRAY) {
		bool obj = jn->object;
		/* the root's braces sit at `base`; a nested value's closer at its key's level */
		unsigned inner = i == 0 ? base + 1 : level + 1;
		unsigned outer = inner - 1;

		s = lit_begin(p);
		if (i == 0 && p->pretty)
			err |= pool_indent(p, base);
		err |= pool_add(p, obj ? "{" : "[", 1);
		if (p->pretty && !obj) {
			err |= pool_add(p, "\n", 1);
			err |= pool_indent(p, inner);
		} else if (p->pretty) {
			err |= pool_add(p, "\n", 1);
		}
		jn->open = lit_end(p, s);

		s = lit_begin(p);
		if (p->pretty) {
			err |= pool_add(p, "\n", 1);
			err |= pool_indent(p, outer);
		}
		err |= pool_add(p, obj ? "}" : "]", 1);
		jn->close = lit_end(p, s);

		s = lit_begin(p);
		err |= pool_add(p, ",", 1);
		if (p->pretty && !obj) {
			err |= pool_add(p, "\n", 1);
			err |= pool_indent(p, inner);
		}
		jn->esep = lit_end(p, s);
	}
	return err ? -ENOMEM : 0;
}

struct sonde_json_plan *sonde_json_plan_new(const struct sonde_ds *ds, unsigned flags)
{
	struct sonde_json_plan *p = calloc(1, sizeof(*p));
	unsigned base = (flags & SONDE_JSON_PRETTY) && (flags & SONDE_JSON_IN_ARRAY) ? 1 : 0;

	if (!p)
		goto nomem;
	p->pretty = flags & SONDE_JSON_PRETTY;
	if (sonde_ftree_build(&p->tree, ds, SONDE_FTREE_BYTEWISE))
		goto fail;
	p->n = p->tree.n;
	p->nodes = calloc(p->n, sizeof(*p->nodes));
	if (!p->nodes)
		goto nomem;
	for (size_t i = 0; i < p->n; i++)
		if (build_node(p, i, base))
			goto nomem;
	return p;
nomem:
	sonde_err("output: out of memory building the JSON plan of %s", sonde_ds_name(ds));
fail:
	sonde_json_plan_free(p);
	return NULL;
}

void sonde_json_plan_free(struct sonde_json_plan *plan)
{
	if (!plan)
		return;
	sonde_ftree_destroy(&plan->tree);
	free(plan->nodes);
	free(plan->pool);
	free(plan);
}

void sonde_json_plan_request(const struct sonde_json_plan *plan)
{
	sonde_ftree_request(&plan->tree);
}

/* ---- writing ---- */

static const char hexdigits[] = "0123456789abcdef";

/* Bytes that go out unchanged: printable ASCII except '"' and '\'. */
static inline bool json_safe(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

void sonde_json_write_string(struct sonde_outbuf *ob, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;

	sonde_outbuf_putc(ob, '"');
	while (i < n) {
		unsigned char c = u[i];
		int32_t r = 0;
		int size = 1;

		if (json_safe(c)) {
			i++;
			continue;
		}
		if (c >= 0x80) {
			r = sonde_utf8_decode(u + i, n - i, &size);
			if (r != SONDE_UTF8_ERROR && r != 0x2028 && r != 0x2029) {
				i += (size_t)size; /* valid UTF-8 is copied as is */
				continue;
			}
		}
		if (i > start)
			sonde_outbuf_write(ob, s + start, i - start);
		if (c >= 0x80) {
			if (r == SONDE_UTF8_ERROR)
				sonde_outbuf_write(ob, "\\ufffd", 6);
			else
				sonde_outbuf_write(ob, r == 0x2028 ? "\\u2028" : "\\u2029", 6);
		} else {
			char esc[6] = {'\\', 0};
			size_t elen = 2;

			switch (c) {
			case '"':
			case '\\':
				esc[1] = (char)c;
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			default:
				memcpy(esc + 1, "u00", 3);
				esc[4] = hexdigits[c >> 4];
				esc[5] = hexdigits[c & 0xF];
				elen = 6;
			}
			sonde_outbuf_write(ob, esc, elen);
		}
		i += (size_t)size;
		start = i;
	}
	if (i > start)
		sonde_outbuf_write(ob, s + start, i - start);
	sonde_outbuf_putc(ob, '"');
}

static inline void put_lit(const struct sonde_json_plan *p, struct sonde_outbuf *ob, struct lit l)
{
	sonde_outbuf_write(ob, p->pool + l.off, l.len);
}

static void put_float(struct sonde_outbuf *ob, double v, int bits)
{
	char *d = sonde_outbuf_reserve(ob, SONDE_NUMBUF);
	size_t n;

	if (!d)
		return;
	n = sonde_fmt_float_json(d, v, bits);
	if (n == 0) {
		memcpy(d, "null", 4);
		n = 4;
	}
	sonde_outbuf_commit(ob, n);
}

static void put_number(struct sonde_outbuf *ob, uint8_t type, const void *p, uint32_t len, uint8_t size)
{
	switch (type) {
	case SONDE_V_INT:
		sonde_outbuf_put_i64(ob, sonde_v_int(p, len, size));
		break;
	case SONDE_V_UINT:
		sonde_outbuf_put_u64(ob, sonde_v_uint(p, len, size));
		break;
	case SONDE_V_F32:
		put_float(ob, sonde_v_float(p, len, 4), 32);
		break;
	default:
		put_float(ob, sonde_v_float(p, len, 8), 64);
		break;
	}
}

static void write_object(const struct sonde_json_plan *p, struct sonde_outbuf *ob, const struct jnode *jn,
                         const struct sonde_record *rec);

static void write_value(const struct sonde_json_plan *p, struct sonde_outbuf *ob, const struct jnode *jn,
                        const struct sonde_record *rec)
{
	const void *val;
	uint32_t len = 0;

	if (jn->object) {
		write_object(p, ob, jn, rec);
		return;
	}
	val = sonde_field_get(jn->field, rec, &len);
	switch (jn->v.type) {
	case SONDE_V_BOOL:
		if (sonde_v_bool(val, len))
			sonde_outbuf_write(ob, "true", 4);
		else
			sonde_outbuf_write(ob, "false", 5);
		break;
	case SONDE_V_INT:
	case SONDE_V_UINT:
	case SONDE_V_F32:
	case SONDE_V_F64:
		put_number(ob, jn->v.type, val, len, jn->v.size);
		break;
	case SONDE_V_STRING: {
		uint32_t slen;
		const char *s = sonde_v_string(val, len, jn->v.cstring, &slen);

		sonde_json_write_string(ob, s, slen);
		break;
	}
	case SONDE_V_NUMARRAY: {
		uint32_t count = val ? len / jn->v.size : 0;

		if (count == 0) {
			sonde_outbuf_write(ob, "[]", 2);
			break;
		}
		put_lit(p, ob, jn->open);
		for (uint32_t i = 0; i < count; i++) {
			if (i)
				put_lit(p, ob, jn->esep);
			put_number(ob, jn->v.elem, (const char *)val + (size_t)i * jn->v.size, jn->v.size,
			           jn->v.size);
		}
		put_lit(p, ob, jn->close);
		break;
	}
	default:
		sonde_outbuf_putc(ob, '"');
		if (val)
			sonde_outbuf_put_hex(ob, val, len);
		sonde_outbuf_putc(ob, '"');
		break;
	}
}

static void write_object(const struct sonde_json_plan *p, struct sonde_outbuf *ob, const struct jnode *jn,
                         const struct sonde_record *rec)
{
	if (jn->nchildren == 0) {
		/* keep the root's indentation inside a pretty array */
		put_lit(p, ob, (struct lit){jn->open.off, jn->open.len - (p->pretty ? 2 : 1)});
		sonde_outbuf_write(ob, "{}", 2);
		return;
	}
	put_lit(p, ob, jn->open);
	for (uint32_t i = 0; i < jn->nchildren; i++) {
		const struct jnode *c = &p->nodes[jn->first_child + i];

		if (i == 0)
			sonde_outbuf_write(ob, p->pool + c->key.off + c->sep_len, c->key.len - c->sep_len);
		else
			put_lit(p, ob, c->key);
		write_value(p, ob, c, rec);
	}
	put_lit(p, ob, jn->close);
}

void sonde_json_write_record(const struct sonde_json_plan *plan, struct sonde_outbuf *ob,
                             const struct sonde_record *rec)
{
	write_object(plan, ob, &plan->nodes[0], rec);
}

void sonde_json_write_array(const struct sonde_json_plan *plan, struct sonde_outbuf *ob,
                            const struct sonde_array *arr)
{
	if (arr->len == 0) {
		sonde_outbuf_write(ob, "[]", 2);
		return;
	}
	sonde_outbuf_write(ob, plan->pretty ? "[\n" : "[", plan->pretty ? 2 : 1);
	for (size_t i = 0; i < arr->len; i++) {
		if (i)
			sonde_outbuf_write(ob, plan->pretty ? ",\n" : ",", plan->pretty ? 2 : 1);
		write_object(plan, ob, &plan->nodes[0], arr->recs[i]);
	}
	sonde_outbuf_write(ob, plan->pretty ? "\n]" : "]", 2 - !plan->pretty);
}
