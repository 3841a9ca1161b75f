/* A bounded string builder over a caller's buffer, shared by the renderers of
 * lib/format: appends truncate silently, the text stays NUL-terminated, and
 * nothing is allocated. */
#ifndef SONDE_FORMAT_FMTBUF_H
#define SONDE_FORMAT_FMTBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct fmtbuf {
	char *buf;
	size_t cap; /* bytes at buf, including room for the NUL */
	size_t len; /* bytes written (excluding the NUL) */
};

static inline struct fmtbuf fmtbuf_init(char *buf, size_t cap)
{
	struct fmtbuf b = {buf, cap, 0};

	if (cap)
		buf[0] = 0;
	return b;
}

static inline void fmtbuf_put(struct fmtbuf *b, const char *s, size_t n)
{
	if (!b->cap || b->len + 1 >= b->cap)
		return;
	if (n > b->cap - 1 - b->len)
		n = b->cap - 1 - b->len;
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = 0;
}

static inline void fmtbuf_puts(struct fmtbuf *b, const char *s)
{
	fmtbuf_put(b, s, strlen(s));
}

static inline void fmtbuf_putc(struct fmtbuf *b, char c)
{
	fmtbuf_put(b, &c, 1);
}

/* Decimal, left-padded with `pad` up to `width` digits (0 = no padding). */
static inline void fmtbuf_uint(struct fmtbuf *b, uint64_t v, int width, char pad)
{
	char tmp[24]; /* 20 digits at most, padding up to the rest */
	size_t i = sizeof(tmp);

	/* i > 0 in both loops keeps every index provably inside tmp (gcc's
	 * -Warray-bounds cannot tell that a uint64_t has at most 20 digits) */
	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	while (width > 0 && sizeof(tmp) - i < (size_t)width && i > 0)
		tmp[--i] = pad;
	fmtbuf_put(b, tmp + i, sizeof(tmp) - i);
}

static inline void fmtbuf_int(struct fmtbuf *b, int64_t v, int width)
{
	if (v < 0) {
		fmtbuf_putc(b, '-');
		fmtbuf_uint(b, (uint64_t)0 - (uint64_t)v, width, '0');
		return;
	}
	fmtbuf_uint(b, (uint64_t)v, width, '0');
}

#endif
