/* The top_process gadget through the sonde command: periodic process tables
 * from the process operator. */
#include <stdlib.h>
#include <unistd.h>

#include "testlib.h"

static void setup(void)
{
	test_require_root();
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* One JSON array per packet; this test process is in it with its comm. */
static void test_json_lists_self(void)
{
	setup();
	const char *argv[] = {"run",     "top_process", "--host",     "-o",    "json",
	                      "--count", "2",           "--interval", "200ms", NULL};
	char *out = NULL, *err = NULL, comm[64] = "";
	json_t *packets, *packet, *row;
	size_t i, j;
	FILE *f = fopen("/proc/self/comm", "r");

	REQUIRE(f);
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	/* --count ends the run by itself */
	CHECK_INT(sonde_run_cmd(argv, &out, &err, 15000), 0);
	REQUIRE(out);
	packets = test_json_lines(out);
	CHECK_INT(json_array_size(packets), 2);
	json_array_foreach(packets, i, packet)
	{
		json_t *self = NULL;

		CHECK(json_is_array(packet));
		CHECK(json_array_size(packet) > 2);
		json_array_foreach(packet, j, row)
		{
			if (test_json_int(row, "pid", -1) == getpid())
				self = row;
		}
		REQUIRE(self);
		CHECK_STR(test_json_str(self, "comm"), comm);
		CHECK_INT(test_json_int(self, "ppid", -1), getppid());
		CHECK_INT(test_json_int(self, "uid", -1), getuid());
		CHECK(test_json_int(self, "memoryRSS_raw", 0) > 0);
		CHECK(test_json_int(self, "threadCount", 0) >= 1);
		CHECK(test_json_int(self, "mountnsid", 0) > 0);
		CHECK(json_is_real(test_json_path(self, "cpuUsage")) ||
		      json_is_integer(test_json_path(self, "cpuUsage")));
		CHECK(test_json_str(self, "startTimeStr") != NULL);
		CHECK(test_json_str(self, "state") != NULL);
	}
	json_decref(packets);
	free(out);
	free(err);
}

/* Columns: a header above every packet, no screen clearing into a pipe. */
static void test_columns_per_packet(void)
{
	setup();
	const char *argv[] = {"run", "top_process", "--host", "--count", "3", "--interval", "100ms", NULL};
	char *out = NULL, *err = NULL, pid[32];
	bool containers = sonde_sees_containers();

	CHECK_INT(sonde_run_cmd(argv, &out, &err, 15000), 0);
	REQUIRE(out);
	/* the container name (LocalManager) comes first, empty for host
	 * processes; with --host and no container running it is left out */
	if (containers)
		CHECK(strncmp(out, "RUNTIME.CONTAINERNAME", 21) == 0);
	else
		CHECK(strncmp(out, "        PID COMMAND", 19) == 0);
	CHECK(strstr(out, "        PID COMMAND") != NULL);
	CHECK_INT(count(out, "PID COMMAND"), 3);
	CHECK(strstr(out, "%CPU") != NULL);
	CHECK(strstr(out, "\033[") == NULL);
	/* after the (empty) container name column, or at the start of a line */
	snprintf(pid, sizeof(pid), containers ? " %11d " : "\n%11d ", getpid());
	CHECK_INT(count(out, pid), 3);
	free(out);
	free(err);
}

static void test_bad_flags(void)
{
	setup();
	const char *argv[] = {"run", "top_process", "--host", "--interval", "soon", NULL};
	char *out = NULL, *err = NULL;

	CHECK(sonde_run_cmd(argv, &out, &err, 15000) != 0);
	CHECK(err && strstr(err, "interval"));
	free(out);
	free(err);
}

/* Whether every row's `field` (a number) is at most the one before it. */
static bool descending_by(json_t *packet, const char *field)
{
	double prev = 0;
	json_t *row;
	size_t i;

	json_array_foreach(packet, i, row)
	{
		json_t *v = test_json_path(row, field);
		double x = json_is_real(v) ? json_real_value(v) : (double)json_integer_value(v);

		if (!json_is_number(v) || (i > 0 && x > prev)) {
			fprintf(stderr, "row %zu: %s %g after %g\n", i, field, x, prev);
			return false;
		}
		prev = x;
	}
	return true;
}

/* A formatted field ("4.4 MB") sorts by its raw value, and by default the
 * busiest processes come first, as in top. */
static void test_sort_order(void)
{
	setup();
	const char *by_rss[] = {"run",        "top_process", "--host", "-o",         "json",  "--sort",
	                        "-memoryRSS", "--count",     "1",      "--interval", "200ms", NULL};
	const char *by_default[] = {"run",     "top_process", "--host",     "-o",    "json",
	                            "--count", "1",           "--interval", "200ms", NULL};
	char *out = NULL;
	json_t *packets;

	CHECK_INT(sonde_run_cmd(by_rss, &out, NULL, 15000), 0);
	packets = test_json_lines(out ? out : "");
	REQUIRE(json_array_size(packets) == 1);
	CHECK(json_array_size(json_array_get(packets, 0)) > 2);
	CHECK(descending_by(json_array_get(packets, 0), "memoryRSS_raw"));
	json_decref(packets);
	free(out);
	out = NULL;

	CHECK_INT(sonde_run_cmd(by_default, &out, NULL, 15000), 0);
	packets = test_json_lines(out ? out : "");
	REQUIRE(json_array_size(packets) == 1);
	CHECK(descending_by(json_array_get(packets, 0), "cpuUsage"));
	json_decref(packets);
	free(out);
}

TEST_MAIN(TEST(test_json_lists_self), TEST(test_sort_order), TEST(test_columns_per_packet),
          TEST(test_bad_flags))
