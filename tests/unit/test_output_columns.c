/* Column output: header, widths, alignment, ellipsis, escaping, selection, fitting. */
#include "output/columns.h"
#include "test_output_fixture.h"

/* Adds a field with annotations given as "k=v" strings (NULL-terminated). */
static struct sonde_field *add(struct sonde_ds *ds, const char *name, enum sonde_kind kind, uint32_t flags,
                               const char *ann1, const char *ann2, const char *ann3)
{
	const char *ann[8] = {0};
	char buf[3][128];
	const char *in[3] = {ann1, ann2, ann3};
	size_t n = 0;
	struct sonde_field_opts o = {.sz = sizeof(o), .flags = flags, .annotations = ann};

	for (int i = 0; i < 3; i++) {
		char *eq;

		if (!in[i])
			continue;
		snprintf(buf[i], sizeof(buf[i]), "%s", in[i]);
		eq = strchr(buf[i], '=');
		*eq = 0;
		ann[n++] = buf[i];
		ann[n++] = eq + 1;
	}
	return sonde_ds_add_field(ds, name, kind, &o);
}

static struct sonde_outbuf ob;

static const char *header(struct columns *c)
{
	columns_write_header(c, &ob);
	return ob_text(&ob);
}

static const char *row(struct columns *c, const struct sonde_record *rec)
{
	columns_write_row(c, &ob, rec);
	return ob_text(&ob);
}

static void test_widths_and_alignment(void)
{
	struct sonde_ds *ds = sonde_ds_new("t", SONDE_DS_SINGLE);
	struct sonde_field *pid, *comm, *neg, *u64, *flag, *f, *blob, *arr, *hex, *hexneg;
	struct columns *c;
	struct sonde_record *rec;

	REQUIRE(ds);
	pid = add(ds, "pid", SONDE_KIND_UINT32, 0, "columns.alignment=right", "columns.minwidth=7", NULL);
	comm = add(ds, "comm", SONDE_KIND_STRING, 0, "columns.width=8", NULL, NULL);
	neg = add(ds, "neg", SONDE_KIND_INT8, 0, NULL, NULL, NULL);
	u64 = add(ds, "u64", SONDE_KIND_UINT64, 0, NULL, NULL, NULL);
	flag = add(ds, "flag", SONDE_KIND_BOOL, 0, "columns.width=type", NULL, NULL);
	f = add(ds, "f", SONDE_KIND_FLOAT32, 0, "columns.width=6", "columns.precision=1", NULL);
	blob = add(ds, "blob", SONDE_KIND_BYTES, 0, "columns.width=10", NULL, NULL);
	arr = add(ds, "arr", (enum sonde_kind)(SONDE_KIND_UINT16 | SONDE_KIND_ARRAY_OF), 0,
	          "columns.width=10", NULL, NULL);
	hex = add(ds, "hex", SONDE_KIND_UINT16, 0, "columns.hex=true", "columns.width=6", NULL);
	hexneg = add(ds, "hexneg", SONDE_KIND_INT8, 0, "columns.hex=true", "columns.width=6", NULL);
	REQUIRE(pid && comm && neg && u64 && flag && f && blob && arr && hex && hexneg);
	REQUIRE(columns_new(ds, NULL, &c) == 0);
	CHECK_INT(columns_count(c), 10);
	CHECK_INT(columns_width(c, 0), 10); /* uint32 */
	CHECK_INT(columns_width(c, 2), 4);  /* int8 */
	CHECK_INT(columns_width(c, 3), 20); /* uint64 */
	CHECK_STR(header(c),
	          "       PID COMM     NEG  U64                  FLAG  F      BLOB       ARR        "
	          "HEX    HEXNEG\n");
	rec = sonde_ds_record(ds);
	sonde_field_put_uint(pid, rec, 4242);
	sonde_field_put_string(comm, rec, "bash", 4);
	sonde_field_put_int(neg, rec, -128);
	sonde_field_put_uint(u64, rec, UINT64_MAX);
	sonde_field_put_bool(flag, rec, true);
	sonde_field_put_float(f, rec, 3.14159);
	sonde_field_set(blob, rec, "\x01\x02\x03\x04", 4);
	sonde_field_set(arr, rec, "\x01\x00\x02\x00\x03\x00", 6);
	sonde_field_put_uint(hex, rec, 0xbeef);
	sonde_field_put_int(hexneg, rec, -128);
	CHECK_STR(row(c, rec),
	          "      4242 bash     -128 18446744073709551615 true  3.1    <4 bytes>  <6 bytes>  "
	          "0xBEEF 0x-80\n");
	/* zero values */
	rec = sonde_ds_record(ds);
	CHECK_STR(row(c, rec),
	          "         0          0    0                    false 0.0    <0 bytes>  <0 bytes>  "
	          "0x0    0x0\n");
	columns_free(c);
	sonde_ds_free(ds);
}

