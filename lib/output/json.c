/* Streaming JSON writer driven by a precomputed per-DataSource plan.
 *
 * The field tree is laid out once as text pieces around each value (jnode),
 * then flattened into a program: one op per printed value, each with all the
 * constant text before it (closing braces, separators, keys, opening braces)
 * merged into one literal, and the text after the last value as a tail. A
 * record is then a loop of "copy a literal, write a value", with no recursion
 * and no per-object work; about 45 values of trace_open need 46 copies
 * instead of about 100. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "core/kvlist.h"
#include "core/record_aside.h"

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
	struct vinfo v;
	bool object;
	uint32_t first_child, nchildren;
	struct lit key;   /* separator + indentation + "name": */
	uint32_t sep_len; /* bytes of the separator at the start of key */
	struct lit open;  /* object / array opener (+ newline and indentation) */
	struct lit close; /* object / array closer (newline and indentation +) */
	struct lit esep;  /* between array elements */
};

/* One printed value: the literal before it, where it is and how to print it. */
struct jop {
	struct lit pre;
	const struct sonde_field *field;
	struct vinfo v;
	bool static_member; /* a member of a static block: at `off` in its payload */
	bool main_block;    /* ... of the plan's main_slot, read once per record */
	uint32_t slot, off, size;
	uint64_t end;                 /* off + size */
	struct lit open, close, esep; /* numeric arrays */
};

struct json_plan {
	struct jnode *nodes; /* the laid-out tree; only used to build `ops` */
	size_t n;
	struct jop *ops;
	size_t nops;
	struct lit tail;    /* after the last value (or the whole text when there is none) */
	uint32_t main_slot; /* the static block of most fields (the event struct) */
	char *pool;
	size_t pool_len, pool_cap;
	bool pretty;
	struct ftree tree;
};

/* ---- building ---- */

static int pool_add(struct json_plan *p, const char *s, size_t n)
{
	if (grow_array((void **)&p->pool, &p->pool_cap, p->pool_len + n, 1))
		return -ENOMEM;
	memcpy(p->pool + p->pool_len, s, n);
	p->pool_len += n;
	return 0;
}

static int pool_indent(struct json_plan *p, unsigned level)
{
	for (unsigned i = 0; i < level; i++)
		if (pool_add(p, "  ", 2))
			return -ENOMEM;
	return 0;
}

/* Text built by a sequence of pool_* calls between lit_begin and lit_end. */
static uint32_t lit_begin(const struct json_plan *p)
{
	return (uint32_t)p->pool_len;
}

static struct lit lit_end(const struct json_plan *p, uint32_t start)
{
	return (struct lit){start, (uint32_t)(p->pool_len - start)};
}

/* A JSON string literal into the pool, via a temporary memory buffer. */
static int pool_json_string(struct json_plan *p, const char *s)
{
	struct sonde_outbuf tmp;
	int err;

	if (outbuf_init(&tmp, -1, 64))
		return -ENOMEM;
	json_write_string(&tmp, s, strlen(s));
	err = tmp.err ? tmp.err : pool_add(p, tmp.data, tmp.len);
	outbuf_fini(&tmp);
	return err;
}

