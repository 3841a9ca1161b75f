/* Go's time.Format, element by element (src/time/format.go nextStdChunk):
 * the layout is cut once into literal text and elements, and formatting walks
 * the chunks. Local time comes from localtime_r, so TZ and /etc/localtime
 * apply as they do for Go's time.Local. */
#include <errno.h>
#include <string.h>

#include "format/fmtbuf.h"
#include "format/timestamp.h"
#include "util/clock.h"

#define NS_PER_S 1000000000LL

enum chunk_kind {
	K_TEXT,
	K_LONG_MONTH,       /* January */
	K_MONTH,            /* Jan */
	K_NUM_MONTH,        /* 1 */
	K_ZERO_MONTH,       /* 01 */
	K_LONG_WEEKDAY,     /* Monday */
	K_WEEKDAY,          /* Mon */
	K_DAY,              /* 2 */
	K_UNDER_DAY,        /* _2 */
	K_ZERO_DAY,         /* 02 */
	K_UNDER_YDAY,       /* __2 */
	K_ZERO_YDAY,        /* 002 */
	K_HOUR,             /* 15 */
	K_HOUR12,           /* 3 */
	K_ZERO_HOUR12,      /* 03 */
	K_MINUTE,           /* 4 */
	K_ZERO_MINUTE,      /* 04 */
	K_SECOND,           /* 5 */
	K_ZERO_SECOND,      /* 05 */
	K_LONG_YEAR,        /* 2006 */
	K_YEAR,             /* 06 */
	K_PM,               /* PM */
	K_pm,               /* pm */
	K_TZ,               /* MST */
	K_ISO_TZ,           /* Z0700 */
	K_ISO_SEC_TZ,       /* Z070000 */
	K_ISO_SHORT_TZ,     /* Z07 */
	K_ISO_COLON_TZ,     /* Z07:00 */
	K_ISO_COLON_SEC_TZ, /* Z07:00:00 */
	K_NUM_TZ,           /* -0700 */
	K_NUM_SEC_TZ,       /* -070000 */
	K_NUM_SHORT_TZ,     /* -07 */
	K_NUM_COLON_TZ,     /* -07:00 */
	K_NUM_COLON_SEC_TZ, /* -07:00:00 */
	K_FRAC0,            /* .000 — fixed digits */
	K_FRAC9,            /* .999 — trailing zeros dropped */
};

static const char *const long_months[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
static const char *const long_days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                        "Thursday", "Friday", "Saturday"};

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The element at the start of `s`: its kind and length; 0 if none. */
static size_t element(const char *s, struct timefmt_chunk *c)
{
	static const struct {
		const char *text;
		uint8_t kind;
	} fixed[] = {
	    /* longest first where one text starts another */
	    {"January", K_LONG_MONTH},
	    {"Jan", K_MONTH},
	    {"Monday", K_LONG_WEEKDAY},
	    {"Mon", K_WEEKDAY},
	    {"MST", K_TZ},
	    {"002", K_ZERO_YDAY},
	    {"01", K_ZERO_MONTH},
	    {"02", K_ZERO_DAY},
	    {"03", K_ZERO_HOUR12},
	    {"04", K_ZERO_MINUTE},
	    {"05", K_ZERO_SECOND},
	    {"06", K_YEAR},
	    {"15", K_HOUR},
	    {"1", K_NUM_MONTH},
	    {"2006", K_LONG_YEAR},
	    {"2", K_DAY},
	    {"__2", K_UNDER_YDAY},
	    {"_2006", K_TEXT}, /* "_" then 2006, handled below */
	    {"_2", K_UNDER_DAY},
	    {"3", K_HOUR12},
	    {"4", K_MINUTE},
	    {"5", K_SECOND},
	    {"PM", K_PM},
	    {"pm", K_pm},
	    {"-07:00:00", K_NUM_COLON_SEC_TZ},
	    {"-070000", K_NUM_SEC_TZ},
	    {"-07:00", K_NUM_COLON_TZ},
	    {"-0700", K_NUM_TZ},
	    {"-07", K_NUM_SHORT_TZ},
	    {"Z07:00:00", K_ISO_COLON_SEC_TZ},
	    {"Z070000", K_ISO_SEC_TZ},
	    {"Z07:00", K_ISO_COLON_TZ},
	    {"Z0700", K_ISO_TZ},
	    {"Z07", K_ISO_SHORT_TZ},
	};

	if ((s[0] == '.' || s[0] == ',') && (s[1] == '0' || s[1] == '9')) {
		size_t j = 1;

		while (s[j] == s[1])
			j++;
		/* a fraction only if no digit follows the run */
		if (!(s[j] >= '0' && s[j] <= '9')) {
			c->kind = s[1] == '0' ? K_FRAC0 : K_FRAC9;
			c->digits = (uint8_t)(j - 1 > 9 ? 9 : j - 1);
			c->sep = s[0];
			return j;
		}
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (!starts(s, fixed[i].text))
			continue;
		if (fixed[i].kind == K_TEXT)
			return 0; /* "_2006": the '_' is text, 2006 comes next */
		/* Go: "Jan"/"Mon" followed by a lower-case letter are words, not elements */
		if ((fixed[i].kind == K_MONTH || fixed[i].kind == K_WEEKDAY) && s[3] >= 'a' && s[3] <= 'z')
			return 0;
		c->kind = fixed[i].kind;
		return strlen(fixed[i].text);
	}
	return 0;
}

