/* YAML writer: builds the record as libyaml events and lets libyaml's
 * emitter (the one go-yaml v2 ports) write it. What is ours is what go-yaml's
 * encoder decides before the emitter: which style a string asks for (a
 * string that would read back as a number, bool, null or timestamp is
 * double-quoted; one with a newline asks for a literal block), how numbers
 * are spelled, and invalid UTF-8 replaced as in the JSON text.
 * libyaml costs about 3x the former hand port per record (7 us instead of
 * 2.4 for 20 fields, mostly its event copies and queue): YAML is read by
 * people, JSON is the format for rate. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <sonde/log.h>

#include "fieldtree.h"
#include "numfmt.h"
#include "utf8.h"
#include "value.h"
#include "yaml.h"

struct ynode {
	const struct sonde_field *field;
	struct vinfo v;
	bool object;
	uint32_t first_child, nchildren;
	char *key; /* valid UTF-8 */
	size_t key_len;
};

struct yaml_plan {
	struct ynode *nodes;
	size_t n;
	struct ftree tree;
	struct sonde_outbuf scratch; /* sanitized strings, hex text */
	yaml_emitter_t em;
	bool em_ready;           /* initialised and the stream started */
	bool reported;           /* an emitter error was logged */
	struct sonde_outbuf *ob; /* where the record being written goes */
	const char *ds_name;
};

/* ---- would a plain scalar read back as something other than a string? ---- */

/* ---- would a plain scalar read back as something other than a string? ---- */

static bool is_d(char c)
{
	return c >= '0' && c <= '9';
}

static size_t digits(const char *s, size_t i, size_t n)
{
	size_t j = i;

	while (j < n && is_d(s[j]))
		j++;
	return j - i;
}

/* go-yaml resolve table: bools, null, .inf/.nan */
static bool in_resolve_map(const char *s, size_t n)
{
	static const char *const words[] = {
	    "y",    "Y",    "yes",   "Yes",   "YES",   "true",  "True",  "TRUE",  "on",    "On",
	    "ON",   "n",    "N",     "no",    "No",    "NO",    "false", "False", "FALSE", "off",
	    "Off",  "OFF",  "~",     "null",  "Null",  "NULL",  ".nan",  ".NaN",  ".NAN",  ".inf",
	    ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", NULL};

	if (n > 5) /* longest word */
		return false;
	for (size_t i = 0; words[i]; i++)
		if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0)
			return true;
	return false;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool yaml_style_float(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i < n && s[i] == '.') {
		d = digits(s, i + 1, n);
		if (!d)
			return false;
		i += 1 + d;
	} else {
		d = digits(s, i, n);
		if (!d)
			return false;
		i += d;
		if (i < n && s[i] == '.')
			i += 1 + digits(s, i + 1, n);
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		d = digits(s, i, n);
		if (!d)
			return false;
		i += d;
	}
	return i == n;
}

/* Go strconv.ParseInt/ParseUint with base 0 (syntax only; overflow ignored). */
static bool go_int_syntax(const char *s, size_t n)
{
	size_t i = 0;
	const char *set;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i >= n)
		return false;
	if (s[i] == '0' && i + 1 < n && strchr("xXbBoO", s[i + 1])) {
		char b = (char)(s[i + 1] | 0x20);

		set = b == 'x' ? "0123456789abcdefABCDEF" : b == 'b' ? "01" : "01234567";
		i += 2;
		if (i >= n)
			return false;
	} else {
		set = s[i] == '0' ? "01234567" : "0123456789";
	}
	for (; i < n; i++)
		if (!strchr(set, s[i]) || !s[i])
			return false;
	return true;
}

static bool num_in(const char *s, size_t *i, size_t n, size_t maxd, int lo, int hi)
{
	size_t d = digits(s, *i, n);
	int v = 0;

	if (d == 0 || d > maxd)
		return false;
	for (size_t k = 0; k < d; k++)
		v = v * 10 + (s[*i + k] - '0');
	*i += d;
	return v >= lo && v <= hi;
}

/* Layouts go-yaml tries: 2006-1-2T15:4:5.999999999Z07:00 (also 't'),
 * "2006-1-2 15:4:5.999999999" and 2006-1-2. */
