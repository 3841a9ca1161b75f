/* YAML writer: emits what go-yaml v2 would print for the record's JSON. The
 * scalar analysis, style choice, escapes and line folding follow the libyaml
 * emitter that go-yaml ports; see yaml.h for the resulting rules. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "fieldtree.h"
#include "numfmt.h"
#include "utf8.h"
#include "value.h"
#include "yaml.h"

#define BEST_WIDTH  80
#define BEST_INDENT 2

struct ynode {
	const struct sonde_field *field;
	struct sonde_vinfo v;
	bool object;
	uint32_t first_child, nchildren;
	uint32_t key_off, key_len; /* rendered key */
	int key_cols;
};

struct sonde_yaml_plan {
	struct ynode *nodes;
	size_t n;
	char *pool;
	size_t pool_len;
	struct sonde_ftree tree;
	struct sonde_outbuf scratch; /* sanitized strings */
};

/* Emitter state, as in libyaml. */
struct yem {
	struct sonde_outbuf *ob;
	int column;
	int indent;
	bool whitespace; /* last written character was whitespace */
	bool indention;  /* only indentation written on this line so far */
	bool open_ended;
};

/* ---- character classes (input is valid UTF-8) ---- */

static inline int width(unsigned char b)
{
	if ((b & 0x80) == 0)
		return 1;
	if ((b & 0xE0) == 0xC0)
		return 2;
	if ((b & 0xF0) == 0xE0)
		return 3;
	if ((b & 0xF8) == 0xF0)
		return 4;
	return 1;
}

static inline bool is_break(const unsigned char *s, size_t i)
{
	return s[i] == '\r' || s[i] == '\n' || (s[i] == 0xC2 && s[i + 1] == 0x85) ||
	       (s[i] == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9));
}

static inline bool is_blank(const unsigned char *s, size_t i)
{
	return s[i] == ' ' || s[i] == '\t';
}

static inline bool is_blankz(const unsigned char *s, size_t i)
{
	return is_blank(s, i) || is_break(s, i) || s[i] == 0;
}

static inline bool is_printable(const unsigned char *s, size_t i)
{
	unsigned char b = s[i];

	return b == 0x0A || (b >= 0x20 && b <= 0x7E) || (b == 0xC2 && s[i + 1] >= 0xA0) ||
	       (b > 0xC2 && b < 0xED) || (b == 0xED && s[i + 1] < 0xA0) || b == 0xEE ||
	       (b == 0xEF && !(s[i + 1] == 0xBB && s[i + 2] == 0xBF) &&
	        !(s[i + 1] == 0xBF && (s[i + 2] == 0xBE || s[i + 2] == 0xBF)));
}

static inline bool is_bom(const unsigned char *s, size_t i)
{
	return s[i] == 0xEF && s[i + 1] == 0xBB && s[i + 2] == 0xBF;
}

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

/* ---- scalar analysis (libyaml yaml_emitter_analyze_scalar) ---- */

struct analysis {
	bool block_plain_allowed;
	bool single_quoted_allowed;
	bool block_allowed;
	bool multiline;
};

static void analyze(const unsigned char *s, size_t n, struct analysis *a)
{
	bool block_ind = false, special = false, line_breaks = false;
	bool leading_space = false, leading_break = false, trailing_space = false, trailing_break = false;
	bool break_space = false, space_break = false, prev_space = false, prev_break = false;
	bool preceded_ws = true, followed_ws;

	if (n >= 3 && (memcmp(s, "---", 3) == 0 || memcmp(s, "...", 3) == 0))
		block_ind = true;
	for (size_t i = 0; i < n;) {
		int w = width(s[i]);

		followed_ws = i + (size_t)w >= n || is_blank(s, i + (size_t)w);
		if (i == 0) {
			switch (s[i]) {
			case '#':
			case ',':
			case '[':
			case ']':
			case '{':
			case '}':
			case '&':
			case '*':
			case '!':
			case '|':
			case '>':
			case '\'':
			case '"':
			case '%':
			case '@':
			case '`':
				block_ind = true;
				break;
			case '?':
			case ':':
			case '-':
				if (followed_ws)
					block_ind = true;
				break;
			}
		} else if ((s[i] == ':' && followed_ws) || (s[i] == '#' && preceded_ws)) {
			block_ind = true;
		}
		if (!is_printable(s, i))
			special = true;
		if (s[i] == ' ') {
			if (i == 0)
				leading_space = true;
			if (i + (size_t)w == n)
				trailing_space = true;
			if (prev_break)
				break_space = true;
			prev_space = true;
			prev_break = false;
		} else if (is_break(s, i)) {
			line_breaks = true;
			if (i == 0)
				leading_break = true;
			if (i + (size_t)w == n)
				trailing_break = true;
			if (prev_space)
				space_break = true;
			prev_break = true;
			prev_space = false;
		} else {
			prev_space = false;
			prev_break = false;
		}
		preceded_ws = is_blankz(s, i);
		i += (size_t)w;
	}
	a->block_plain_allowed = true;
	a->single_quoted_allowed = true;
	a->block_allowed = true;
	a->multiline = line_breaks;
	if (leading_space || leading_break || trailing_space || trailing_break)
		a->block_plain_allowed = false;
	if (trailing_space)
		a->block_allowed = false;
	if (break_space) {
		a->block_plain_allowed = false;
		a->single_quoted_allowed = false;
	}
	if (space_break || special) {
		a->block_plain_allowed = false;
		a->single_quoted_allowed = false;
		a->block_allowed = false;
	}
	if (line_breaks || block_ind)
		a->block_plain_allowed = false;
}

