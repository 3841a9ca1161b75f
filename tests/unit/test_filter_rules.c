/* Filter rules: parsing of --filter strings (every operator × kind, edge
 * values, escapes, errors) and evaluation against one record. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include <sonde/sonde.h>

#include "filter/rules.h"
#include "testlib.h"

struct ev {
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
	char comm[16];
	int32_t arr[2];
	uint8_t blob[4];
};

#define M(n, k, f)                                                                                           \
	{                                                                                                    \
		n, -1, k, offsetof(struct ev, f), sizeof(((struct ev *)0)->f), 0, NULL, NULL                 \
	}

static struct sonde_ds *ds;
static struct sonde_field *str_field;
static struct sonde_record *rec;
static struct ev ev;

/* A sealed DataSource with one field per kind and its record pointing at `ev`. */
static void setup(void)
{
	static const struct sonde_static_field members[] = {
	    M("i8", SONDE_KIND_INT8, i8),
	    M("u8", SONDE_KIND_UINT8, u8),
	    M("i16", SONDE_KIND_INT16, i16),
	    M("u16", SONDE_KIND_UINT16, u16),
	    M("i32", SONDE_KIND_INT32, i32),
	    M("u32", SONDE_KIND_UINT32, u32),
	    M("i64", SONDE_KIND_INT64, i64),
	    M("u64", SONDE_KIND_UINT64, u64),
	    M("f32", SONDE_KIND_FLOAT32, f32),
	    M("f64", SONDE_KIND_FLOAT64, f64),
	    M("flag", SONDE_KIND_BOOL, flag),
	    M("comm", SONDE_KIND_CSTRING, comm),
	    M("arr", (enum sonde_kind)(SONDE_KIND_INT32 | SONDE_KIND_ARRAY_OF), arr),
	    M("blob", SONDE_KIND_BYTES, blob),
	};
	struct sonde_field *made[sizeof(members) / sizeof(members[0])];

	ds = sonde_ds_new("events", SONDE_DS_SINGLE);
	if (!ds || sonde_ds_add_static_fields(ds, sizeof(struct ev), members,
	                                      sizeof(members) / sizeof(members[0]), made))
		abort();
	str_field = sonde_ds_add_field(ds, "str", SONDE_KIND_STRING, NULL);
	if (!str_field || sonde_ds_seal(ds))
		abort();
	rec = sonde_ds_record(ds);
	memset(&ev, 0, sizeof(ev));
	ev.i8 = INT8_MIN;
	ev.u8 = UINT8_MAX;
	ev.i16 = INT16_MIN;
	ev.u16 = UINT16_MAX;
	ev.i32 = INT32_MIN;
	ev.u32 = UINT32_MAX;
	ev.i64 = INT64_MIN;
	ev.u64 = UINT64_MAX;
	ev.f32 = 0.1f;
	ev.f64 = 1e21;
	ev.flag = 1;
	strcpy(ev.comm, "bash");
	rec->payloads[sonde_field_payload_index(made[0])].data = &ev;
	rec->payloads[sonde_field_payload_index(made[0])].len = sizeof(ev);
	sonde_field_put_string(str_field, rec, "", 0);
}

static void teardown(void)
{
	sonde_ds_free(ds);
	ds = NULL;
}

static void set_str(const char *s, size_t len)
{
	sonde_field_put_string(str_field, rec, s, (uint32_t)len);
}

/* Whether `spec` parses and the record matches it. A parse error fails the test. */
static int matches_at(const char *spec, int line)
{
	struct filter_rules *r = filter_rules_new(ds);
	char err[512] = "";
	int ret;

	if (filter_rules_add(r, spec, err, sizeof(err))) {
		fprintf(stderr, "%s:%d: \"%s\" does not parse: %s\n", __FILE__, line, spec, err);
		test_failures++;
		ret = -1;
	} else {
		ret = filter_rules_match(r, rec);
	}
	filter_rules_free(r);
	return ret;
}
#define MATCHES(spec) CHECK_INT(matches_at(spec, __LINE__), 1)
#define REJECTS(spec) CHECK_INT(matches_at(spec, __LINE__), 0)

