/* The output writers (json, jsonpretty, yaml, columns) fed with hostile
 * strings and numbers: field names and annotations come from gadget.yaml and
 * BTF (untrusted when pulled), values from the traced processes (file names,
 * comm, arguments: anything but NUL, and NUL too in bytes fields).
 *
 * Oracles, each from outside the implementation:
 *  - JSON reads back with jansson; a valid UTF-8 string value reads back
 *    byte for byte, and so does a valid UTF-8 field name as a key;
 *  - YAML reads back with libyaml, the string value byte for byte too;
 *  - the column header and row are each one line of valid UTF-8, exactly as
 *    wide (in code points) as the columns' widths and separators say.
 *
 * Input: a flags byte, a 16-bit terminal width, then length-prefixed strings
 * (one length byte): the hostile field name, the string value, a CString
 * value, the bytes value, the columns selection; then the raw event block
 * (numbers of every kind, NaNs included); then up to 8 annotations: a field
 * byte, a key byte (a table of the keys the writers read) and a value string. */
#include <errno.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include <sonde/datasource.h>

#include "output/columns.h"
#include "output/json.h"
#include "output/yaml.h"
#include "fuzz_input.h"

struct reader {
	const uint8_t *p;
	size_t left;
};

static uint8_t take_u8(struct reader *r)
{
	if (!r->left)
		return 0;
	r->left--;
	return *r->p++;
}

/* n bytes, or fewer at the end of the input. */
static const uint8_t *take(struct reader *r, size_t *n)
{
	const uint8_t *p = r->p;

	if (*n > r->left)
		*n = r->left;
	r->p += *n;
	r->left -= *n;
	return p;
}

/* A length-prefixed string, copied with a NUL (names need one). */
static char *take_str(struct reader *r, size_t *n)
{
	size_t len = take_u8(r);
	const uint8_t *p = take(r, &len);

	if (n)
		*n = len;
	return fuzz_cstring(p, len);
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF), as
 * RFC 3629 says: the writers may pass such text through unchanged. */
