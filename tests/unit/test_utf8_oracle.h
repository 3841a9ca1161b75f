/* An oracle for the output writers' text handling, written from RFC 3629's
 * table of well-formed UTF-8 (not from lib/output/utf8.c), and a generator
 * of hostile strings. What a writer must preserve: valid UTF-8 exactly; each
 * byte of an ill-formed sequence becomes U+FFFD (the writers' documented
 * rule: per byte, not per maximal subpart). */
#ifndef SONDE_TEST_UTF8_ORACLE_H
#define SONDE_TEST_UTF8_ORACLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Length of the well-formed sequence at s (RFC 3629 section 4), or 0. */
static inline size_t oracle_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* What a reader must get back from a writer given s: well-formed sequences
 * as they are, U+FFFD (EF BF BD) for each byte of the rest. out must hold
 * 3 * n bytes; returns the length. */
static inline size_t oracle_decoded(const char *s, size_t n, char *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		size_t len = oracle_utf8_len(u + i, n - i);

		if (len) {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	return o;
}

/* Pieces that writers treat specially: quotes, escapes, every kind of
 * control byte, line and paragraph separators, NEL, BOM, astral
 * characters, and ill-formed UTF-8 of every kind (alone or dangling before
 * another piece, which may complete it: the oracle decides, not the piece). */
static const char *const oracle_pieces[] = {
    "a",
    "Z",
    "0",
    "9",
    " ",
    "  ",
    "-",
    ":",
    ".",
    "#",
    "'",
    "\"",
    "\\",
    "/",
    "%",
    "@",
    "&",
    "*",
    "!",
    "|",
    ">",
    "?",
    ",",
    "[",
    "]",
    "{",
    "}",
    "~",
    "e",
    "x",
    "y",
    "n",
    "true",
    "null",
    "0x1F",
    "1e5",
    ".inf",
    "12:30",
    "2024-01-02",
    "- ",
    ": ",
    " #",
    "---",
    "...",
    "\n",
    "\r",
    "\t",
    "\x01",
    "\x08",
    "\x0b",
    "\x0c",
    "\x1b",
    "\x1f",
    "\x7f",
    "\xc2\x80",
    "\xc2\x85",
    "\xc2\xa0",
    "\xc3\xa9",
    "\xe2\x80\xa8",
    "\xe2\x80\xa9",
    "\xef\xbb\xbf",
    "\xef\xbf\xbe",
    "\xe4\xb8\xad",
    "\xf0\x9f\x98\x80",
    "\xf4\x8f\xbf\xbf",
    "\x80",
    "\xbf",
    "\xc0\xaf",
    "\xc1\xbf",
    "\xe0\x80\xaf",
    "\xed\xa0\x80",
    "\xf4\x90\x80\x80",
    "\xf5\x80\x80\x80",
    "\xfe",
    "\xff",
    "\xc3",
    "\xe2\x82",
    "\xf0\x9f\x98",
};

/* A random string of up to max_pieces pieces into buf (cap bytes), with a
 * NUL byte now and then: its length. */
static inline size_t oracle_random_string(char *buf, size_t cap, int max_pieces)
{
	size_t n = 0;
	int pieces = rand() % (max_pieces + 1);

	for (int i = 0; i < pieces; i++) {
		const char *p =
		    oracle_pieces[rand() % (int)(sizeof(oracle_pieces) / sizeof(oracle_pieces[0]))];
		size_t len = strlen(p);

		if (rand() % 40 == 0) {
			p = "\0";
			len = 1;
		}
		if (n + len > cap)
			break;
		memcpy(buf + n, p, len);
		n += len;
	}
	return n;
}

#endif
