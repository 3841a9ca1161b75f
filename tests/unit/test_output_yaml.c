/* YAML output of records: structure, key order, scalar styles, folding. */
#include <math.h>
#include <regex.h>

#include <yaml.h>

#include "output/yaml.h"
#include "test_output_fixture.h"
#include "test_utf8_oracle.h"

static const char expected_event[] = "---\n"
                                     "arr:\n"
                                     "- 1\n"
                                     "- -2\n"
                                     "- 3\n"
                                     "blob: deadbeef\n"
                                     "f32: 0.1\n"
                                     "f64: 1e+21\n"
                                     "flag: true\n"
                                     "i8: -128\n"
                                     "i16: -32768\n"
                                     "i32: -2147483648\n"
                                     "i64: -9223372036854775808\n"
                                     "name: hello\n"
                                     "proc:\n"
                                     "  comm: bash\n"
                                     "  pid: 42\n"
                                     "secret: s3cret\n"
                                     "str: x\n"
                                     "u8: 255\n"
                                     "u16: 65535\n"
                                     "u32: 4294967295\n"
                                     "u64: 18446744073709551615\n";

static void test_event(void)
{
	struct fixture fx;
	struct yaml_plan *plan;
	struct sonde_outbuf ob;
	struct raw_event ev;
	struct sonde_record *rec;

	REQUIRE(fixture_init(&fx, SONDE_DS_SINGLE));
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	plan = yaml_plan_new(fx.ds);
	REQUIRE(plan);
	rec = sonde_ds_record(fx.ds);
	fixture_event(&ev);
	fixture_fill(&fx, rec, &ev, "x", 1);
	output_yaml_write_record(plan, &ob, rec);
	CHECK_STR(ob_text(&ob), expected_event);

	/* floats: integral values print as integers, others in Go %g form */
	ev.f32 = NAN;
	ev.f64 = 1234567.5;
	fixture_fill(&fx, rec, &ev, "x", 1);
	output_yaml_write_record(plan, &ob, rec);
	{
		const char *t = ob_text(&ob);

		CHECK(strstr(t, "\nf32: null\nf64: 1.2345675e+06\n") != NULL);
	}
	ev.f32 = -0.0f;
	ev.f64 = 1e6;
	fixture_fill(&fx, rec, &ev, "x", 1);
	output_yaml_write_record(plan, &ob, rec);
	CHECK(strstr(ob_text(&ob), "\nf32: 0\nf64: 1000000\n") != NULL);
	ev.f32 = 1.5e-7f;
	ev.f64 = -0.25;
	fixture_fill(&fx, rec, &ev, "x", 1);
	output_yaml_write_record(plan, &ob, rec);
	CHECK(strstr(ob_text(&ob), "\nf32: 1.5e-07\nf64: -0.25\n") != NULL);
	yaml_plan_free(plan);
	outbuf_fini(&ob);
	fixture_fini(&fx);
}

/* A DataSource with a single string field "str" to try scalar styles. */
static struct sonde_ds *str_ds;
static struct sonde_field *str_field;
static struct yaml_plan *str_plan;
static struct sonde_outbuf str_ob;

/* The whole document for str = s. */
static const char *yaml_doc(const char *s, size_t n)
{
	struct sonde_record *rec;

	if (!str_ds) {
		str_ds = sonde_ds_new("s", SONDE_DS_SINGLE);
		str_field = sonde_ds_add_field(str_ds, "str", SONDE_KIND_STRING, NULL);
		str_plan = yaml_plan_new(str_ds);
		outbuf_init(&str_ob, -1, 0);
	}
	rec = sonde_ds_record(str_ds);
	sonde_field_put_string(str_field, rec, s, (uint32_t)n);
	output_yaml_write_record(str_plan, &str_ob, rec);
	return ob_text(&str_ob);
}

