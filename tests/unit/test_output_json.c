/* JSON output of records: key order, nesting, every kind, escaping, pretty form, arrays. */
#include <math.h>

#include "output/json.h"
#include "test_output_fixture.h"
#include "test_utf8_oracle.h"

static const char expected_compact[] =
    "{\"arr\":[1,-2,3],\"blob\":\"deadbeef\",\"f32\":0.1,\"f64\":1e+21,\"flag\":true,"
    "\"i16\":-32768,\"i32\":-2147483648,\"i64\":-9223372036854775808,\"i8\":-128,"
    "\"name\":\"hello\",\"proc\":{\"comm\":\"bash\",\"pid\":42},\"secret\":\"s3cret\","
    "\"str\":\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd\",\"u16\":65535,\"u32\":4294967295,"
    "\"u64\":18446744073709551615,\"u8\":255}";

static const char expected_pretty[] = "{\n"
                                      "  \"arr\": [\n"
                                      "    1,\n"
                                      "    -2,\n"
                                      "    3\n"
                                      "  ],\n"
                                      "  \"blob\": \"deadbeef\",\n"
                                      "  \"f32\": 0.1,\n"
                                      "  \"f64\": 1e+21,\n"
                                      "  \"flag\": true,\n"
                                      "  \"i16\": -32768,\n"
                                      "  \"i32\": -2147483648,\n"
                                      "  \"i64\": -9223372036854775808,\n"
                                      "  \"i8\": -128,\n"
                                      "  \"name\": \"hello\",\n"
                                      "  \"proc\": {\n"
                                      "    \"comm\": \"bash\",\n"
                                      "    \"pid\": 42\n"
                                      "  },\n"
                                      "  \"secret\": \"s3cret\",\n"
                                      "  \"str\": \"x\",\n"
                                      "  \"u16\": 65535,\n"
                                      "  \"u32\": 4294967295,\n"
                                      "  \"u64\": 18446744073709551615,\n"
                                      "  \"u8\": 255\n"
                                      "}";

static void test_compact(void)
{
	struct fixture fx;
	struct json_plan *plan;
	struct sonde_outbuf ob;
	struct raw_event ev;
	struct sonde_record *rec;
	static const char str[] = "a\"b\\c\n\x01\xc3\xa9\xff";

	REQUIRE(fixture_init(&fx, SONDE_DS_SINGLE));
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	plan = json_plan_new(fx.ds, 0);
	REQUIRE(plan);
	rec = sonde_ds_record(fx.ds);
	REQUIRE(rec);
	fixture_event(&ev);
	fixture_fill(&fx, rec, &ev, str, sizeof(str) - 1);
	output_json_write_record(plan, &ob, rec);
	CHECK_STR(ob_text(&ob), expected_compact);

	/* other values of the same record */
	ev.flag = 0;
	ev.f64 = -0.5;
	ev.f32 = NAN;
	ev.i8 = 127;
	ev.u64 = 0;
	ev.name[0] = 0;
	memcpy(ev.proc.comm, "0123456789abcdef", 16); /* no NUL: the whole array */
	fixture_fill(&fx, rec, &ev, "", 0);
	output_json_write_record(plan, &ob, rec);
	{
		const char *t = ob_text(&ob);

		CHECK(strstr(t, "\"flag\":false,") != NULL);
		CHECK(strstr(t, "\"f64\":-0.5,") != NULL);
		CHECK(strstr(t, "\"f32\":null,") != NULL);
		CHECK(strstr(t, "\"i8\":127,") != NULL);
		CHECK(strstr(t, "\"u64\":0,") != NULL);
		CHECK(strstr(t, "\"name\":\"\",") != NULL);
		CHECK(strstr(t, "\"str\":\"\",") != NULL);
		CHECK(strstr(t, "\"comm\":\"0123456789abcdef\"") != NULL);
	}
	/* a CString ends at its first NUL, also when bytes before or after it need escapes */
	{
		static const struct {
			const char name[16], *want;
		} cases[] = {
		    {"q\"x\0\x01\xff", "\"name\":\"q\\\"x\","},
		    {"plain\0\x01\xff\"", "\"name\":\"plain\","},
		    {"\0\"\"", "\"name\":\"\","},
		    {"\xc3\xa9t\xc3\xa9\0\n", "\"name\":\"\xc3\xa9t\xc3\xa9\","},
		    {"0123456789abcde", "\"name\":\"0123456789abcde\","},
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const char *t;

			memcpy(ev.name, cases[i].name, sizeof(ev.name));
			fixture_fill(&fx, rec, &ev, "", 0);
			output_json_write_record(plan, &ob, rec);
			t = ob_text(&ob);
			if (!strstr(t, cases[i].want))
				fprintf(stderr, "case %zu: %s\n", i, t);
			CHECK(strstr(t, cases[i].want) != NULL);
		}
	}
	json_plan_free(plan);
	outbuf_fini(&ob);
	fixture_fini(&fx);
}

