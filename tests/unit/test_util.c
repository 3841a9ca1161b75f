/* Shared helpers of lib/util: growable arrays, the monotonic clock, whole-file
 * reads and closing a child's fds. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "util/ann.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/fd.h"
#include "util/file.h"
#include "util/list.h"

/* Under ASan, an allocation too large to serve returns NULL as malloc does,
 * rather than aborting: the -ENOMEM path is what is tested. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static void test_grow_array(void)
{
	int *a = NULL;
	size_t cap = 0, reallocs = 0;

	for (size_t i = 0; i < 100000; i++) {
		size_t before = cap;

		REQUIRE(grow_array((void **)&a, &cap, i + 1, sizeof(*a)) == 0);
		reallocs += cap != before;
		CHECK(cap >= i + 1);
		a[i] = (int)i;
	}
	for (size_t i = 0; i < 100000; i++)
		if (a[i] != (int)i)
			CHECK_INT(a[i], (int)i);
	/* doubling: 4, 8, ..., 131072 is 16 steps, not one per element */
	CHECK_INT((int)reallocs, 16);
	/* a need within the capacity changes nothing */
	{
		int *same = a;
		size_t c = cap;

		CHECK_INT(grow_array((void **)&a, &cap, 10, sizeof(*a)), 0);
		CHECK(a == same && cap == c);
	}
	free(a);
}

static void test_grow_array_overflow(void)
{
	char *b = NULL;
	uint64_t *w = NULL;
	size_t cap = 0;

	/* need * elem_size wraps, or passes the largest object: refused before any allocation */
	CHECK_INT(grow_array((void **)&w, &cap, SIZE_MAX / 4, sizeof(*w)), -EOVERFLOW);
	CHECK(w == NULL && cap == 0);
	CHECK_INT(grow_array((void **)&w, &cap, PTRDIFF_MAX / 8 + 1, sizeof(*w)), -EOVERFLOW);
	CHECK_INT(grow_array((void **)&w, &cap, 1, 0), -EOVERFLOW);
	CHECK(w == NULL && cap == 0);
	/* a valid size that memory cannot hold: -ENOMEM, array untouched */
	REQUIRE(grow_array((void **)&b, &cap, 10, 1) == 0);
	memcpy(b, "kept", 5);
	CHECK_INT(grow_array((void **)&b, &cap, PTRDIFF_MAX / 2, 1), -ENOMEM);
	CHECK(cap == 16);
	CHECK_STR(b, "kept");
	CHECK_INT(grow_array((void **)&b, &cap, (size_t)PTRDIFF_MAX + 1, 1), -EOVERFLOW);
	free(b);
}

static void test_append_array(void)
{
	long *a = NULL;
	size_t n = 0;

	for (long i = 0; i < 5000; i++)
		REQUIRE(append_array(&a, &n, &i, sizeof(i)) == 0);
	CHECK_INT((int)n, 5000);
	for (size_t i = 0; i < n; i++)
		if (a[i] != (long)i)
			CHECK_INT((int)a[i], (int)i);
	/* removing elements keeps the implied capacity valid (ASan checks the writes) */
	n = 3;
	for (long i = 0; i < 100; i++)
		REQUIRE(append_array(&a, &n, &i, sizeof(i)) == 0);
	CHECK_INT((int)n, 103);
	CHECK_INT((int)a[2], 2);
	CHECK_INT((int)a[102], 99);
	free(a);
	a = NULL;
	CHECK_INT(grow_array_by_len((void **)&a, PTRDIFF_MAX / 2 + 1, 1), -EOVERFLOW);
	CHECK_INT(grow_array_by_len((void **)&a, 1u << 20, SIZE_MAX / 4), -EOVERFLOW);
	CHECK(a == NULL);
}