/* The error of a spec that must not parse (static buffer; "" if it parsed). */
static const char *error_of(const char *spec)
{
	static char err[512];
	struct filter_rules *r = filter_rules_new(ds);
	int ret;

	err[0] = 0;
	ret = filter_rules_add(r, spec, err, sizeof(err));
	if (!ret)
		err[0] = 0;
	else if (ret != -EINVAL)
		snprintf(err, sizeof(err), "unexpected return %d", ret);
	if (filter_rules_count(r) != 0)
		snprintf(err, sizeof(err), "rules kept after an error");
	filter_rules_free(r);
	return err;
}
#define BAD(spec, needle)                                                                                    \
	do {                                                                                                 \
		const char *_e = error_of(spec);                                                             \
		if (!*_e || !strstr(_e, needle)) {                                                           \
			fprintf(stderr, "%s:%d: \"%s\": error \"%s\", want one containing \"%s\"\n",         \
			        __FILE__, __LINE__, spec, _e, needle);                                       \
			test_failures++;                                                                     \
		}                                                                                            \
	} while (0)

/* ---- integers ---- */

static void test_signed_edges(void)
{
	setup();
	/* int8 = INT8_MIN */
	MATCHES("i8==-128");
	MATCHES("i8=-128");
	REJECTS("i8!=-128");
	MATCHES("i8<-127");
	REJECTS("i8<-128");
	MATCHES("i8<=-128");
	REJECTS("i8>-128");
	MATCHES("i8>=-128");
	MATCHES("i8<127");
	MATCHES("i8!=+5");
	BAD("i8==-129", "out of range");
	BAD("i8==128", "out of range");
	BAD("i8==1.5", "not a decimal integer");
	BAD("i8==0x10", "not a decimal integer");
	BAD("i8==", "not a decimal integer");
	BAD("i8==-", "not a decimal integer");
	/* int16 / int32 */
	MATCHES("i16==-32768");
	BAD("i16==-32769", "out of range");
	BAD("i16==32768", "out of range");
	MATCHES("i32==-2147483648");
	MATCHES("i32<-2147483647");
	BAD("i32==2147483648", "out of range");
	/* int64 = INT64_MIN */
	MATCHES("i64==-9223372036854775808");
	MATCHES("i64<9223372036854775807");
	REJECTS("i64>-9223372036854775808");
	BAD("i64==-9223372036854775809", "out of range");
	BAD("i64==9223372036854775808", "out of range");
	ev.i64 = INT64_MAX;
	MATCHES("i64==9223372036854775807");
	MATCHES("i64>=9223372036854775807");
	MATCHES("i64>-9223372036854775808");
	teardown();
}

static void test_unsigned_edges(void)
{
	setup();
	/* uint8 = 255 */
	MATCHES("u8==255");
	MATCHES("u8>254");
	REJECTS("u8>255");
	MATCHES("u8>=255");
	REJECTS("u8<255");
	MATCHES("u8<=255");
	MATCHES("u8!=0");
	BAD("u8==256", "out of range");
	BAD("u8==1000", "out of range");
	BAD("u8==-1", "negative value for an unsigned field");
	BAD("u8==-0", "negative value for an unsigned field");
	BAD("u8==+1", "not a decimal integer");
	BAD("u8==abc", "not a decimal integer");
	BAD("u8==", "not a decimal integer");
	MATCHES("u16==65535");
	BAD("u16==65536", "out of range");
	MATCHES("u32==4294967295");
	BAD("u32==4294967296", "out of range");
	/* uint64 = UINT64_MAX: no signed detour */
	MATCHES("u64==18446744073709551615");
	MATCHES("u64>18446744073709551614");
	MATCHES("u64>9223372036854775807");
	REJECTS("u64<1");
	BAD("u64==18446744073709551616", "out of range");
	BAD("u64==99999999999999999999999", "out of range");
	BAD("u64==-1", "negative value");
	ev.u64 = 0;
	MATCHES("u64==0");
	MATCHES("u64<18446744073709551615");
	/* values are decimal: leading zeros are not octal */
	ev.u32 = 10;
	MATCHES("u32==010");
	MATCHES("u32== 10 "); /* blanks around numbers are tolerated */
	teardown();
}