/* What follows "str:" in it. */
static const char *yaml_of(const char *s, size_t n)
{
	const char *t = yaml_doc(s, n);

	return strncmp(t, "---\nstr:", 8) == 0 ? t + 8 : t;
}

#define Y(s) yaml_of(s, sizeof(s) - 1)

static void test_plain_and_quoted(void)
{
	CHECK_STR(Y("hello world"), " hello world\n");
	CHECK_STR(Y(""), " \"\"\n");
	/* would read back as another type: double quotes */
	CHECK_STR(Y("123"), " \"123\"\n");
	CHECK_STR(Y("-1.5e3"), " \"-1.5e3\"\n");
	CHECK_STR(Y(".5"), " \".5\"\n");
	CHECK_STR(Y("08"), " \"08\"\n");
	CHECK_STR(Y("0x1F"), " \"0x1F\"\n");
	CHECK_STR(Y("0b101"), " \"0b101\"\n");
	CHECK_STR(Y("1_000"), " \"1_000\"\n");
	CHECK_STR(Y("+1"), " \"+1\"\n");
	CHECK_STR(Y("true"), " \"true\"\n");
	CHECK_STR(Y("Yes"), " \"Yes\"\n");
	CHECK_STR(Y("n"), " \"n\"\n");
	CHECK_STR(Y("OFF"), " \"OFF\"\n");
	CHECK_STR(Y("null"), " \"null\"\n");
	CHECK_STR(Y("~"), " \"~\"\n");
	CHECK_STR(Y(".inf"), " \".inf\"\n");
	CHECK_STR(Y("-.INF"), " \"-.INF\"\n");
	CHECK_STR(Y("12:30"), " \"12:30\"\n");
	CHECK_STR(Y("2024-01-02"), " \"2024-01-02\"\n");
	CHECK_STR(Y("2024-01-02T15:04:05.123456789Z"), " \"2024-01-02T15:04:05.123456789Z\"\n");
	CHECK_STR(Y("2024-1-2 3:04:05"), " \"2024-1-2 3:04:05\"\n");
	CHECK_STR(Y("2024-13-02"), " 2024-13-02\n");
	/* look like numbers but are not */
	CHECK_STR(Y("1e"), " 1e\n");
	CHECK_STR(Y("yES"), " yES\n");
	CHECK_STR(Y("-x"), " -x\n");
	CHECK_STR(Y("."), " .\n");
	CHECK_STR(Y("1.2.3"), " 1.2.3\n");
	CHECK_STR(Y("deadbeef"), " deadbeef\n");
	/* indicators and spaces: single quotes */
	CHECK_STR(Y("-"), " '-'\n");
	CHECK_STR(Y("- x"), " '- x'\n");
	CHECK_STR(Y("---"), " '---'\n");
	CHECK_STR(Y("a: b"), " 'a: b'\n");
	CHECK_STR(Y("a:b"), " a:b\n");
	CHECK_STR(Y("#x"), " '#x'\n");
	CHECK_STR(Y("a #b"), " 'a #b'\n");
	CHECK_STR(Y("a#b"), " a#b\n");
	CHECK_STR(Y("@home"), " '@home'\n");
	CHECK_STR(Y("[x]"), " '[x]'\n");
	CHECK_STR(Y("a,b"), " a,b\n");
	CHECK_STR(Y(" lead"), " ' lead'\n");
	CHECK_STR(Y("trail "), " 'trail '\n");
	CHECK_STR(Y("'q"), " '''q'\n");
	CHECK_STR(Y("it's"), " it's\n");
	CHECK_STR(Y("\"q\""), " '\"q\"'\n");
	CHECK_STR(Y("a\"b\\c"), " a\"b\\c\n");
	/* non-printable: double quotes with escapes */
	CHECK_STR(Y("tab\there"), " \"tab\\there\"\n");
	CHECK_STR(Y("nul\0x"), " \"nul\\0x\"\n");
	CHECK_STR(Y("\x01\x1b\x7f"), " \"\\x01\\e\\x7F\"\n");
	CHECK_STR(Y("a\rb"), " \"a\\rb\"\n");
	CHECK_STR(Y("\xc2\x85"), " \"\\N\"\n");
	CHECK_STR(Y("\xef\xbb\xbfx"), " \"\\uFEFFx\"\n");
	CHECK_STR(Y("\xf0\x9f\x98\x80"), " \"\\U0001F600\"\n");
	/* printable non-ASCII stays plain; invalid UTF-8 becomes U+FFFD */
	CHECK_STR(Y("h\xc3\xa9llo \xe4\xb8\xad"), " h\xc3\xa9llo \xe4\xb8\xad\n");
	CHECK_STR(Y("a\xff"), " a\xef\xbf\xbd\n");
}