static bool looks_like_timestamp(const char *s, size_t n)
{
	size_t i = 0;
	bool zone;

	if (digits(s, 0, n) != 4 || n < 5 || s[4] != '-')
		return false;
	i = 5;
	if (!num_in(s, &i, n, 2, 1, 12) || i >= n || s[i++] != '-' || !num_in(s, &i, n, 2, 1, 31))
		return false;
	if (i == n)
		return true;
	if (s[i] == 'T' || s[i] == 't')
		zone = true;
	else if (s[i] == ' ')
		zone = false;
	else
		return false;
	i++;
	if (!num_in(s, &i, n, 2, 0, 23) || i >= n || s[i++] != ':' || !num_in(s, &i, n, 2, 0, 59) || i >= n ||
	    s[i++] != ':' || !num_in(s, &i, n, 2, 0, 59))
		return false;
	if (i < n && s[i] == '.') {
		size_t d = digits(s, i + 1, n);

		if (!d)
			return false;
		i += 1 + d;
	}
	if (!zone)
		return i == n;
	if (i < n && s[i] == 'Z')
		return i + 1 == n;
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		i++;
		return digits(s, i, n) == 2 && i + 2 < n && s[i + 2] == ':' && digits(s, i + 3, n) == 2 &&
		       i + 5 == n;
	}
	return false;
}

/* ^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$ */
static bool is_base60_float(const char *s, size_t n)
{
	size_t i = 0;
	int groups = 0;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	if (i >= n || !is_d(s[i]))
		return false;
	while (i < n && (is_d(s[i]) || s[i] == '_'))
		i++;
	while (i < n && s[i] == ':') {
		size_t d = digits(s, i + 1, n);

		if (d == 0 || d > 2 || (d == 2 && s[i + 1] > '5'))
			return false;
		i += 1 + d;
		groups++;
	}
	if (!groups)
		return false;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && (is_d(s[i]) || s[i] == '_'))
			i++;
	}
	return i == n;
}

static bool resolves_non_string(const char *s, size_t n)
{
	char plain[128];
	size_t pn = 0;

	if (n == 0 || in_resolve_map(s, n))
		return true;
	if (s[0] == '.')
		return yaml_style_float(s, n);
	if (!(is_d(s[0]) || s[0] == '-' || s[0] == '+'))
		return false;
	if (looks_like_timestamp(s, n))
		return true;
	if (n >= sizeof(plain))
		return yaml_style_float(s, n) || go_int_syntax(s, n);
	for (size_t i = 0; i < n; i++)
		if (s[i] != '_')
			plain[pn++] = s[i];
	return go_int_syntax(plain, pn) || yaml_style_float(plain, pn);
}

/* ---- strings ---- */

/* Bytes with invalid UTF-8 replaced by U+FFFD (as the JSON text has them;
 * libyaml refuses invalid UTF-8). */
static const char *sanitize(struct sonde_outbuf *scratch, const char *s, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len = *n;

	while (i < len) {
		int size;

		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if (utf8_decode(u + i, len - i, &size) == UTF8_ERROR)
			break;
		i += (size_t)size;
	}
	if (i == len)
		return s;
	outbuf_reset(scratch);
	outbuf_write(scratch, s, i);
	while (i < len) {
		int size = 1;

		if (u[i] >= 0x80 && utf8_decode(u + i, len - i, &size) == UTF8_ERROR)
			outbuf_write(scratch, "\xEF\xBF\xBD", 3);
		else
			outbuf_write(scratch, s + i, (size_t)size);
		i += (size_t)size;
	}
	if (outbuf_error(scratch)) {
		*n = 0;
		return "";
	}
	*n = scratch->len;
	return scratch->data;
}

/* The style go-yaml's encoder asks for; the emitter falls back from plain
 * to single to double quotes, and from literal to double, where the text
 * needs it. */
yaml_scalar_style_t output_yaml_string_style(const char *s, size_t n)
{
	if (n == 0)
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (memchr(s, '\n', n))
		return YAML_LITERAL_SCALAR_STYLE;
	if (resolves_non_string(s, n) || is_base60_float(s, n))
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return YAML_PLAIN_SCALAR_STYLE;
}