static int add_chunk(struct timefmt *tf, struct timefmt_chunk c)
{
	if (tf->nchunks == TIMEFMT_MAX_CHUNKS)
		return -E2BIG;
	tf->chunks[tf->nchunks++] = c;
	return 0;
}

static int add_text(struct timefmt *tf, const char *s, size_t n)
{
	struct timefmt_chunk *last = tf->nchunks ? &tf->chunks[tf->nchunks - 1] : NULL;

	if (tf->ntext + n > sizeof(tf->text))
		return -E2BIG;
	memcpy(tf->text + tf->ntext, s, n);
	if (last && last->kind == K_TEXT && last->off + last->len == tf->ntext) {
		last->len = (uint16_t)(last->len + n);
	} else {
		int err = add_chunk(tf, (struct timefmt_chunk){
		                            .kind = K_TEXT, .off = (uint16_t)tf->ntext, .len = (uint16_t)n});
		if (err)
			return err;
	}
	tf->ntext += n;
	return 0;
}

int timefmt_init(struct timefmt *tf, const char *layout)
{
	const char *s = layout ? layout : TIMESTAMP_LAYOUT;

	memset(tf, 0, sizeof(*tf));
	tf->frac = -1;
	while (*s) {
		struct timefmt_chunk c = {0};
		size_t n = element(s, &c);
		int err = n ? add_chunk(tf, c) : add_text(tf, s, 1);

		if (err)
			return err;
		if (n && (c.kind == K_FRAC0 || c.kind == K_FRAC9))
			tf->frac = tf->frac == -1 ? (int)tf->nchunks - 1 : -2;
		s += n ? n : 1;
	}
	return 0;
}

static void put_zone(struct fmtbuf *b, long offset, bool colon, bool minutes, bool seconds)
{
	long abs = offset < 0 ? -offset : offset;

	fmtbuf_putc(b, offset < 0 ? '-' : '+');
	fmtbuf_uint(b, (uint64_t)(abs / 3600), 2, '0');
	if (minutes) {
		if (colon)
			fmtbuf_putc(b, ':');
		fmtbuf_uint(b, (uint64_t)(abs / 60 % 60), 2, '0');
	}
	if (seconds) {
		if (colon)
			fmtbuf_putc(b, ':');
		fmtbuf_uint(b, (uint64_t)(abs % 60), 2, '0');
	}
}

static void put_fraction(struct fmtbuf *b, const struct timefmt_chunk *c, uint32_t nsec)
{
	/* every event's timestamp: two digits per division, not one */
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	    "4041424344454647484950515253545556575859606162636465666768697071727374757677787980"
	    "81828384858687888990919293949596979899";
	char digits[9];
	int n = c->digits;
	uint32_t r = nsec % 100000000;

	digits[0] = (char)('0' + nsec / 100000000 % 10);
	memcpy(digits + 1, pairs + 2 * (r / 1000000), 2);
	memcpy(digits + 3, pairs + 2 * (r / 10000 % 100), 2);
	memcpy(digits + 5, pairs + 2 * (r / 100 % 100), 2);
	memcpy(digits + 7, pairs + 2 * (r % 100), 2);
	if (c->kind == K_FRAC9) {
		while (n > 0 && digits[n - 1] == '0')
			n--;
		if (n == 0)
			return;
	}
	fmtbuf_putc(b, c->sep);
	fmtbuf_put(b, digits, (size_t)n);
}