static void test_ellipsis(void)
{
	struct sonde_ds *ds = sonde_ds_new("t", SONDE_DS_SINGLE);
	struct sonde_field *end, *start, *mid, *mid6, *none, *one, *zero, *right;
	struct columns *c;
	struct sonde_record *rec;

	REQUIRE(ds);
	end = add(ds, "end", SONDE_KIND_STRING, 0, "columns.width=5", NULL, NULL);
	start = add(ds, "start", SONDE_KIND_STRING, 0, "columns.width=5", "columns.ellipsis=start", NULL);
	mid = add(ds, "mid", SONDE_KIND_STRING, 0, "columns.width=5", "columns.ellipsis=middle", NULL);
	mid6 = add(ds, "mid6", SONDE_KIND_STRING, 0, "columns.width=6", "columns.ellipsis=middle", NULL);
	none = add(ds, "none", SONDE_KIND_STRING, 0, "columns.width=5", "columns.ellipsis=none", NULL);
	one = add(ds, "one", SONDE_KIND_STRING, 0, "columns.width=1", NULL, NULL);
	zero = add(ds, "zero", SONDE_KIND_STRING, 0, "columns.width=0", NULL, NULL);
	right = add(ds, "right", SONDE_KIND_STRING, 0, "columns.width=5", "columns.alignment=right",
	            "columns.ellipsis=start");
	REQUIRE(end && start && mid && mid6 && none && one && zero && right);
	REQUIRE(columns_new(ds, NULL, &c) == 0);
	/* headers are cut with an end ellipsis whatever the column's setting */
	CHECK_STR(header(c), "END   START MID   MID6   NONE  …  RIGHT\n");
	rec = sonde_ds_record(ds);
	sonde_field_put_string(end, rec, "abcdefgh", 8);
	sonde_field_put_string(start, rec, "abcdefgh", 8);
	sonde_field_put_string(mid, rec, "abcdefgh", 8);
	sonde_field_put_string(mid6, rec, "abcdefgh", 8);
	sonde_field_put_string(none, rec, "abcdefgh", 8);
	sonde_field_put_string(one, rec, "abcdefgh", 8);
	sonde_field_put_string(zero, rec, "abcdefgh", 8);
	sonde_field_put_string(right, rec, "abcdefgh", 8);
	CHECK_STR(row(c, rec), "abcd… …efgh ab…gh abc…gh abcde …  …efgh\n");
	/* exactly the width: untouched; shorter: padded by alignment */
	sonde_field_put_string(end, rec, "abcde", 5);
	sonde_field_put_string(right, rec, "ab", 2);
	sonde_field_put_string(one, rec, "a", 1);
	CHECK(strncmp(row(c, rec), "abcde ", 6) == 0);
	CHECK(strstr(row(c, rec), " a     ab\n") != NULL);
	/* code points, not bytes: multi-byte text is cut between characters */
	sonde_field_put_string(end, rec, "h\xc3\xa9llo w\xc3\xb6rld", 13);
	sonde_field_put_string(start, rec, "h\xc3\xa9llo w\xc3\xb6rld", 13);
	sonde_field_put_string(
	    mid, rec, "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe7\xac\xa6\xe4\xb8\xb2\xe5\x95\x8a", 18);
	sonde_field_put_string(none, rec, "\xc3\xa9\xc3\xa9\xc3\xa9", 6); /* 3 code points: fits */
	CHECK_STR(
	    row(c, rec),
	    "h\xc3\xa9ll\xe2\x80\xa6 \xe2\x80\xa6\xc3\xb6rld \xe4\xb8\xad\xe6\x96\x87\xe2\x80\xa6\xe4\xb8\xb2"
	    "\xe5\x95\x8a abc…gh \xc3\xa9\xc3\xa9\xc3\xa9   a     ab\n");
	columns_free(c);
	sonde_ds_free(ds);
}

