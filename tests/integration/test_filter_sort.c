/* --filter, --sort and --max-entries through the sonde command against the
 * real kernel: regex filters on trace_open, rules that must not be pushed
 * down into the kernel, the top 3 processes of snapshot_process by pid, and
 * bad values failing with one error line. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

static void setup(void)
{
	test_require_root();
	srandom((unsigned)getpid() ^ (unsigned)time(NULL));
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0)
		close(fd);
}

/* In the held child: opens (creating) every path of a NULL-terminated list. */
static int touch_all(void *arg)
{
	const char *const *paths = arg;

	for (size_t i = 0; paths[i]; i++)
		touch(paths[i]);
	return 0;
}

static void start_opener(struct test_child *o, const char *const *paths)
{
	test_child_start(o, touch_all, (void *)paths);
}

/* Runs trace_open with `filter` while `o` opens its files and the test
 * itself opens `own` files; returns the JSON events and sonde's stderr. */
static json_t *trace_with_filter(const char *filter, struct test_child *o, const char *const *own,
                                 char **err_out)
{
	const char *argv[] = {"run", "trace_open", "--host", "-o", "json", "-v", "--filter", filter, NULL};
	struct sonde_proc p;
	json_t *evs;

	*err_out = NULL;
	if (sonde_proc_start(&p, argv)) {
		test_failures++;
		return json_array();
	}
	if (!sonde_proc_wait_for(&p, 2, "running", 15000)) {
		fprintf(stderr, "sonde did not start:\n%s\n", p.err ? p.err : "");
		test_failures++;
	}
	for (size_t i = 0; own && own[i]; i++)
		touch(own[i]);
	CHECK_INT(test_child_release(o), 0);
	usleep(300000); /* let the ring buffer drain before stopping */
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	evs = test_json_lines(p.out ? p.out : "");
	*err_out = p.err ? strdup(p.err) : strdup("");
	sonde_proc_free(&p);
	return evs;
}

static size_t count_fname(json_t *evs, const char *path)
{
	size_t i, n = 0;
	json_t *ev;

	json_array_foreach(evs, i, ev)
	{
		const char *f = test_json_str(ev, "fname");

		n += f && strcmp(f, path) == 0;
	}
	return n;
}

/* Only the opens whose name matches the regex come out. */
static void test_filter_regex(void)
{
	char tag[64], re[128], a[128], b[128], other[128], filter[160];
	struct test_child o;
	json_t *evs, *ev;
	char *err;
	size_t i;

	setup();
	snprintf(tag, sizeof(tag), "sonde-it-fs-%d-%ld", getpid(), random());
	snprintf(a, sizeof(a), "/tmp/%s-a.txt", tag);
	snprintf(b, sizeof(b), "/tmp/%s-b.txt", tag);
	snprintf(other, sizeof(other), "/tmp/x%s-c.txt", tag); /* contains the tag, not at the start */
	snprintf(re, sizeof(re), "^/tmp/%s-[ab]\\.txt$", tag);
	snprintf(filter, sizeof(filter), "fname~%s", re);
	start_opener(&o, (const char *const[]){a, other, b, "/etc/hostname", NULL});
	evs = trace_with_filter(filter, &o, (const char *const[]){a, other, NULL}, &err);
	unlink(a);
	unlink(b);
	unlink(other);
	/* a: by the child and by the test; b: by the child; other: never */
	CHECK_INT(count_fname(evs, a), 2);
	CHECK_INT(count_fname(evs, b), 1);
	CHECK_INT(count_fname(evs, other), 0);
	CHECK_INT(json_array_size(evs), 3); /* nothing else on the whole host */
	json_array_foreach(evs, i, ev)
	{
		const char *f = test_json_str(ev, "fname");
		CHECK(f && strncmp(f, "/tmp/sonde-it-fs-", 17) == 0);
	}
	CHECK(strstr(err, "filter: data source open: rule fname~") != NULL);
	json_decref(evs);
	free(err);
}

/* proc.pid==<child> pushed down to the kernel: test_pushdown.c proves it
 * with a flood the ring could not hold. */