static void test_clock(void)
{
	int64_t prev = util_now_ns(), t0 = prev;
	struct timespec ms = {0, 2000000};

	CHECK(prev > 0);
	for (int i = 0; i < 100000; i++) {
		int64_t t = util_now_ns();

		if (t < prev)
			CHECK(t >= prev);
		prev = t;
	}
	nanosleep(&ms, NULL);
	CHECK(util_now_ns() - t0 >= 2000000);
	/* same clock as CLOCK_MONOTONIC, in nanoseconds */
	{
		struct timespec ts;
		int64_t mono;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		mono = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		CHECK(util_now_ns() - mono >= 0 && util_now_ns() - mono < 1000000000);
	}
}

static void test_util_read_file(void)
{
	char path[] = "/tmp/sonde-test-util-XXXXXX", *text = (char *)1;
	int fd = mkstemp(path);
	size_t len = 1;
	char big[10000];

	REQUIRE(fd >= 0);
	memset(big, 'x', sizeof(big));
	REQUIRE(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	close(fd);
	REQUIRE(util_read_file(path, sizeof(big), &text, &len) == 0);
	CHECK_INT((int)len, (int)sizeof(big));
	CHECK(text[len] == 0 && text[len - 1] == 'x');
	free(text);
	/* one byte over the limit */
	CHECK_INT(util_read_file(path, sizeof(big) - 1, &text, &len), -EFBIG);
	CHECK(text == NULL && len == 0);
	unlink(path);
	CHECK_INT(util_read_file(path, 100, &text, NULL), -ENOENT);
	/* proc files report size 0 and come in several reads */
	REQUIRE(util_read_file("/proc/self/maps", 1 << 20, &text, &len) == 0);
	CHECK(len > 0 && strlen(text) == len);
	free(text);
}

static void test_close_fds(void)
{
	int p[2];
	pid_t pid;
	int status;

	REQUIRE(pipe(p) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int extra = open("/dev/null", O_RDONLY), bad = 0;

		util_close_fds_except(p[1], 2);
		/* kept: the pipe's write end and stderr; gone: stdin, the read end, extra */
		bad |= fcntl(p[1], F_GETFD) < 0;
		bad |= fcntl(2, F_GETFD) < 0;
		bad |= fcntl(0, F_GETFD) >= 0;
		bad |= fcntl(p[0], F_GETFD) >= 0;
		bad |= extra < 0 || fcntl(extra, F_GETFD) >= 0;
		_exit(bad);
	}
	close(p[1]);
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(p[0]);
	/* adjacent keeps and none at all */
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);

		util_close_fds_except(a, b);
		_exit(fcntl(a, F_GETFD) < 0 || fcntl(b, F_GETFD) < 0 || fcntl(1, F_GETFD) >= 0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		util_close_fds_except(-1, -1);
		_exit(fcntl(0, F_GETFD) >= 0 || fcntl(2, F_GETFD) >= 0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_list_has(void)
{
	CHECK(util_list_has("columns,json", "json", false));
	CHECK(util_list_has(" columns ,\tjson\t", "columns", false));
	CHECK(util_list_has("a,,b", "b", false));
	CHECK(!util_list_has("columns,json", "col", false));
	CHECK(!util_list_has("columns,jsonpretty", "json", false));
	CHECK(!util_list_has("JSON", "json", false));
	CHECK(util_list_has("cpuTime, StartTime", "starttime", true));
	CHECK(!util_list_has("", "json", false));
	CHECK(!util_list_has(NULL, "json", false));
	/* an empty item matches an empty name only */
	CHECK(util_list_has("a, ,b", "", false));
	CHECK(!util_list_has("a,b", "", false));
}

static void test_ann(void)
{
	const char *const *a = ANN("k1", "v1", "k2", "v2");

	CHECK_STR(a[0], "k1");
	CHECK_STR(a[3], "v2");
	CHECK(a[4] == NULL);
}

TEST_MAIN(TEST(test_grow_array), TEST(test_grow_array_overflow), TEST(test_append_array), TEST(test_clock),
          TEST(test_util_read_file), TEST(test_close_fds), TEST(test_list_has), TEST(test_ann))
