/* trace_open through the sonde command: a child opens a uniquely named file
 * and exactly that event comes out, with the right process and arguments. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define CHILD_COMM "sonde_it_open"

/* What the held child opens, and how. */
struct open_args {
	const char *path;
	int flags;
	mode_t mode;
	enum { VIA_OPENAT, VIA_OPEN, VIA_OPENAT2 } via; /* libc's open() is openat(2) */
	const char *cwd;                                /* chdir there first, if not NULL */
};

/* In the child: returns the fd it got, or -errno. */
static int open_as_child(void *arg)
{
	const struct open_args *a = arg;
	struct open_how how = {.flags = (uint64_t)a->flags, .mode = a->mode};
	int fd;

	prctl(PR_SET_NAME, CHILD_COMM);
	if (a->cwd && chdir(a->cwd))
		return -errno;
	switch (a->via) {
	case VIA_OPEN:
		fd = (int)syscall(SYS_open, a->path, a->flags, a->mode);
		break;
	case VIA_OPENAT2:
		fd = (int)syscall(SYS_openat2, AT_FDCWD, a->path, &how, sizeof(how));
		break;
	default:
		fd = open(a->path, a->flags, a->mode);
	}
	return fd < 0 ? -errno : fd;
}

/* Starts sonde with extra_flag, lets the child make the call of `a`, returns
 * the events whose fname is `needle`. */
static json_t *trace_open_args(const struct open_args *a, const char *needle, const char *extra_flag,
                               int *child_fd, pid_t *child_pid)
{
	struct open_args args = *a;
	const char *path = needle;
	const char *argv[12] = {"run", "trace_open", "--host", "-o", "json", "-v"};
	size_t n = 6;
	struct test_child c;
	json_t *all, *matching = json_array();
	size_t i;
	json_t *ev;
	char *out;

	test_child_start(&c, open_as_child, &args);
	if (extra_flag)
		argv[n++] = extra_flag;
	argv[n] = NULL;
	*child_pid = c.pid;
	out = sonde_run_around_child(argv, &c, path, child_fd);
	all = test_json_lines(out ? out : "");
	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname");
		if (fname && !strcmp(fname, path))
			json_array_append(matching, ev);
	}
	json_decref(all);
	free(out);
	return matching;
}

/* The same for an openat(2) of path. */
static json_t *trace_one_open(const char *path, int flags, mode_t mode, const char *extra_flag, int *child_fd,
                              pid_t *child_pid)
{
	struct open_args args = {path, flags, mode, VIA_OPENAT, NULL};

	return trace_open_args(&args, path, extra_flag, child_fd, child_pid);
}

static void setup(void)
{
	test_require_root();
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

/* --failed hides successful opens (a kernel-side filter). --pid, --tid,
 * --uid, --gid and --comm: test_pushdown.c, with a process that must be
 * filtered out opening the same path. */
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
}

/* open(2) and openat2(2) (flags and mode from its struct open_how) give
 * the same event as openat(2): the one exit program per call reads each
 * call's own argument registers. */
static void test_open_and_openat2(void)
{
	setup();
	char path[128];
	int fd;
	pid_t pid;
	json_t *evs, *ev;

	for (int via = VIA_OPEN; via <= VIA_OPENAT2; via++) {
		struct open_args a = {path, O_RDWR | O_CREAT | O_EXCL, 0604, via, NULL};

		snprintf(path, sizeof(path), "/tmp/sonde-it-via%d-%d-%ld", via, getpid(), random());
		evs = trace_open_args(&a, path, NULL, &fd, &pid);
		unlink(path);
		printf("  %s: fd %d, %zu events\n", via == VIA_OPEN ? "open" : "openat2", fd,
		       json_array_size(evs));
		CHECK(fd >= 0);
		REQUIRE(json_array_size(evs) == 1);
		ev = json_array_get(evs, 0);
		CHECK_INT(test_json_int(ev, "proc.pid", -1), pid);
		CHECK_INT(test_json_int(ev, "fd", -1), fd);
		CHECK_INT(test_json_int(ev, "error_raw", -1), 0);
		CHECK_INT(test_json_int(ev, "flags_raw", -1), O_RDWR | O_CREAT | O_EXCL);
		CHECK_INT(test_json_int(ev, "mode_raw", -1), 0604);
		json_decref(evs);
	}
}

