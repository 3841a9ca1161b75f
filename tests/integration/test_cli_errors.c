/* Bad input to `sonde run`: one clear error line, a non-zero exit, never a crash. */
#include <stdlib.h>
#include <unistd.h>

#include "testlib.h"

static void test_unknown_gadget(void)
{
	const char *argv[] = {"run", "no_such_gadget", NULL};
	char *out = NULL, *err = NULL;

	CHECK_INT(sonde_run_cmd(argv, &out, &err, 30000), 1);
	CHECK(strstr(err, "unknown gadget \"no_such_gadget\"") != NULL);
	CHECK(strstr(err, "trace_open") != NULL); /* lists what exists */
	free(out);
	free(err);
}

static void test_bad_flags(void)
{
	const char *a1[] = {"run", "trace_open", "--no-such-flag", "1", NULL};
	const char *a2[] = {"run", "trace_open", "--pid", "abc", NULL};
	const char *a3[] = {"run", "trace_open", "--pid", "-5", NULL};
	const char *a4[] = {"run", "trace_open", "-o", "xml", NULL};
	const char *a5[] = {"run", "trace_open", "--failed", "maybe", NULL};
	const char *a6[] = {"run", "trace_open", "--timeout", "soon", NULL};
	const char *a7[] = {"run", "trace_open", "--param", "operator.oci.ebpf.nope=1", NULL};
	const char *a8[] = {"run",       "trace_open", "--comm", "a-name-longer-than-sixteen-bytes",
	                    "--timeout", "1",          NULL};
	const char *a9[] = {"run", "trace_open", "--fields", "fname,nope", "--timeout", "1", NULL};
	const char *a10[] = {"bogus", NULL};

	sonde_expect_error(a1, "unknown flag --no-such-flag");
	sonde_expect_error(a2, "not a valid uint32");
	sonde_expect_error(a3, "--pid");
	sonde_expect_error(a4, "xml");
	sonde_expect_error(a5, "maybe");
	sonde_expect_error(a6, "invalid timeout");
	sonde_expect_error(a7, "unknown param");
	sonde_expect_error(a8, "comm");
	sonde_expect_error(a9, "nope");
	sonde_expect_error(a10, "unknown command");
}

/* Out of file descriptors from the start (RLIMIT_NOFILE 8): an error naming
 * the cause and 1; never taken for a kernel without ring buffers (a probe
 * that failed said nothing about the kernel). */
static void test_no_fds(void)
{
	const char *argv[] = {"run", "trace_open", "--host", "--timeout", "1", "-v", NULL};
	char *err = NULL;
	int status;

	test_require_root(); /* loading eBPF */
	status = sonde_run_cmd_nofile(argv, 8, &err);
	REQUIRE(err);
	CHECK_INT(status, 1);
	CHECK(strstr(err, "Too many open files") != NULL);
	CHECK(strstr(err, "uses a perf buffer") == NULL);
	if (status != 1 || !strstr(err, "Too many open files") || strstr(err, "uses a perf buffer"))
		fprintf(stderr, "sonde said:\n%s\n", err);
	free(err);
}

static void test_help_lists_params(void)
{
	const char *argv[] = {"run", "trace_open", "--help", NULL};
	char *out = NULL, *err = NULL;

	CHECK_INT(sonde_run_cmd(argv, &out, &err, 30000), 0);
	CHECK(strstr(out, "--failed") != NULL);
	CHECK(strstr(out, "--pid") != NULL);
	CHECK(strstr(out, "--output") != NULL);
	CHECK(strstr(out, "fname") != NULL);
	free(out);
	free(err);
}

TEST_MAIN(TEST(test_unknown_gadget), TEST(test_bad_flags), TEST(test_no_fds), TEST(test_help_lists_params))