/* ---- emitter primitives ---- */

static inline void put(struct yem *e, char c)
{
	sonde_outbuf_putc(e->ob, c);
	e->column++;
}

static inline void put_break(struct yem *e)
{
	sonde_outbuf_putc(e->ob, '\n');
	e->column = 0;
}

/* Copies one character. */
static inline void write_ch(struct yem *e, const unsigned char *s, size_t *i)
{
	int w = width(s[*i]);

	sonde_outbuf_write(e->ob, s + *i, (size_t)w);
	*i += (size_t)w;
	e->column++;
}

static void write_break(struct yem *e, const unsigned char *s, size_t *i)
{
	if (s[*i] == '\n') {
		put_break(e);
		(*i)++;
	} else {
		write_ch(e, s, i);
		e->column = 0;
	}
}

static void write_indent(struct yem *e)
{
	int indent = e->indent >= 0 ? e->indent : 0;

	if (!e->indention || e->column > indent || (e->column == indent && !e->whitespace))
		put_break(e);
	while (e->column < indent)
		put(e, ' ');
	e->whitespace = true;
	e->indention = true;
}

static void write_indicator(struct yem *e, const char *ind, bool need_ws, bool is_ws, bool is_indention)
{
	size_t n = strlen(ind);

	if (need_ws && !e->whitespace)
		put(e, ' ');
	sonde_outbuf_write(e->ob, ind, n);
	e->column += (int)n;
	e->whitespace = is_ws;
	e->indention = e->indention && is_indention;
	e->open_ended = false;
}

/* ---- scalar writers ---- */

static void write_plain(struct yem *e, const unsigned char *s, size_t n, bool allow_breaks)
{
	bool spaces = false;

	if (!e->whitespace)
		put(e, ' ');
	for (size_t i = 0; i < n;) {
		if (s[i] == ' ') {
			if (allow_breaks && !spaces && e->column > BEST_WIDTH && i + 1 < n &&
			    s[i + 1] != ' ') {
				write_indent(e);
				i++;
			} else {
				write_ch(e, s, &i);
			}
			spaces = true;
		} else {
			write_ch(e, s, &i);
			e->indention = false;
			spaces = false;
		}
	}
	e->whitespace = false;
	e->indention = false;
}

static void write_single(struct yem *e, const unsigned char *s, size_t n, bool allow_breaks)
{
	bool spaces = false, breaks = false;

	write_indicator(e, "'", true, false, false);
	for (size_t i = 0; i < n;) {
		if (s[i] == ' ') {
			if (allow_breaks && !spaces && e->column > BEST_WIDTH && i > 0 && i + 1 < n &&
			    s[i + 1] != ' ') {
				write_indent(e);
				i++;
			} else {
				write_ch(e, s, &i);
			}
			spaces = true;
		} else if (is_break(s, i)) {
			if (!breaks && s[i] == '\n')
				put_break(e);
			write_break(e, s, &i);
			e->indention = true;
			breaks = true;
		} else {
			if (breaks)
				write_indent(e);
			if (s[i] == '\'')
				put(e, '\'');
			write_ch(e, s, &i);
			e->indention = false;
			spaces = false;
			breaks = false;
		}
	}
	write_indicator(e, "'", false, false, false);
	e->whitespace = false;
	e->indention = false;
}

