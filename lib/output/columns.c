/* Column output: field selection, widths, terminal fitting, cell rendering. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "columns.h"
#include "core/trim.h"
#include "goquote.h"
#include "numfmt.h"
#include "utf8.h"
#include "value.h"

#define DEFAULT_WIDTH     16
#define DEFAULT_PRECISION 2
#define ELLIPSIS          "\xE2\x80\xA6" /* … */

enum ellipsis { ELL_END, ELL_START, ELL_MIDDLE, ELL_NONE };

struct column {
	struct sonde_field *field; /* header and attributes */
	struct sonde_field *value; /* where the value comes from (columns.replace) */
	struct vinfo v;
	char *header;
	size_t header_len, header_runes;
	int width, minwidth, maxwidth;
	int calc; /* width in use */
	bool fixed, right, hex;
	bool last; /* no blanks after the last column's text */
	uint8_t ellipsis;
	int precision;
	bool treat_fixed; /* fitting scratch */
};

struct columns {
	const struct sonde_ds *ds;
	struct column *cols;
	size_t n;
	struct sonde_outbuf cell; /* escaped text of the current cell */
};

/* ---- selection ---- */

static bool can_show(const struct sonde_field *f)
{
	return !(sonde_field_flags(f) &
	         (SONDE_FIELD_EMPTY | SONDE_FIELD_CONTAINER | SONDE_FIELD_UNREFERENCED));
}

static int cmp_order(const void *a, const void *b)
{
	const struct sonde_field *fa = *(struct sonde_field *const *)a, *fb = *(struct sonde_field *const *)b;
	int32_t oa = sonde_field_order(fa), ob = sonde_field_order(fb);

	if (oa != ob)
		return oa < ob ? -1 : 1;
	return sonde_field_index(fa) < sonde_field_index(fb) ? -1 : 1; /* stable */
}

static size_t default_fields(const struct sonde_ds *ds, struct sonde_field **out)
{
	size_t n = 0;

	for (size_t i = 0; i < sonde_ds_nfields(ds); i++) {
		struct sonde_field *f = sonde_ds_field_at(ds, i);

		if (can_show(f) && !(sonde_field_flags(f) & SONDE_FIELD_HIDDEN))
			out[n++] = f;
	}
	qsort(out, n, sizeof(*out), cmp_order);
	return n;
}

static bool list_has(struct sonde_field *const *list, size_t n, const struct sonde_field *f)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == f)
			return true;
	return false;
}

static size_t list_remove(struct sonde_field **list, size_t n, const struct sonde_field *f)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (list[i] != f)
			list[k++] = list[i];
	return k;
}

/* Resolves one name of a selection; logs and returns NULL when it cannot be a column. */
static struct sonde_field *lookup(const struct sonde_ds *ds, const char *name)
{
	struct sonde_field *f = sonde_ds_field(ds, name);

	if (!f) {
		sonde_err("unknown field \"%s\" in data source \"%s\"", name, sonde_ds_name(ds));
		return NULL;
	}
	if (!can_show(f)) {
		sonde_err("field \"%s\" of data source \"%s\" has no value to show as a column", name,
		          sonde_ds_name(ds));
		return NULL;
	}
	return f;
}

/* Applies a selection string to the default list; `out` holds nfields entries. */
static int select_fields(const struct sonde_ds *ds, const char *spec, struct sonde_field **out, size_t *count)
{
	size_t cap = sonde_ds_nfields(ds), n, nexp = 0;
	struct sonde_field **explicit_list = NULL;
	char *copy = NULL, *save = NULL, *tok;
	int err = 0;

	n = default_fields(ds, out);
	if (!spec || !*spec) {
		*count = n;
		return 0;
	}
	copy = strdup(spec);
	explicit_list = calloc(cap ? cap : 1, sizeof(*explicit_list));
	if (!copy || !explicit_list) {
		err = -ENOMEM;
		goto out;
	}
	/* pass 1: explicit names replace the defaults */
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct sonde_field *f;

		tok = trim_blanks(tok);
		if (!*tok || *tok == '+' || *tok == '-')
			continue;
		f = lookup(ds, tok);
		if (!f) {
			err = -EINVAL;
			goto out;
		}
		if (!list_has(explicit_list, nexp, f))
			explicit_list[nexp++] = f;
	}
	if (nexp) {
		memcpy(out, explicit_list, nexp * sizeof(*out));
		n = nexp;
	}
	/* pass 2: additions and removals, in the given order */
	strcpy(copy, spec);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct sonde_field *f;
		char op;

		tok = trim_blanks(tok);
		if (*tok != '+' && *tok != '-')
			continue;
		op = *tok++;
		tok = trim_blanks(tok);
		if (!*tok) {
			sonde_err("empty field name after '%c' in the field list of data source \"%s\"", op,
			          sonde_ds_name(ds));
			err = -EINVAL;
			goto out;
		}
		f = lookup(ds, tok);
		if (!f) {
			err = -EINVAL;
			goto out;
		}
		if (op == '+' && !list_has(out, n, f) && n < cap)
			out[n++] = f;
		else if (op == '-')
			n = list_remove(out, n, f);
	}
	*count = n;
