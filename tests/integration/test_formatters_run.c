/* The formatters operator through the sonde command: trace_open events carry
 * error, flags, mode and timestamp as text next to the raw numbers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define CHILD_COMM "sonde_it_fmt"

/* What the held child opens, and how. */
struct open_args {
	const char *path;
	int flags;
	mode_t mode;
};

/* In the child (umask 0, so the mode is exactly what is asked): the fd it got, or -errno. */
static int open_as_child(void *arg)
{
	const struct open_args *a = arg;
	int fd;

	prctl(PR_SET_NAME, CHILD_COMM);
	umask(0);
	fd = open(a->path, a->flags, a->mode);
	return fd < 0 ? -errno : fd;
}

/* Runs `sonde run trace_open --host <args>` while the child opens `path`;
 * returns the whole stdout (caller frees) and the child's result. */
static char *trace(const char *path, int flags, mode_t mode, const char *const *extra, int *child_fd)
{
	const char *argv[16] = {"run", "trace_open", "--host", "-v"};
	struct open_args args = {path, flags, mode};
	struct test_child c;
	size_t n = 4;

	for (size_t i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	test_child_start(&c, open_as_child, &args);
	return sonde_run_around_child(argv, &c, path, child_fd);
}

/* The one JSON event whose fname is `path` (caller decrefs), or NULL. */
static json_t *event_for(const char *out, const char *path)
{
	json_t *all = test_json_lines(out ? out : ""), *ev, *found = NULL;
	size_t i, n = 0;

	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname");

		if (fname && !strcmp(fname, path)) {
			n++;
			found = ev;
		}
	}
	if (n != 1) {
		fprintf(stderr, "%zu events for %s\n", n, path);
		found = NULL;
	}
	if (found)
		json_incref(found);
	json_decref(all);
	return found;
}

/* "2006-01-02T15:04:05.000000000Z07:00" → ns since the epoch; -1 if malformed. */
static long long parse_rfc3339_ns(const char *s)
{
	struct tm tm = {0};
	char frac[16] = "", zone[16] = "";
	int sign = 1, zh = 0, zm = 0;
	long long ns;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%9[0-9]%15s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, frac, zone) != 8 ||
	    strlen(frac) != 9)
		return -1;
	if (strcmp(zone, "Z") != 0) {
		if ((zone[0] != '+' && zone[0] != '-') || sscanf(zone + 1, "%2d:%2d", &zh, &zm) != 2 ||
		    strlen(zone) != 6)
			return -1;
		sign = zone[0] == '-' ? -1 : 1;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	ns = (long long)timegm(&tm) - sign * (zh * 3600 + zm * 60);
	return ns * 1000000000LL + atoll(frac);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void setup(void)
{
	test_require_root();
	srandom((unsigned)getpid());
}

static void test_json_strings(void)
{
	static const char *const json[] = {"-o", "json", NULL};
	char ok_path[128], bad_path[128];
	long long before, after, ts;
	const char *s;
	char *out;
	json_t *ev;
	int fd;

	setup();
	snprintf(ok_path, sizeof(ok_path), "/tmp/sonde-it-fmt-%d-%ld", getpid(), random());
	before = now_ns();
	out = trace(ok_path, O_WRONLY | O_CREAT | O_TRUNC, 0640, json, &fd);
	after = now_ns();
	unlink(ok_path);
	CHECK(fd >= 0);
	ev = event_for(out, ok_path);
	free(out);
	REQUIRE(ev);
	CHECK_STR(test_json_str(ev, "flags"), "O_WRONLY|O_CREAT|O_TRUNC");
	CHECK_INT(test_json_int(ev, "flags_raw", -1), O_WRONLY | O_CREAT | O_TRUNC);
	CHECK_STR(test_json_str(ev, "mode"), "-rw-r-----");
	CHECK_INT(test_json_int(ev, "mode_raw", -1), 0640);
	CHECK_STR(test_json_str(ev, "error"), "");
	CHECK_INT(test_json_int(ev, "error_raw", -1), 0);
	s = test_json_str(ev, "timestamp");
	REQUIRE(s);
	ts = parse_rfc3339_ns(s);
	if (ts < before - 2000000000LL || ts > after + 2000000000LL) {
		fprintf(stderr, "timestamp %s (%lld) not within [%lld, %lld] (+-2 s)\n", s, ts, before,
		        after);
		test_failures++;
	}
	/* the raw value was rewritten to the same wall-clock time */
	CHECK_INT(test_json_int(ev, "timestamp_raw", -1), ts);
	json_decref(ev);

	snprintf(bad_path, sizeof(bad_path), "/tmp/sonde-it-fmt-missing-%d-%ld/nope", getpid(), random());
	out = trace(bad_path, O_RDONLY | O_CLOEXEC, 0, json, &fd);
	CHECK_INT(fd, -ENOENT);
	ev = event_for(out, bad_path);
	free(out);
	REQUIRE(ev);
	CHECK_STR(test_json_str(ev, "error"), "ENOENT");
	CHECK_INT(test_json_int(ev, "error_raw", -1), ENOENT);
	CHECK_STR(test_json_str(ev, "flags"), "O_RDONLY|O_CLOEXEC");
	CHECK_STR(test_json_str(ev, "mode"), "----------");
	CHECK(parse_rfc3339_ns(test_json_str(ev, "timestamp") ? test_json_str(ev, "timestamp") : "") > 0);
	json_decref(ev);
}

/* Columns: ERROR is a default column, and --fields shows the other texts. */
static void test_columns(void)
{
	static const char *const cols[] = {"--fields", "proc.comm,error,flags,mode,fname", NULL};
	char path[128], header[256] = "", *out, *line;
	int fd;

	setup();
	/* short enough for the 32-character FNAME column */
	snprintf(path, sizeof(path), "/tmp/nx-%d-%ld/f", getpid(), random() % 1000000);
	out = trace(path, O_WRONLY | O_CREAT | O_TRUNC, 0600, cols, &fd);
	REQUIRE(out);
	CHECK_INT(fd, -ENOENT);
	sscanf(out, "%255[^\n]", header);
	CHECK(strncmp(header, "COMM", 4) == 0);
	CHECK(strstr(header, " ERROR ") && strstr(header, " FLAGS ") && strstr(header, " MODE "));
	line = strstr(out, path);
	while (line && line > out && line[-1] != '\n')
		line--;
	REQUIRE(line);
	CHECK(strncmp(line, CHILD_COMM, strlen(CHILD_COMM)) == 0);
	CHECK(strstr(line, " ENOENT ") != NULL);
	CHECK(strstr(line, " O_WRONLY|O_CREAT|O_TRUNC ") != NULL);
	CHECK(strstr(line, " -rw------- ") != NULL);
	free(out);
}

TEST_MAIN(TEST(test_json_strings), TEST(test_columns))
