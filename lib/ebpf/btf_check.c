/* Structural check of raw .BTF bytes before libbpf parses them.
 *
 * libbpf 1.1 checks record sizes but trusts type ids and string offsets that
 * records refer to; corrupted ones make it dereference NULL while opening the
 * object (found by the mutation test). Everything a record points to is
 * checked here: string offsets, type ids, and that typedef/modifier chains end
 * (libbpf follows them without a depth limit). */
#include <linux/btf.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MAX_CHAIN 64
#define KIND_MAX  19 /* BTF_KIND_ENUM64 */

struct view {
	const unsigned char *types;
	uint32_t types_len;
	const char *strs;
	uint32_t strs_len;
	uint32_t *offsets; /* type id → offset of its record */
	uint32_t n;        /* number of types, id 0 (void) excluded */
};

static int fail(char *why, size_t whylen, const char *msg, uint32_t id)
{
	if (id)
		snprintf(why, whylen, "malformed BTF: type %u: %s", id, msg);
	else
		snprintf(why, whylen, "malformed BTF: %s", msg);
	return -EINVAL;
}

static struct btf_type type_at(const struct view *v, uint32_t id)
{
	struct btf_type t;

	memcpy(&t, v->types + v->offsets[id], sizeof(t));
	return t;
}

/* Bytes of the record following struct btf_type, or -1 for an unknown kind. */
static int64_t extra_size(uint32_t kind, uint32_t vlen)
{
	switch (kind) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return 12;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_DATASEC:
		return (int64_t)vlen * 12;
	case BTF_KIND_ENUM:
	case BTF_KIND_FUNC_PROTO:
		return (int64_t)vlen * 8;
	case 19: /* BTF_KIND_ENUM64 */
		return (int64_t)vlen * 12;
	default:
		return -1;
	}
}

static bool name_ok(const struct view *v, uint32_t off)
{
	return off < v->strs_len;
}

static bool id_ok(const struct view *v, uint32_t id)
{
	return id <= v->n;
}

static uint32_t read_u32(const unsigned char *p)
{
	uint32_t x;

	memcpy(&x, p, 4);
	return x;
}

/* Checks every reference of one record. */
static int check_refs(const struct view *v, uint32_t id, char *why, size_t whylen)
{
	struct btf_type t = type_at(v, id);
	const unsigned char *extra = v->types + v->offsets[id] + sizeof(t);
	uint32_t kind = BTF_INFO_KIND(t.info), vlen = BTF_INFO_VLEN(t.info);

	if (!name_ok(v, t.name_off))
		return fail(why, whylen, "name offset out of range", id);
	switch (kind) {
	case BTF_KIND_PTR:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
	case BTF_KIND_TYPE_TAG:
	case BTF_KIND_FUNC_PROTO:
		if (!id_ok(v, t.type))
			return fail(why, whylen, "refers to a type that does not exist", id);
		break;
	default:
		break;
	}
	switch (kind) {
	case BTF_KIND_ARRAY:
		if (!id_ok(v, read_u32(extra)) || !id_ok(v, read_u32(extra + 4)))
			return fail(why, whylen, "array of a type that does not exist", id);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		for (uint32_t i = 0; i < vlen; i++) {
			const unsigned char *m = extra + i * 12;

			if (!name_ok(v, read_u32(m)) || !id_ok(v, read_u32(m + 4)) || read_u32(m + 4) == 0)
				return fail(why, whylen, "member with a bad name or type", id);
		}
		break;
	case BTF_KIND_ENUM:
	case 19:
		for (uint32_t i = 0; i < vlen; i++)
			if (!name_ok(v, read_u32(extra + i * (kind == BTF_KIND_ENUM ? 8 : 12))))
				return fail(why, whylen, "enumerator name out of range", id);
		break;
	case BTF_KIND_FUNC_PROTO:
		for (uint32_t i = 0; i < vlen; i++)
			if (!name_ok(v, read_u32(extra + i * 8)) || !id_ok(v, read_u32(extra + i * 8 + 4)))
				return fail(why, whylen, "parameter with a bad name or type", id);
		break;
	case BTF_KIND_DATASEC:
		for (uint32_t i = 0; i < vlen; i++)
			if (!id_ok(v, read_u32(extra + i * 12)) || read_u32(extra + i * 12) == 0)
				return fail(why, whylen, "section variable that does not exist", id);
		break;
	case BTF_KIND_DECL_TAG:
		if (t.type == 0)
			return fail(why, whylen, "tag on void", id);
		break;
	default:
		break;
	}
	return 0;
}

