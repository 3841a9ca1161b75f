/* The ustack operator on trace_malloc --collect-ustack: a child calls libc's
 * malloc from sonde_ustack_probe_caller (through sonde_ustack_probe_inner),
 * and the event's ustack.symbols names the caller, ustack.addresses lists as
 * many frames in upstream's "0x%016x; " form. The child stays alive until
 * sonde has printed the event: its memory map is read when the event comes.
 *
 * Frame pointers: the kernel walks user stacks by frame pointer, so this
 * file is built with -fno-omit-frame-pointer (tests/CMakeLists.txt); the
 * inner function exists because the frame of the function that calls malloc
 * itself is skipped when the stack is taken at malloc's entry (its return
 * address is on the stack, not behind a frame pointer yet). libc's malloc is
 * called through dlsym: in the sanitizer build the program's malloc is
 * ASan's, which the uprobes on libc never see. */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define SIZE   10021
#define SIZE_S "10021"

static void *(*x_malloc)(size_t);
static void (*x_free)(void *);

__attribute__((noinline, used)) void *sonde_ustack_probe_inner(size_t n)
{
	void *p = x_malloc(n);

	__asm__ volatile("" : : "r"(p) : "memory"); /* no tail call: keep this frame */
	return p;
}

__attribute__((noinline, used)) void *sonde_ustack_probe_caller(size_t n)
{
	void *p = sonde_ustack_probe_inner(n);

	__asm__ volatile("" : : "r"(p) : "memory");
	return p;
}

/* Waits for `go`, allocates, then waits for `hold` to close; the exit status. */
static int child_work(int go, int hold)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	char b;
	void *p;

	if (!libc)
		return 2;
	*(void **)&x_malloc = dlsym(libc, "malloc");
	*(void **)&x_free = dlsym(libc, "free");
	if (!x_malloc || !x_free || read(go, &b, 1) != 1)
		return 3;
	p = sonde_ustack_probe_caller(SIZE);
	x_free(p);
	(void)!read(hold, &b, 1); /* EOF when the test is done */
	return p ? 0 : 4;
}

/* Waits for `go`, allocates, then waits for `hold` to close before exiting. */
static pid_t start_child(int go[2], int hold[2])
{
	pid_t pid;

	/* close-on-exec: sonde must not hold the ends the child waits on */
	if (pipe2(go, O_CLOEXEC) || pipe2(hold, O_CLOEXEC))
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		close(go[1]);
		close(hold[1]);
		_exit(child_work(go[0], hold[0]));
	}
	close(go[0]);
	close(hold[0]);
	return pid;
}

/* The same child in a mount and pid namespace of its own, running a copy of
 * this binary from a tmpfs only that mount namespace has: the host cannot
 * open the file by its path, only through /proc/<pid>/map_files or
 * /proc/<pid>/root, as for a container's binaries. The copy finds its pipe
 * ends in NS_ENV and runs child_work from a constructor. */
#define NS_ENV  "SONDE_TEST_USTACK_FDS"
#define NS_COMM "ustack_nschild"

__attribute__((constructor)) static void ns_child_main(void)
{
	const char *fds = getenv(NS_ENV);
	int go, hold;

	if (fds && sscanf(fds, "%d,%d", &go, &hold) == 2)
		_exit(child_work(go, hold));
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC),
	    out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	char buf[65536];
	ssize_t n = 0;

	while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			n = -1;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return in < 0 || out < 0 || n < 0 ? -1 : 0;
}

static pid_t start_ns_child(int go[2], int hold[2], const char *dir)
{
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(hold, O_CLOEXEC))
		abort();
	pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		char path[4096], env[64];
		pid_t gc;
		int st;

		close(go[1]);
		close(hold[1]);
		if (unshare(CLONE_NEWNS | CLONE_NEWPID) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", dir, "tmpfs", 0, "size=512m"))
			_exit(10);
		snprintf(path, sizeof(path), "%s/" NS_COMM, dir);
		if (copy_file("/proc/self/exe", path))
			_exit(11);
		gc = fork(); /* pid 1 of the new pid namespace */
		if (gc == 0) {
			char *argv[] = {path, NULL};

			/* dup: ends without close-on-exec for the copy */
			snprintf(env, sizeof(env), "%d,%d", dup(go[0]), dup(hold[0]));
			setenv(NS_ENV, env, 1);
			execv(path, argv);
			_exit(12);
		}
		if (gc < 0 || waitpid(gc, &st, 0) != gc)
			_exit(13);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 14);
	}
	close(go[0]);
	close(hold[0]);
	return pid;
}