static void test_pretty(void)
{
	struct fixture fx;
	struct json_plan *plan;
	struct sonde_outbuf ob;
	struct raw_event ev;
	struct sonde_record *rec;

	REQUIRE(fixture_init(&fx, SONDE_DS_SINGLE));
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	plan = json_plan_new(fx.ds, JSON_PRETTY);
	REQUIRE(plan);
	rec = sonde_ds_record(fx.ds);
	fixture_event(&ev);
	fixture_fill(&fx, rec, &ev, "x", 1);
	output_json_write_record(plan, &ob, rec);
	CHECK_STR(ob_text(&ob), expected_pretty);
	json_plan_free(plan);
	outbuf_fini(&ob);
	fixture_fini(&fx);
}

static void test_strings(void)
{
	struct sonde_outbuf ob;

	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	json_write_string(&ob, "plain <&> ~\x7f", 12);
	CHECK_STR(ob_text(&ob), "\"plain <&> ~\x7f\"");
	json_write_string(&ob, "\t\r\n\b\f\x1f", 6);
	CHECK_STR(ob_text(&ob), "\"\\t\\r\\n\\u0008\\u000c\\u001f\"");
	json_write_string(&ob, "\0", 1);
	CHECK_STR(ob_text(&ob), "\"\\u0000\"");
	/* invalid UTF-8 per byte, line/paragraph separators escaped, others kept */
	json_write_string(&ob, "\xe2\x82\xac\xe2\x82\xff\xe2\x80\xa8\xe2\x80\xa9\xf0\x9f\x98\x80", 16);
	CHECK_STR(ob_text(&ob), "\"\xe2\x82\xac\\ufffd\\ufffd\\ufffd\\u2028\\u2029\xf0\x9f\x98\x80\"");
	json_write_string(&ob, "\xc0\xaf", 2); /* overlong */
	CHECK_STR(ob_text(&ob), "\"\\ufffd\\ufffd\"");
	outbuf_fini(&ob);
}

/* Round trip through jansson, another JSON implementation: the writer's
 * string parses, and gives back the oracle's decoding (valid UTF-8 kept,
 * U+FFFD per ill-formed byte, NUL and controls included), for the pieces
 * alone and for 20 000 random strings of them (fixed seed). */
static void check_jansson(struct sonde_outbuf *ob, const char *s, size_t n)
{
	char want[3 * 400];
	size_t wlen = oracle_decoded(s, n, want);
	json_error_t jerr;
	json_t *v;

	outbuf_reset(ob);
	json_write_string(ob, s, n);
	v = json_loadb(ob->data, ob->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!v || !json_is_string(v) || json_string_length(v) != wlen ||
	    memcmp(json_string_value(v), want, wlen) != 0) {
		fprintf(stderr, "string of %zu bytes:", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %02x", (unsigned char)s[i]);
		fprintf(stderr, "\nwritten as %.*s\n%s\n", (int)ob->len, ob->data,
		        v ? "decoded differently" : jerr.text);
		test_failures++;
	}
	json_decref(v);
}

static void test_strings_jansson(void)
{
	struct sonde_outbuf ob;
	char buf[400];

	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	for (size_t i = 0; i < sizeof(oracle_pieces) / sizeof(oracle_pieces[0]); i++)
		check_jansson(&ob, oracle_pieces[i], strlen(oracle_pieces[i]));
	check_jansson(&ob, "\0", 1);
	srand(14);
	for (int i = 0; i < 20000 && !test_failures; i++) {
		size_t n = oracle_random_string(buf, sizeof(buf), 24);

		check_jansson(&ob, buf, n);
	}
	outbuf_fini(&ob);
}

/* The escaping rules one byte at a time, as the writer applied them before it
 * scanned words: the reference for test_strings_wordwise (UTF-8 judged by
 * the oracle's table). */
static size_t ref_string(char *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;

	out[o++] = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		int size = 1;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			/* RFC 3629's table (test_utf8_oracle.h), not the writer's decoder */
			size = (int)oracle_utf8_len(u + i, n - i);
			if (!size) {
				o += (size_t)sprintf(out + o, "\\ufffd");
				size = 1;
			} else if (size == 3 && c == 0xe2 && u[i + 1] == 0x80 &&
			           (u[i + 2] == 0xa8 || u[i + 2] == 0xa9)) {
				o +=
				    (size_t)sprintf(out + o, "\\u%04x", u[i + 2] == 0xa8 ? 0x2028u : 0x2029u);
			} else {
				memcpy(out + o, s + i, (size_t)size), o += (size_t)size;
			}
		} else if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else {
			o += (size_t)sprintf(out + o, "\\u%04x", c);
		}
		i += (size_t)size;
	}
	out[o++] = '"';
	out[o] = 0;
	return o;
}