static void write_double(struct yem *e, const unsigned char *s, size_t n, bool allow_breaks)
{
	static const char hex[] = "0123456789ABCDEF";
	bool spaces = false;

	write_indicator(e, "\"", true, false, false);
	for (size_t i = 0; i < n;) {
		if (!is_printable(s, i) || is_bom(s, i) || is_break(s, i) || s[i] == '"' || s[i] == '\\') {
			int size, w;
			int32_t v = sonde_utf8_decode(s + i, n - i, &size);
			char c = 0;

			if (v < 0)
				v = s[i];
			i += (size_t)size;
			put(e, '\\');
			switch (v) {
			case 0x00:
				c = '0';
				break;
			case 0x07:
				c = 'a';
				break;
			case 0x08:
				c = 'b';
				break;
			case 0x09:
				c = 't';
				break;
			case 0x0A:
				c = 'n';
				break;
			case 0x0B:
				c = 'v';
				break;
			case 0x0C:
				c = 'f';
				break;
			case 0x0D:
				c = 'r';
				break;
			case 0x1B:
				c = 'e';
				break;
			case 0x22:
				c = '"';
				break;
			case 0x5C:
				c = '\\';
				break;
			case 0x85:
				c = 'N';
				break;
			case 0xA0:
				c = '_';
				break;
			case 0x2028:
				c = 'L';
				break;
			case 0x2029:
				c = 'P';
				break;
			}
			if (c) {
				put(e, c);
			} else {
				put(e, v <= 0xFF ? 'x' : v <= 0xFFFF ? 'u' : 'U');
				w = v <= 0xFF ? 2 : v <= 0xFFFF ? 4 : 8;
				for (int k = (w - 1) * 4; k >= 0; k -= 4)
					put(e, hex[(v >> k) & 0xF]);
			}
			spaces = false;
		} else if (s[i] == ' ') {
			if (allow_breaks && !spaces && e->column > BEST_WIDTH && i > 0 && i + 1 < n) {
				write_indent(e);
				if (s[i + 1] == ' ')
					put(e, '\\');
				i++;
			} else {
				write_ch(e, s, &i);
			}
			spaces = true;
		} else {
			write_ch(e, s, &i);
			spaces = false;
		}
	}
	write_indicator(e, "\"", false, false, false);
	e->whitespace = false;
	e->indention = false;
}

static void write_literal(struct yem *e, const unsigned char *s, size_t n)
{
	bool breaks = true;
	size_t last;

	write_indicator(e, "|", true, false, false);
	if (s[0] == ' ' || is_break(s, 0))
		write_indicator(e, "2", false, false, false);
	/* chomping: '-' without a final break, '+' to keep several */
	last = n - 1;
	while (last > 0 && (s[last] & 0xC0) == 0x80)
		last--;
	if (!is_break(s, last)) {
		write_indicator(e, "-", false, false, false);
	} else {
		bool keep = last == 0;

		if (!keep) {
			size_t prev = last - 1;

			while (prev > 0 && (s[prev] & 0xC0) == 0x80)
				prev--;
			keep = is_break(s, prev);
		}
		if (keep) {
			write_indicator(e, "+", false, false, false);
			e->open_ended = true;
		}
	}
	put_break(e);
	e->indention = true;
	e->whitespace = true;
	for (size_t i = 0; i < n;) {
		if (is_break(s, i)) {
			write_break(e, s, &i);
			e->indention = true;
			breaks = true;
		} else {
			if (breaks) {
				write_indent(e);
				breaks = false;
			}
			write_ch(e, s, &i);
			e->indention = false;
		}
	}
}

enum style { PLAIN, SINGLE, DOUBLE, LITERAL };

/* Bytes with invalid UTF-8 replaced by U+FFFD (as the JSON text has them). */
static const unsigned char *sanitize(struct sonde_outbuf *scratch, const char *s, size_t *n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, len = *n;

	while (i < len) {
		int size;

		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if (sonde_utf8_decode(u + i, len - i, &size) == SONDE_UTF8_ERROR)
			break;
		i += (size_t)size;
	}
	if (i == len)
		return u;
	sonde_outbuf_reset(scratch);
	sonde_outbuf_write(scratch, s, i);
	while (i < len) {
		int size = 1;

		if (u[i] >= 0x80 && sonde_utf8_decode(u + i, len - i, &size) == SONDE_UTF8_ERROR)
			sonde_outbuf_write(scratch, "\xEF\xBF\xBD", 3);
		else
			sonde_outbuf_write(scratch, s + i, (size_t)size);
		i += (size_t)size;
	}
	sonde_outbuf_putc(scratch, 0); /* lookahead guard, not part of the text */
	if (sonde_outbuf_error(scratch)) {
		*n = 0;
		return (const unsigned char *)"";
	}
	*n = scratch->len - 1;
	return (const unsigned char *)scratch->data;
}