/* `base`: indentation level of the record's own braces. */
static int build_node(struct json_plan *p, size_t i, unsigned base)
{
	const struct ftree_node *tn = &p->tree.nodes[i];
	struct jnode *jn = &p->nodes[i];
	unsigned level = base + tn->depth; /* indentation of this node's key */
	uint32_t s;
	int err = 0;

	jn->field = tn->field;
	jn->object = i == 0 || tn->object;
	jn->first_child = tn->first_child;
	jn->nchildren = tn->nchildren;
	if (tn->field)
		jn->v = vinfo_of(sonde_field_kind(tn->field));

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
	if (jn->object || jn->v.type == V_NUMARRAY) {
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

/* ---- flattening the tree into ops ---- */

/* Literals up to this size are copied as one fixed-size block (two vector
 * moves, no branches on the length); the pool ends with this many spare
 * bytes and the output has room for them, the bytes past the literal are
 * overwritten by what follows. */
#define LIT_SLACK 32

/* Constant text waiting for the next value (kept apart from the pool, which
 * grows while it is filled). */
struct pending {
	char *buf;
	size_t len, cap;
	int err;
};

static void pend_add(struct pending *pd, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (grow_array((void **)&pd->buf, &pd->cap, pd->len + n, 1)) {
		pd->err = -ENOMEM;
		return;
	}
	memcpy(pd->buf + pd->len, s, n);
	pd->len += n;
}

static void pend_lit(struct pending *pd, const struct json_plan *p, struct lit l)
{
	pend_add(pd, p->pool + l.off, l.len);
}

/* Moves the pending text into the pool as one literal. */
static int pend_take(struct json_plan *p, struct pending *pd, struct lit *out)
{
	uint32_t s = lit_begin(p);

	if (pd->err || (pd->len && pool_add(p, pd->buf, pd->len)))
		return -ENOMEM;
	pd->len = 0;
	*out = lit_end(p, s);
	return 0;
}

static int flatten_value(struct json_plan *p, struct pending *pd, const struct jnode *jn);

/* The text write_object would produce, with every value an op. */
static int flatten_object(struct json_plan *p, struct pending *pd, const struct jnode *jn)
{
	int err = 0;

	if (jn->nchildren == 0) {
		/* keep the root's indentation inside a pretty array */
		pend_add(pd, p->pool + jn->open.off, jn->open.len - (p->pretty ? 2 : 1));
		pend_add(pd, "{}", 2);
		return 0;
	}
	pend_lit(pd, p, jn->open);
	for (uint32_t i = 0; i < jn->nchildren && !err; i++) {
		const struct jnode *c = &p->nodes[jn->first_child + i];

		if (i == 0)
			pend_add(pd, p->pool + c->key.off + c->sep_len, c->key.len - c->sep_len);
		else
			pend_lit(pd, p, c->key);
		err = flatten_value(p, pd, c);
	}
	pend_lit(pd, p, jn->close);
	return err;
}

static int flatten_value(struct json_plan *p, struct pending *pd, const struct jnode *jn)
{
	struct jop *op;

	if (jn->object)
		return flatten_object(p, pd, jn);
	op = &p->ops[p->nops];
	*op = (struct jop){.v = jn->v, .open = jn->open, .close = jn->close, .esep = jn->esep};
	op->field = jn->field;
	op->slot = sonde_field_payload_index(jn->field);
	op->off = sonde_field_offset(jn->field);
	op->size = sonde_field_size(jn->field);
	op->static_member = sonde_field_flags(jn->field) & SONDE_FIELD_STATIC_MEMBER;
	op->end = (uint64_t)op->off + op->size;
	if (op->static_member && p->main_slot == UINT32_MAX)
		p->main_slot = op->slot;
	op->main_block = op->static_member && op->slot == p->main_slot;
	if (pend_take(p, pd, &op->pre))
		return -ENOMEM;
	p->nops++;
	return 0;
}

static int flatten(struct json_plan *p)
{
	struct pending pd = {0};
	int err;

	p->main_slot = UINT32_MAX;
	p->ops = calloc(p->n ? p->n : 1, sizeof(*p->ops)); /* at most one per node */
	if (!p->ops)
		return -ENOMEM;
	err = flatten_object(p, &pd, &p->nodes[0]);
	if (!err)
		err = pend_take(p, &pd, &p->tail);
	free(pd.buf);
	/* LIT_SLACK readable bytes after every literal (see put_pre) */
	if (!err) {
		static const char zeros[LIT_SLACK];

		err = pool_add(p, zeros, sizeof(zeros));
	}
	return err;
}

struct json_plan *json_plan_new(const struct sonde_ds *ds, unsigned flags)
{
	struct json_plan *p = calloc(1, sizeof(*p));
	unsigned base = (flags & JSON_PRETTY) && (flags & JSON_IN_ARRAY) ? 1 : 0;

	if (!p)
		goto nomem;
	p->pretty = flags & JSON_PRETTY;
	if (ftree_build(&p->tree, ds, FTREE_BYTEWISE))
		goto fail;
	p->n = p->tree.n;
	p->nodes = calloc(p->n, sizeof(*p->nodes));
	if (!p->nodes)
		goto nomem;
	for (size_t i = 0; i < p->n; i++)
		if (build_node(p, i, base))
			goto nomem;
	if (flatten(p))
		goto nomem;
	return p;
nomem:
	sonde_err("output: out of memory building the JSON plan of %s", sonde_ds_name(ds));
fail:
	json_plan_free(p);
	return NULL;
}

void json_plan_free(struct json_plan *plan)
{
	if (!plan)
		return;
	ftree_destroy(&plan->tree);
	free(plan->nodes);
	free(plan->ops);
	free(plan->pool);
	free(plan);
}

void json_plan_request(const struct json_plan *plan)
{
	ftree_request(&plan->tree);
}

/* ---- writing ---- */

static const char hexdigits[] = "0123456789abcdef";

/* Bytes that go out unchanged: printable ASCII except '"' and '\'. */
static inline bool json_safe(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline uint64_t unsafe_bytes64(uint64_t x)
{
	uint64_t q = x ^ (ONES * '"'), b = x ^ (ONES * '\\');

	return (x | ((x - ONES * 0x20) & ~x) | ((q - ONES) & ~q) | ((b - ONES) & ~b)) & HIGHS;
}

static inline uint32_t unsafe_bytes32(uint32_t x)
{
	const uint32_t ones = 0x01010101u, highs = 0x80808080u;
	uint32_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return (x | ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b)) & highs;
}

/* Index of the first byte from i on that json_safe rejects (n if none).
 * Word at a time: unsafe_bytes* sets the high bit of every byte >= 0x80,
 * < 0x20, '"' or '\' (the usual has-zero/has-less tricks; they may also flag
 * bytes above a flagged one, never below, so the lowest flag is exact: on
 * little-endian hosts it is the answer, elsewhere the word is searched byte by
 * byte). The last bytes are one load that overlaps bytes already known to be
 * safe. Most
 * strings of an event (paths, names, timestamps: plain ASCII) so take a
 * handful of word operations instead of four tests per byte. */
static inline size_t safe_span(const unsigned char *u, size_t i, size_t n)
{
	uint64_t x, flags;
	uint32_t y;

	if (n - i >= 8) {
		for (; i + 8 <= n; i += 8) {
			memcpy(&x, u + i, 8);
			if ((flags = unsafe_bytes64(x))) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
				return i + (size_t)__builtin_ctzll(flags) / 8; /* the lowest flag is exact */
#else
				break;
#endif
			}
		}
		if (i == n)
			return n;
		memcpy(&x, u + n - 8, 8);
		if (i + 8 > n && !unsafe_bytes64(x))
			return n;
	} else if (n - i >= 4) {
		memcpy(&y, u + i, 4);
		if (!unsafe_bytes32(y)) {
			memcpy(&y, u + n - 4, 4);
			if (!unsafe_bytes32(y))
				return n;
		}
	}
	while (i < n && json_safe(u[i]))
		i++;
	return i;
}

static void write_string_escaped(struct sonde_outbuf *ob, const char *s, size_t n, size_t i);

/* Inlined into the record writer: about twenty strings per event, half of
 * them empty (container and pod fields of host processes). */
static inline void write_string(struct sonde_outbuf *ob, const char *s, size_t n)
{
	size_t i = n ? safe_span((const unsigned char *)s, 0, n) : 0;

	if (i == n && n <= SIZE_MAX - 2) {
		/* nothing to escape (the common case): quotes and bytes in one go */
		char *d = outbuf_reserve(ob, n + 2);

		if (d) {
			d[0] = '"';
			copy_short(d + 1, s, n);
			d[n + 1] = '"';
			outbuf_commit(ob, n + 2);
		}
		return;
	}
	write_string_escaped(ob, s, n, i);
}

void json_write_string(struct sonde_outbuf *ob, const char *s, size_t n)
{
	write_string(ob, s, n);
}

/* Bytes [0, i) need no escape, byte i does. */
static void write_string_escaped(struct sonde_outbuf *ob, const char *s, size_t n, size_t i)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = 0;

	outbuf_putc(ob, '"');
	while (i < n) {
		unsigned char c = u[i];
		int32_t r = 0;
		int size = 1;

		if (c >= 0x80) {
			r = utf8_decode(u + i, n - i, &size);
			if (r != UTF8_ERROR && r != 0x2028 && r != 0x2029) {
				i = safe_span(u, i + (size_t)size, n); /* valid UTF-8 is copied as is */
				continue;
			}
		}
		if (i > start)
			outbuf_write(ob, s + start, i - start);
		if (c >= 0x80) {
			if (r == UTF8_ERROR)
				outbuf_write(ob, "\\ufffd", 6);
			else
				outbuf_write(ob, r == 0x2028 ? "\\u2028" : "\\u2029", 6);
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
			outbuf_write(ob, esc, elen);
		}
		start = i + (size_t)size;
		i = safe_span(u, start, n);
	}
	if (i > start)
		outbuf_write(ob, s + start, i - start);
	outbuf_putc(ob, '"');
}