static void check_string(struct sonde_outbuf *ob, const char *s, size_t n)
{
	static char want[6 * 200 + 3];

	REQUIRE(n <= 200);
	ref_string(want, s, n);
	outbuf_reset(ob);
	json_write_string(ob, s, n);
	if (ob->len != strlen(want) || memcmp(ob->data, want, ob->len) != 0) {
		fprintf(stderr, "string of %zu bytes:", n);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %02x", (unsigned char)s[i]);
		fprintf(stderr, "\n");
	}
	CHECK_INT(ob->len, strlen(want));
	CHECK(memcmp(ob->data, want, ob->len) == 0);
}

/* The writer scans eight (or four) bytes at a time: every byte that needs
 * an escape, at every position and string length around the word sizes, in
 * strings that start at any alignment; then random bytes. */
static void test_strings_wordwise(void)
{
	static const char *const specials[] = {
	    "\x00",
	    "\x01",
	    "\x1f",
	    "\"",
	    "\\",
	    "\n",
	    "\x7f",
	    "\x80",
	    "\xc3\xa9",
	    "\xe2\x80\xa8",
	    "\xe2\x80\xa9",
	    "\xf0\x9f\x98\x80",
	    "\xff",
	    "\xc3",
	    "\xe2\x80",
	    " ",
	    "!",
	    "#",
	    "[",
	    "]",
	    "\x5b",
	    "\x5d",
	    "~",
	};
	struct sonde_outbuf ob;
	char buf[128];
	uint32_t seed = 12345;

	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	for (size_t len = 0; len <= 40; len++) {
		for (size_t align = 0; align < 8; align++) {
			char *s = buf + align;

			for (size_t i = 0; i < len; i++)
				s[i] = (char)('a' + i % 26);
			check_string(&ob, s, len);
			for (size_t pos = 0; pos < len; pos++) {
				for (size_t k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
					size_t sl = k == 0 ? 1 : strlen(specials[k]);

					if (pos + sl > len)
						continue;
					for (size_t i = 0; i < len; i++)
						s[i] = (char)('a' + i % 26);
					memcpy(s + pos, specials[k], sl);
					check_string(&ob, s, len);
				}
			}
		}
	}
	for (int round = 0; round < 20000; round++) {
		size_t len;

		seed = seed * 1103515245u + 12345u;
		len = (seed >> 16) % 70;
		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			/* mostly printable ASCII, some controls, quotes and high bytes */
			buf[i] = (seed >> 24) < 200 ? (char)(0x20 + (seed >> 16) % 95) : (char)(seed >> 16);
		}
		check_string(&ob, buf, len);
	}
	outbuf_fini(&ob);
}