static void test_canonical_values(void)
{
	struct filter_rules *r;
	char err[256];

	setup();
	r = filter_rules_new(ds);
	CHECK_INT(filter_rules_add(r, "u32==007,i8=+5,i64<-0,comm!=x y,f64>=1.50", err, sizeof(err)), 0);
	REQUIRE(filter_rules_count(r) == 5);
	CHECK_STR(filter_rule_value(r, 0), "7");
	CHECK_INT(filter_rule_op(r, 0), FILTER_EQ);
	CHECK_STR(sonde_field_full_name(filter_rule_field(r, 0)), "u32");
	CHECK_STR(filter_rule_value(r, 1), "5");
	CHECK_INT(filter_rule_op(r, 1), FILTER_EQ);
	CHECK_STR(filter_rule_value(r, 2), "0");
	CHECK_INT(filter_rule_op(r, 2), FILTER_LT);
	CHECK_STR(filter_rule_value(r, 3), "x y");
	CHECK_INT(filter_rule_op(r, 3), FILTER_NE);
	CHECK_STR(filter_rule_value(r, 4), "1.50");
	CHECK_INT(filter_rule_op(r, 4), FILTER_GE);
	filter_rules_free(r);
	teardown();
}

/* ---- floats and bools ---- */

static void test_floats(void)
{
	setup();
	/* float32 compares in its own precision: 0.1 is 0.1f */
	MATCHES("f32==0.1");
	REJECTS("f32!=0.1");
	MATCHES("f32<0.2");
	MATCHES("f32<=0.1");
	MATCHES("f32>0.05");
	MATCHES("f32>=0.1");
	MATCHES("f32>-1e38");
	BAD("f32==1e39", "out of range");
	BAD("f32==abc", "not a number");
	BAD("f32==", "not a number");
	BAD("f32~0", "only apply to string fields");
	MATCHES("f64==1e21");
	MATCHES("f64==1000000000000000000000");
	REJECTS("f64!=1e21");
	MATCHES("f64>1e20");
	MATCHES("f64>=1e21");
	REJECTS("f64<1e21");
	MATCHES("f64<=1e21");
	MATCHES("f64<inf");
	BAD("f64==1e999", "out of range");
	BAD("f64==1.2.3", "not a number");
	/* NaN equals nothing and orders with nothing */
	ev.f64 = NAN;
	REJECTS("f64==1");
	MATCHES("f64!=1");
	REJECTS("f64<1");
	REJECTS("f64>=1");
	REJECTS("f64==nan");
	teardown();
}

static void test_bools(void)
{
	setup();
	MATCHES("flag==true");
	MATCHES("flag==1");
	MATCHES("flag=true");
	REJECTS("flag==false");
	REJECTS("flag==0");
	MATCHES("flag!=false");
	REJECTS("flag!=true");
	ev.flag = 0;
	MATCHES("flag==false");
	MATCHES("flag!=1");
	BAD("flag<1", "only supports == and !=");
	BAD("flag>=true", "only supports == and !=");
	BAD("flag~t", "only apply to string fields");
	BAD("flag==yes", "not a bool");
	BAD("flag==True", "not a bool");
	BAD("flag==", "not a bool");
	teardown();
}

/* ---- strings ---- */