static inline void put_lit(const struct json_plan *p, struct sonde_outbuf *ob, struct lit l)
{
	outbuf_write(ob, p->pool + l.off, l.len);
}

static void put_float(struct sonde_outbuf *ob, double v, int bits)
{
	char *d = outbuf_reserve(ob, NUMBUF);
	size_t n;

	if (!d)
		return;
	n = fmt_float_json(d, v, bits);
	if (n == 0) {
		memcpy(d, "null", 4);
		n = 4;
	}
	outbuf_commit(ob, n);
}

static inline void put_int(struct sonde_outbuf *ob, int64_t v)
{
	if (v >= 0)
		outbuf_put_u64(ob, (uint64_t)v); /* single digits inline */
	else
		outbuf_put_i64(ob, v);
}

static inline void put_number(struct sonde_outbuf *ob, uint8_t type, const void *p, uint32_t len,
                              uint8_t size)
{
	switch (type) {
	case V_INT:
		put_int(ob, v_int(p, len, size));
		break;
	case V_UINT:
		outbuf_put_u64(ob, v_uint(p, len, size));
		break;
	case V_F32:
		put_float(ob, v_float(p, len, 4), 32);
		break;
	default:
		put_float(ob, v_float(p, len, 8), 64);
		break;
	}
}

/* The payload of the plan's main static block in one record, and the range
 * of a member written aside (core/record_aside.h; pend 0: none). */