static void test_array_packets(void)
{
	struct fixture fx;
	struct json_plan *plan, *pretty;
	struct sonde_outbuf ob;
	struct sonde_array *arr;
	struct raw_event ev;

	REQUIRE(fixture_init(&fx, SONDE_DS_ARRAY));
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	plan = json_plan_new(fx.ds, JSON_IN_ARRAY);
	pretty = json_plan_new(fx.ds, JSON_PRETTY | JSON_IN_ARRAY);
	REQUIRE(plan && pretty);
	arr = sonde_ds_array(fx.ds);
	REQUIRE(arr);
	output_json_write_array(plan, &ob, arr);
	CHECK_STR(ob_text(&ob), "[]");
	output_json_write_array(pretty, &ob, arr);
	CHECK_STR(ob_text(&ob), "[]");

	fixture_event(&ev);
	fixture_fill(&fx, sonde_array_append(arr), &ev, "one", 3);
	ev.proc.pid = 43;
	fixture_fill(&fx, sonde_array_append(arr), &ev, "two", 3);
	output_json_write_array(plan, &ob, arr);
	{
		const char *t = ob_text(&ob);
		size_t len = strlen(t);

		CHECK(strncmp(t, "[{\"arr\":[1,-2,3],", 17) == 0);
		CHECK(strstr(t, "\"str\":\"one\",\"u16\":65535,\"u32\":4294967295,\"u64\":"
		                "18446744073709551615,\"u8\":"
		                "255},{\"arr\"") != NULL);
		CHECK(strstr(t, "\"pid\":43") != NULL);
		CHECK(len > 2 && strcmp(t + len - 2, "}]") == 0);
	}
	output_json_write_array(pretty, &ob, arr);
	{
		const char *t = ob_text(&ob);
		size_t len = strlen(t);

		CHECK(strncmp(t, "[\n  {\n    \"arr\": [\n      1,\n      -2,\n      3\n    ],\n    \"blob\"",
		              62) == 0);
		CHECK(strstr(t, "    \"proc\": {\n      \"comm\": \"bash\",\n      \"pid\": 42\n    },\n") !=
		      NULL);
		CHECK(strstr(t, "    \"u8\": 255\n  },\n  {\n    \"arr\"") != NULL);
		CHECK(len > 9 && strcmp(t + len - 9, "255\n  }\n]") == 0);
	}
	json_plan_free(plan);
	json_plan_free(pretty);
	outbuf_fini(&ob);
	fixture_fini(&fx);
}

/* Nesting rules: EMPTY groups, json.skip of a whole subtree, dynamic arrays,
 * an object whose children are all skipped, a parent whose children are all
 * unreferenced (printed as its own value). */
static void test_nesting(void)
{
	static const char *const skip[] = {"json.skip", "true", NULL};
	struct sonde_ds *ds = sonde_ds_new("n", SONDE_DS_SINGLE);
	struct sonde_field_opts empty = {.sz = sizeof(empty), .flags = SONDE_FIELD_EMPTY};
	struct sonde_field_opts o = {.sz = sizeof(o)};
	struct sonde_field *k8s, *owner, *node, *ns, *kind, *grp, *hidden, *farr, *u8arr, *b, *braw;
	struct json_plan *plan, *pretty;
	struct sonde_outbuf ob;
	struct sonde_record *rec;
	double fv[2] = {1.5, -0.25};
	uint8_t u8v[3] = {0, 128, 255};

	REQUIRE(ds);
	k8s = sonde_ds_add_field(ds, "k8s", SONDE_KIND_INVALID, &empty);
	o.parent = k8s;
	node = sonde_ds_add_field(ds, "node", SONDE_KIND_STRING, &o);
	ns = sonde_ds_add_field(ds, "namespace", SONDE_KIND_STRING, &o);
	empty.parent = k8s;
	owner = sonde_ds_add_field(ds, "owner", SONDE_KIND_INVALID, &empty);
	o.parent = owner;
	kind = sonde_ds_add_field(ds, "kind", SONDE_KIND_STRING, &o);
	empty.parent = NULL;
	grp = sonde_ds_add_field(ds, "grp", SONDE_KIND_INVALID, &empty);
	o.parent = grp;
	o.annotations = skip;
	hidden = sonde_ds_add_field(ds, "inner", SONDE_KIND_UINT8, &o);
	o.parent = NULL;
	o.annotations = NULL;
	o.size = 16;
	farr =
	    sonde_ds_add_field(ds, "floats", (enum sonde_kind)(SONDE_KIND_FLOAT64 | SONDE_KIND_ARRAY_OF), &o);
	o.size = 0;
	u8arr =
	    sonde_ds_add_field(ds, "bytes8", (enum sonde_kind)(SONDE_KIND_UINT8 | SONDE_KIND_ARRAY_OF), &o);
	b = sonde_ds_add_field(ds, "addr", SONDE_KIND_BYTES, &o);
	o.parent = b;
	braw = sonde_ds_add_field(ds, "raw", SONDE_KIND_UINT32, &o);
	REQUIRE(k8s && node && ns && owner && kind && grp && hidden && farr && u8arr && b && braw);
	sonde_field_unreference(braw, false);
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	plan = json_plan_new(ds, 0);
	pretty = json_plan_new(ds, JSON_PRETTY);
	REQUIRE(plan && pretty);
	rec = sonde_ds_record(ds);
	sonde_field_put_string(node, rec, "n1", 2);
	sonde_field_put_string(ns, rec, "default", 7);
	sonde_field_put_string(kind, rec, "Pod", 3);
	sonde_field_set(farr, rec, fv, sizeof(fv));
	sonde_field_set(u8arr, rec, u8v, sizeof(u8v));
	sonde_field_set(b, rec, "\x7f\x00\x00\x01", 4);
	output_json_write_record(plan, &ob, rec);
	CHECK_STR(ob_text(&ob),
	          "{\"addr\":\"7f000001\",\"bytes8\":[0,128,255],\"floats\":[1.5,-0.25],\"grp\":{},"
	          "\"k8s\":{\"namespace\":\"default\",\"node\":\"n1\",\"owner\":{\"kind\":\"Pod\"}}}");
	output_json_write_record(pretty, &ob, rec);
	CHECK_STR(ob_text(&ob), "{\n"
	                        "  \"addr\": \"7f000001\",\n"
	                        "  \"bytes8\": [\n"
	                        "    0,\n"
	                        "    128,\n"
	                        "    255\n"
	                        "  ],\n"
	                        "  \"floats\": [\n"
	                        "    1.5,\n"
	                        "    -0.25\n"
	                        "  ],\n"
	                        "  \"grp\": {},\n"
	                        "  \"k8s\": {\n"
	                        "    \"namespace\": \"default\",\n"
	                        "    \"node\": \"n1\",\n"
	                        "    \"owner\": {\n"
	                        "      \"kind\": \"Pod\"\n"
	                        "    }\n"
	                        "  }\n"
	                        "}");
	/* unset dynamic values: empty array, empty hex string */
	rec = sonde_ds_record(ds);
	output_json_write_record(plan, &ob, rec);
	CHECK_STR(ob_text(&ob), "{\"addr\":\"\",\"bytes8\":[],\"floats\":[0,0],\"grp\":{},"
	                        "\"k8s\":{\"namespace\":\"\",\"node\":\"\",\"owner\":{\"kind\":\"\"}}}");
	json_plan_free(plan);
	json_plan_free(pretty);
	outbuf_fini(&ob);
	sonde_ds_free(ds);
}

