/* snapshot_process through the sonde command: one array listing the test itself. */
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "testlib.h"

static void test_lists_own_pid(void)
{
	const char *argv[] = {"run", "snapshot_process", "--host", "-o", "json", "--timeout", "20", NULL};
	char *out = NULL, *err = NULL, comm[16] = {0};
	json_t *lines, *arr, *ev, *mine = NULL;
	size_t i;
	int status;

	test_require_root();
	prctl(PR_GET_NAME, comm);
	status = sonde_run_cmd(argv, &out, &err, 30000);
	CHECK_INT(status, 0);
	lines = test_json_lines(out);
	REQUIRE(json_array_size(lines) == 1); /* one snapshot, then the gadget ends by itself */
	arr = json_array_get(lines, 0);
	REQUIRE(json_is_array(arr));
	CHECK(json_array_size(arr) > 3);
	json_array_foreach(arr, i, ev)
	{
		if (test_json_int(ev, "pid", -1) == getpid())
			mine = ev;
	}
	REQUIRE(mine);
	CHECK_STR(test_json_str(mine, "comm"), comm);
	CHECK_INT(test_json_int(mine, "parent.pid", -1), getppid());
	CHECK_INT(test_json_int(mine, "creds.uid", -1), getuid());
	json_decref(lines);
	free(out);
	free(err);
}

/* --pid narrows the snapshot to one process (a kernel-side filter). */
static void test_pid_filter(void)
{
	char pid[16];
	const char *argv[] = {"run", "snapshot_process", "--host", "-o", "json", "--pid", pid, NULL};
	char *out = NULL, *err = NULL;
	json_t *lines, *arr;

	test_require_root();
	snprintf(pid, sizeof(pid), "%d", getpid());
	CHECK_INT(sonde_run_cmd(argv, &out, &err, 30000), 0);
	lines = test_json_lines(out);
	arr = json_array_get(lines, 0);
	REQUIRE(json_is_array(arr));
	CHECK_INT(json_array_size(arr), 1);
	CHECK_INT(test_json_int(json_array_get(arr, 0), "pid", -1), getpid());
	json_decref(lines);
	free(out);
	free(err);
}

TEST_MAIN(TEST(test_lists_own_pid), TEST(test_pid_filter))
