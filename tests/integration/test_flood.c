/* Nothing lost unnoticed: a child floods trace_open with failing opens while
 * nobody reads sonde's output (so its writes block and the ring buffer
 * overflows). Every open the child made is either printed or counted in a
 * "lost N events: <cause>" warning: delivered + lost == caused, with some
 * lost, the loss reported by the periodic timer while sonde runs, once (no
 * second total at exit), with its cause. */
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

/* Floods while sonde's stdout is not read (its writes block, the ring
 * overflows), then reads it while sonde keeps running: the 1 s lost-samples
 * timer must report the loss before any stop does. Then SIGINT, and
 * delivered + every reported loss == caused, with a loss. (The perf buffer
 * fallback of kernels without ring buffers cannot run here: the gadgets
 * reserve from a ring whenever the kernel has one. Its loss counting is
 * perf_buffer's, covered on a perf event array by test_ebpf_run.) */
static void test_delivered_plus_lost_is_caused(void)
{
	int before = test_failures;
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
	/* the timer's report, while sonde still runs (its output read meanwhile) */
	if (!sonde_proc_wait_for(&p, 2, "(its output blocked", 10000)) {
		fprintf(stderr, "no lost-samples warning within 10 s of running\n");
		test_failures++;
	}
	CHECK(waitpid(p.pid, NULL, WNOHANG) == 0); /* reported by the timer, not at exit */
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 120000), 0);
	delivered = count_lines_with(p.out, path);
	lost = sonde_lost_samples(p.err);
	printf("  caused %d, delivered %zu, reported lost %llu\n", FLOOD_OPENS, delivered, lost);
	CHECK(lost > 0);
	CHECK_INT((long long)delivered + (long long)lost, FLOOD_OPENS);
	/* said once: the periodic reports only, each with its cause */
	CHECK(strstr(p.err, "ring buffer 'events' full, sonde read it too slowly") != NULL);
	CHECK(strstr(p.err, "events lost") == NULL);
	if (test_failures != before)
		sonde_proc_print_errors(&p);
	sonde_proc_free(&p);
}

TEST_MAIN(TEST(test_delivered_plus_lost_is_caused))