static void test_escaping(void)
{
	struct sonde_ds *ds = sonde_ds_new("t", SONDE_DS_SINGLE);
	struct sonde_field *s, *cs;
	struct columns *c;
	struct sonde_record *rec;

	REQUIRE(ds);
	s = add(ds, "s", SONDE_KIND_STRING, 0, "columns.width=10", NULL, NULL);
	cs = add(ds, "cs", SONDE_KIND_CSTRING, 0, "columns.width=6", NULL, NULL);
	REQUIRE(s && cs);
	REQUIRE(columns_new(ds, NULL, &c) == 0);
	rec = sonde_ds_record(ds);
	sonde_field_put_string(s, rec, "a\"b\\c", 5);
	sonde_field_put_string(cs, rec, "ab\0cd", 5); /* a CString ends at its NUL */
	CHECK_STR(row(c, rec), "a\\\"b\\\\c    ab\n");
	sonde_field_put_string(s, rec, "tab\there\n", 9);
	CHECK_STR(row(c, rec), "tab\\there… ab\n");
	/* invalid UTF-8 shows as \x escapes and is cut like any text */
	sonde_field_put_string(s, rec,
	                       "ab\xff\xfe"
	                       "cd",
	                       6);
	CHECK_STR(row(c, rec), "ab\\xff\\xf… ab\n");
	sonde_field_put_string(s, rec, "\xe2\x80\x8bzw", 5);
	CHECK_STR(row(c, rec), "\\u200bzw   ab\n");
	/* empty strings: no blanks end a line */
	sonde_field_put_string(s, rec, "", 0);
	sonde_field_put_string(cs, rec, "", 0);
	CHECK_STR(row(c, rec), "\n");
	columns_free(c);
	sonde_ds_free(ds);
}

static int warnings;

static void count_log(enum sonde_log_level level, const char *msg, void *arg)
{
	char *last = arg;

	warnings++;
	snprintf(last, 256, "%s", msg);
}

static void test_alias_replace_header(void)
{
	struct sonde_ds *ds = sonde_ds_new("t", SONDE_DS_SINGLE);
	struct sonde_field *ep, *addr, *al, *longname, *bad;
	struct columns *c;
	struct sonde_record *rec;
	struct sonde_field_opts o = {.sz = sizeof(o)};
	static const char *const ep_ann[] = {"columns.replace", "ep.addr", "columns.width", "12", NULL};
	char last[256] = "";

	REQUIRE(ds);
	o.annotations = ep_ann;
	ep = sonde_ds_add_field(ds, "ep", SONDE_KIND_BYTES, &o);
	o.annotations = NULL;
	o.parent = ep;
	o.flags = SONDE_FIELD_HIDDEN;
	addr = sonde_ds_add_field(ds, "addr", SONDE_KIND_STRING, &o);
	al = add(ds, "x", SONDE_KIND_UINT8, 0, "columns.alias=my.alias", NULL, NULL);
	longname = add(ds, "verylongfieldname", SONDE_KIND_STRING, 0, "columns.width=6", NULL, NULL);
	bad = add(ds, "bad", SONDE_KIND_STRING, 0, "columns.width=wide", "columns.alignment=center",
	          "columns.ellipsis=both");
	REQUIRE(ep && addr && al && longname && bad);
	warnings = 0;
	sonde_log_set_sink(count_log, last);
	REQUIRE(columns_new(ds, NULL, &c) == 0);
	sonde_log_set_sink(NULL, NULL);
	CHECK_INT(warnings, 3); /* width, alignment, ellipsis of "bad" */
	CHECK(strstr(last, "columns.ellipsis \"both\"") != NULL);
	CHECK_INT(columns_count(c), 4); /* ep.addr is hidden */
	CHECK_STR(header(c), "EP           MY\xe2\x80\xa6 VERYL\xe2\x80\xa6 BAD\n");
	rec = sonde_ds_record(ds);
	sonde_field_set(ep, rec, "\x0a\x00\x00\x01", 4);
	sonde_field_put_string(addr, rec, "10.0.0.1", 8);
	sonde_field_put_uint(al, rec, 7);
	sonde_field_put_string(bad, rec, "0123456789abcdefXYZ", 19);
	CHECK_STR(row(c, rec), "10.0.0.1     7          0123456789abcde\xe2\x80\xa6\n");
	columns_request(c);
	CHECK(sonde_field_is_requested(addr));
	CHECK(sonde_field_is_requested(al));
	columns_free(c);
	sonde_ds_free(ds);
}

/* Field selection: defaults by order, explicit lists, +/-, errors. */
static struct sonde_ds *sel_ds(void)
{
	struct sonde_ds *ds = sonde_ds_new("sel", SONDE_DS_SINGLE);
	struct sonde_field_opts o = {.sz = sizeof(o)};
	struct sonde_field *g;