static void test_literal_blocks(void)
{
	CHECK_STR(Y("line1\nline2"), " |-\n  line1\n  line2\n");
	CHECK_STR(Y("line\n"), " |\n  line\n");
	CHECK_STR(Y("a\n\nb"), " |-\n  a\n\n  b\n");
	CHECK_STR(Y(" x\ny"), " |2-\n   x\n  y\n");
	/* several final breaks: keep them. go-yaml closes the document with
	 * "...", libyaml 0.2.5's emitter does not: the next record's `---` or
	 * the end of the output ends the block just as well, and a parser reads
	 * the same "a\n\n" back (test_roundtrip_libyaml). */
	CHECK_STR(Y("a\n\n"), " |+\n  a\n\n");
	/* a space before a break cannot be a block */
	CHECK_STR(Y("x \ny"), " \"x \\ny\"\n");
	CHECK_STR(Y("a\tb\nc"), " \"a\\tb\\nc\"\n");
}

static void test_folding(void)
{
	char words[256] = "", expect[300];

	for (int i = 1; i <= 20; i++)
		snprintf(words + strlen(words), sizeof(words) - strlen(words), "%sword%02d", i > 1 ? " " : "",
		         i);
	snprintf(expect, sizeof(expect),
	         " word01 word02 word03 word04 word05 word06 word07 word08 word09 word10 word11\n"
	         "  word12 word13 word14 word15 word16 word17 word18 word19 word20\n");
	CHECK_STR(yaml_of(words, strlen(words)), expect);

	{
		char tabbed[300];

		snprintf(tabbed, sizeof(tabbed), "\t%s", words);
		snprintf(
		    expect, sizeof(expect),
		    " \"\\tword01 word02 word03 word04 word05 word06 word07 word08 word09 word10 word11\n"
		    "  word12 word13 word14 word15 word16 word17 word18 word19 word20\"\n");
		CHECK_STR(yaml_of(tabbed, strlen(tabbed)), expect);
	}
	{
		char single[300];

		snprintf(single, sizeof(single), "@%s", words);
		snprintf(expect, sizeof(expect),
		         " '@word01 word02 word03 word04 word05 word06 word07 word08 word09 word10 word11\n"
		         "  word12 word13 word14 word15 word16 word17 word18 word19 word20'\n");
		CHECK_STR(yaml_of(single, strlen(single)), expect);
	}
	/* no spaces: never folded */
	memset(words, 'x', 120);
	words[120] = 0;
	snprintf(expect, sizeof(expect), " %s\n", words);
	CHECK_STR(yaml_of(words, strlen(words)), expect);
}

/* Keys: go-yaml order, quoting of keys that would not read back as strings,
 * empty objects and arrays, nested mappings. */