/* A string scalar as go-yaml v2 encodes it; `key`: in simple-key context. */
static void write_string(struct sonde_outbuf *scratch, struct yem *e, const char *str, size_t n, bool key)
{
	const unsigned char *s = sanitize(scratch, str, &n);
	struct analysis a;
	enum style style;

	if (n == 0) {
		write_double(e, s, 0, false);
		return;
	}
	if (memchr(s, '\n', n))
		style = LITERAL;
	else if (resolves_non_string((const char *)s, n) || is_base60_float((const char *)s, n))
		style = DOUBLE;
	else
		style = PLAIN;
	analyze(s, n, &a);
	if (style == PLAIN && !a.block_plain_allowed)
		style = SINGLE;
	if (style == SINGLE && !a.single_quoted_allowed)
		style = DOUBLE;
	if (style == LITERAL && (!a.block_allowed || key))
		style = DOUBLE;
	/* A simple key must fit on one line, and a single-quoted scalar writes
	 * its line breaks (U+2028, U+2029) as they are: escape them. go-yaml
	 * would write a complex "? " key instead; a field name with a line break
	 * only comes from a hostile gadget, where a readable key is enough. */
	if (key && a.multiline)
		style = DOUBLE;
	switch (style) {
	case PLAIN:
		write_plain(e, s, n, !key);
		break;
	case SINGLE:
		write_single(e, s, n, !key);
		break;
	case DOUBLE:
		write_double(e, s, n, !key);
		break;
	case LITERAL:
		write_literal(e, s, n);
		break;
	}
}

/* A plain scalar known not to need quoting (numbers, bools, null). */
static void write_token(struct yem *e, const char *s, size_t n)
{
	if (!e->whitespace)
		put(e, ' ');
	sonde_outbuf_write(e->ob, s, n);
	e->column += (int)n;
	e->whitespace = false;
	e->indention = false;
}

/* ---- plan ---- */

struct sonde_yaml_plan *sonde_yaml_plan_new(const struct sonde_ds *ds)
{
	struct sonde_yaml_plan *p = calloc(1, sizeof(*p));
	struct sonde_outbuf keys;

	if (!p)
		goto nomem;
	if (sonde_outbuf_init(&p->scratch, -1, 256))
		goto nomem;
	if (sonde_ftree_build(&p->tree, ds, SONDE_FTREE_YAML))
		goto fail;
	p->n = p->tree.n;
	p->nodes = calloc(p->n, sizeof(*p->nodes));
	if (!p->nodes || sonde_outbuf_init(&keys, -1, 256))
		goto nomem;
	for (size_t i = 0; i < p->n; i++) {
		const struct sonde_ftree_node *tn = &p->tree.nodes[i];
		struct ynode *yn = &p->nodes[i];
		struct yem e = {.ob = &keys, .whitespace = true, .indention = true};

		yn->field = tn->field;
		yn->object = i == 0 || tn->object;
		yn->first_child = tn->first_child;
		yn->nchildren = tn->nchildren;
		if (i == 0)
			continue;
		yn->v = sonde_vinfo_of(sonde_field_kind(tn->field));
		yn->key_off = (uint32_t)keys.len;
		write_string(&p->scratch, &e, tn->name, strlen(tn->name), true);
		yn->key_len = (uint32_t)(keys.len - yn->key_off);
		yn->key_cols = e.column;
	}
	if (sonde_outbuf_error(&keys)) {
		sonde_outbuf_fini(&keys);
		goto nomem;
	}
	p->pool = keys.data; /* keep the rendered keys */
	p->pool_len = keys.len;
	return p;
nomem:
	sonde_err("output: out of memory building the YAML plan of %s", sonde_ds_name(ds));
fail:
	sonde_yaml_plan_free(p);
	return NULL;
}

void sonde_yaml_plan_free(struct sonde_yaml_plan *plan)
{
	if (!plan)
		return;
	sonde_ftree_destroy(&plan->tree);
	sonde_outbuf_fini(&plan->scratch);
	free(plan->nodes);
	free(plan->pool);
	free(plan);
}

void sonde_yaml_plan_request(const struct sonde_yaml_plan *plan)
{
	sonde_ftree_request(&plan->tree);
}

/* ---- records ---- */

