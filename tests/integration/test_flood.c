/* Nothing lost unnoticed: a child floods trace_open with failing opens while
 * nobody reads sonde's output (so its writes block and the ring buffer
 * overflows). Every open the child made is either printed or counted in a
 * "lost N samples" warning: delivered + lost == caused. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define FLOOD_COMM  "sonde_it_flood"
#define FLOOD_OPENS 200000

static pid_t flood(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_NAME, FLOOD_COMM);
		for (int i = 0; i < FLOOD_OPENS; i++)
			if (open(path, O_RDONLY) >= 0) /* it does not exist: never succeeds */
				_exit(2);
		_exit(0);
	}
	return pid;
}

static size_t count_lines_with(const char *text, const char *needle)
{
	size_t n = 0;

	for (const char *p = text ? strstr(text, needle) : NULL; p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* Sum of every "lost N samples" warning. */
static unsigned long long sum_lost(const char *err)
{
	unsigned long long sum = 0;

	for (const char *p = err ? strstr(err, ": lost ") : NULL; p; p = strstr(p + 1, ": lost "))
		sum += strtoull(p + 7, NULL, 10);
	return sum;
}

static void test_delivered_plus_lost_is_caused(void)
{
	const char *argv[] = {"run",      "trace_open", "--host", "-v", "--comm",
	                      FLOOD_COMM, "--fields",   "fname",  NULL};
	char path[96];
	struct sonde_proc p;
	int status = -1;
	size_t delivered;
	unsigned long long lost;
	pid_t child;

	test_require_root();
	snprintf(path, sizeof(path), "/nonexistent/sf-%d", getpid());
	REQUIRE(sonde_proc_start(&p, argv) == 0);
	REQUIRE(sonde_proc_wait_for(&p, 2, "running", 15000));
	child = flood(path);
	REQUIRE(child > 0);
	/* sonde's stdout is not read meanwhile: its pipe fills and the ring overflows */
	waitpid(child, &status, 0);
	CHECK_INT(status, 0);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 120000), 0);
	delivered = count_lines_with(p.out, path);
	lost = sum_lost(p.err);
	printf("  caused %d, delivered %zu, reported lost %llu\n", FLOOD_OPENS, delivered, lost);
	CHECK_INT((long long)delivered + (long long)lost, FLOOD_OPENS);
	sonde_proc_free(&p);
}

TEST_MAIN(TEST(test_delivered_plus_lost_is_caused))