/* --paths: a relative name stays as passed in fname, fpath is the full path;
 * without --paths fpath is empty. Both come from a record that holds only
 * the used part of the strings. */
/* fpath is the path from the root of the file's mount tree: the same as
 * the process sees it, unless the process is chrooted (check-kernels' VM
 * runs its tests chrooted in /new, and sees /new/tmp/...). */
static void check_path_suffix(const char *got, const char *want)
{
	size_t g = got ? strlen(got) : 0, w = strlen(want);

	if (!got || g < w || strcmp(got + g - w, want)) {
		fprintf(stderr, "fpath \"%s\", want \"%s\" (or it under a chroot's directory)\n",
		        got ? got : "(none)", want);
		test_failures++;
	}
}

static void test_paths(void)
{
	setup();
	char dir[128], name[64], full[192];
	int fd;
	pid_t pid;
	json_t *evs, *ev;

	snprintf(dir, sizeof(dir), "/tmp/sonde-it-paths-%d", getpid());
	snprintf(name, sizeof(name), "rel-%ld", random());
	snprintf(full, sizeof(full), "%s/%s", dir, name);
	REQUIRE(mkdir(dir, 0700) == 0);
	for (int with = 0; with < 2; with++) {
		struct open_args a = {name, O_WRONLY | O_CREAT, 0600, VIA_OPENAT, dir};

		evs = trace_open_args(&a, name, with ? "--paths" : NULL, &fd, &pid);
		CHECK(fd >= 0);
		REQUIRE(json_array_size(evs) == 1);
		ev = json_array_get(evs, 0);
		CHECK_STR(test_json_str(ev, "fname"), name);
		if (with)
			check_path_suffix(test_json_str(ev, "fpath"), full);
		else
			CHECK_STR(test_json_str(ev, "fpath"), "");
		json_decref(evs);
	}
	unlink(full);
	rmdir(dir);
}

/* A name longer than fname (255 bytes with its NUL) comes out cut to 254
 * characters, as when the whole struct went to the ring. */
static void test_long_name(void)
{
	setup();
	char path[400], want[255];
	const char *argv[] = {"run", "trace_open", "--host",   "-o",       "json",
	                      "-v",  "--comm",     CHILD_COMM, "--failed", NULL};
	struct open_args a = {path, O_RDONLY, 0, VIA_OPENAT, NULL};
	struct test_child c;
	json_t *all, *ev;
	size_t i, seen = 0;
	char *out;
	int fd;

	snprintf(path, sizeof(path), "/tmp/sonde-it-long-%d-", getpid());
	memset(path + strlen(path), 'x', sizeof(path) - 1 - strlen(path));
	path[sizeof(path) - 1] = '\0';
	memcpy(want, path, sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	test_child_start(&c, open_as_child, &a);
	out = sonde_run_around_child(argv, &c, want, &fd);
	CHECK(fd < 0);
	all = test_json_lines(out ? out : "");
	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname");

		if (fname && !strncmp(fname, want, 20)) {
			CHECK_STR(fname, want);
			seen++;
		}
	}
	CHECK_INT(seen, 1);
	json_decref(all);
	free(out);
}

/* A lone event never fills an eighth of the ring, so it wakes nobody: the
 * reader's 20 ms drain timer must deliver it while sonde runs, not at stop.
 * Without a containerd socket, gRPC core is not loaded meanwhile. */
