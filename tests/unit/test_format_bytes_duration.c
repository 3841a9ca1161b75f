/* Byte counts (go-humanize) and durations (Go time.Duration) (lib/format). */
#include <string.h>

#include "format/bytes.h"
#include "format/duration.h"
#include "testlib.h"

static char buf[64];

static const char *bytes_str(uint64_t n)
{
	size_t len = fmt_bytes(n, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static const char *dur_str(int64_t ns)
{
	size_t len = fmt_duration(ns, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static const char *go_dur_str(int64_t ns)
{
	size_t len = fmt_go_duration(ns, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static void test_bytes(void)
{
	CHECK_STR(bytes_str(0), "0 B");
	CHECK_STR(bytes_str(9), "9 B");
	CHECK_STR(bytes_str(10), "10 B");
	CHECK_STR(bytes_str(999), "999 B");
	CHECK_STR(bytes_str(1000), "1.0 kB");
	CHECK_STR(bytes_str(1024), "1.0 kB");
	CHECK_STR(bytes_str(1049), "1.0 kB");
	CHECK_STR(bytes_str(1050), "1.1 kB");
	CHECK_STR(bytes_str(9949), "9.9 kB");
	CHECK_STR(bytes_str(9950), "10 kB");  /* rounds to 10.0: no decimal */
	CHECK_STR(bytes_str(12500), "12 kB"); /* %.0f of 12.5: to even */
	CHECK_STR(bytes_str(13500), "14 kB");
	CHECK_STR(bytes_str(998500), "998 kB");
	CHECK_STR(bytes_str(999500), "1000 kB");
	CHECK_STR(bytes_str(999999), "1000 kB"); /* stays in kB, as go-humanize */
	CHECK_STR(bytes_str(1000000), "1.0 MB");
	CHECK_STR(bytes_str(1500000), "1.5 MB");
	CHECK_STR(bytes_str(1000000000), "1.0 GB");
	CHECK_STR(bytes_str(1000000000000), "1.0 TB");
	CHECK_STR(bytes_str(1000000000000000), "1.0 PB");
	CHECK_STR(bytes_str(999999999999999999ULL), "1.0 EB"); /* as a double it is 1e18 */
	CHECK_STR(bytes_str(1000000000000000000ULL), "1.0 EB");
	CHECK_STR(bytes_str(UINT64_MAX), "18 EB");
	CHECK(strlen(bytes_str(UINT64_MAX)) < FMT_BYTES_MAX);
}

static void test_go_duration(void)
{
	CHECK_STR(go_dur_str(0), "0s");
	CHECK_STR(go_dur_str(1), "1ns");
	CHECK_STR(go_dur_str(999), "999ns");
	CHECK_STR(go_dur_str(1000), "1\xc2\xb5s");
	CHECK_STR(go_dur_str(1500), "1.5\xc2\xb5s");
	CHECK_STR(go_dur_str(2000001), "2.000001ms");
	CHECK_STR(go_dur_str(1000000000), "1s");
	CHECK_STR(go_dur_str(1500000000), "1.5s");
	CHECK_STR(go_dur_str(60000000000), "1m0s");
	CHECK_STR(go_dur_str(61000000000), "1m1s");
	CHECK_STR(go_dur_str(3600000000000), "1h0m0s");
	CHECK_STR(go_dur_str(3661000000001), "1h1m1.000000001s");
	CHECK_STR(go_dur_str(-1), "-1ns");
	CHECK_STR(go_dur_str(-1500000000), "-1.5s");
	CHECK_STR(go_dur_str(INT64_MAX), "2562047h47m16.854775807s");
	CHECK_STR(go_dur_str(INT64_MIN), "-2562047h47m16.854775808s");
	CHECK(strlen(go_dur_str(INT64_MIN)) < FMT_DURATION_MAX);
}

static void test_duration(void)
{
	CHECK_STR(dur_str(0), "0ns");
	CHECK_STR(dur_str(999), "999ns");
	CHECK_STR(dur_str(1000), "1.00\xc2\xb5s");
	CHECK_STR(dur_str(1500), "1.50\xc2\xb5s");
	CHECK_STR(dur_str(1234567), "1.23ms");
	CHECK_STR(dur_str(999999), "1000.00\xc2\xb5s"); /* %.2f rounds up, unit stays */
	CHECK_STR(dur_str(999999999), "1000.00ms");
	CHECK_STR(dur_str(1000000000), "1s");
	CHECK_STR(dur_str(90000000000), "1m30s");
	/* negative values (a u64 above INT64_MAX read as Go does) stay in ns */
	CHECK_STR(dur_str(-1), "-1ns");
	CHECK_STR(dur_str((int64_t)UINT64_MAX), "-1ns");
	CHECK_STR(dur_str(INT64_MIN), "-9223372036854775808ns");
	CHECK_STR(dur_str(INT64_MAX), "2562047h47m16.854775807s");
}

TEST_MAIN(TEST(test_bytes), TEST(test_go_duration), TEST(test_duration))