/* The parent's pid is not the kernel's pid filter: no push-down, still filtered. */
static void test_filter_parent_pid_not_pushed(void)
{
	char path[128], filter[200];
	struct test_child o;
	json_t *evs, *ev;
	char *err;
	size_t i;

	setup();
	snprintf(path, sizeof(path), "/tmp/sonde-it-pp-%d-%ld", getpid(), random());
	snprintf(filter, sizeof(filter), "proc.parent.pid==%d,fname==%s", getpid(), path);
	start_opener(&o, (const char *const[]){path, NULL});
	evs = trace_with_filter(filter, &o, (const char *const[]){path, NULL}, &err);
	unlink(path);
	CHECK(strstr(err, "pushed down") == NULL);
	CHECK_INT(json_array_size(evs), 1);
	json_array_foreach(evs, i, ev)
	{
		CHECK_INT(test_json_int(ev, "proc.pid", -1), o.pid);
		CHECK_INT(test_json_int(ev, "proc.parent.pid", -1), getpid());
	}
	json_decref(evs);
	free(err);
}

/* trace_exec checks the kernel filters before the exec and records the
 * process after it: a comm rule must not be pushed down, or the new name
 * would never match (the pid is the same on both sides and is pushed). */
static void test_filter_exec_comm(void)
{
	const char *argv[] = {"run", "trace_exec", "--host", "-o", "json", "-v", "--filter", NULL, NULL};
	char filter[128], *pushed_pid;
	struct sonde_proc p;
	json_t *evs, *ev;
	pid_t child;
	int go[2];
	size_t i;

	setup();
	if (access("/bin/true", X_OK))
		test_skip_dep("no /bin/true");
	if (pipe(go))
		abort();
	child = fork();
	if (child == 0) {
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	snprintf(filter, sizeof(filter), "proc.comm==true,proc.pid==%d", child);
	argv[7] = filter;
	REQUIRE(sonde_proc_start(&p, argv) == 0);
	CHECK(sonde_proc_wait_for(&p, 2, "running", 15000));
	if (write(go[1], "x", 1) != 1)
		test_failures++;
	close(go[1]);
	waitpid(child, NULL, 0);
	sonde_proc_wait_for(&p, 1, "\n", 3000);
	usleep(300000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	evs = test_json_lines(p.out ? p.out : "");
	CHECK_INT(json_array_size(evs), 1);
	json_array_foreach(evs, i, ev)
	{
		CHECK_INT(test_json_int(ev, "proc.pid", -1), child);
		CHECK_STR(test_json_str(ev, "proc.comm"), "true");
	}
	REQUIRE(p.err);
	CHECK(strstr(p.err, "pushed down proc.comm") == NULL);
	if (asprintf(&pushed_pid, "pushed down proc.pid==%d", child) > 0) {
		CHECK(strstr(p.err, pushed_pid) != NULL);
		free(pushed_pid);
	}
	json_decref(evs);
	sonde_proc_free(&p);
}

/* ---- snapshot_process --sort/--max-entries ---- */

/* Pids of the processes in /proc (thread-group leaders), into `out`. */
static size_t proc_pids(long *out, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (isdigit((unsigned char)e->d_name[0]))
			out[n++] = atol(e->d_name);
	closedir(d);
	return n;
}

static bool contains(const long *v, size_t n, long x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static void test_sort_max_entries(void)
{
	const char *argv[] = {
	    "run", "snapshot_process", "--host", "--sort", "-pid", "--max-entries", "3", "-o", "json", NULL};
	static long before[65536], after[65536];
	size_t nbefore, nafter;
	long alive_max = -1, prev = -1;
	char *out = NULL, *err = NULL;
	json_t *lines, *arr, *ev;
	size_t i;

	setup();
	nbefore = proc_pids(before, 65536);
	CHECK_INT(sonde_run_cmd(argv, &out, &err, 30000), 0);
	nafter = proc_pids(after, 65536);
	/* a process alive before and after was in the snapshot */
	for (size_t j = 0; j < nafter; j++)
		if (after[j] > alive_max && contains(before, nbefore, after[j]))
			alive_max = after[j];
	lines = test_json_lines(out);
	REQUIRE(json_array_size(lines) == 1);
	arr = json_array_get(lines, 0);
	REQUIRE(json_is_array(arr));
	CHECK_INT(json_array_size(arr), 3);
	json_array_foreach(arr, i, ev)
	{
		long pid = test_json_int(ev, "pid", -1);

		CHECK(pid > 0);
		if (i > 0)
			CHECK(pid < prev);
		prev = pid;
	}
	CHECK(test_json_int(json_array_get(arr, 0), "pid", -1) >= alive_max);
	json_decref(lines);
	free(out);
	free(err);
}

/* Without a limit every process comes, sorted by name then pid descending. */
static void test_sort_two_keys(void)
{
	const char *argv[] = {"run", "snapshot_process", "--host", "--sort", "comm,-pid", "-o", "json", NULL};
	char *out = NULL, *err = NULL;
	json_t *lines, *arr, *ev;
	const char *prev_comm = NULL;
	long prev_pid = 0;
	size_t i;

	setup();
	CHECK_INT(sonde_run_cmd(argv, &out, &err, 30000), 0);
	lines = test_json_lines(out);
	arr = json_array_get(lines, 0);
	REQUIRE(json_is_array(arr));
	CHECK(json_array_size(arr) > 3);
	json_array_foreach(arr, i, ev)
	{
		const char *comm = test_json_str(ev, "comm");
		long pid = test_json_int(ev, "pid", -1);

		REQUIRE(comm);
		if (prev_comm) {
			int c = strcmp(prev_comm, comm);

			CHECK(c <= 0);
			if (c == 0)
				CHECK(pid < prev_pid);
		}
		prev_comm = comm;
		prev_pid = pid;
	}
	json_decref(lines);
	free(out);
	free(err);
}

/* ---- errors ---- */

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_bad_values(void)
{
	static const struct {
		const char *gadget, *flag, *value, *error;
	} cases[] = {
	    {"trace_open", "--filter", "nope==1", "filter: unknown field \"nope\" in \"nope==1\""},
	    {"trace_open", "-F", "fd~3", "only apply to string fields"},
	    {"trace_open", "--filter", "fname~(", "invalid regular expression"},
	    {"trace_open", "--filter", "fd==-1", "negative value for an unsigned field"},
	    {"trace_open", "--filter", "proc.pid==4294967296", "out of range"},
	    {"trace_open", "--filter.open", "proc.comm<", ""},
	    {"trace_open", "-F", ",", "empty rule in filter \",\""},
	    {"trace_open", "-F", "proc.comm==a-name-of-21-characters", "can never match"},
	    {"trace_open", "--sort", "fd", "unknown flag --sort"},
	    {"snapshot_process", "--sort", "nope", "sort: unknown field \"nope\""},
	    {"snapshot_process", "--sort", "processes:pid;comm", "mixes fields"},
	    {"snapshot_process", "--max-entries", "abc", "invalid max-entries \"abc\""},
	    {"snapshot_process", "--max-entries", "-5", "invalid max-entries \"-5\""},
	    {"snapshot_process", "--filter", "creds.user==root", ""},
	    {"snapshot_process", "--filter", "pid~1", "only apply to string fields"},
	};

	setup();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[] = {"run", cases[i].gadget, "--host",      "-t",           "1",
		                      "-o",  "none",          cases[i].flag, cases[i].value, NULL};
		char *out = NULL, *err = NULL;
		int status = sonde_run_cmd(argv, &out, &err, 30000);

		if (!*cases[i].error) {
			/* valid: runs */
			CHECK_INT(status, 0);
		} else {
			CHECK(status != 0);
			CHECK_INT(count_lines(err), 1);
			if (!strstr(err, cases[i].error)) {
				fprintf(stderr, "%s %s %s: stderr \"%s\", want \"%s\"\n", cases[i].gadget,
				        cases[i].flag, cases[i].value, err, cases[i].error);
				test_failures++;
			}
		}
		free(out);
		free(err);
	}
}

TEST_MAIN(TEST(test_filter_regex), TEST(test_filter_parent_pid_not_pushed), TEST(test_filter_exec_comm),
          TEST(test_sort_max_entries), TEST(test_sort_two_keys), TEST(test_bad_values))