static void test_strings(void)
{
	setup();
	/* CString stops at the first NUL */
	MATCHES("comm==bash");
	REJECTS("comm==bas");
	MATCHES("comm==bash "); /* blanks around the operator and value go, as upstream */
	MATCHES("comm == bash");
	REJECTS("comm!=bash");
	MATCHES("comm!=zsh");
	MATCHES("comm<bat");
	MATCHES("comm<bashx"); /* a prefix sorts first */
	REJECTS("comm<bash");
	MATCHES("comm<=bash");
	MATCHES("comm>bas");
	MATCHES("comm>BASH"); /* byte order: lower case after upper case */
	MATCHES("comm>=bash");
	REJECTS("comm>bash");
	MATCHES("comm~^ba");
	MATCHES("comm~sh$");
	MATCHES("comm~a.h");
	REJECTS("comm~^sh");
	REJECTS("comm!~^ba");
	MATCHES("comm!~zsh");
	/* string values keep their inner blanks and may contain operator characters */
	set_str("a =b<c", 6);
	MATCHES("str== a =b<c ");
	REJECTS("str==a=b<c");
	MATCHES("str~=b<");
	/* what a field of its size can never hold is an error, not a silent empty run */
	BAD("comm==a-name-of-sixteen", "can never match: field \"comm\" holds at most 16 characters");
	MATCHES("comm!=a-name-of-sixteen");
	/* an empty rule is a mistake, not "match everything" */
	BAD(",", "empty rule");
	BAD("comm==bash,,u32==1", "empty rule");
	BAD(" ", "empty rule");
	teardown();
}

static void test_empty_strings(void)
{
	setup();
	/* the empty value */
	MATCHES("str==");
	REJECTS("str!=");
	MATCHES("str<a");
	REJECTS("str>");
	MATCHES("str>=");
	MATCHES("str~^$");
	MATCHES("str~");
	REJECTS("str!~");
	set_str("x", 1);
	REJECTS("str==");
	MATCHES("str!=");
	MATCHES("str>");
	memset(ev.comm, 0, sizeof(ev.comm));
	MATCHES("comm==");
	/* a full CString without NUL is read to its size */
	memcpy(ev.comm, "0123456789abcdef", 16);
	MATCHES("comm==0123456789abcdef");
	teardown();
}

static void test_non_utf8(void)
{
	static const char bytes[] = "\xff\xfe"
	                            "abc\x80";

	setup();
	set_str(bytes, 6);
	MATCHES("str==\xff\xfe"
	        "abc\x80");
	REJECTS("str==\xff\xfe"
	        "abc");
	MATCHES("str>\x7f"); /* bytes compare unsigned */
	MATCHES("str>~");
	MATCHES("str~abc"); /* invalid UTF-8 in the subject does not stop a search */
	MATCHES("str!~^abc");
	/* an invalid UTF-8 pattern is a bad regex, not a crash */
	BAD("str~\xff", "invalid regular expression");
	teardown();
}

static void test_regex(void)
{
	setup();
	set_str("/tmp/sonde-test-42.txt\n", 23);
	MATCHES("str~^/tmp/sonde-test-[0-9]+\\.txt");
	MATCHES("str~test-\\d{2}");
	REJECTS("str~txt$"); /* as in RE2, $ does not match before a final newline */
	MATCHES("str~txt\\n$");
	MATCHES("str~(?m)txt$");
	MATCHES("str~(?i)SONDE");
	REJECTS("str~SONDE");
	MATCHES("str!~^/etc/");
	BAD("str~a(", "invalid regular expression \"a(\"");
	BAD("str~a(", "missing closing parenthesis");
	BAD("str~[z-a]", "invalid regular expression");
	BAD("str~*x", "invalid regular expression");
	BAD("str!~(?<n", "invalid regular expression");
	BAD("u32~1", "only apply to string fields; \"u32\" is uint32");
	BAD("i64!~1", "only apply to string fields");
	teardown();
}

/* ---- syntax ---- */

static void test_escaped_commas(void)
{
	struct filter_rules *r;
	char err[256];

	setup();
	set_str("a,b", 3);
	MATCHES("str==a\\,b");
	MATCHES("str==a\\,b,u8==255");
	REJECTS("str==a\\,b,u8==254");
	REJECTS("str==a");
	MATCHES("str~^a\\,b$");
	MATCHES("str~^a\\x2cb$"); /* other backslashes stay for the regex */
	set_str("a\\", 2);
	MATCHES("str==a\\"); /* a trailing backslash is literal */
	set_str("a\\,b", 4);
	MATCHES("str==a\\\\,b"); /* backslash, then an escaped comma */
	r = filter_rules_new(ds);
	CHECK_INT(filter_rules_add(r, "str==x\\,y\\,z,comm==bash", err, sizeof(err)), 0);
	CHECK_INT(filter_rules_count(r), 2);
	CHECK_STR(filter_rule_value(r, 0), "x,y,z");
	filter_rules_free(r);
	teardown();
}

