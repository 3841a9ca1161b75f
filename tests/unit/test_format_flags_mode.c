/* open(2) flags and file modes (lib/format). */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "format/file_flags.h"
#include "format/file_mode.h"
#include "testlib.h"

static char buf[256];

static const char *flags_str(uint32_t f)
{
	size_t len = fmt_file_flags(f, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static const char *mode_str(uint32_t m)
{
	size_t len = fmt_file_mode(m, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static void test_flags(void)
{
	static const char all[] =
	    "O_CREAT|O_EXCL|O_NOCTTY|O_TRUNC|O_APPEND|O_NONBLOCK|O_DSYNC|O_FASYNC|O_DIRECT|"
	    "O_LARGEFILE|O_DIRECTORY|O_NOFOLLOW|O_NOATIME|O_CLOEXEC";
	char want[256];

	CHECK_STR(flags_str(0), "O_RDONLY");
	CHECK_STR(flags_str(O_WRONLY), "O_WRONLY");
	CHECK_STR(flags_str(O_RDWR), "O_RDWR");
	CHECK_STR(flags_str(3), ""); /* invalid access mode: no name */
	CHECK_STR(flags_str(O_WRONLY | O_CREAT | O_TRUNC), "O_WRONLY|O_CREAT|O_TRUNC");
	CHECK_STR(flags_str(O_RDONLY | O_CLOEXEC | O_DIRECTORY), "O_RDONLY|O_DIRECTORY|O_CLOEXEC");
	CHECK_STR(flags_str(3 | O_CREAT), "O_CREAT");
	/* every flag alone, with the C library's values */
	CHECK_STR(flags_str(O_EXCL), "O_RDONLY|O_EXCL");
	CHECK_STR(flags_str(O_NOCTTY), "O_RDONLY|O_NOCTTY");
	CHECK_STR(flags_str(O_APPEND), "O_RDONLY|O_APPEND");
	CHECK_STR(flags_str(O_NONBLOCK), "O_RDONLY|O_NONBLOCK");
	CHECK_STR(flags_str(O_DSYNC), "O_RDONLY|O_DSYNC");
	CHECK_STR(flags_str(O_ASYNC), "O_RDONLY|O_FASYNC");
	CHECK_STR(flags_str(O_DIRECT), "O_RDONLY|O_DIRECT");
	CHECK_STR(flags_str(0100000), "O_RDONLY|O_LARGEFILE"); /* the kernel's value; glibc's is 0 */
	CHECK_STR(flags_str(O_NOFOLLOW), "O_RDONLY|O_NOFOLLOW");
	CHECK_STR(flags_str(O_NOATIME), "O_RDONLY|O_NOATIME");
	/* O_SYNC = __O_SYNC | O_DSYNC: only the named part shows */
	CHECK_STR(flags_str(O_SYNC), "O_RDONLY|O_DSYNC");
	/* all at once, in the fixed order; unnamed bits (O_PATH, high bits) ignored */
	snprintf(want, sizeof(want), "O_RDWR|%s", all);
	CHECK_STR(flags_str(O_RDWR | 03777700), want);
	CHECK_STR(flags_str(UINT32_MAX), all);
	CHECK(strlen(flags_str(O_RDWR | 03777700)) < FMT_FILE_FLAGS_MAX);
	/* truncation */
	CHECK_INT(fmt_file_flags(O_WRONLY | O_CREAT, buf, 10), 9);
	CHECK_STR(buf, "O_WRONLY|");
}

static void test_mode(void)
{
	CHECK_STR(mode_str(0), "----------");
	CHECK_STR(mode_str(0640), "-rw-r-----");
	CHECK_STR(mode_str(0777), "-rwxrwxrwx");
	CHECK_STR(mode_str(01), "---------x");
	CHECK_STR(mode_str(0400), "-r--------");
	/* st_mode type and setuid/sticky bits sit where Go has no letters */
	CHECK_STR(mode_str(S_IFREG | 0644), "-rw-r--r--");
	CHECK_STR(mode_str(S_IFDIR | S_ISUID | S_ISVTX | 0755), "-rwxr-xr-x");
	/* Go's own type bits */
	CHECK_STR(mode_str(1u << 31 | 0755), "drwxr-xr-x");
	CHECK_STR(mode_str(1u << 27 | 0777), "Lrwxrwxrwx");
	CHECK_STR(mode_str(1u << 26 | 1u << 21 | 0620), "Dcrw--w----");
	CHECK_STR(mode_str(UINT32_MAX), "dalTLDpSugct?rwxrwxrwx");
	CHECK(strlen(mode_str(UINT32_MAX)) < FMT_FILE_MODE_MAX);
	/* truncation keeps the first bytes, NUL-terminated */
	{
		char small[5] = "xxxx";

		CHECK_INT(fmt_file_mode(UINT32_MAX, small, sizeof(small)), 4);
		CHECK_STR(small, "dalT");
		CHECK_INT(fmt_file_mode(0640, small, 1), 0);
		CHECK_STR(small, "");
	}
}

TEST_MAIN(TEST(test_flags), TEST(test_mode))