out:
	if (err == -ENOMEM)
		sonde_err("output: out of memory selecting the columns of %s", sonde_ds_name(ds));
	free(copy);
	free(explicit_list);
	return err;
}

/* ---- attributes ---- */

static int type_width(enum sonde_kind kind)
{
	switch (kind) {
	case SONDE_KIND_INT8:
		return 4;
	case SONDE_KIND_UINT8:
		return 3;
	case SONDE_KIND_INT16:
		return 6;
	case SONDE_KIND_UINT16:
		return 5;
	case SONDE_KIND_INT32:
		return 11;
	case SONDE_KIND_UINT32:
		return 10;
	case SONDE_KIND_INT64:
	case SONDE_KIND_UINT64:
		return 20;
	case SONDE_KIND_BOOL:
		return 5;
	default:
		return 0;
	}
}

/* Annotation value with a camelCase fallback (upstream used columns.minWidth). */
static const char *annotation2(const struct sonde_field *f, const char *key, const char *alt)
{
	const char *v = sonde_field_annotation(f, key);

	return v || !alt ? v : sonde_field_annotation(f, alt);
}

static bool parse_nonneg(const char *s, int *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return false;
	v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 100000)
		return false;
	*out = (int)v;
	return true;
}

/* Width-like annotation: integer or `type`. */
static int width_attr(const struct sonde_field *f, const char *key, const char *alt, int def)
{
	const char *v = annotation2(f, key, alt);
	int w;

	if (!v)
		return def;
	if (strcmp(v, "type") == 0) {
		w = type_width(sonde_field_kind(f));
		if (w)
			return w;
	} else if (parse_nonneg(v, &w)) {
		return w;
	}
	sonde_warn("field \"%s\": invalid %s \"%s\", using %d", sonde_field_full_name(f), key, v, def);
	return def;
}

/* Names and columns.alias come from the gadget (BTF, gadget.yaml: untrusted
 * when pulled): a control byte, a line break or invalid UTF-8 in a header
 * would break the table or reach the terminal as an escape sequence. Such a
 * header is escaped like a cell; any other, quotes included, stays as is. */
static int header_escape(struct columns *c, struct column *col)
{
	const unsigned char *h = (const unsigned char *)col->header;
	bool escape = false;
	char *copy;
	size_t runes;

	for (size_t i = 0; i < col->header_len && !escape;) {
		int size;
		int32_t r = utf8_decode(h + i, col->header_len - i, &size);

		escape = r == UTF8_ERROR || !go_isprint((uint32_t)r);
		i += (size_t)size;
	}
	if (!escape)
		return 0;
	outbuf_reset(&c->cell);
	runes = goquote(&c->cell, col->header, col->header_len);
	copy = outbuf_error(&c->cell) ? NULL : strndup(c->cell.data, c->cell.len);
	if (!copy)
		return -ENOMEM;
	free(col->header);
	col->header = copy;
	col->header_len = c->cell.len;
	col->header_runes = runes;
	return 0;
}

/* The header is the text in upper case (escaped if not printable). */
static int set_header(struct columns *c, struct column *col, const char *text)
{
	free(col->header);
	col->header = strdup(text);
	if (!col->header)
		return -ENOMEM;
	col->header_len = strlen(col->header);
	for (size_t i = 0; i < col->header_len; i++)
		if (col->header[i] >= 'a' && col->header[i] <= 'z')
			col->header[i] = (char)(col->header[i] - 'a' + 'A');
	col->header_runes = utf8_count(col->header, col->header_len);
	return header_escape(c, col);
}

