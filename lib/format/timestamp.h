/* Timestamps: boot-time nanoseconds (bpf_ktime_get_boot_ns) → wall clock,
 * and wall-clock nanoseconds → text in a Go time layout. */
#ifndef SONDE_FORMAT_TIMESTAMP_H
#define SONDE_FORMAT_TIMESTAMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The gadget_timestamp default: RFC 3339 with nanoseconds, local time zone. */
#define TIMESTAMP_LAYOUT  "2006-01-02T15:04:05.000000000Z07:00"
#define FMT_TIMESTAMP_MAX 64

/* CLOCK_REALTIME − CLOCK_BOOTTIME now: add it to a boot timestamp to get
 * nanoseconds since the Unix epoch. Measured once per run. */
int64_t boot_to_wall_offset_ns(void);
/* boot_ns + offset; a 0 timestamp (the kernel lacked the helper) means "now". */
int64_t wall_from_boot_ns(int64_t offset_ns, uint64_t boot_ns);

#define TIMEFMT_MAX_CHUNKS 64
#define TIMEFMT_MAX_TEXT   256

struct timefmt_chunk {
	uint8_t kind;
	uint8_t digits;    /* fractional seconds */
	char sep;          /* fractional seconds: '.' or ',' */
	uint16_t off, len; /* literal text in `text` */
};

/* A compiled Go layout (time.Format reference time "Mon Jan 2 15:04:05 MST
 * 2006"), plus the broken-down time of the last second formatted: records
 * mostly arrive within the same second, and localtime_r is the costly part.
 * Not thread-safe; one per formatter. */
struct timefmt {
	struct timefmt_chunk chunks[TIMEFMT_MAX_CHUNKS];
	size_t nchunks;
	char text[TIMEFMT_MAX_TEXT];
	size_t ntext;
	bool cached;
	int64_t cached_sec;
	struct tm tm;
	/* Only fractions change within a second: the text around the single
	 * fraction element (or the whole text without one) is kept per second. */
	int frac;     /* chunk index of the fraction, -1 none, -2 several */
	bool text_ok; /* pre/post hold the cached second's text */
	char pre[96], post[96];
	uint8_t npre, npost;
};

/* Compiles `layout` (NULL = TIMESTAMP_LAYOUT). -E2BIG if the layout is
 * too long to compile. Every other text is valid: what is not a layout
 * element is copied as is, as in Go. */
int timefmt_init(struct timefmt *tf, const char *layout);
/* Formats unix_ns in the local time zone. Returns the length. */
size_t timefmt_format(struct timefmt *tf, int64_t unix_ns, char *buf, size_t cap);
/* One-shot rendering in the default layout. */
size_t fmt_timestamp(int64_t unix_ns, char *buf, size_t cap);

#endif