static void test_lone_event_drained(void)
{
	setup();
	const char *argv[] = {"run",
	                      "trace_open",
	                      "--host",
	                      "-o",
	                      "json",
	                      "-v",
	                      "--comm",
	                      CHILD_COMM,
	                      "--containerd-socketpath",
	                      "/nonexistent/sonde-it.sock",
	                      NULL};
	char path[128];
	struct open_args args = {path, O_RDONLY, 0, VIA_OPENAT, NULL};
	struct sonde_proc p;
	struct test_child c;
	int64_t t0;
	bool seen;

	snprintf(path, sizeof(path), "/tmp/sonde-it-lone-%d-%ld", getpid(), random());
	test_child_start(&c, open_as_child, &args);
	if (sonde_proc_start_running(&p, argv)) {
		test_child_release(&c);
		return;
	}
	t0 = test_now_ms();
	test_child_release(&c);
	seen = sonde_proc_wait_for(&p, 1, path, 2000);
	printf("  the lone event came after %lld ms\n", (long long)(test_now_ms() - t0));
	CHECK(seen);
	CHECK(waitpid(p.pid, NULL, WNOHANG) == 0); /* delivered by the running reader */
	/* no containerd socket: gRPC core (~8 MiB) is never loaded */
	CHECK(!test_maps_have(p.pid, "libgrpc"));
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	sonde_proc_free(&p);
}

/* Columns output: a header line and the child's row. */
static void test_columns_output(void)
{
	setup();
	const char *argv[] = {"run", "trace_open", "--host", "-v", "--fields", "proc.comm,fname", NULL};
	char path[128];
	struct open_args args = {path, O_WRONLY | O_CREAT, 0600, VIA_OPENAT, NULL};
	struct test_child c;
	char *out;

	snprintf(path, sizeof(path), "/tmp/sonde-it-col-%d", getpid());
	test_child_start(&c, open_as_child, &args);
	out = sonde_run_around_child(argv, &c, path, NULL);
	unlink(path);
	REQUIRE(out);
	CHECK(strstr(out, path) != NULL);
	CHECK(strncmp(out, "COMM", 4) == 0);
	CHECK(strstr(out, "FNAME") != NULL);
	CHECK(strstr(out, CHILD_COMM) != NULL);
	free(out);
}

/* The default columns: the header comes at once, before any event, and raw
 * material (the user-stack members, raw numbers) stays hidden. The container
 * column is there when containers run; with --host and none running it
 * would be empty on every line and is left out. */
static void test_default_columns(void)
{
	setup();
	const char *argv[] = {"run",          "trace_open", "--host", "--comm",
	                      "no-such-comm", "--timeout",  "1",      NULL};
	char *out = NULL, *err = NULL;
	char header[256] = "";
	char *words[8], *save = NULL;
	bool containers = sonde_sees_containers();
	int n = 0, k = 0;

	CHECK_INT(sonde_run_cmd(argv, &out, &err, 15000), 0);
	REQUIRE(out);
	sscanf(out, "%255[^\n]", header);
	for (char *w = strtok_r(header, " ", &save); w && n < 8; w = strtok_r(NULL, " ", &save))
		words[n++] = w;
	REQUIRE(n == (containers ? 6 : 5));
	if (containers)
		CHECK_STR(words[k++], "RUNTIME.CONTAINERNAME"); /* added by LocalManager (order -27) */
	CHECK_STR(words[k++], "COMM");
	CHECK_STR(words[k++], "PID");
	CHECK_STR(words[k++], "FD");
	CHECK_STR(words[k++], "FNAME");
	CHECK_STR(words[k], "ERROR"); /* the errno name added by the formatters operator */
	free(out);
	free(err);
}

TEST_MAIN(TEST(test_successful_open), TEST(test_failed_open), TEST(test_kernel_filters),
          TEST(test_open_and_openat2), TEST(test_paths), TEST(test_long_name), TEST(test_lone_event_drained),
          TEST(test_columns_output), TEST(test_default_columns))
