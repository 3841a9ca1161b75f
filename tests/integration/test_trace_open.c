/* trace_open through the sonde command: a child opens a uniquely named file
 * and exactly that event comes out, with the right process and arguments. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define CHILD_COMM "sonde_it_open"

struct opener {
	pid_t pid;
	int go_fd;     /* write a byte to let the child open */
	int result_fd; /* the child reports the fd it got (or -errno) */
};

static void start_opener(struct opener *o, const char *path, int flags, mode_t mode)
{
	int go[2], res[2];

	if (pipe(go) || pipe(res))
		abort();
	o->pid = fork();
	if (o->pid == 0) {
		char c;
		int fd;

		close(go[1]);
		close(res[0]);
		prctl(PR_SET_NAME, CHILD_COMM);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		fd = open(path, flags, mode);
		if (fd < 0)
			fd = -errno;
		if (write(res[1], &fd, sizeof(fd)) != sizeof(fd))
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(res[1]);
	o->go_fd = go[1];
	o->result_fd = res[0];
}

static int run_opener(struct opener *o)
{
	int fd = 0;

	if (write(o->go_fd, "x", 1) != 1 || read(o->result_fd, &fd, sizeof(fd)) != sizeof(fd))
		fd = -9999;
	waitpid(o->pid, NULL, 0);
	close(o->go_fd);
	close(o->result_fd);
	return fd;
}

/* Starts sonde with extra args, lets the child open `path`, returns the events naming `path`. */
static json_t *trace_one_open(const char *path, int flags, mode_t mode, const char *extra_flag, int *child_fd,
                              pid_t *child_pid)
{
	char pidbuf[32];
	const char *argv[12] = {"run", "trace_open", "--host", "-o", "json", "-v"};
	size_t n = 6;
	struct opener o;
	struct sonde_proc p;
	json_t *all, *matching = json_array();
	size_t i;
	json_t *ev;

	start_opener(&o, path, flags, mode);
	if (extra_flag && !strcmp(extra_flag, "--pid")) {
		snprintf(pidbuf, sizeof(pidbuf), "%d", o.pid);
		argv[n++] = "--pid";
		argv[n++] = pidbuf;
	} else if (extra_flag) {
		argv[n++] = extra_flag;
	}
	argv[n] = NULL;
	if (sonde_proc_start(&p, argv)) {
		test_failures++;
		return matching;
	}
	if (!sonde_proc_wait_for(&p, 2, "running", 15000)) {
		fprintf(stderr, "sonde did not start:\n%s\n", p.err ? p.err : "");
		test_failures++;
	}
	*child_fd = run_opener(&o);
	*child_pid = o.pid;
	sonde_proc_wait_for(&p, 1, path, 3000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname");
		if (fname && !strcmp(fname, path))
			json_array_append(matching, ev);
	}
	json_decref(all);
	sonde_proc_free(&p);
	return matching;
}

static void setup(void)
{
	if (!test_is_root())
		test_skip("needs root");
	srandom((unsigned)getpid());
}

static void test_successful_open(void)
{
	setup();
	char path[128];
	int fd;
	pid_t pid;
	json_t *evs, *ev;

	snprintf(path, sizeof(path), "/tmp/sonde-it-open-%d-%ld", getpid(), random());
	evs = trace_one_open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640, NULL, &fd, &pid);
	unlink(path);
	CHECK(fd >= 0);
	REQUIRE(json_array_size(evs) == 1);
	ev = json_array_get(evs, 0);
	CHECK_INT(test_json_int(ev, "proc.pid", -1), pid);
	CHECK_INT(test_json_int(ev, "proc.tid", -1), pid);
	CHECK_STR(test_json_str(ev, "proc.comm"), CHILD_COMM);
	CHECK_INT(test_json_int(ev, "proc.creds.uid", -1), getuid());
	CHECK_INT(test_json_int(ev, "proc.parent.pid", -1), getpid());
	CHECK_INT(test_json_int(ev, "fd", -1), fd);
	CHECK_INT(test_json_int(ev, "error_raw", -1), 0);
	CHECK_INT(test_json_int(ev, "flags_raw", -1), O_WRONLY | O_CREAT | O_CLOEXEC);
	CHECK_INT(test_json_int(ev, "mode_raw", -1), 0640);
	CHECK(test_json_int(ev, "proc.mntns_id", 0) > 0);
	CHECK(test_json_int(ev, "timestamp_raw", 0) > 0);
	json_decref(evs);
}

