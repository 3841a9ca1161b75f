/* Number renderings and Go-style cell quoting. */
#include <float.h>
#include <math.h>

#include "output/goquote.h"
#include "output/numfmt.h"
#include "test_output_fixture.h"

static const char *json_f(double v, int bits)
{
	static char buf[NUMBUF + 1];
	size_t n = fmt_float_json(buf, v, bits);

	buf[n] = 0;
	return buf;
}

static const char *g_f(double v, int bits)
{
	static char buf[NUMBUF + 1];
	size_t n = fmt_float_g(buf, v, bits);

	buf[n] = 0;
	return buf;
}

static const char *fixed_f(double v, int prec)
{
	static char buf[FIXEDBUF + 1];
	size_t n = fmt_float_fixed(buf, v, prec);

	buf[n] = 0;
	return buf;
}

static void test_integers(void)
{
	char buf[32];

	buf[fmt_u64(buf, 0)] = 0;
	CHECK_STR(buf, "0");
	buf[fmt_u64(buf, 9)] = 0;
	CHECK_STR(buf, "9");
	buf[fmt_u64(buf, 10)] = 0;
	CHECK_STR(buf, "10");
	buf[fmt_u64(buf, 100)] = 0;
	CHECK_STR(buf, "100");
	buf[fmt_u64(buf, UINT64_MAX)] = 0;
	CHECK_STR(buf, "18446744073709551615");
	buf[fmt_i64(buf, INT64_MIN)] = 0;
	CHECK_STR(buf, "-9223372036854775808");
	buf[fmt_i64(buf, INT64_MAX)] = 0;
	CHECK_STR(buf, "9223372036854775807");
	buf[fmt_i64(buf, -1)] = 0;
	CHECK_STR(buf, "-1");
	buf[fmt_hex_upper(buf, 0)] = 0;
	CHECK_STR(buf, "0");
	buf[fmt_hex_upper(buf, 0xdeadBEEF)] = 0;
	CHECK_STR(buf, "DEADBEEF");
	/* every digit count, at and around its powers of ten (the chunk boundaries) */
	for (uint64_t p10 = 1;; p10 *= 10) {
		uint64_t around[5] = {p10 - 1, p10, p10 + 1, p10, p10};

		if (p10 <= UINT64_MAX / 10) {
			around[3] = p10 * 5;
			around[4] = p10 * 10 - 2;
		}
		for (size_t i = 0; i < 5; i++) {
			char want[32];

			snprintf(want, sizeof(want), "%llu", (unsigned long long)around[i]);
			buf[fmt_u64(buf, around[i])] = 0;
			CHECK_STR(buf, want);
		}
		if (p10 > UINT64_MAX / 10)
			break;
	}
	for (uint64_t v = 1, k = 0; k < 100000;
	     k++, v = v * 6364136223846793005ULL + 1442695040888963407ULL) {
		char want[32];
		uint64_t x = v >> (k % 64);

		snprintf(want, sizeof(want), "%llu", (unsigned long long)x);
		buf[fmt_u64(buf, x)] = 0;
		if (strcmp(buf, want) != 0) {
			CHECK_STR(buf, want);
			break;
		}
	}
	/* every value up to 100000 round-trips */
	for (uint64_t v = 0; v < 100000; v++) {
		buf[fmt_u64(buf, v)] = 0;
		if (strtoull(buf, NULL, 10) != v) {
			CHECK(!"u64 round trip");
			break;
		}
	}
}