static int init_column(struct columns *c, struct column *col, struct sonde_field *f)
{
	const char *v, *alias;

	col->field = f;
	col->value = f;
	v = sonde_field_annotation(f, "columns.replace");
	if (v) {
		struct sonde_field *r = sonde_ds_field(c->ds, v);

		if (r && can_show(r))
			col->value = r;
		else
			sonde_warn("field \"%s\": columns.replace names unknown field \"%s\"",
			           sonde_field_full_name(f), v);
	}
	col->v = vinfo_of(sonde_field_kind(col->value));

	col->width = type_width(sonde_field_kind(f));
	if (!col->width || sonde_field_kind(f) == SONDE_KIND_BOOL)
		col->width = DEFAULT_WIDTH;
	col->width = width_attr(f, "columns.width", NULL, col->width);
	col->minwidth = width_attr(f, "columns.minwidth", "columns.minWidth", 0);
	col->maxwidth = width_attr(f, "columns.maxwidth", "columns.maxWidth", 0);
	if (col->maxwidth && col->width > col->maxwidth)
		col->width = col->maxwidth;
	if (col->width < col->minwidth)
		col->width = col->minwidth;
	col->calc = col->width;

	v = sonde_field_annotation(f, "columns.fixed");
	col->fixed = v && strcmp(v, "true") == 0;
	v = sonde_field_annotation(f, "columns.hex");
	col->hex = v && strcmp(v, "true") == 0;
	v = sonde_field_annotation(f, "columns.alignment");
	if (v && strcmp(v, "right") == 0)
		col->right = true;
	else if (v && strcmp(v, "left") != 0)
		sonde_warn("field \"%s\": invalid columns.alignment \"%s\", using left",
		           sonde_field_full_name(f), v);
	col->ellipsis = ELL_END;
	v = sonde_field_annotation(f, "columns.ellipsis");
	if (v) {
		if (strcmp(v, "start") == 0)
			col->ellipsis = ELL_START;
		else if (strcmp(v, "middle") == 0)
			col->ellipsis = ELL_MIDDLE;
		else if (strcmp(v, "none") == 0)
			col->ellipsis = ELL_NONE;
		else if (strcmp(v, "end") != 0 && *v)
			sonde_warn("field \"%s\": invalid columns.ellipsis \"%s\", using end",
			           sonde_field_full_name(f), v);
	}
	col->precision = DEFAULT_PRECISION;
	v = sonde_field_annotation(f, "columns.precision");
	if (v && (!parse_nonneg(v, &col->precision) || col->precision > FIXED_MAX_PREC)) {
		sonde_warn("field \"%s\": invalid columns.precision \"%s\", using %d",
		           sonde_field_full_name(f), v, DEFAULT_PRECISION);
		col->precision = DEFAULT_PRECISION;
	}

	alias = sonde_field_annotation(f, "columns.alias");
	if (!alias || !*alias)
		alias = sonde_field_full_name(f);
	return set_header(c, col, alias);
}

/* Two columns with one header (proc.creds.user and user both say USER)
 * are told apart by their full names. */
static int distinct_headers(struct columns *c)
{
	bool *dup = calloc(c->n ? c->n : 1, sizeof(*dup));
	int err = 0;

	if (!dup)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = i + 1; j < c->n; j++)
			if (!strcmp(c->cols[i].header, c->cols[j].header))
				dup[i] = dup[j] = true;
	for (size_t i = 0; i < c->n && !err; i++)
		if (dup[i])
			err = set_header(c, &c->cols[i], sonde_field_full_name(c->cols[i].field));
	free(dup);
	return err;
}

int columns_new(const struct sonde_ds *ds, const char *fields, struct columns **out)
{
	struct columns *c;
	struct sonde_field **sel;
	size_t n = 0;
	int err;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	sel = calloc(sonde_ds_nfields(ds) + 1, sizeof(*sel));
	if (!c || !sel || outbuf_init(&c->cell, -1, 256)) {
		err = -ENOMEM;
		goto fail;
	}
	c->ds = ds;
	err = select_fields(ds, fields, sel, &n);
	if (err)
		goto fail;
	if (!n && fields && *fields) {
		sonde_err("output: --fields \"%s\" leaves no column of data source %s to show", fields,
		          sonde_ds_name(ds));
		err = -EINVAL;
		goto fail;
	}
	c->cols = calloc(n ? n : 1, sizeof(*c->cols));
	if (!c->cols) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		err = init_column(c, &c->cols[i], sel[i]);
		c->n = i + 1;
		if (err)
			goto fail;
	}
	err = distinct_headers(c);
	if (err)
		goto fail;
	if (n)
		c->cols[n - 1].last = true;
	free(sel);
	*out = c;
	return 0;