struct block {
	const char *data;
	uint32_t len;
	uint64_t poff, pend;
};

/* sonde_field_get with the field's layout read once at plan time (a
 * DataSource's layout is fixed before any sink plans it), and the event
 * struct most fields live in looked up once per record; a member written
 * aside, and members of other blocks, go through sonde_field_get. */
static inline const void *op_get(const struct jop *op, const struct sonde_record *rec, struct block blk,
                                 uint32_t *len)
{
	const struct sonde_payload *pl;

	if (op->main_block) {
		if (!blk.data || op->end > blk.len)
			return NULL;
		if (op->off < blk.pend && op->end > blk.poff)
			return sonde_field_get(op->field, rec, len); /* the written member */
		*len = op->size;
		return blk.data + op->off;
	}
	if (op->static_member)
		return sonde_field_get(op->field, rec, len); /* other blocks: rare, and may be patched */
	if (op->slot >= rec->npayloads)
		return NULL;
	pl = &rec->payloads[op->slot];
	if (!pl->data)
		return NULL;
	*len = pl->len;
	return pl->data;
}

static void write_numarray(const struct json_plan *p, struct sonde_outbuf *ob, const struct jop *op,
                           const void *val, uint32_t len)
{
	uint32_t count = val ? len / op->v.size : 0;

	if (count == 0) {
		outbuf_write(ob, "[]", 2);
		return;
	}
	put_lit(p, ob, op->open);
	for (uint32_t i = 0; i < count; i++) {
		if (i)
			put_lit(p, ob, op->esep);
		put_number(ob, op->v.elem, (const char *)val + (size_t)i * op->v.size, op->v.size,
		           op->v.size);
	}
	put_lit(p, ob, op->close);
}

/* Integers and plain strings (most values) go out with the literal before
 * them under one capacity check. */
/* Room for the literal before a value and `extra` bytes of value; returns
 * where the value goes (NULL on no memory). */
static inline char *put_pre(struct sonde_outbuf *ob, const char *pre, uint32_t plen, size_t extra)
{
	char *d = outbuf_reserve(ob, (size_t)plen + LIT_SLACK + extra);

	if (!d)
		return NULL;
	if (plen <= LIT_SLACK)
		memcpy(d, pre, LIT_SLACK);
	else
		memcpy(d, pre, plen);
	ob->len += plen;
	return d + plen;
}