static size_t count_frames(const char *s)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, "; ")); p += 2)
		n++;
	return n;
}

/* Runs trace_malloc around the child; the malloc event of SIZE, or NULL. */
static json_t *run(const char *symbolizers, bool in_ns, json_t **all)
{
	char dir[] = "/tmp/sonde-ustack-XXXXXX";
	const char *argv[] = {"run",       "trace_malloc", "--host", "--collect-ustack",
	                      "-o",        "json",         "-v",     "--symbolizers",
	                      symbolizers, "--pid",        NULL,     NULL};
	struct sonde_proc p;
	int go[2], hold[2], status = -1;
	json_t *ev, *found = NULL;
	char pid[16];
	pid_t child;
	size_t i;

	*all = NULL;
	if (in_ns) {
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			test_failures++;
			return NULL;
		}
		child = start_ns_child(go, hold, dir);
		argv[9] = "--comm";
		argv[10] = NS_COMM;
	} else {
		child = start_child(go, hold);
		snprintf(pid, sizeof(pid), "%d", child);
		argv[10] = pid;
	}
	if (sonde_proc_start_running(&p, argv)) {
		close(go[1]);
		close(hold[1]);
		waitpid(child, NULL, 0);
		if (in_ns)
			rmdir(dir);
		*all = json_array();
		return NULL;
	}
	CHECK(write(go[1], "x", 1) == 1);
	CHECK(sonde_proc_wait_for(&p, 1, "\"size\":" SIZE_S, 10000));
	close(hold[1]); /* now the child may exit */
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "child: status %#x\n", status);
	close(go[1]);
	if (in_ns)
		rmdir(dir); /* its tmpfs went with the mount namespace */
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	*all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(*all, i, ev)
	{
		const char *op = test_json_str(ev, "operation");

		if (op && !strcasecmp(op, "malloc") && test_json_int(ev, "size", -1) == SIZE)
			found = ev;
	}
	if (!found || test_failures)
		fprintf(stderr, "sonde printed:\n%s\n%s\n", p.out ? p.out : "", p.err ? p.err : "");
	sonde_proc_free(&p);
	return found;
}

static void test_symbols(void)
{
	json_t *all, *ev;
	const char *addrs, *syms;

	test_require_root();
	ev = run("auto", false, &all);
	REQUIRE(ev);
	addrs = test_json_str(ev, "ustack.addresses");
	syms = test_json_str(ev, "ustack.symbols");
	REQUIRE(addrs && syms);
	/* upstream's rendering: "0x%016x; " per frame, one symbol per address */
	CHECK(!strncmp(addrs, "0x", 2) && strlen(addrs) > 20 && addrs[18] == ';' && addrs[19] == ' ');
	CHECK(count_frames(addrs) >= 2);
	CHECK_INT(count_frames(syms), count_frames(addrs));
	if (!strstr(syms, "sonde_ustack_probe_caller")) {
		fprintf(stderr, "no sonde_ustack_probe_caller in: %s\n(addresses %s)\n", syms, addrs);
		test_failures++;
	}
	/* no collect-build-id: no build ids */
	CHECK_STR(test_json_str(ev, "ustack.buildid") ? test_json_str(ev, "ustack.buildid") : "(null)", "");
	json_decref(all);
}

/* --symbolizers none: addresses only, as upstream. */
static void test_no_symbolizer(void)
{
	json_t *all, *ev;
	const char *addrs, *syms;

	test_require_root();
	ev = run("none", false, &all);
	REQUIRE(ev);
	addrs = test_json_str(ev, "ustack.addresses");
	syms = test_json_str(ev, "ustack.symbols");
	CHECK(addrs && count_frames(addrs) >= 2);
	CHECK(syms && !*syms);
	json_decref(all);
}

/* A process in namespaces of its own, running a file only its mount
 * namespace sees, as a container's process does. */
static void test_namespaces(void)
{
	json_t *all, *ev;
	const char *syms;

	test_require_root();
	ev = run("auto", true, &all);
	REQUIRE(ev);
	CHECK(test_json_int(ev, "ustack.pid_level1", 0) == 1); /* pid 1 of its namespace */
	syms = test_json_str(ev, "ustack.symbols");
	if (!syms || !strstr(syms, "sonde_ustack_probe_caller")) {
		fprintf(stderr, "no sonde_ustack_probe_caller in: %s\n", syms ? syms : "(null)");
		test_failures++;
	}
	json_decref(all);
}

TEST_MAIN(TEST(test_symbols), TEST(test_no_symbolizer), TEST(test_namespaces))