	add(ds, "a", SONDE_KIND_UINT8, 0, NULL, NULL, NULL);
	add(ds, "b", SONDE_KIND_UINT8, 0, NULL, NULL, NULL);
	o.has_order = true;
	o.order = 100;
	sonde_ds_add_field(ds, "late", SONDE_KIND_UINT8, &o);
	o.order = -10;
	sonde_ds_add_field(ds, "early", SONDE_KIND_UINT8, &o);
	o.has_order = false;
	add(ds, "c", SONDE_KIND_UINT8, SONDE_FIELD_HIDDEN, NULL, NULL, NULL);
	o.flags = SONDE_FIELD_EMPTY;
	g = sonde_ds_add_field(ds, "grp", SONDE_KIND_INVALID, &o);
	o.flags = 0;
	o.parent = g;
	sonde_ds_add_field(ds, "in", SONDE_KIND_UINT8, &o);
	sonde_field_unreference(add(ds, "old", SONDE_KIND_UINT8, 0, NULL, NULL, NULL), false);
	return ds;
}

static const char *selected(struct sonde_ds *ds, const char *spec, int *err)
{
	static char names[256];
	struct columns *c = NULL;

	names[0] = 0;
	*err = columns_new(ds, spec, &c);
	if (*err)
		return "";
	for (size_t i = 0; i < columns_count(c); i++)
		snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s", i ? "," : "",
		         sonde_field_full_name(columns_field(c, i)));
	columns_free(c);
	return names;
}

static void test_selection(void)
{
	struct sonde_ds *ds = sel_ds();
	char last[256] = "";
	int err;

	REQUIRE(ds);
	/* default: visible, non-empty, referenced; stable by order */
	CHECK_STR(selected(ds, NULL, &err), "early,a,b,grp.in,late");
	CHECK_INT(err, 0);
	CHECK_STR(selected(ds, "", &err), "early,a,b,grp.in,late");
	CHECK_STR(selected(ds, "b,a", &err), "b,a");
	CHECK_STR(selected(ds, " b , a ,b", &err), "b,a");
	CHECK_STR(selected(ds, "c", &err), "c"); /* hidden fields can be asked for */
	CHECK_STR(selected(ds, "+c", &err), "early,a,b,grp.in,late,c");
	CHECK_STR(selected(ds, "-a,-late", &err), "early,b,grp.in");
	CHECK_STR(selected(ds, "+a", &err), "early,a,b,grp.in,late");
	CHECK_STR(selected(ds, "b,+c,-b", &err), "c");
	CHECK_STR(selected(ds, "-c", &err), "early,a,b,grp.in,late");
	CHECK_STR(selected(ds, "A,GRP.IN", &err), "a,grp.in"); /* case-insensitive fallback */
	CHECK_INT(err, 0);

	sonde_log_set_sink(count_log, last);
	CHECK_STR(selected(ds, "a,nope", &err), "");
	CHECK_INT(err, -EINVAL);
	CHECK(strstr(last, "unknown field \"nope\"") != NULL);
	CHECK(strstr(last, "\"sel\"") != NULL);
	selected(ds, "-nope", &err);
	CHECK_INT(err, -EINVAL);
	selected(ds, "+", &err);
	CHECK_INT(err, -EINVAL);
	selected(ds, "old", &err); /* unreferenced: not there */
	CHECK_INT(err, -EINVAL);
	CHECK(strstr(last, "unknown field \"old\"") != NULL);
	selected(ds, "grp", &err);
	CHECK_INT(err, -EINVAL);
	CHECK(strstr(last, "\"grp\"") != NULL && strstr(last, "no value") != NULL);
	sonde_log_set_sink(NULL, NULL);
	sonde_ds_free(ds);
}

