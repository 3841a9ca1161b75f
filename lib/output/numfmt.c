/* Number formatting for the output formatters.
 *
 * Integers: two digits at a time from a table, in 8-digit chunks.
 * Floats: the shortest digits that read back as the same value. Values with
 * few decimals take an exact arithmetic path (fast_shortest); the others are
 * printed with 15/16/17 (float32: 6..9) significant digits until the text
 * reads back (subnormals search from one digit). That equals Go's shortest
 * result except for rare values where a non-nearest string of the same length
 * round-trips (we then print one more digit); both read back the same. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"

static const char digit_pairs[] = "00010203040506070809"
                                  "10111213141516171819"
                                  "20212223242526272829"
                                  "30313233343536373839"
                                  "40414243444546474849"
                                  "50515253545556575859"
                                  "60616263646566676869"
                                  "70717273747576777879"
                                  "80818283848586878889"
                                  "90919293949596979899";

static inline void put_pair(char *d, uint32_t v)
{
	memcpy(d, digit_pairs + 2 * v, 2);
}

/* Exactly eight digits of v < 10^8, leading zeros included. */
static inline void put8(char *d, uint32_t v)
{
	uint32_t hi = v / 10000, lo = v % 10000;

	put_pair(d, hi / 100);
	put_pair(d + 2, hi % 100);
	put_pair(d + 4, lo / 100);
	put_pair(d + 6, lo % 100);
}

/* v < 10^8 without leading zeros. */
static size_t put_small(char *buf, uint32_t v)
{
	size_t n = v < 10         ? 1
	           : v < 100      ? 2
	           : v < 1000     ? 3
	           : v < 10000    ? 4
	           : v < 100000   ? 5
	           : v < 1000000  ? 6
	           : v < 10000000 ? 7
	                          : 8;
	char *p = buf + n; /* written in place, backwards: no copy */

	while (v >= 100) {
		p -= 2;
		put_pair(p, v % 100);
		v /= 100;
	}
	if (v >= 10)
		put_pair(p - 2, v);
	else
		p[-1] = (char)('0' + v);
	return n;
}

/* Values of events are ids (4-7 digits), inode and namespace numbers (10) and
 * nanosecond timestamps (19): split into 8-digit chunks that are cut in
 * 32-bit arithmetic, instead of one 64-bit division per digit pair. */
size_t fmt_u64(char *buf, uint64_t v)
{
	size_t n;

	if (v < 100000000)
		return put_small(buf, (uint32_t)v);
	if (v < 10000000000000000ULL) {
		n = put_small(buf, (uint32_t)(v / 100000000));
		put8(buf + n, (uint32_t)(v % 100000000));
		return n + 8;
	}
	n = put_small(buf, (uint32_t)(v / 10000000000000000ULL));
	v %= 10000000000000000ULL;
	put8(buf + n, (uint32_t)(v / 100000000));
	put8(buf + n + 8, (uint32_t)(v % 100000000));
	return n + 16;
}

size_t fmt_i64(char *buf, int64_t v)
{
	if (v < 0) {
		buf[0] = '-';
		/* negate in unsigned arithmetic: INT64_MIN has no positive counterpart */
		return 1 + fmt_u64(buf + 1, (uint64_t)0 - (uint64_t)v);
	}
	return fmt_u64(buf, (uint64_t)v);
}

size_t fmt_hex_upper(char *buf, uint64_t v)
{
	static const char hex[] = "0123456789ABCDEF";
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = hex[v & 0xF];
		v >>= 4;
	} while (v);
	for (int i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return (size_t)n;
}

