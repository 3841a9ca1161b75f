/* Timestamps: Go layouts, time zones, boot → wall clock (lib/format). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format/timestamp.h"
#include "testlib.h"

#define NS 1000000000LL
/* Go's reference time: Mon Jan 2 15:04:05 UTC 2006 */
#define REF (1136214245LL * NS)

static char buf[FMT_TIMESTAMP_MAX * 2];

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static const char *layout(const char *l, int64_t ns)
{
	struct timefmt tf;
	size_t len;

	if (timefmt_init(&tf, l))
		return "(init failed)";
	len = timefmt_format(&tf, ns, buf, sizeof(buf));
	return strlen(buf) == len ? buf : "(length mismatch)";
}

static const char *deflt(int64_t ns)
{
	size_t len = fmt_timestamp(ns, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static void test_default_layout(void)
{
	set_tz("UTC0");
	CHECK_STR(deflt(0), "1970-01-01T00:00:00.000000000Z");
	CHECK_STR(deflt(REF + 123), "2006-01-02T15:04:05.000000123Z");
	CHECK_STR(deflt(1795329469918913515LL), "2026-11-22T06:37:49.918913515Z");
	CHECK_STR(deflt(-1), "1969-12-31T23:59:59.999999999Z");
	CHECK_STR(deflt(INT64_MAX), "2262-04-11T23:47:16.854775807Z");
	set_tz("IST-5:30");
	CHECK_STR(deflt(REF), "2006-01-02T20:34:05.000000000+05:30");
	set_tz("XYZ+3");
	CHECK_STR(deflt(REF), "2006-01-02T12:04:05.000000000-03:00");
	/* a zone with daylight saving: the offset follows the date */
	set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	CHECK_STR(deflt(REF), "2006-01-02T16:04:05.000000000+01:00");
	CHECK_STR(deflt(REF + 180LL * 86400 * NS), "2006-07-01T17:04:05.000000000+02:00");
	set_tz("UTC0");
}

static void test_go_layouts(void)
{
	set_tz("UTC0");
	/* time.UnixDate, time.RFC1123Z, time.Kitchen, time.StampMicro */
	CHECK_STR(layout("Mon Jan _2 15:04:05 MST 2006", REF), "Mon Jan  2 15:04:05 UTC 2006");
	CHECK_STR(layout("Mon, 02 Jan 2006 15:04:05 -0700", REF), "Mon, 02 Jan 2006 15:04:05 +0000");
	CHECK_STR(layout("3:04PM", REF), "3:04PM");
	CHECK_STR(layout("Jan _2 15:04:05.000000", REF + 1500), "Jan  2 15:04:05.000001");
	CHECK_STR(layout("Monday January 2 06 1/2 03:4:5 pm", REF), "Monday January 2 06 1/2 03:4:5 pm");
	CHECK_STR(layout("002 __2", REF), "002   2");
	CHECK_STR(layout("2006-01-02", REF + 12 * 3600 * NS), "2006-01-03");
	CHECK_STR(layout("15h", REF + 9 * 3600 * NS), "00h");
	CHECK_STR(layout("3 PM", REF + 9 * 3600 * NS), "12 AM");
	/* fractions: .000 fixed, .999 trims zeros (and the dot when all are) */
	CHECK_STR(layout("05.000", REF + 120000000), "05.120");
	CHECK_STR(layout("05.999", REF + 120000000), "05.12");
	CHECK_STR(layout("05.999999999", REF), "05");
	CHECK_STR(layout("05,000", REF + 5000000), "05,005");
	CHECK_STR(layout("05.0x", REF), "05.0x");                /* one digit, then text */
	CHECK_STR(layout("v1.00", REF + 7 * NS / 100), "v1.07"); /* "1" is the month; ".00" a fraction */
	/* zones */
	CHECK_STR(layout("Z07:00 Z0700 Z07 -07:00:00", REF), "Z Z Z +00:00:00");
	set_tz("IST-5:30");
	CHECK_STR(layout("Z07:00 Z0700 Z07 -07 -070000 MST", REF), "+05:30 +0530 +05 +05 +053000 IST");
	set_tz("UTC0");
	/* words that only look like elements */
	CHECK_STR(layout("Janet Month", REF), "Janet Month");
	CHECK_STR(layout("_2006", REF), "_2006");
	CHECK_STR(layout("", REF), "");
	/* too long to compile */
	{
		struct timefmt tf;
		char big[600];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		CHECK(timefmt_init(&tf, big) != 0);
	}
	/* truncation */
	{
		struct timefmt tf;

		timefmt_init(&tf, NULL);
		CHECK_INT(timefmt_format(&tf, REF, buf, 11), 10);
		CHECK_STR(buf, "2006-01-02");
	}
}

static void test_cache_follows_seconds(void)
{
	struct timefmt tf;

	set_tz("UTC0");
	timefmt_init(&tf, NULL);
	timefmt_format(&tf, REF, buf, sizeof(buf));
	CHECK_STR(buf, "2006-01-02T15:04:05.000000000Z");
	timefmt_format(&tf, REF + NS - 1, buf, sizeof(buf));
	CHECK_STR(buf, "2006-01-02T15:04:05.999999999Z");
	timefmt_format(&tf, REF + NS, buf, sizeof(buf));
	CHECK_STR(buf, "2006-01-02T15:04:06.000000000Z");
	timefmt_format(&tf, REF - 1, buf, sizeof(buf));
	CHECK_STR(buf, "2006-01-02T15:04:04.999999999Z");
}

static void test_boot_to_wall(void)
{
	struct timespec rt, bt;
	int64_t off = boot_to_wall_offset_ns(), now, boot, wall;

	clock_gettime(CLOCK_BOOTTIME, &bt);
	clock_gettime(CLOCK_REALTIME, &rt);
	boot = (int64_t)bt.tv_sec * NS + bt.tv_nsec;
	now = (int64_t)rt.tv_sec * NS + rt.tv_nsec;
	wall = wall_from_boot_ns(off, (uint64_t)boot);
	/* within 10 ms, either side: on the project VM the two clocks move apart
	 * by up to ~60 us between reads, so "wall <= now" failed one run in three */
	CHECK(now - wall < 10000000 && wall - now < 10000000);
	/* 0 = the kernel could not say: now */
	wall = wall_from_boot_ns(off, 0);
	CHECK(wall >= now && wall - now < 1000000000);
	CHECK_INT(wall_from_boot_ns(1000, 5), 1005);
}

TEST_MAIN(TEST(test_default_layout), TEST(test_go_layouts), TEST(test_cache_follows_seconds),
          TEST(test_boot_to_wall))