static void test_json_floats(void)
{
	CHECK_STR(json_f(0, 64), "0");
	CHECK_STR(json_f(-0.0, 64), "-0");
	CHECK_STR(json_f(1, 64), "1");
	CHECK_STR(json_f(-1.5, 64), "-1.5");
	CHECK_STR(json_f(0.1, 64), "0.1");
	CHECK_STR(json_f(0.1 + 0.2, 64), "0.30000000000000004");
	CHECK_STR(json_f(123.456, 64), "123.456");
	CHECK_STR(json_f(1e20, 64), "100000000000000000000");
	CHECK_STR(json_f(1e21, 64), "1e+21");
	CHECK_STR(json_f(1.5e300, 64), "1.5e+300");
	CHECK_STR(json_f(0.000001, 64), "0.000001");
	CHECK_STR(json_f(1e-7, 64), "1e-7");
	CHECK_STR(json_f(-2.5e-8, 64), "-2.5e-8");
	CHECK_STR(json_f(1e-10, 64), "1e-10");
	CHECK_STR(json_f(5e-324, 64), "5e-324");
	CHECK_STR(json_f(DBL_MAX, 64), "1.7976931348623157e+308");
	CHECK_STR(json_f(0.1f, 32), "0.1");
	CHECK_STR(json_f(16777216.0f, 32), "16777216");
	CHECK_STR(json_f(3.14159274f, 32), "3.1415927");
	CHECK_STR(json_f(FLT_MAX, 32), "3.4028235e+38");
	CHECK_STR(json_f(1e-45f, 32), "1e-45");
	CHECK_INT(fmt_float_json((char[NUMBUF]){0}, NAN, 64), 0);
	CHECK_INT(fmt_float_json((char[NUMBUF]){0}, -INFINITY, 64), 0);
	/* shortest means: reads back exactly, and no shorter text would */
	for (int i = 1; i < 2000; i++) {
		double v = i * 1.1e-3 + i * i * 7.3;

		if (strtod(json_f(v, 64), NULL) != v) {
			CHECK(!"float64 round trip");
			break;
		}
		if (strtof(json_f((float)v, 32), NULL) != (float)v) {
			CHECK(!"float32 round trip");
			break;
		}
	}
}

/* Reference: the correctly rounded p-digit form for the smallest p that reads back. */
static void brute_shortest(double v, int bits, char *digits, int *dp)
{
	char tmp[64];
	int p, n = 0;
	char *c, *e;

	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		if (bits == 32 ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
			break;
	}
	c = tmp + (tmp[0] == '-');
	e = strchr(c, 'e');
	for (; c < e; c++)
		if (*c != '.')
			digits[n++] = *c;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	digits[n] = 0;
	*dp = atoi(e + 1) + 1;
}

static void check_shortest(double v, int bits)
{
	struct float_digits d;
	char want[32];
	int dp;

	if (v == 0) /* zero has no digits (nd = 0) by definition */
		return;
	float_shortest(v, bits, &d);
	brute_shortest(v, bits, want, &dp);
	if ((size_t)d.nd != strlen(want) || memcmp(d.d, want, (size_t)d.nd) != 0 || d.dp != dp) {
		fprintf(stderr, "shortest(%.17g, %d): got %.*s e%d, want %s e%d\n", v, bits, d.nd, d.d, d.dp,
		        want, dp);
		test_failures++;
	}
}

static void test_shortest_digits(void)
{
	uint64_t x = 88172645463325252ull;
	static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};

	for (int i = 0; i < 20000; i++) {
		double v;
		float f;

		/* xorshift */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (double)(x % 100000000) / pow10[x % 9];
		check_shortest(v, 64);
		check_shortest(-v * 3, 64);
		check_shortest((double)(x % 100000), 64);
		memcpy(&v, &x, sizeof(v));
		if (isfinite(v) && v != 0)
			check_shortest(v, 64);
		f = (float)((double)(x % 1000000) / pow10[x % 7]);
		if (f != 0)
			check_shortest(f, 32);
		{
			uint32_t bitsf = (uint32_t)x;

			memcpy(&f, &bitsf, sizeof(f));
			if (isfinite(f) && f != 0)
				check_shortest(f, 32);
		}
	}
}

