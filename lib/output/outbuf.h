/* Buffered output: formatters append bytes into one growable buffer that is
 * written to a file descriptor with write(2) in large chunks.
 *
 * Appending never fails from the caller's point of view: on a write error
 * (EPIPE when the reader went away, ENOSPC, ...) the error is kept (sticky),
 * reported once through the log, and later output is discarded cheaply.
 * Callers poll outbuf_error() where stopping early is worth it.
 *
 * With fd < 0 the buffer only accumulates (never flushes): used to render
 * into memory, e.g. in tests or by operators that ship text elsewhere.
 */
#ifndef SONDE_OUTPUT_OUTBUF_H
#define SONDE_OUTPUT_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OUTBUF_DEFAULT_THRESHOLD (64 * 1024)

struct sonde_outbuf {
	char *data;
	size_t len;
	size_t cap;
	size_t threshold; /* flush when an append would grow past this */
	int fd;           /* < 0: memory only */
	int err;          /* first error (negative errno), sticky */
	bool reported;
	unsigned long flushes; /* how many times data went out: what was written before may be gone */
};

/* threshold 0 = OUTBUF_DEFAULT_THRESHOLD. Returns 0 or -ENOMEM. */
int outbuf_init(struct sonde_outbuf *ob, int fd, size_t threshold);
void outbuf_fini(struct sonde_outbuf *ob);

/* Writes everything buffered. Returns 0 or the sticky error. */
int outbuf_flush(struct sonde_outbuf *ob);
/* Flushes if at least `threshold` bytes are buffered. */
int outbuf_flush_if_full(struct sonde_outbuf *ob);
static inline int outbuf_error(const struct sonde_outbuf *ob)
{
	return ob->err;
}
/* Drops buffered bytes (memory mode: start over). */
static inline void outbuf_reset(struct sonde_outbuf *ob)
{
	ob->len = 0;
}

/* Slow path of outbuf_reserve: flushes and/or grows. NULL only on ENOMEM. */
char *outbuf_make_room(struct sonde_outbuf *ob, size_t n);

/* Returns space for n bytes at the end; commit what was used with outbuf_commit. */
static inline char *outbuf_reserve(struct sonde_outbuf *ob, size_t n)
{
	if (__builtin_expect(ob->cap - ob->len >= n, 1))
		return ob->data + ob->len;
	return outbuf_make_room(ob, n);
}

static inline void outbuf_commit(struct sonde_outbuf *ob, size_t n)
{
	ob->len += n;
}

/* Most writes are keys, separators and short values: fixed-size copies (two
 * overlapping ones) compile to a few moves, where a memcpy call of a
 * variable size costs more than the bytes. */
static inline void copy_short(char *d, const char *s, size_t n)
{
	if (n > 32) {
		memcpy(d, s, n);
	} else if (n >= 16) {
		/* merged JSON literals ("},\"runtime\":{\"containerId\":") are mostly 16..32 */
		memcpy(d, s, 16);
		memcpy(d + n - 16, s + n - 16, 16);
	} else if (n >= 8) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

static inline void outbuf_write(struct sonde_outbuf *ob, const void *p, size_t n)
{
	char *d = outbuf_reserve(ob, n);

	if (__builtin_expect(d != NULL, 1)) {
		copy_short(d, p, n);
		ob->len += n;
	}
}

static inline void outbuf_putc(struct sonde_outbuf *ob, char c)
{
	char *d = outbuf_reserve(ob, 1);

	if (__builtin_expect(d != NULL, 1)) {
		*d = c;
		ob->len++;
	}
}

static inline void outbuf_puts(struct sonde_outbuf *ob, const char *s)
{
	outbuf_write(ob, s, strlen(s));
}

/* n copies of byte c (padding). */
void outbuf_fill(struct sonde_outbuf *ob, char c, size_t n);
void outbuf_put_u64_slow(struct sonde_outbuf *ob, uint64_t v);
/* Decimal. Single digits (zeros, flags, small ids: most values of an event)
 * skip the general formatter. */
static inline void outbuf_put_u64(struct sonde_outbuf *ob, uint64_t v)
{
	char *d;

	if (v >= 10) {
		outbuf_put_u64_slow(ob, v);
		return;
	}
	d = outbuf_reserve(ob, 1);
	if (__builtin_expect(d != NULL, 1)) {
		*d = (char)('0' + v);
		ob->len++;
	}
}
void outbuf_put_i64(struct sonde_outbuf *ob, int64_t v);
/* Lowercase hex of every byte. */
void outbuf_put_hex(struct sonde_outbuf *ob, const void *p, size_t n);

#endif
