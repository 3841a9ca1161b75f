/* UTF-8 decoding with Go's rules (unicode/utf8.DecodeRune): an invalid or
 * truncated sequence decodes as one error byte, so every formatter treats
 * bad input the same way. */
#ifndef SONDE_OUTPUT_UTF8_H
#define SONDE_OUTPUT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_ERROR (-1)

/* Decodes the rune at s (n >= 1 bytes). Returns the code point, or
 * UTF8_ERROR with *size = 1 for an invalid byte. */
static inline int32_t utf8_decode(const unsigned char *s, size_t n, int *size)
{
	unsigned char b = s[0], lo = 0x80, hi = 0xBF;
	int need;
	int32_t r;

	if (b < 0x80) {
		*size = 1;
		return b;
	}
	*size = 1;
	if (b >= 0xC2 && b <= 0xDF) {
		need = 1;
		r = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		need = 2;
		r = b & 0x0F;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (b >= 0xF0 && b <= 0xF4) {
		need = 3;
		r = b & 0x07;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		return UTF8_ERROR;
	}
	if ((size_t)need >= n)
		return UTF8_ERROR;
	if (s[1] < lo || s[1] > hi)
		return UTF8_ERROR;
	r = (r << 6) | (s[1] & 0x3F);
	for (int i = 2; i <= need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return UTF8_ERROR;
		r = (r << 6) | (s[i] & 0x3F);
	}
	*size = need + 1;
	return r;
}

/* Encodes a valid code point; returns the byte count (1..4). */
static inline int utf8_encode(char *out, uint32_t r)
{
	if (r < 0x80) {
		out[0] = (char)r;
		return 1;
	}
	if (r < 0x800) {
		out[0] = (char)(0xC0 | (r >> 6));
		out[1] = (char)(0x80 | (r & 0x3F));
		return 2;
	}
	if (r < 0x10000) {
		out[0] = (char)(0xE0 | (r >> 12));
		out[1] = (char)(0x80 | ((r >> 6) & 0x3F));
		out[2] = (char)(0x80 | (r & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (r >> 18));
	out[1] = (char)(0x80 | ((r >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((r >> 6) & 0x3F));
	out[3] = (char)(0x80 | (r & 0x3F));
	return 4;
}

/* Number of code points of valid UTF-8 text (continuation bytes not counted). */
static inline size_t utf8_count(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)s[i] & 0xC0) != 0x80;
	return c;
}

#endif