fail:
	if (err == -ENOMEM)
		sonde_err("output: out of memory building the columns of %s", sonde_ds_name(ds));
	free(sel);
	columns_free(c);
	return err;
}

void columns_free(struct columns *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		free(c->cols[i].header);
	free(c->cols);
	outbuf_fini(&c->cell);
	free(c);
}

size_t columns_count(const struct columns *c)
{
	return c->n;
}

struct sonde_field *columns_field(const struct columns *c, size_t i)
{
	return i < c->n ? c->cols[i].field : NULL;
}

int columns_width(const struct columns *c, size_t i)
{
	return i < c->n ? c->cols[i].calc : 0;
}

void columns_request(const struct columns *c)
{
	for (size_t i = 0; i < c->n; i++)
		sonde_field_set_requested(c->cols[i].value, true);
}

/* ---- terminal fitting ----
 * Columns share the space left by fixed columns and separators in proportion
 * to their configured widths; a column pushed past its max (or below its min)
 * is pinned there and the rest is shared again. Leftover characters go one by
 * one to the unpinned columns from the left. */
void columns_fit(struct columns *c, int term_width)
{
	int dividers, required, total_fixed, total_free, max = term_width, leftover, adjusted = 0;

	if (term_width <= 0 || c->n == 0) {
		for (size_t i = 0; i < c->n; i++)
			c->cols[i].calc = c->cols[i].width;
		return;
	}
	dividers = (int)c->n - 1;
	required = total_fixed = dividers;
	total_free = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct column *col = &c->cols[i];

		col->treat_fixed = false;
		if (col->fixed) {
			required += col->width;
			total_fixed += col->width;
			continue;
		}
		total_free += col->width;
		required += col->minwidth > 0 ? col->minwidth : 1;
	}
	if (required > max)
		max = required;
	for (;;) {
		bool satisfied = true;
		int add_fixed = 0, remove_free = 0;

		adjusted = 0;
		for (size_t i = 0; i < c->n; i++) {
			struct column *col = &c->cols[i];

			if (col->fixed || col->treat_fixed) {
				if (col->fixed)
					col->calc = col->width;
				continue;
			}
			col->calc =
			    total_free > 0
			        ? (int)floor((double)col->width / total_free * (double)(max - total_fixed))
			        : 0;
			if (col->calc < 0)
				col->calc = 0;
			if ((col->maxwidth > 0 && col->calc > col->maxwidth) ||
			    (col->minwidth > 0 && col->calc < col->minwidth)) {
				col->calc = col->maxwidth > 0 && col->calc > col->maxwidth ? col->maxwidth
				                                                           : col->minwidth;
				col->treat_fixed = true;
				satisfied = false;
				add_fixed += col->calc;
				remove_free += col->width;
				continue;
			}
			adjusted += col->calc;
		}
		if (satisfied)
			break;
		total_fixed += add_fixed;
		total_free -= remove_free;
	}
	leftover = max - (adjusted + total_fixed);
	while (leftover > 0) {
		bool spent = false;

		for (size_t i = 0; i < c->n && leftover > 0; i++) {
			struct column *col = &c->cols[i];

			if (col->fixed || col->treat_fixed)
				continue;
			col->calc++;
			leftover--;
			spent = true;
		}
		if (!spent)
			break;
	}
}

/* ---- cells ---- */

/* Byte offset of code point k (k <= runes) counted from the start. */
static size_t offset_of(const char *s, size_t len, size_t k)
{
	size_t i = 0;

	while (k > 0 && i < len) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
			i++;
		k--;
	}
	return i;
}

/* Writes text cut or padded to exactly `width` code points. */
static void put_cell(struct sonde_outbuf *ob, const char *s, size_t len, size_t runes, int width,
                     uint8_t ellipsis, bool right, bool last)
{
	size_t w = width > 0 ? (size_t)width : 0, off;

	if (w == 0)
		return;
	if (runes <= w) {
		if (right)
			outbuf_fill(ob, ' ', w - runes);
		outbuf_write(ob, s, len);
		if (!right && !last)
			outbuf_fill(ob, ' ', w - runes);
		return;
	}
	if (w == 1 && ellipsis != ELL_NONE) {
		outbuf_write(ob, ELLIPSIS, 3);
		return;
	}
	switch (ellipsis) {
	case ELL_NONE:
		outbuf_write(ob, s, offset_of(s, len, w));
		break;
	case ELL_START:
		off = offset_of(s, len, runes - (w - 1));
		outbuf_write(ob, ELLIPSIS, 3);
		outbuf_write(ob, s + off, len - off);
		break;
	case ELL_MIDDLE: {
		size_t head = w / 2, tail = w % 2 ? head : head - 1;

		outbuf_write(ob, s, offset_of(s, len, head));
		outbuf_write(ob, ELLIPSIS, 3);
		off = offset_of(s, len, runes - tail);
		outbuf_write(ob, s + off, len - off);
		break;
	}
	default:
		outbuf_write(ob, s, offset_of(s, len, w - 1));
		outbuf_write(ob, ELLIPSIS, 3);
		break;
	}
}