static void write_number(struct yem *e, uint8_t type, const void *p, uint32_t len, uint8_t size)
{
	char buf[SONDE_NUMBUF];
	size_t n;

	switch (type) {
	case SONDE_V_INT:
		n = sonde_fmt_i64(buf, sonde_v_int(p, len, size));
		break;
	case SONDE_V_UINT:
		n = sonde_fmt_u64(buf, sonde_v_uint(p, len, size));
		break;
	default: {
		int bits = type == SONDE_V_F32 ? 32 : 64;
		double v = sonde_v_float(p, len, bits / 8);
		struct sonde_float_digits d;
		double a = fabs(v);

		if (!isfinite(v)) {
			write_token(e, "null", 4);
			return;
		}
		sonde_float_shortest(v, bits, &d);
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
			n = sonde_fmt_float_g(buf, v, bits);
		}
	}
	}
	write_token(e, buf, n);
}

static void write_mapping(struct sonde_yaml_plan *p, struct yem *e, const struct ynode *node,
                          const struct sonde_record *rec, int indent);

static void write_value(struct sonde_yaml_plan *p, struct yem *e, const struct ynode *node,
                        const struct sonde_record *rec, int indent)
{
	const void *val;
	uint32_t len = 0;

	if (node->object) {
		if (node->nchildren == 0)
			write_indicator(e, "{}", true, false, false);
		else
			write_mapping(p, e, node, rec, indent + BEST_INDENT);
		return;
	}
	val = sonde_field_get(node->field, rec, &len);
	e->indent = indent + BEST_INDENT;
	switch (node->v.type) {
	case SONDE_V_BOOL:
		if (sonde_v_bool(val, len))
			write_token(e, "true", 4);
		else
			write_token(e, "false", 5);
		break;
	case SONDE_V_INT:
	case SONDE_V_UINT:
	case SONDE_V_F32:
	case SONDE_V_F64:
		write_number(e, node->v.type, val, len, node->v.size);
		break;
	case SONDE_V_STRING: {
		uint32_t slen;
		const char *s = sonde_v_string(val, len, node->v.cstring, &slen);

		write_string(&p->scratch, e, s, slen, false);
		break;
	}
	case SONDE_V_NUMARRAY: {
		uint32_t count = val ? len / node->v.size : 0;

		if (count == 0) {
			write_indicator(e, "[]", true, false, false);
			break;
		}
		for (uint32_t i = 0; i < count; i++) {
			/* sequences in a mapping are not indented */
			e->indent = indent;
			write_indent(e);
			write_indicator(e, "-", true, false, true);
			e->indent = indent + BEST_INDENT;
			write_number(e, node->v.elem, (const char *)val + (size_t)i * node->v.size,
			             node->v.size, node->v.size);
		}
		break;
	}
	default: {
		/* hex text of the bytes, as in JSON */
		static const char hx[] = "0123456789abcdef";
		const unsigned char *b = val;
		struct sonde_outbuf *sc = &p->scratch;
		char *d;

		sonde_outbuf_reset(sc);
		d = b ? sonde_outbuf_reserve(sc, 2 * (size_t)len) : NULL;
		if (!d) {
			write_string(sc, e, "", 0, false);
			break;
		}
		for (uint32_t i = 0; i < len; i++) {
			d[2 * i] = hx[b[i] >> 4];
			d[2 * i + 1] = hx[b[i] & 0xF];
		}
		/* hex digits are always valid UTF-8: sanitize() will not touch the scratch */
		write_string(sc, e, d, 2 * (size_t)len, false);
		break;
	}
	}
}

static void write_mapping(struct sonde_yaml_plan *p, struct yem *e, const struct ynode *node,
                          const struct sonde_record *rec, int indent)
{
	for (uint32_t i = 0; i < node->nchildren; i++) {
		const struct ynode *c = &p->nodes[node->first_child + i];

		e->indent = indent;
		write_indent(e);
		sonde_outbuf_write(e->ob, p->pool + c->key_off, c->key_len);
		e->column += c->key_cols;
		e->whitespace = false;
		e->indention = false;
		write_indicator(e, ":", false, false, false);
		write_value(p, e, c, rec, indent);
	}
}

void sonde_yaml_write_record(struct sonde_yaml_plan *plan, struct sonde_outbuf *ob,
                             const struct sonde_record *rec)
{
	struct yem e = {.ob = ob, .indent = -1, .whitespace = true, .indention = true};
	const struct ynode *root = &plan->nodes[0];

	sonde_outbuf_write(ob, "---\n", 4);
	if (root->nchildren == 0) {
		sonde_outbuf_write(ob, "{}\n", 3);
		return;
	}
	write_mapping(plan, &e, root, rec, 0);
	e.indent = -1;
	write_indent(&e);
	if (e.open_ended) {
		write_indicator(&e, "...", true, false, false);
		write_indent(&e);
	}
}