static void test_failed_open(void)
{
	setup();
	char path[128];
	int fd;
	pid_t pid;
	json_t *evs, *ev;

	snprintf(path, sizeof(path), "/tmp/sonde-it-missing-%d/nope", getpid());
	evs = trace_one_open(path, O_RDONLY, 0, "--failed", &fd, &pid);
	CHECK_INT(fd, -ENOENT);
	REQUIRE(json_array_size(evs) == 1);
	ev = json_array_get(evs, 0);
	CHECK_INT(test_json_int(ev, "proc.pid", -1), pid);
	CHECK_INT(test_json_int(ev, "error_raw", -1), ENOENT);
	CHECK_INT(test_json_int(ev, "fd", -1), 0);
	CHECK_INT(test_json_int(ev, "flags_raw", -1), O_RDONLY);
	json_decref(evs);
}

/* --failed hides successful opens; --pid keeps only the child's events (kernel-side filters). */
static void test_kernel_filters(void)
{
	setup();
	char path[128];
	int fd;
	pid_t pid;
	json_t *evs;

	snprintf(path, sizeof(path), "/tmp/sonde-it-ok-%d-%ld", getpid(), random());
	evs = trace_one_open(path, O_WRONLY | O_CREAT, 0600, "--failed", &fd, &pid);
	unlink(path);
	CHECK(fd >= 0);
	CHECK_INT(json_array_size(evs), 0);
	json_decref(evs);

	snprintf(path, sizeof(path), "/tmp/sonde-it-pid-%d-%ld", getpid(), random());
	evs = trace_one_open(path, O_WRONLY | O_CREAT, 0600, "--pid", &fd, &pid);
	unlink(path);
	CHECK_INT(json_array_size(evs), 1);
	json_decref(evs);
}

/* Columns output: a header line and the child's row. */
static void test_columns_output(void)
{
	setup();
	const char *argv[] = {"run", "trace_open", "--host", "-v", "--fields", "proc.comm,fname", NULL};
	char path[128];
	struct opener o;
	struct sonde_proc p;

	snprintf(path, sizeof(path), "/tmp/sonde-it-col-%d", getpid());
	start_opener(&o, path, O_WRONLY | O_CREAT, 0600);
	REQUIRE(sonde_proc_start(&p, argv) == 0);
	CHECK(sonde_proc_wait_for(&p, 2, "running", 15000));
	run_opener(&o);
	unlink(path);
	CHECK(sonde_proc_wait_for(&p, 1, path, 3000));
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	REQUIRE(p.out);
	CHECK(strncmp(p.out, "COMM", 4) == 0);
	CHECK(strstr(p.out, "FNAME") != NULL);
	CHECK(strstr(p.out, CHILD_COMM) != NULL);
	sonde_proc_free(&p);
}

/* The default columns: the header comes at once, before any event, and raw
 * material (the user-stack members, raw numbers) stays hidden. */
static void test_default_columns(void)
{
	setup();
	const char *argv[] = {"run",          "trace_open", "--host", "--comm",
	                      "no-such-comm", "--timeout",  "1",      NULL};
	char *out = NULL, *err = NULL;
	char header[256] = "";
	char *words[8], *save = NULL;
	int n = 0;

	CHECK_INT(sonde_run_cmd(argv, &out, &err, 15000), 0);
	REQUIRE(out);
	sscanf(out, "%255[^\n]", header);
	for (char *w = strtok_r(header, " ", &save); w && n < 8; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	REQUIRE(n == 6);
	CHECK_STR(words[0], "RUNTIME.CONTAINERNAME"); /* added by LocalManager (order -27) */
	CHECK_STR(words[1], "COMM");
	CHECK_STR(words[2], "PID");
	CHECK_STR(words[3], "FD");
	CHECK_STR(words[4], "FNAME");
	CHECK_STR(words[5], "ERROR"); /* the errno name added by the formatters operator */
	free(out);
	free(err);
}

TEST_MAIN(TEST(test_successful_open), TEST(test_failed_open), TEST(test_kernel_filters),
          TEST(test_columns_output), TEST(test_default_columns))