/* Ends a line without the blanks an empty last cell leaves behind the cell
 * before it, when the whole line is still in the buffer. */
static void end_line(struct sonde_outbuf *ob, size_t start, unsigned long flushes)
{
	if (ob->flushes == flushes && !ob->err)
		while (ob->len > start && ob->data[ob->len - 1] == ' ')
			ob->len--;
	outbuf_putc(ob, '\n');
}

void columns_write_header(struct columns *c, struct sonde_outbuf *ob)
{
	size_t start = ob->len;
	unsigned long flushes = ob->flushes;

	for (size_t i = 0; i < c->n; i++) {
		const struct column *col = &c->cols[i];

		if (i)
			outbuf_putc(ob, ' ');
		put_cell(ob, col->header, col->header_len, col->header_runes, col->calc, ELL_END, col->right,
		         col->last);
	}
	end_line(ob, start, flushes);
}

static void write_column(struct columns *c, struct sonde_outbuf *ob, const struct column *col,
                         const struct sonde_record *rec)
{
	char buf[FIXEDBUF];
	const void *val;
	uint32_t len = 0;
	size_t n;

	val = sonde_field_get(col->value, rec, &len);
	switch (col->v.type) {
	case V_BOOL:
		if (v_bool(val, len))
			put_cell(ob, "true", 4, 4, col->calc, col->ellipsis, col->right, col->last);
		else
			put_cell(ob, "false", 5, 5, col->calc, col->ellipsis, col->right, col->last);
		return;
	case V_INT: {
		int64_t x = v_int(val, len, col->v.size);

		if (col->hex) {
			/* Go: "0x" + FormatInt(x, 16), so negatives read 0x-1F */
			n = 0;
			buf[n++] = '0';
			buf[n++] = 'x';
			if (x < 0)
				buf[n++] = '-';
			n += fmt_hex_upper(buf + n, x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x);
		} else {
			n = fmt_i64(buf, x);
		}
		break;
	}
	case V_UINT: {
		uint64_t x = v_uint(val, len, col->v.size);

		if (col->hex) {
			buf[0] = '0';
			buf[1] = 'x';
			n = 2 + fmt_hex_upper(buf + 2, x);
		} else {
			n = fmt_u64(buf, x);
		}
		break;
	}
	case V_F32:
	case V_F64:
		n = fmt_float_fixed(buf, v_float(val, len, col->v.size), col->precision);
		break;
	case V_STRING: {
		uint32_t slen;
		const char *s = v_string(val, len, col->v.cstring, &slen);
		size_t runes;

		if (goquote_is_plain(s, slen)) {
			put_cell(ob, s, slen, slen, col->calc, col->ellipsis, col->right, col->last);
			return;
		}
		outbuf_reset(&c->cell);
		runes = goquote(&c->cell, s, slen);
		if (outbuf_error(&c->cell))
			runes = c->cell.len = 0;
		put_cell(ob, c->cell.data, c->cell.len, runes, col->calc, col->ellipsis, col->right,
		         col->last);
		return;
	}
	default:
		n = 0;
		buf[n++] = '<';
		n += fmt_u64(buf + n, val ? len : 0);
		memcpy(buf + n, " bytes>", 7);
		n += 7;
		break;
	}
	put_cell(ob, buf, n, n, col->calc, col->ellipsis, col->right, col->last);
}

void columns_write_row(struct columns *c, struct sonde_outbuf *ob, const struct sonde_record *rec)
{
	size_t start = ob->len;
	unsigned long flushes = ob->flushes;

	for (size_t i = 0; i < c->n; i++) {
		if (i)
			outbuf_putc(ob, ' ');
		write_column(c, ob, &c->cols[i], rec);
	}
	end_line(ob, start, flushes);
}