/* ---- emitting ---- */

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	struct yaml_plan *p = data;

	outbuf_write(p->ob, buffer, size);
	return 1;
}

/* Hands one event to the emitter; false once it failed (logged once; the
 * emitter starts over with the next record). */
static bool emit(struct yaml_plan *p, yaml_event_t *ev, int made)
{
	if (made && yaml_emitter_emit(&p->em, ev))
		return true;
	if (!made)
		p->em.problem = "out of memory";
	if (!p->reported)
		sonde_err("output: YAML of %s: %s", p->ds_name,
		          p->em.problem ? p->em.problem : "emitter error");
	p->reported = true;
	yaml_emitter_delete(&p->em);
	p->em_ready = false;
	return false;
}

static bool scalar(struct yaml_plan *p, const char *s, size_t n, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	return emit(p, &ev,
	            yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style));
}

static bool string(struct yaml_plan *p, const char *s, size_t n)
{
	s = sanitize(&p->scratch, s, &n);
	return scalar(p, s, n, output_yaml_string_style(s, n));
}

static bool number(struct yaml_plan *p, uint8_t type, const void *val, uint32_t len, uint8_t size)
{
	char buf[NUMBUF];
	size_t n;

	switch (type) {
	case V_INT:
		n = fmt_i64(buf, v_int(val, len, size));
		break;
	case V_UINT:
		n = fmt_u64(buf, v_uint(val, len, size));
		break;
	default: {
		int bits = type == V_F32 ? 32 : 64;
		double v = v_float(val, len, bits / 8);
		struct float_digits d;
		double a = fabs(v);

		if (!isfinite(v))
			return scalar(p, "null", 4, YAML_PLAIN_SCALAR_STYLE);
		float_shortest(v, bits, &d);
		/* JSON printed it without point or exponent: YAML reads an integer */
		if (d.nd == 0) {
			n = 1;
			buf[0] = '0';
		} else if (a >= 1e-6 && a < 1e21 && d.nd <= d.dp) {
			n = 0;
			if (d.neg)
				buf[n++] = '-';
			for (int i = 0; i < d.dp; i++)
				buf[n++] = i < d.nd ? d.d[i] : '0';
		} else {
			n = fmt_float_g(buf, v, bits);
		}
	}
	}
	return scalar(p, buf, n, YAML_PLAIN_SCALAR_STYLE);
}

static bool hex(struct yaml_plan *p, const unsigned char *b, uint32_t len)
{
	static const char hx[] = "0123456789abcdef";
	struct sonde_outbuf *sc = &p->scratch;
	char *d;

	outbuf_reset(sc);
	d = b ? outbuf_reserve(sc, 2 * (size_t)len) : NULL;
	if (!d)
		return string(p, "", 0);
	for (uint32_t i = 0; i < len; i++) {
		d[2 * i] = hx[b[i] >> 4];
		d[2 * i + 1] = hx[b[i] & 0xF];
	}
	/* hex digits are valid UTF-8: no sanitizing, which would reuse the scratch */
	return scalar(p, d, 2 * (size_t)len, YAML_PLAIN_SCALAR_STYLE);
}

static bool mapping(struct yaml_plan *p, const struct ynode *node, const struct sonde_record *rec);

static bool value(struct yaml_plan *p, const struct ynode *node, const struct sonde_record *rec)
{
	yaml_event_t ev;
	const void *val;
	uint32_t len = 0;

	if (node->object)
		return mapping(p, node, rec);
	val = sonde_field_get(node->field, rec, &len);
	switch (node->v.type) {
	case V_BOOL:
		return v_bool(val, len) ? scalar(p, "true", 4, YAML_PLAIN_SCALAR_STYLE)
		                        : scalar(p, "false", 5, YAML_PLAIN_SCALAR_STYLE);
	case V_INT:
	case V_UINT:
	case V_F32:
	case V_F64:
		return number(p, node->v.type, val, len, node->v.size);
	case V_STRING: {
		uint32_t slen;
		const char *s = v_string(val, len, node->v.cstring, &slen);

		return string(p, s, slen);
	}
	case V_NUMARRAY: {
		uint32_t count = val ? len / node->v.size : 0;

		if (!emit(
		        p, &ev,
		        yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE)))
			return false;
		for (uint32_t i = 0; i < count; i++)
			if (!number(p, node->v.elem, (const char *)val + (size_t)i * node->v.size,
			            node->v.size, node->v.size))
				return false;
		return emit(p, &ev, yaml_sequence_end_event_initialize(&ev));
	}
	default: /* hex text of the bytes, as in JSON */
		return hex(p, val, len);
	}
}