static void test_rule_lists(void)
{
	struct filter_rules *r;
	char err[256];

	setup();
	MATCHES("");
	BAD(",", "empty rule in filter \",\"");
	BAD(" , ,", "empty rule");
	MATCHES("u8==255,i8==-128,comm==bash");
	REJECTS("u8==255,i8==-127,comm==bash");
	MATCHES(" u8==255 , comm==bash"); /* blanks around field names */
	BAD("u8==255,,comm==bash", "empty rule");
	MATCHES("u8==255,");
	/* rules add up over several calls */
	r = filter_rules_new(ds);
	CHECK_INT(filter_rules_add(r, "u8==255", err, sizeof(err)), 0);
	CHECK_INT(filter_rules_add(r, "comm==bash", err, sizeof(err)), 0);
	CHECK(filter_rules_match(r, rec));
	CHECK_INT(filter_rules_add(r, "comm==zsh", err, sizeof(err)), 0);
	CHECK(!filter_rules_match(r, rec));
	/* a failed add keeps the rules before it */
	CHECK_INT(filter_rules_add(r, "u8==1,nope==1", err, sizeof(err)), -EINVAL);
	CHECK_INT(filter_rules_count(r), 3);
	filter_rules_free(r);
	/* field names fall back to case-insensitive lookup */
	MATCHES("COMM==bash");
	teardown();
}

static void test_syntax_errors(void)
{
	setup();
	CHECK_STR(error_of("nope==1"), "unknown field \"nope\" in \"nope==1\"");
	CHECK_STR(error_of("u8==255,nope==1"), "unknown field \"nope\" in \"nope==1\"");
	BAD("u8", "missing operator");
	BAD("u8 255", "missing operator");
	BAD("==1", "missing field name in \"==1\"");
	BAD(" ~x", "missing field name");
	BAD("u8!1", "invalid operator in \"u8!1\"");
	BAD("u8=<1", "invalid value \"<1\" for uint8 field \"u8\"");
	BAD("u8===1", "invalid value \"=1\"");
	BAD("arr==1", "field \"arr\" (array) cannot be filtered");
	BAD("blob==1", "field \"blob\" (bytes) cannot be filtered");
	BAD("u8==1\\,2", "invalid value \"1,2\"");
	teardown();
}

/* ---- speed ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void bench(const char *spec, bool want)
{
	struct filter_rules *r = filter_rules_new(ds);
	char err[256];
	size_t n = 5000000, kept = 0;
	double t0, dt;

	REQUIRE(filter_rules_add(r, spec, err, sizeof(err)) == 0);
	t0 = now_s();
	for (size_t i = 0; i < n; i++) {
		ev.u32 = (uint32_t)i;
		kept += filter_rules_match(r, rec);
	}
	dt = now_s() - t0;
	CHECK_INT(kept != 0, want);
	printf("filter rules %-34s %6.1f M records/s\n", spec, (double)n / dt / 1e6);
	filter_rules_free(r);
}

/* Prints rates only: no timing assertions. */
static void test_speed(void)
{
	setup();
	bench("u32==4294967295", false);
	bench("comm==zsh", false);
	bench("u8==255,i8==-128,comm==zsh", false);
	bench("comm~^zs", false);
	bench("comm!=zsh", true);
	teardown();
}

TEST_MAIN(TEST(test_signed_edges), TEST(test_unsigned_edges), TEST(test_canonical_values), TEST(test_floats),
          TEST(test_bools), TEST(test_strings), TEST(test_empty_strings), TEST(test_non_utf8),
          TEST(test_regex), TEST(test_escaped_commas), TEST(test_rule_lists), TEST(test_syntax_errors),
          TEST(test_speed))