static void test_empty_ds(void)
{
	struct sonde_ds *ds = sonde_ds_new("e", SONDE_DS_ARRAY);
	struct json_plan *plan, *pretty;
	struct sonde_outbuf ob;
	struct sonde_array *arr;

	REQUIRE(ds);
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	plan = json_plan_new(ds, JSON_IN_ARRAY);
	pretty = json_plan_new(ds, JSON_PRETTY | JSON_IN_ARRAY);
	REQUIRE(plan && pretty);
	arr = sonde_ds_array(ds);
	sonde_array_append(arr);
	sonde_array_append(arr);
	output_json_write_array(plan, &ob, arr);
	CHECK_STR(ob_text(&ob), "[{},{}]");
	output_json_write_array(pretty, &ob, arr);
	CHECK_STR(ob_text(&ob), "[\n  {},\n  {}\n]");
	json_plan_free(plan);
	json_plan_free(pretty);
	outbuf_fini(&ob);
	sonde_ds_free(ds);
}

static void test_requested(void)
{
	struct fixture fx;
	struct json_plan *plan;

	REQUIRE(fixture_init(&fx, SONDE_DS_SINGLE));
	plan = json_plan_new(fx.ds, 0);
	REQUIRE(plan);
	json_plan_request(plan);
	CHECK(sonde_field_is_requested(fx.st[F_PID]));
	CHECK(sonde_field_is_requested(fx.st[F_PROC]));
	CHECK(sonde_field_is_requested(fx.secret));
	CHECK(!sonde_field_is_requested(fx.skipme));
	CHECK(!sonde_field_is_requested(fx.gone));
	json_plan_free(plan);
	fixture_fini(&fx);
}

TEST_MAIN(TEST(test_compact), TEST(test_pretty), TEST(test_strings), TEST(test_strings_jansson),
          TEST(test_strings_wordwise), TEST(test_array_packets), TEST(test_nesting), TEST(test_empty_ds),
          TEST(test_requested))