static void test_fit(void)
{
	struct sonde_ds *ds = sonde_ds_new("fit", SONDE_DS_SINGLE);
	struct columns *c;

	REQUIRE(ds);
	add(ds, "a", SONDE_KIND_STRING, 0, "columns.width=10", NULL, NULL);
	add(ds, "b", SONDE_KIND_STRING, 0, "columns.width=20", "columns.maxwidth=12", NULL);
	add(ds, "c", SONDE_KIND_STRING, 0, "columns.width=5", "columns.fixed=true", NULL);
	add(ds, "d", SONDE_KIND_STRING, 0, "columns.width=10", "columns.minwidth=8", NULL);
	REQUIRE(columns_new(ds, NULL, &c) == 0);
	/* configured widths, clamped to max */
	CHECK_INT(columns_width(c, 0), 10);
	CHECK_INT(columns_width(c, 1), 12);
	CHECK_INT(columns_width(c, 2), 5);
	CHECK_INT(columns_width(c, 3), 10);
	columns_fit(c, 40);
	CHECK_INT(columns_width(c, 0), 10);
	CHECK_INT(columns_width(c, 1), 12);
	CHECK_INT(columns_width(c, 2), 5);
	CHECK_INT(columns_width(c, 3), 10);
	CHECK_STR(header(c), "A          B            C     D\n");
	columns_fit(c, 100); /* b stops at its max, the rest share the space */
	CHECK_INT(columns_width(c, 0) + columns_width(c, 1) + columns_width(c, 2) + columns_width(c, 3) + 3,
	          100);
	CHECK_INT(columns_width(c, 1), 12);
	CHECK_INT(columns_width(c, 2), 5);
	CHECK_INT(columns_width(c, 0), 40);
	CHECK_INT(columns_width(c, 3), 40);
	columns_fit(c, 20);
	CHECK_INT(columns_width(c, 0), 2);
	CHECK_INT(columns_width(c, 1), 2);
	CHECK_INT(columns_width(c, 2), 5);
	CHECK_INT(columns_width(c, 3), 8);
	CHECK_STR(header(c), "A  B  C     D\n");
	columns_fit(c, 10); /* too narrow: minimums win */
	CHECK_INT(columns_width(c, 0), 1);
	CHECK_INT(columns_width(c, 1), 1);
	CHECK_INT(columns_width(c, 2), 5);
	CHECK_INT(columns_width(c, 3), 8);
	columns_fit(c, 0);
	CHECK_INT(columns_width(c, 1), 12);
	columns_free(c);
	sonde_ds_free(ds);
}

static void test_fixture_defaults(void)
{
	struct fixture fx;
	struct columns *c;
	struct raw_event ev;
	struct sonde_record *rec;

	REQUIRE(fixture_init(&fx, SONDE_DS_SINGLE));
	REQUIRE(columns_new(fx.ds, NULL, &c) == 0);
	CHECK_STR(header(c),
	          "PROC             PROC.PID   PROC.COMM        NAME             I8   U8  I16    U16   "
	          "I32         U32        I64                  U64                  F32              "
	          "F64              FLAG             ARR              STR              SKIPME     BLOB\n");
	rec = sonde_ds_record(fx.ds);
	fixture_event(&ev);
	fixture_fill(&fx, rec, &ev, "x", 1);
	CHECK_STR(row(c, rec),
	          "<20 bytes>       42         bash             hello            -128 255 -32768 65535 "
	          "-2147483648 4294967295 -9223372036854775808 18446744073709551615 0.10             "
	          "100000000000000… true             <12 bytes>       x                7          <4 "
	          "bytes>\n");
	columns_free(c);
	fixture_fini(&fx);
}

static void cleanup(void)
{
	outbuf_fini(&ob);
}

static void setup(void)
{
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
}

/* Two columns that would say USER are told apart by their full names; a
 * --fields that removes every column is an error, not an empty table. */
static void test_distinct_headers_and_empty_selection(void)
{
	struct sonde_ds *ds = sonde_ds_new("t", SONDE_DS_SINGLE);
	struct sonde_field *creds, *a, *b;
	struct sonde_field_opts po = {.sz = sizeof(po), .flags = SONDE_FIELD_EMPTY};
	struct columns *c = NULL;

	REQUIRE(ds);
	creds = sonde_ds_add_field(ds, "creds", SONDE_KIND_INVALID, &po);
	REQUIRE(creds);
	{
		const char *ann[] = {"columns.alias", "user", "columns.width", "10", NULL};
		struct sonde_field_opts o = {.sz = sizeof(o), .parent = creds, .annotations = ann};

		a = sonde_ds_add_field(ds, "user", SONDE_KIND_STRING, &o);
	}
	b = add(ds, "user", SONDE_KIND_STRING, 0, "columns.width=8", NULL, NULL);
	REQUIRE(a && b);
	REQUIRE(columns_new(ds, "creds.user,user", &c) == 0);
	CHECK_STR(header(c), "CREDS.USER USER\n");
	columns_free(c);
	c = NULL;
	CHECK_INT(columns_new(ds, "-creds.user,-user", &c), -EINVAL);
	CHECK(c == NULL);
	sonde_ds_free(ds);
}

TEST_MAIN(TEST(setup), TEST(test_distinct_headers_and_empty_selection), TEST(test_widths_and_alignment),
          TEST(test_ellipsis), TEST(test_escaping), TEST(test_alias_replace_header), TEST(test_selection),
          TEST(test_fit), TEST(test_fixture_defaults), TEST(cleanup))