static bool utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		unsigned c = p[i], need, min, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		if (n - i <= need)
			return false;
		for (unsigned k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

/* Code points of valid UTF-8: the bytes that do not continue one. */
static size_t utf8_runes(const char *s, size_t n)
{
	size_t runes = 0;

	for (size_t i = 0; i < n; i++)
		runes += ((unsigned char)s[i] & 0xc0) != 0x80;
	return runes;
}

struct raw_event {
	struct {
		uint32_t pid;
		char comm[16];
	} proc;
	char name[24];
	int8_t i8;
	uint8_t u8;
	int16_t i16;
	uint16_t u16;
	int32_t i32;
	uint32_t u32;
	int64_t i64;
	uint64_t u64;
	float f32;
	double f64;
	uint8_t flag;
	int32_t arr[3];
};

#define MEMBER(n, par, k, m)                                                                                 \
	{                                                                                                    \
		n, par, k, offsetof(struct raw_event, m), sizeof(((struct raw_event *)0)->m), 0, NULL, NULL  \
	}

enum { F_PROC, F_PID, F_COMM, F_NAME, F_NSTATIC = 16 };

static const struct sonde_static_field members[F_NSTATIC] = {
    MEMBER("proc", -1, SONDE_KIND_BYTES, proc),
    MEMBER("pid", F_PROC, SONDE_KIND_UINT32, proc.pid),
    MEMBER("comm", F_PROC, SONDE_KIND_CSTRING, proc.comm),
    MEMBER("name", -1, SONDE_KIND_CSTRING, name),
    MEMBER("i8", -1, SONDE_KIND_INT8, i8),
    MEMBER("u8", -1, SONDE_KIND_UINT8, u8),
    MEMBER("i16", -1, SONDE_KIND_INT16, i16),
    MEMBER("u16", -1, SONDE_KIND_UINT16, u16),
    MEMBER("i32", -1, SONDE_KIND_INT32, i32),
    MEMBER("u32", -1, SONDE_KIND_UINT32, u32),
    MEMBER("i64", -1, SONDE_KIND_INT64, i64),
    MEMBER("u64", -1, SONDE_KIND_UINT64, u64),
    MEMBER("f32", -1, SONDE_KIND_FLOAT32, f32),
    MEMBER("f64", -1, SONDE_KIND_FLOAT64, f64),
    MEMBER("flag", -1, SONDE_KIND_BOOL, flag),
    MEMBER("arr", -1, (enum sonde_kind)(SONDE_KIND_INT32 | SONDE_KIND_ARRAY_OF), arr),
};

/* What the writers read from field annotations (columns.h, fieldtree.h). */
static const char *const ann_keys[] = {
    "columns.width",    "columns.minwidth", "columns.maxwidth",  "columns.alias",    "columns.alignment",
    "columns.ellipsis", "columns.hex",      "columns.precision", "columns.replace",  "columns.fixed",
    "columns.hidden",   "json.skip",        "columns.minWidth",  "columns.maxWidth", "description",
};

#define NANN_KEYS (sizeof(ann_keys) / sizeof(ann_keys[0]))
#define MAX_ANNS  8

struct event {
	struct sonde_ds *ds;
	struct sonde_field *st[F_NSTATIC], *str, *hostile, *group, *child, *blob, *floats;
	char *hostile_name, *str_val, *cstr_val, *blob_val;
	size_t str_len, cstr_len, blob_len;
};

/* fieldtree.h: json.skip=true leaves a field out of JSON and YAML */
static bool skipped(const struct sonde_field *f)
{
	const char *v = sonde_field_annotation(f, "json.skip");

	return v && strcmp(v, "true") == 0;
}

/* --- JSON: jansson reads it back --- */
static void check_json(struct event *ev, const struct sonde_record *rec, unsigned flags)
{
	struct json_plan *plan = json_plan_new(ev->ds, flags);
	struct sonde_outbuf ob;
	json_error_t jerr;
	json_t *root, *v;

	if (!plan || outbuf_init(&ob, -1, 0)) {
		json_plan_free(plan);
		return;
	}
	output_json_write_record(plan, &ob, rec);
	root = json_loadb(ob.data, ob.len, JSON_ALLOW_NUL, &jerr);
	if (!root)
		fprintf(stderr, "jansson: %s at %d: %.*s\n", jerr.text, jerr.position, (int)ob.len, ob.data);
	FUZZ_CHECK(root && json_is_object(root));
	if (!skipped(ev->str) && utf8_valid(ev->str_val, ev->str_len)) {
		v = json_object_get(root, "str");
		FUZZ_CHECK(json_is_string(v) && json_string_length(v) == ev->str_len &&
		           memcmp(json_string_value(v), ev->str_val, ev->str_len) == 0);
	}
	/* the hostile name is a key of its own, escaped as needed */
	if (ev->hostile && !skipped(ev->hostile) && utf8_valid(ev->hostile_name, strlen(ev->hostile_name)))
		FUZZ_CHECK(json_object_get(root, ev->hostile_name) != NULL);
	json_decref(root);
	outbuf_fini(&ob);
	json_plan_free(plan);
}

/* --- YAML: libyaml reads it back --- */
static void check_yaml(struct event *ev, const struct sonde_record *rec)
{
	struct yaml_plan *plan = yaml_plan_new(ev->ds);
	struct sonde_outbuf ob;
	yaml_parser_t parser;
	yaml_event_t e;
	int depth = 0;
	bool done = false, is_key = true, want_str = false, str_seen = false;

	if (!plan || outbuf_init(&ob, -1, 0)) {
		yaml_plan_free(plan);
		return;
	}
	output_yaml_write_record(plan, &ob, rec);
	FUZZ_CHECK(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)ob.data, ob.len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &e)) {
			fprintf(stderr, "libyaml: %s at line %zu col %zu:\n%.*s\n", parser.problem,
			        parser.problem_mark.line + 1, parser.problem_mark.column + 1, (int)ob.len,
			        ob.data);
			FUZZ_CHECK(!"YAML output parses");
		}
		switch (e.type) {
		case YAML_MAPPING_START_EVENT:
		case YAML_SEQUENCE_START_EVENT:
			/* a nested node in the record's mapping is a value: a key follows */
			if (depth++ == 1)
				is_key = true;
			break;
		case YAML_MAPPING_END_EVENT:
		case YAML_SEQUENCE_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			if (depth != 1)
				break;
			if (!is_key && want_str) {
				str_seen = true;
				if (utf8_valid(ev->str_val, ev->str_len) &&
				    (e.data.scalar.length != ev->str_len ||
				     memcmp(e.data.scalar.value, ev->str_val, ev->str_len))) {
					fprintf(stderr, "YAML str reads back as [%.*s] from:\n%.*s\n",
					        (int)e.data.scalar.length, e.data.scalar.value, (int)ob.len,
					        ob.data);
					FUZZ_CHECK(!"YAML string reads back");
				}
			}
			want_str =
			    is_key && e.data.scalar.length == 3 && !memcmp(e.data.scalar.value, "str", 3);
			is_key = !is_key;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&e);
	}
	FUZZ_CHECK(str_seen || skipped(ev->str));
	yaml_parser_delete(&parser);
	outbuf_fini(&ob);
	yaml_plan_free(plan);
}

/* --- columns: no line wider than announced, none ending in a blank --- */
static void check_line(const struct sonde_outbuf *ob, size_t max)
{
	size_t runes;

	FUZZ_CHECK(ob->len > 0 && ob->data[ob->len - 1] == '\n');
	FUZZ_CHECK(memchr(ob->data, '\n', ob->len - 1) == NULL);
	FUZZ_CHECK(utf8_valid(ob->data, ob->len - 1));
	runes = utf8_runes(ob->data, ob->len - 1);
	if (runes > max || (ob->len > 1 && ob->data[ob->len - 2] == ' '))
		fprintf(stderr, "line of %zu code points (at most %zu, no trailing blank): [%.*s]\n", runes,
		        max, (int)ob->len - 1, ob->data);
	FUZZ_CHECK(runes <= max);
	FUZZ_CHECK(ob->len == 1 || ob->data[ob->len - 2] != ' ');
}