static void test_keys_and_nesting(void)
{
	struct sonde_ds *ds = sonde_ds_new("k", SONDE_DS_SINGLE);
	struct sonde_field_opts empty = {.sz = sizeof(empty), .flags = SONDE_FIELD_EMPTY};
	struct sonde_field_opts o = {.sz = sizeof(o)};
	struct sonde_field *g, *e, *a, *n;
	struct yaml_plan *plan;
	struct sonde_outbuf ob;
	struct sonde_record *rec;
	const char *names[] = {"b10", "b9", "B", "_x", "a", "y", "01", "1", "x2y", "x10y"};

	REQUIRE(ds);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		REQUIRE(sonde_ds_add_field(ds, names[i], SONDE_KIND_UINT8, NULL));
	g = sonde_ds_add_field(ds, "grp", SONDE_KIND_INVALID, &empty);
	o.parent = g;
	n = sonde_ds_add_field(ds, "in", SONDE_KIND_INT16, &o);
	empty.parent = g;
	e = sonde_ds_add_field(ds, "none", SONDE_KIND_INVALID, &empty);
	o.parent = NULL;
	a = sonde_ds_add_field(ds, "list", (enum sonde_kind)(SONDE_KIND_UINT16 | SONDE_KIND_ARRAY_OF), &o);
	REQUIRE(g && n && e && a);
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	plan = yaml_plan_new(ds);
	REQUIRE(plan);
	rec = sonde_ds_record(ds);
	sonde_field_put_int(n, rec, -3);
	output_yaml_write_record(plan, &ob, rec);
	CHECK_STR(ob_text(&ob), "---\n"
	                        "_x: 0\n"
	                        "\"1\": 0\n"
	                        "\"01\": 0\n"
	                        "B: 0\n"
	                        "a: 0\n"
	                        "b9: 0\n"
	                        "b10: 0\n"
	                        "grp:\n"
	                        "  in: -3\n"
	                        "  none: {}\n"
	                        "list: []\n"
	                        "x2y: 0\n"
	                        "x10y: 0\n"
	                        "\"y\": 0\n");
	{
		uint16_t v[2] = {7, 65535};

		sonde_field_set(a, rec, v, sizeof(v));
		output_yaml_write_record(plan, &ob, rec);
		CHECK(strstr(ob_text(&ob), "\nlist:\n- 7\n- 65535\nx2y: 0\n") != NULL);
	}
	yaml_plan_free(plan);
	outbuf_fini(&ob);
	sonde_ds_free(ds);

	/* a record without fields */
	ds = sonde_ds_new("e", SONDE_DS_SINGLE);
	REQUIRE(ds);
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	plan = yaml_plan_new(ds);
	REQUIRE(plan);
	output_yaml_write_record(plan, &ob, sonde_ds_record(ds));
	/* go-yaml puts the empty mapping on a line of its own; libyaml's
	 * emitter writes it after the document marker: the same document */
	CHECK_STR(ob_text(&ob), "--- {}\n");
	yaml_plan_free(plan);
	outbuf_fini(&ob);
	sonde_ds_free(ds);
}

/* ---- round trip through libyaml ---- */

/* What a YAML 1.1 or 1.2 reader (PyYAML's and go-yaml's resolvers) would
 * take a plain scalar for, if not a string: null, bool, int, float, a valid
 * timestamp. Written from the YAML type specifications, not from the
 * writer's own list. */
static const char *const non_string_plain[] = {
    "^(|~|null|Null|NULL)$",
    "^(y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$",
    "^[-+]?(0b[01_]+|0o?[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)$",
    "^[-+]?([0-9][0-9_]*\\.[0-9_]*([eE][-+]?[0-9]+)?|\\.[0-9_]+([eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+"
    "|"
    "[0-9][0-9_]*(:[0-5]?[0-9])+\\.[0-9_]*|\\.(inf|Inf|INF))$",
    "^\\.(nan|NaN|NAN)$",
    "^[0-9]{4}-(0?[1-9]|1[0-2])-(0?[1-9]|[12][0-9]|3[01])(([Tt]|[ "
    "\t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(\\.[0-9]*)?"
    "([ \t]*(Z|[-+][0-9]{1,2}(:[0-9]{2})?))?)?$",
};
static regex_t non_string_re[sizeof(non_string_plain) / sizeof(non_string_plain[0])];