static inline void write_int_op(struct sonde_outbuf *ob, const char *pre, uint32_t plen, uint64_t mag,
                                bool neg)
{
	char *d = put_pre(ob, pre, plen, 21);
	size_t n = 0;

	if (!d)
		return;
	if (neg)
		d[n++] = '-';
	if (mag < 10)
		d[n++] = (char)('0' + mag);
	else
		n += fmt_u64(d + n, mag);
	outbuf_commit(ob, n);
}

static inline void write_op(const struct json_plan *p, struct sonde_outbuf *ob, const struct jop *op,
                            const struct sonde_record *rec, struct block blk)
{
	const char *pre = p->pool + op->pre.off;
	uint32_t plen = op->pre.len, len = 0;
	const void *val = op_get(op, rec, blk, &len);

	switch (op->v.type) {
	case V_UINT:
		write_int_op(ob, pre, plen, v_uint(val, len, op->v.size), false);
		return;
	case V_INT: {
		int64_t v = v_int(val, len, op->v.size);

		/* negate in unsigned arithmetic: INT64_MIN has no positive counterpart */
		write_int_op(ob, pre, plen, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, v < 0);
		return;
	}
	case V_STRING: {
		const char *s = val ? val : "";
		size_t slen = val ? len : 0, i = slen ? safe_span((const unsigned char *)s, 0, slen) : 0;
		char *d;

		/* a CString ends at its first NUL, which the scan stops at as an
		 * unsafe byte: no separate search for it when the text is plain */
		if (op->v.cstring && i < slen) {
			const char *nul = s[i] ? memchr(s + i, 0, slen - i) : s + i;

			if (nul)
				slen = (size_t)(nul - s);
		}
		if (i < slen) {
			outbuf_write(ob, pre, plen);
			write_string_escaped(ob, s, slen, i);
			return;
		}
		d = put_pre(ob, pre, plen, (size_t)slen + 2);
		if (d) {
			d[0] = '"';
			copy_short(d + 1, s, slen);
			d[slen + 1] = '"';
			outbuf_commit(ob, (size_t)slen + 2);
		}
		return;
	}
	default:
		break;
	}
	outbuf_write(ob, pre, plen);
	switch (op->v.type) {
	case V_BOOL:
		if (v_bool(val, len))
			outbuf_write(ob, "true", 4);
		else
			outbuf_write(ob, "false", 5);
		break;
	case V_F32:
	case V_F64:
		put_number(ob, op->v.type, val, len, op->v.size);
		break;
	case V_NUMARRAY:
		write_numarray(p, ob, op, val, len);
		break;
	default:
		outbuf_putc(ob, '"');
		if (val)
			outbuf_put_hex(ob, val, len);
		outbuf_putc(ob, '"');
		break;
	}
}

static void write_object(const struct json_plan *p, struct sonde_outbuf *ob, const struct sonde_record *rec)
{
	struct block blk = {NULL, 0, 0, 0};

	if (p->main_slot < rec->npayloads && rec->payloads[p->main_slot].data) {
		const struct sonde_payload *pl = &rec->payloads[p->main_slot];

		const struct record_aside *a = record_aside(rec, p->main_slot);

		blk.data = pl->data;
		blk.len = pl->len;
		if (a) {
			blk.poff = a->off;
			blk.pend = (uint64_t)a->off + a->len;
		}
	}
	for (size_t i = 0; i < p->nops; i++)
		write_op(p, ob, &p->ops[i], rec, blk); /* the literal before the value, the value */
	put_lit(p, ob, p->tail);
}

void output_json_write_record(const struct json_plan *plan, struct sonde_outbuf *ob,
                              const struct sonde_record *rec)
{
	write_object(plan, ob, rec);
}

void output_json_write_array(const struct json_plan *plan, struct sonde_outbuf *ob,
                             const struct sonde_array *arr)
{
	if (arr->len == 0) {
		outbuf_write(ob, "[]", 2);
		return;
	}
	outbuf_write(ob, plan->pretty ? "[\n" : "[", plan->pretty ? 2 : 1);
	for (size_t i = 0; i < arr->len; i++) {
		if (i)
			outbuf_write(ob, plan->pretty ? ",\n" : ",", plan->pretty ? 2 : 1);
		write_object(plan, ob, arr->recs[i]);
	}
	outbuf_write(ob, plan->pretty ? "\n]" : "]", 2 - !plan->pretty);
}