static void check_columns(struct event *ev, const struct sonde_record *rec, const char *sel, int term)
{
	struct columns *c;
	struct sonde_outbuf ob;
	size_t want, n;

	if (columns_new(ev->ds, sel, &c))
		return;
	if (outbuf_init(&ob, -1, 0)) {
		columns_free(c);
		return;
	}
	columns_fit(c, term);
	n = columns_count(c);
	want = n ? n - 1 : 0;
	for (size_t i = 0; i < n; i++)
		want += (size_t)columns_width(c, i);
	/* cells are padded to their widths, but a line ends at its last
	 * non-blank character */
	/* the header (names, columns.alias) and the row, one line each */
	columns_write_header(c, &ob);
	check_line(&ob, want);
	outbuf_reset(&ob);
	columns_write_row(c, &ob, rec);
	check_line(&ob, want);
	outbuf_fini(&ob);
	columns_free(c);
}

static bool build(struct event *ev, struct reader *r)
{
	struct sonde_field_opts empty = {.sz = sizeof(empty), .flags = SONDE_FIELD_EMPTY};
	struct sonde_field_opts child = {.sz = sizeof(child)};
	struct sonde_field_opts farr = {.sz = sizeof(farr), .size = 16};

	ev->ds = sonde_ds_new("events", SONDE_DS_SINGLE);
	if (!ev->ds ||
	    sonde_ds_add_static_fields(ev->ds, sizeof(struct raw_event), members, F_NSTATIC, ev->st))
		return false;
	ev->hostile_name = take_str(r, NULL);
	ev->str_val = take_str(r, &ev->str_len);
	ev->cstr_val = take_str(r, &ev->cstr_len);
	ev->blob_val = take_str(r, &ev->blob_len);
	if (!ev->hostile_name || !ev->str_val || !ev->cstr_val || !ev->blob_val)
		return false;
	ev->str = sonde_ds_add_field(ev->ds, "str", SONDE_KIND_STRING, NULL);
	/* may fail (empty, duplicate): the record is written without it */
	ev->hostile = sonde_ds_add_field(ev->ds, ev->hostile_name, SONDE_KIND_STRING, NULL);
	ev->group = sonde_ds_add_field(ev->ds, "group", SONDE_KIND_INVALID, &empty);
	child.parent = ev->group;
	ev->child = ev->group ? sonde_ds_add_field(ev->ds, "c", SONDE_KIND_CSTRING, &child) : NULL;
	ev->blob = sonde_ds_add_field(ev->ds, "blob", SONDE_KIND_BYTES, NULL);
	ev->floats = sonde_ds_add_field(ev->ds, "floats",
	                                (enum sonde_kind)(SONDE_KIND_FLOAT64 | SONDE_KIND_ARRAY_OF), &farr);
	return ev->str && ev->child && ev->blob && ev->floats;
}

static void annotate(struct event *ev, struct reader *r)
{
	for (int i = 0; i < MAX_ANNS && r->left >= 3; i++) {
		uint8_t which = take_u8(r), key = take_u8(r);
		struct sonde_field *f = sonde_ds_field_at(ev->ds, which % sonde_ds_nfields(ev->ds));
		char *value = take_str(r, NULL);

		if (value)
			sonde_field_set_annotation(f, ann_keys[key % NANN_KEYS], value);
		free(value);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct reader r = {data, len};
	struct event ev = {0};
	struct raw_event raw = {0};
	struct sonde_record *rec;
	char *sel = NULL;
	uint8_t flags;
	int term;
	size_t n;

	fuzz_init_once();
	flags = take_u8(&r);
	term = take_u8(&r) << 8;
	term |= take_u8(&r);
	if (!build(&ev, &r) || !(sel = take_str(&r, NULL)))
		goto out;
	n = sizeof(raw);
	memcpy(&raw, take(&r, &n), n);
	annotate(&ev, &r);
	if (sonde_ds_seal(ev.ds))
		goto out;
	rec = sonde_ds_record(ev.ds);
	sonde_field_set(ev.st[F_PROC], rec, &raw, sizeof(raw));
	sonde_field_put_string(ev.str, rec, ev.str_val, (uint32_t)ev.str_len);
	if (ev.hostile)
		sonde_field_put_string(ev.hostile, rec, ev.str_val, (uint32_t)ev.str_len);
	sonde_field_put_string(ev.child, rec, ev.cstr_val, (uint32_t)ev.cstr_len);
	sonde_field_set(ev.blob, rec, ev.blob_val, (uint32_t)ev.blob_len);
	sonde_field_set(ev.floats, rec, &raw.f64, sizeof(raw.f64));

	check_json(&ev, rec, flags & 1 ? JSON_PRETTY : 0);
	check_yaml(&ev, rec);
	check_columns(&ev, rec, flags & 2 ? sel : NULL, flags & 4 ? term % 400 : 0);
out:
	free(sel);
	free(ev.hostile_name);
	free(ev.str_val);
	free(ev.cstr_val);
	free(ev.blob_val);
	sonde_ds_free(ev.ds);
	return 0;
}