/* The "str" value of the one-document stream text, by libyaml: 0, or -1
 * after saying why. *value is malloc'ed (NULs kept, *len bytes). */
static int libyaml_str(const char *text, char **value, size_t *len, yaml_scalar_style_t *style)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int state = 0, rc = -1; /* 0: before the key, 1: the key seen, 2: done */

	*value = NULL;
	if (!yaml_parser_initialize(&parser))
		return -1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			fprintf(stderr, "libyaml: %s at offset %zu\n",
			        parser.problem ? parser.problem : "error", parser.problem_offset);
			break;
		}
		if (ev.type == YAML_SCALAR_EVENT && state == 1) {
			*len = ev.data.scalar.length;
			*value = malloc(*len + 1);
			memcpy(*value, ev.data.scalar.value, *len + 1);
			*style = ev.data.scalar.style;
			state = 2;
		} else if (ev.type == YAML_SCALAR_EVENT && state == 0) {
			state = strcmp((const char *)ev.data.scalar.value, "str") ? 0 : 1;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			rc = state == 2 ? 0 : -1;
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

static void check_libyaml(const char *s, size_t n)
{
	char want[3 * 400], *got = NULL;
	size_t wlen = oracle_decoded(s, n, want), glen = 0;
	yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
	const char *text;
	int before = test_failures;

	text = yaml_doc(s, n);
	if (libyaml_str(text, &got, &glen, &style)) {
		test_failures++;
	} else if (glen != wlen || memcmp(got, want, wlen) != 0) {
		fprintf(stderr, "read back differently\n");
		test_failures++;
	} else if (style == YAML_PLAIN_SCALAR_STYLE) {
		for (size_t i = 0; i < sizeof(non_string_re) / sizeof(non_string_re[0]); i++)
			if (regexec(&non_string_re[i], got, 0, NULL, 0) == 0) {
				fprintf(stderr, "plain, but reads back as a non-string (%s)\n",
				        non_string_plain[i]);
				test_failures++;
			}
	}
	if (test_failures != before) {
		fprintf(stderr, "string of %zu bytes:", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %02x", (unsigned char)s[i]);
		fprintf(stderr, "\nwritten as:\n%s\n", text);
	}
	free(got);
}

/* The writer's output parses with libyaml and gives back the oracle's
 * decoding of the string, and what it leaves plain reads back as a string:
 * for the pieces alone and for 20 000 random strings of them (fixed seed). */
static void test_roundtrip_libyaml(void)
{
	char buf[400];

	for (size_t i = 0; i < sizeof(non_string_re) / sizeof(non_string_re[0]); i++)
		REQUIRE(regcomp(&non_string_re[i], non_string_plain[i], REG_EXTENDED | REG_NOSUB) == 0);
	for (size_t i = 0; i < sizeof(oracle_pieces) / sizeof(oracle_pieces[0]); i++)
		check_libyaml(oracle_pieces[i], strlen(oracle_pieces[i]));
	check_libyaml("\0", 1);
	check_libyaml("a\n\n", 3); /* kept breaks without a closing "..." */
	srand(14);
	for (int i = 0; i < 20000 && !test_failures; i++) {
		size_t n = oracle_random_string(buf, sizeof(buf), 24);

		check_libyaml(buf, n);
	}
	for (size_t i = 0; i < sizeof(non_string_re) / sizeof(non_string_re[0]); i++)
		regfree(&non_string_re[i]);
}

static void cleanup(void)
{
	yaml_plan_free(str_plan);
	outbuf_fini(&str_ob);
	sonde_ds_free(str_ds);
	str_ds = NULL;
}

TEST_MAIN(TEST(test_event), TEST(test_plain_and_quoted), TEST(test_literal_blocks), TEST(test_folding),
          TEST(test_keys_and_nesting), TEST(test_roundtrip_libyaml), TEST(cleanup))
