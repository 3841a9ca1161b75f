/* The harness's own verdicts: a skip must never hide a failure, and CI must
 * not pass a suite that skipped what install-deps.sh provides. Each scenario
 * runs test_main in a child (with its own test_failures) and checks the exit
 * status ctest would see: 0 passed, 1 failed, 77 skipped. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

static void case_pass(void)
{
	CHECK(1);
}

static void case_fail(void)
{
	CHECK(0);
}

static void case_skip_machine(void)
{
	test_skip_machine("a machine-level reason");
}

static void case_skip_dep(void)
{
	test_skip_dep("a package install-deps.sh provides");
}

static void case_fail_then_skip(void)
{
	CHECK(0);
	test_skip_machine("reached after a failed check");
}

static int ran_after_skip;
static void case_after_skip(void)
{
	ran_after_skip = 1;
	CHECK(ran_after_skip);
}

/* Exit status of test_main over cases in a child, with CI set or unset; 99
 * if it passed although a last case_after_skip never ran. */
static int verdict(const struct test_case *cases, size_t n, bool ci)
{
	char *argv[] = {"test_testlib", NULL};
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		/* the child's verdict lines would read as this file's own */
		dup2(null, 1);
		dup2(null, 2);
		test_failures = 0;
		if (ci)
			setenv("CI", "true", 1);
		else
			unsetenv("CI");
		int rc = test_main(cases, n, 1, argv);
		_exit(rc == 0 && n && cases[n - 1].fn == case_after_skip && !ran_after_skip ? 99 : rc);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

#define VERDICT(ci, ...)                                                                                     \
	({                                                                                                   \
		static const struct test_case c[] = {__VA_ARGS__};                                           \
		verdict(c, sizeof(c) / sizeof(c[0]), ci);                                                    \
	})

static void test_pass_and_fail(void)
{
	CHECK_INT(VERDICT(false, TEST(case_pass)), 0);
	CHECK_INT(VERDICT(false, TEST(case_pass), TEST(case_fail)), 1);
}

/* A skip after a failed check is a failure, in the same case or a later one. */
static void test_skip_after_failure_fails(void)
{
	CHECK_INT(VERDICT(false, TEST(case_fail_then_skip)), 1);
	CHECK_INT(VERDICT(false, TEST(case_fail), TEST(case_skip_machine)), 1);
	CHECK_INT(VERDICT(false, TEST(case_fail), TEST(case_skip_dep)), 1);
}

/* A skip ends its case only: the cases after it run, and a failure there
 * still fails the file. */
static void test_skip_ends_only_its_case(void)
{
	CHECK_INT(VERDICT(false, TEST(case_skip_machine), TEST(case_pass)), 77);
	CHECK_INT(VERDICT(false, TEST(case_skip_machine), TEST(case_fail)), 1);
	CHECK_INT(VERDICT(false, TEST(case_skip_machine), TEST(case_after_skip)), 77);
}

/* CI=true: what install-deps.sh (or root) provides may not be missing;
 * machine-level reasons still skip. */
static void test_ci_fails_dependency_skips(void)
{
	CHECK_INT(VERDICT(false, TEST(case_skip_dep)), 77);
	CHECK_INT(VERDICT(true, TEST(case_skip_dep)), 1);
	CHECK_INT(VERDICT(true, TEST(case_skip_machine)), 77);
	CHECK_INT(VERDICT(true, TEST(case_pass), TEST(case_skip_dep), TEST(case_pass)), 1);
}

TEST_MAIN(TEST(test_pass_and_fail), TEST(test_skip_after_failure_fails), TEST(test_skip_ends_only_its_case),
          TEST(test_ci_fails_dependency_skips))