static bool mapping(struct yaml_plan *p, const struct ynode *node, const struct sonde_record *rec)
{
	yaml_event_t ev;

	if (!emit(p, &ev, yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE)))
		return false;
	for (uint32_t i = 0; i < node->nchildren; i++) {
		const struct ynode *c = &p->nodes[node->first_child + i];

		if (!scalar(p, c->key, c->key_len, output_yaml_string_style(c->key, c->key_len)) ||
		    !value(p, c, rec))
			return false;
	}
	return emit(p, &ev, yaml_mapping_end_event_initialize(&ev));
}

/* go-yaml's settings: 80 columns, indent 2, UTF-8 written as is. */
static bool start_stream(struct yaml_plan *p)
{
	yaml_event_t ev;

	if (p->em_ready)
		return true;
	if (!yaml_emitter_initialize(&p->em)) {
		sonde_err("output: YAML of %s: out of memory", p->ds_name);
		return false;
	}
	yaml_emitter_set_output(&p->em, write_handler, p);
	yaml_emitter_set_width(&p->em, 80);
	yaml_emitter_set_indent(&p->em, 2);
	yaml_emitter_set_unicode(&p->em, 1);
	p->em_ready = true;
	return emit(p, &ev, yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING));
}

void output_yaml_write_record(struct yaml_plan *plan, struct sonde_outbuf *ob, const struct sonde_record *rec)
{
	yaml_event_t ev;

	plan->ob = ob;
	if (!start_stream(plan))
		return;
	/* explicit: every record starts with `---`, as upstream prints it */
	if (!emit(plan, &ev, yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 0)) ||
	    !mapping(plan, &plan->nodes[0], rec))
		return;
	/* the document end flushes the emitter into ob */
	emit(plan, &ev, yaml_document_end_event_initialize(&ev, 1));
}

/* ---- plan ---- */

struct yaml_plan *yaml_plan_new(const struct sonde_ds *ds)
{
	struct yaml_plan *p = calloc(1, sizeof(*p));

	if (!p)
		goto nomem;
	p->ds_name = sonde_ds_name(ds);
	if (outbuf_init(&p->scratch, -1, 256))
		goto nomem;
	if (ftree_build(&p->tree, ds, FTREE_YAML))
		goto fail;
	p->n = p->tree.n;
	p->nodes = calloc(p->n, sizeof(*p->nodes));
	if (!p->nodes)
		goto nomem;
	for (size_t i = 0; i < p->n; i++) {
		const struct ftree_node *tn = &p->tree.nodes[i];
		struct ynode *yn = &p->nodes[i];
		const char *key;
		size_t n;

		yn->field = tn->field;
		yn->object = i == 0 || tn->object;
		yn->first_child = tn->first_child;
		yn->nchildren = tn->nchildren;
		if (i == 0)
			continue;
		yn->v = vinfo_of(sonde_field_kind(tn->field));
		n = strlen(tn->name);
		key = sanitize(&p->scratch, tn->name, &n);
		yn->key = malloc(n + 1);
		if (!yn->key)
			goto nomem;
		memcpy(yn->key, key, n);
		yn->key[n] = 0;
		yn->key_len = n;
	}
	return p;
nomem:
	sonde_err("output: out of memory building the YAML plan of %s", sonde_ds_name(ds));
fail:
	yaml_plan_free(p);
	return NULL;
}

void yaml_plan_free(struct yaml_plan *plan)
{
	if (!plan)
		return;
	if (plan->em_ready)
		yaml_emitter_delete(&plan->em);
	ftree_destroy(&plan->tree);
	outbuf_fini(&plan->scratch);
	for (size_t i = 0; plan->nodes && i < plan->n; i++)
		free(plan->nodes[i].key);
	free(plan->nodes);
	free(plan);
}

void yaml_plan_request(const struct yaml_plan *plan)
{
	ftree_request(&plan->tree);
}