static const double pow10_tab[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

static void digits_of(uint64_t n, int k, struct float_digits *out)
{
	char buf[24];
	size_t len = fmt_u64(buf, n);

	memcpy(out->d, buf, len);
	out->nd = (int)len;
	out->dp = (int)len - k;
	while (out->nd > 1 && out->d[out->nd - 1] == '0')
		out->nd--;
}

/* Values with few decimals (integers, 0.5, 12.25, 0.1 ...) without printf:
 * n / 10^k is correctly rounded when n < 2^53 and 10^k is exact, so it equals
 * the value iff the text "n e-k" reads back as the value; trying k upwards
 * finds the fewest digits. For float32 the detour through double cannot
 * round differently from a direct conversion while 10^k < 2^29 (k <= 8):
 * a decimal that is not a float midpoint is then farther from one than the
 * double rounding error. */
static bool fast_shortest(double a, int bits, struct float_digits *out)
{
	int kmax = bits == 32 ? 8 : 15;

	/* beyond 2^53 (float32: 2^24) integers are not all representable and
	 * shorter digit strings may read back as the same value */
	if (a >= (bits == 32 ? 16777216.0 : 9007199254740992.0) || a < 1e-15)
		return false;
	for (int k = 0; k <= kmax; k++) {
		double scaled = a * pow10_tab[k];
		uint64_t n;

		if (scaled >= 9007199254740992.0)
			return false;
		/* a tie goes to the even digit, as exact decimal rounding does; a
		 * product that only looks like a tie after rounding goes the slow way */
		if (scaled - floor(scaled) == 0.5 && fma(a, pow10_tab[k], -scaled) != 0)
			return false;
		n = (uint64_t)rint(scaled);
		if (n && (bits == 32 ? (float)((double)n / pow10_tab[k]) == (float)a
		                     : (double)n / pow10_tab[k] == a)) {
			digits_of(n, k, out);
			return true;
		}
	}
	return false;
}

void float_shortest(double v, int bits, struct float_digits *out)
{
	char tmp[40];
	int lo = bits == 32 ? 6 : 15, hi = bits == 32 ? 9 : 17, prec;
	double a = fabs(v);
	char *p, *e;
	int exp10;

	memset(out, 0, sizeof(*out));
	out->neg = signbit(v) != 0;
	if (v == 0)
		return;
	if (fast_shortest(a, bits, out))
		return;
	/* subnormals carry fewer significant bits: their shortest form may be
	 * shorter than FLT_DIG/DBL_DIG digits, so search from one digit up */
	if (bits == 32 ? (float)a < FLT_MIN : a < DBL_MIN)
		lo = 1;
	for (prec = lo; prec < hi; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (bits == 32 ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v)
			break;
	}
	if (prec == hi)
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
	/* tmp: [-]d[.ddd]e[+-]XX */
	p = tmp + (tmp[0] == '-');
	e = strchr(p, 'e');
	for (; p < e; p++)
		if (*p != '.')
			out->d[out->nd++] = *p;
	while (out->nd > 1 && out->d[out->nd - 1] == '0')
		out->nd--;
	exp10 = atoi(e + 1);
	out->dp = exp10 + 1;
}

/* %e layout with Go's exponent: sign always, at least two digits. */
static size_t layout_exp(char *buf, const struct float_digits *d)
{
	size_t n = 0;
	int exp10 = d->nd ? d->dp - 1 : 0;
	unsigned ue;

	if (d->neg)
		buf[n++] = '-';
	buf[n++] = d->nd ? d->d[0] : '0';
	if (d->nd > 1) {
		buf[n++] = '.';
		memcpy(buf + n, d->d + 1, (size_t)d->nd - 1);
		n += (size_t)d->nd - 1;
	}
	buf[n++] = 'e';
	buf[n++] = exp10 < 0 ? '-' : '+';
	ue = (unsigned)(exp10 < 0 ? -exp10 : exp10);
	if (ue < 10) {
		buf[n++] = '0';
		buf[n++] = (char)('0' + ue);
	} else {
		n += fmt_u64(buf + n, ue);
	}
	return n;
}

/* %f layout of the shortest digits (no trailing zeros after the point). */
static size_t layout_fixed(char *buf, const struct float_digits *d)
{
	size_t n = 0;

	if (d->neg)
		buf[n++] = '-';
	if (d->dp > 0) {
		for (int i = 0; i < d->dp; i++)
			buf[n++] = i < d->nd ? d->d[i] : '0';
	} else {
		buf[n++] = '0';
	}
	if (d->nd > d->dp) {
		buf[n++] = '.';
		for (int i = d->dp; i < d->nd; i++)
			buf[n++] = i < 0 ? '0' : d->d[i];
	}
	return n;
}

size_t fmt_float_json(char *buf, double v, int bits)
{
	struct float_digits d;
	double a = fabs(v);
	size_t n;

	if (!isfinite(v))
		return 0;
	float_shortest(v, bits, &d);
	if (a != 0 && (bits == 32 ? ((float)a < 1e-6f || (float)a >= 1e21f) : (a < 1e-6 || a >= 1e21))) {
		n = layout_exp(buf, &d);
		/* e-07 -> e-7, as ES6 */
		if (n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
			buf[n - 2] = buf[n - 1];
			n--;
		}
		return n;
	}
	return layout_fixed(buf, &d);
}

size_t fmt_float_g(char *buf, double v, int bits)
{
	struct float_digits d;
	int exp10;

	if (!isfinite(v))
		return 0;
	float_shortest(v, bits, &d);
	if (d.nd == 0) {
		size_t n = 0;

		if (d.neg)
			buf[n++] = '-';
		buf[n++] = '0';
		return n;
	}
	exp10 = d.dp - 1;
	if (exp10 < -4 || exp10 >= 6)
		return layout_exp(buf, &d);
	return layout_fixed(buf, &d);
}

size_t fmt_float_fixed(char *buf, double v, int prec)
{
	int n;

	if (isnan(v)) {
		memcpy(buf, "NaN", 3);
		return 3;
	}
	if (isinf(v)) {
		memcpy(buf, v > 0 ? "+Inf" : "-Inf", 4);
		return 4;
	}
	if (prec < 0)
		prec = 0;
	if (prec > FIXED_MAX_PREC)
		prec = FIXED_MAX_PREC;
	n = snprintf(buf, FIXEDBUF, "%.*f", prec, v);
	if (n < 0)
		return 0;
	if (n >= FIXEDBUF)
		n = FIXEDBUF - 1;
	return (size_t)n;
}
