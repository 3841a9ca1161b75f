/* Two sonde processes running the same gadget do not interfere: each sees
 * its own events (their kernel filters are their own), and stopping one with
 * SIGTERM ends it cleanly (exit 0, output flushed) while the other goes on. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static void open_as(const char *comm, const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_NAME, comm);
		close(open(path, O_RDONLY));
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void test_two_runs(void)
{
	const char *argv_a[] = {"run",         "trace_open", "--host", "-v", "--comm",
	                        "sonde_it_ca", "-o",         "json",   NULL};
	const char *argv_b[] = {"run",         "trace_open", "--host", "-v", "--comm",
	                        "sonde_it_cb", "-o",         "json",   NULL};
	char pa[64], pb[64], pb2[64];
	struct sonde_proc a, b;

	test_require_root();
	snprintf(pa, sizeof(pa), "/tmp/sonde-it-ca-%d", getpid());
	snprintf(pb, sizeof(pb), "/tmp/sonde-it-cb-%d", getpid());
	snprintf(pb2, sizeof(pb2), "/tmp/sonde-it-cb2-%d", getpid());
	REQUIRE(sonde_proc_start(&a, argv_a) == 0);
	REQUIRE(sonde_proc_start(&b, argv_b) == 0);
	REQUIRE(sonde_proc_wait_for(&a, 2, "running", 15000));
	REQUIRE(sonde_proc_wait_for(&b, 2, "running", 15000));

	open_as("sonde_it_ca", pa);
	open_as("sonde_it_cb", pb);
	CHECK(sonde_proc_wait_for(&a, 1, pa, 5000));
	CHECK(sonde_proc_wait_for(&b, 1, pb, 5000));

	/* SIGTERM ends A cleanly; B keeps tracing */
	CHECK_INT(sonde_proc_finish(&a, SIGTERM, 10000), 0);
	open_as("sonde_it_cb", pb2);
	CHECK(sonde_proc_wait_for(&b, 1, pb2, 5000));
	CHECK_INT(sonde_proc_finish(&b, SIGINT, 10000), 0);

	REQUIRE(a.out && b.out);
	CHECK(strstr(a.out, pa) != NULL);
	CHECK(strstr(a.out, pb) == NULL); /* B's process never reached A */
	CHECK(strstr(b.out, pb) != NULL);
	CHECK(strstr(b.out, pa) == NULL);
	CHECK(strstr(b.out, pb2) != NULL);
	sonde_proc_free(&a);
	sonde_proc_free(&b);
}

TEST_MAIN(TEST(test_two_runs))