static void put_chunk(struct fmtbuf *b, const struct timefmt *tf, const struct timefmt_chunk *c,
                      uint32_t nsec)
{
	const struct tm *tm = &tf->tm;
	int year = tm->tm_year + 1900, hour12 = tm->tm_hour % 12;
	long off = tm->tm_gmtoff;

	switch (c->kind) {
	case K_TEXT:
		fmtbuf_put(b, tf->text + c->off, c->len);
		break;
	case K_LONG_MONTH:
		fmtbuf_puts(b, long_months[tm->tm_mon]);
		break;
	case K_MONTH:
		fmtbuf_put(b, long_months[tm->tm_mon], 3);
		break;
	case K_NUM_MONTH:
		fmtbuf_uint(b, (uint64_t)tm->tm_mon + 1, 0, '0');
		break;
	case K_ZERO_MONTH:
		fmtbuf_uint(b, (uint64_t)tm->tm_mon + 1, 2, '0');
		break;
	case K_LONG_WEEKDAY:
		fmtbuf_puts(b, long_days[tm->tm_wday]);
		break;
	case K_WEEKDAY:
		fmtbuf_put(b, long_days[tm->tm_wday], 3);
		break;
	case K_DAY:
		fmtbuf_uint(b, (uint64_t)tm->tm_mday, 0, '0');
		break;
	case K_UNDER_DAY:
		fmtbuf_uint(b, (uint64_t)tm->tm_mday, 2, ' ');
		break;
	case K_ZERO_DAY:
		fmtbuf_uint(b, (uint64_t)tm->tm_mday, 2, '0');
		break;
	case K_UNDER_YDAY:
		fmtbuf_uint(b, (uint64_t)tm->tm_yday + 1, 3, ' ');
		break;
	case K_ZERO_YDAY:
		fmtbuf_uint(b, (uint64_t)tm->tm_yday + 1, 3, '0');
		break;
	case K_HOUR:
		fmtbuf_uint(b, (uint64_t)tm->tm_hour, 2, '0');
		break;
	case K_HOUR12:
		fmtbuf_uint(b, (uint64_t)(hour12 ? hour12 : 12), 0, '0');
		break;
	case K_ZERO_HOUR12:
		fmtbuf_uint(b, (uint64_t)(hour12 ? hour12 : 12), 2, '0');
		break;
	case K_MINUTE:
		fmtbuf_uint(b, (uint64_t)tm->tm_min, 0, '0');
		break;
	case K_ZERO_MINUTE:
		fmtbuf_uint(b, (uint64_t)tm->tm_min, 2, '0');
		break;
	case K_SECOND:
		fmtbuf_uint(b, (uint64_t)tm->tm_sec, 0, '0');
		break;
	case K_ZERO_SECOND:
		fmtbuf_uint(b, (uint64_t)tm->tm_sec, 2, '0');
		break;
	case K_LONG_YEAR:
		fmtbuf_int(b, year, 4);
		break;
	case K_YEAR:
		fmtbuf_uint(b, (uint64_t)((year % 100 + 100) % 100), 2, '0');
		break;
	case K_PM:
		fmtbuf_puts(b, tm->tm_hour >= 12 ? "PM" : "AM");
		break;
	case K_pm:
		fmtbuf_puts(b, tm->tm_hour >= 12 ? "pm" : "am");
		break;
	case K_TZ:
		if (tm->tm_zone && *tm->tm_zone)
			fmtbuf_puts(b, tm->tm_zone);
		else
			put_zone(b, off, false, true, false);
		break;
	case K_ISO_TZ:
	case K_ISO_SEC_TZ:
	case K_ISO_SHORT_TZ:
	case K_ISO_COLON_TZ:
	case K_ISO_COLON_SEC_TZ:
		if (off == 0) {
			fmtbuf_putc(b, 'Z');
			break;
		}
		/* same as the numeric forms */
		__attribute__((fallthrough));
	case K_NUM_TZ:
	case K_NUM_SEC_TZ:
	case K_NUM_SHORT_TZ:
	case K_NUM_COLON_TZ:
	case K_NUM_COLON_SEC_TZ: {
		bool colon = c->kind == K_ISO_COLON_TZ || c->kind == K_ISO_COLON_SEC_TZ ||
		             c->kind == K_NUM_COLON_TZ || c->kind == K_NUM_COLON_SEC_TZ;
		bool shrt = c->kind == K_ISO_SHORT_TZ || c->kind == K_NUM_SHORT_TZ;
		bool secs = c->kind == K_ISO_SEC_TZ || c->kind == K_ISO_COLON_SEC_TZ ||
		            c->kind == K_NUM_SEC_TZ || c->kind == K_NUM_COLON_SEC_TZ;

		put_zone(b, off, colon, !shrt, secs);
		break;
	}
	case K_FRAC0:
	case K_FRAC9:
		put_fraction(b, c, nsec);
		break;
	}
}

