#include <stdbool.h>
#include <stdio.h>

#include "format/duration.h"
#include "format/fmtbuf.h"

#define NS_PER_US 1000LL
#define NS_PER_MS 1000000LL
#define NS_PER_S  1000000000LL

/* Writes the fraction v / 10^prec (".12", trailing zeros dropped, nothing for
 * 0) right-aligned before *w in tmp, and returns v / 10^prec. */
static uint64_t frac_back(char *tmp, int *w, uint64_t v, int prec)
{
	bool print = false;

	for (int i = 0; i < prec; i++) {
		uint64_t digit = v % 10;

		print = print || digit != 0;
		if (print)
			tmp[--*w] = (char)('0' + digit);
		v /= 10;
	}
	if (print)
		tmp[--*w] = '.';
	return v;
}

static void int_back(char *tmp, int *w, uint64_t v)
{
	do {
		tmp[--*w] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
}

size_t fmt_go_duration(int64_t ns, char *buf, size_t cap)
{
	struct fmtbuf b = fmtbuf_init(buf, cap);
	char tmp[40];
	int w = (int)sizeof(tmp);
	bool neg = ns < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;

	if (u < (uint64_t)NS_PER_S) {
		int prec;

		tmp[--w] = 's';
		if (u == 0) {
			tmp[--w] = '0';
			fmtbuf_put(&b, tmp + w, sizeof(tmp) - (size_t)w);
			return b.len;
		}
		if (u < (uint64_t)NS_PER_US) {
			prec = 0;
			tmp[--w] = 'n';
		} else if (u < (uint64_t)NS_PER_MS) {
			prec = 3;
			tmp[--w] = (char)0xb5; /* U+00B5 MICRO SIGN, as Go writes it */
			tmp[--w] = (char)0xc2;
		} else {
			prec = 6;
			tmp[--w] = 'm';
		}
		u = frac_back(tmp, &w, u, prec);
		int_back(tmp, &w, u);
	} else {
		tmp[--w] = 's';
		u = frac_back(tmp, &w, u, 9);
		int_back(tmp, &w, u % 60);
		u /= 60;
		if (u > 0) {
			tmp[--w] = 'm';
			int_back(tmp, &w, u % 60);
			u /= 60;
			if (u > 0) {
				tmp[--w] = 'h';
				int_back(tmp, &w, u);
			}
		}
	}
	if (neg)
		tmp[--w] = '-';
	fmtbuf_put(&b, tmp + w, sizeof(tmp) - (size_t)w);
	return b.len;
}

size_t fmt_duration(int64_t ns, char *buf, size_t cap)
{
	struct fmtbuf b = fmtbuf_init(buf, cap);
	char tmp[64];
	int n;

	if (ns < NS_PER_US) {
		fmtbuf_int(&b, ns, 0);
		fmtbuf_puts(&b, "ns");
		return b.len;
	}
	if (ns < NS_PER_MS)
		n = snprintf(tmp, sizeof(tmp), "%.2f\xc2\xb5s", (double)ns / (double)NS_PER_US);
	else if (ns < NS_PER_S)
		n = snprintf(tmp, sizeof(tmp), "%.2fms", (double)ns / (double)NS_PER_MS);
	else
		return fmt_go_duration(ns, buf, cap);
	fmtbuf_put(&b, tmp, n > 0 ? (size_t)n : 0);
	return b.len;
}