static bool is_chain_kind(uint32_t kind)
{
	return kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_VOLATILE || kind == BTF_KIND_CONST ||
	       kind == BTF_KIND_RESTRICT || kind == BTF_KIND_TYPE_TAG || kind == BTF_KIND_VAR ||
	       kind == BTF_KIND_ARRAY || kind == BTF_KIND_PTR;
}

/* Typedef/modifier/array/var chains must end: a cycle would hang libbpf. */
static int check_chain(const struct view *v, uint32_t id, char *why, size_t whylen)
{
	uint32_t cur = id;

	for (int depth = 0; depth < MAX_CHAIN; depth++) {
		struct btf_type t;
		uint32_t kind;

		if (cur == 0)
			return 0;
		t = type_at(v, cur);
		kind = BTF_INFO_KIND(t.info);
		if (!is_chain_kind(kind))
			return 0;
		/* A pointer ends the chain for size resolution; libbpf does not
		 * follow it while skipping modifiers either. */
		if (kind == BTF_KIND_PTR)
			return 0;
		cur = kind == BTF_KIND_ARRAY ? read_u32(v->types + v->offsets[cur] + sizeof(t)) : t.type;
	}
	return fail(why, whylen, "type chain does not end (cycle)", id);
}

int ebpf_btf_check(const void *data, size_t len, char *why, size_t whylen)
{
	const unsigned char *p = data;
	struct btf_header h;
	struct view v = {0};
	uint32_t off;
	int err = 0;

	if (len < sizeof(h))
		return fail(why, whylen, "section shorter than its header", 0);
	memcpy(&h, p, sizeof(h));
	if (h.magic != BTF_MAGIC || h.version != BTF_VERSION)
		return fail(why, whylen, "bad magic or version", 0);
	if (h.hdr_len < sizeof(h) || h.hdr_len > len)
		return fail(why, whylen, "bad header length", 0);
	if ((uint64_t)h.hdr_len + h.type_off + h.type_len > len ||
	    (uint64_t)h.hdr_len + h.str_off + h.str_len > len || h.type_off % 4 || h.type_len % 4)
		return fail(why, whylen, "type or string section out of bounds", 0);
	v.types = p + h.hdr_len + h.type_off;
	v.types_len = h.type_len;
	v.strs = (const char *)p + h.hdr_len + h.str_off;
	v.strs_len = h.str_len;
	if (v.strs_len == 0 || v.strs[0] != '\0' || v.strs[v.strs_len - 1] != '\0')
		return fail(why, whylen, "string section is not NUL-delimited", 0);

	/* Pass 1: record boundaries. */
	v.offsets = malloc(((size_t)h.type_len / sizeof(struct btf_type) + 2) * sizeof(uint32_t));
	if (!v.offsets)
		return -ENOMEM;
	for (off = 0; off < v.types_len;) {
		struct btf_type t;
		int64_t extra;

		if (v.types_len - off < sizeof(t)) {
			err = fail(why, whylen, "truncated type record", v.n + 1);
			goto out;
		}
		memcpy(&t, v.types + off, sizeof(t));
		extra = extra_size(BTF_INFO_KIND(t.info), BTF_INFO_VLEN(t.info));
		if (BTF_INFO_KIND(t.info) == BTF_KIND_UNKN || BTF_INFO_KIND(t.info) > KIND_MAX || extra < 0) {
			err = fail(why, whylen, "unknown kind", v.n + 1);
			goto out;
		}
		if ((uint64_t)sizeof(t) + (uint64_t)extra > v.types_len - off) {
			err = fail(why, whylen, "record runs past the type section", v.n + 1);
			goto out;
		}
		v.offsets[++v.n] = off;
		off += sizeof(t) + (uint32_t)extra;
	}
	/* Pass 2: references. */
	for (uint32_t id = 1; id <= v.n && !err; id++)
		err = check_refs(&v, id, why, whylen);
	for (uint32_t id = 1; id <= v.n && !err; id++)
		err = check_chain(&v, id, why, whylen);
out:
	free(v.offsets);
	return err;
}