/* Renders chunks [from, to) of the cached second; false if they do not fit. */
static bool render(struct timefmt *tf, size_t from, size_t to, char *out, size_t cap, uint8_t *len)
{
	struct fmtbuf b = fmtbuf_init(out, cap);

	for (size_t i = from; i < to; i++)
		put_chunk(&b, tf, &tf->chunks[i], 0);
	*len = (uint8_t)b.len;
	return b.len + 1 < cap;
}

static void cache_text(struct timefmt *tf)
{
	size_t split = tf->frac >= 0 ? (size_t)tf->frac : tf->nchunks;

	tf->text_ok =
	    tf->frac != -2 && render(tf, 0, split, tf->pre, sizeof(tf->pre), &tf->npre) &&
	    (tf->frac < 0 || render(tf, split + 1, tf->nchunks, tf->post, sizeof(tf->post), &tf->npost));
}

size_t timefmt_format(struct timefmt *tf, int64_t unix_ns, char *buf, size_t cap)
{
	struct fmtbuf b = fmtbuf_init(buf, cap);
	int64_t sec = unix_ns / NS_PER_S, nsec = unix_ns % NS_PER_S;

	if (nsec < 0) {
		nsec += NS_PER_S;
		sec--;
	}
	if (!tf->cached || tf->cached_sec != sec) {
		time_t t = (time_t)sec;

		if (!localtime_r(&t, &tf->tm))
			memset(&tf->tm, 0, sizeof(tf->tm));
		tf->cached = true;
		tf->cached_sec = sec;
		cache_text(tf);
	}
	if (tf->text_ok) {
		fmtbuf_put(&b, tf->pre, tf->npre);
		if (tf->frac >= 0) {
			put_fraction(&b, &tf->chunks[tf->frac], (uint32_t)nsec);
			fmtbuf_put(&b, tf->post, tf->npost);
		}
		return b.len;
	}
	for (size_t i = 0; i < tf->nchunks; i++)
		put_chunk(&b, tf, &tf->chunks[i], (uint32_t)nsec);
	return b.len;
}

size_t fmt_timestamp(int64_t unix_ns, char *buf, size_t cap)
{
	struct timefmt tf;

	timefmt_init(&tf, NULL);
	return timefmt_format(&tf, unix_ns, buf, cap);
}

int64_t boot_to_wall_offset_ns(void)
{
	/* Bracket the boot clock read by two realtime reads and take their
	 * midpoint, so the offset is not skewed by the time between the reads. */
	int64_t r0 = util_clock_ns(CLOCK_REALTIME);
	int64_t boot = util_clock_ns(CLOCK_BOOTTIME);
	int64_t r1 = util_clock_ns(CLOCK_REALTIME);

	return r0 + (r1 - r0) / 2 - boot;
}

int64_t wall_from_boot_ns(int64_t offset_ns, uint64_t boot_ns)
{
	if (boot_ns == 0)
		return util_clock_ns(CLOCK_REALTIME);
	return (int64_t)boot_ns + offset_ns;
}