static void test_go_g_floats(void)
{
	CHECK_STR(g_f(0, 64), "0");
	CHECK_STR(g_f(1.5, 64), "1.5");
	CHECK_STR(g_f(1e6, 64), "1e+06");
	CHECK_STR(g_f(123456.5, 64), "123456.5");
	CHECK_STR(g_f(1234567.5, 64), "1.2345675e+06");
	CHECK_STR(g_f(0.0001, 64), "0.0001");
	CHECK_STR(g_f(0.00001, 64), "1e-05");
	CHECK_STR(g_f(1e21, 64), "1e+21");
	CHECK_STR(g_f(-1.25e-100, 64), "-1.25e-100");
	CHECK_STR(g_f(0.1f, 32), "0.1");
}

static void test_fixed_floats(void)
{
	CHECK_STR(fixed_f(3.14159, 2), "3.14");
	CHECK_STR(fixed_f(2.5, 0), "2");
	CHECK_STR(fixed_f(-1, 3), "-1.000");
	CHECK_STR(fixed_f(NAN, 2), "NaN");
	CHECK_STR(fixed_f(INFINITY, 2), "+Inf");
	CHECK_STR(fixed_f(-INFINITY, 2), "-Inf");
	CHECK_INT(strlen(fixed_f(DBL_MAX, 30)), 309 + 1 + 30);
}

static const char *quoted(const char *s, size_t n, size_t *runes)
{
	static struct sonde_outbuf ob;

	if (!ob.data)
		outbuf_init(&ob, -1, 64);
	*runes = goquote(&ob, s, n);
	return ob_text(&ob);
}

static void test_goquote(void)
{
	size_t runes;

	CHECK_STR(quoted("abc", 3, &runes), "abc");
	CHECK_INT(runes, 3);
	CHECK(goquote_is_plain("abc ~", 5));
	CHECK(!goquote_is_plain("a\"", 2));
	CHECK(!goquote_is_plain("\xc3\xa9", 2));
	CHECK_STR(quoted("a\"b\\c", 5, &runes), "a\\\"b\\\\c");
	CHECK_INT(runes, 7);
	CHECK_STR(quoted("\n\t\r\a\b\f\v", 7, &runes), "\\n\\t\\r\\a\\b\\f\\v");
	CHECK_STR(quoted("\x01\x1f\x7f", 3, &runes), "\\x01\\x1f\\x7f");
	CHECK_INT(runes, 12);
	CHECK_STR(quoted("\0x", 2, &runes), "\\x00x");
	/* printable non-ASCII stays, one code point each */
	CHECK_STR(quoted("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", 15, &runes),
	          "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
	CHECK_INT(runes, 9);
	/* invalid UTF-8: each bad byte as \xHH */
	CHECK_STR(quoted("a\xff\xc3(", 4, &runes), "a\\xff\\xc3(");
	CHECK_STR(quoted("\xed\xa0\x80", 3, &runes), "\\xed\\xa0\\x80"); /* surrogate */
	CHECK_STR(quoted("\xe2\x82", 2, &runes), "\\xe2\\x82");          /* truncated */
	/* non-printable runes */
	CHECK_STR(quoted("\xc2\xa0", 2, &runes), "\\u00a0");
	CHECK_STR(quoted("\xc2\x85", 2, &runes), "\\u0085");
	CHECK_STR(quoted("\xe2\x80\x8b", 3, &runes), "\\u200b");
	CHECK_STR(quoted("\xe2\x80\xa8", 3, &runes), "\\u2028");
	CHECK_STR(quoted("\xee\x80\x80", 3, &runes), "\\ue000");
	CHECK_STR(quoted("\xef\xbb\xbf", 3, &runes), "\\ufeff");
	CHECK_STR(quoted("\xf4\x8f\xbf\xbf", 4, &runes), "\\U0010ffff");
	CHECK_INT(runes, 10);
	CHECK(go_isprint(0x4e2d)); /* 中 */
	CHECK(!go_isprint(0x3000));
}

TEST_MAIN(TEST(test_integers), TEST(test_json_floats), TEST(test_shortest_digits), TEST(test_go_g_floats),
          TEST(test_fixed_floats), TEST(test_goquote))
