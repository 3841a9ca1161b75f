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
#include <signal.h>
#include <stdlib.h>
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
		void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
		char b;
		void *p;

		close(go[1]);
		close(hold[1]);
		if (!libc)
			_exit(2);
		*(void **)&x_malloc = dlsym(libc, "malloc");
		*(void **)&x_free = dlsym(libc, "free");
		if (!x_malloc || !x_free || read(go[0], &b, 1) != 1)
			_exit(3);
		p = sonde_ustack_probe_caller(SIZE);
		x_free(p);
		(void)!read(hold[0], &b, 1); /* EOF when the test is done */
		_exit(p ? 0 : 4);
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
static json_t *run(const char *symbolizers, json_t **all)
{
	const char *argv[] = {"run",       "trace_malloc", "--host", "--collect-ustack",
	                      "-o",        "json",         "-v",     "--symbolizers",
	                      symbolizers, "--pid",        NULL,     NULL};
	struct sonde_proc p;
	int go[2], hold[2], status = -1;
	json_t *ev, *found = NULL;
	char pid[16];
	pid_t child;
	size_t i;

	child = start_child(go, hold);
	snprintf(pid, sizeof(pid), "%d", child);
	argv[10] = pid;
	if (sonde_proc_start_running(&p, argv)) {
		close(go[1]);
		close(hold[1]);
		waitpid(child, NULL, 0);
		*all = json_array();
		return NULL;
	}
	CHECK(write(go[1], "x", 1) == 1);
	CHECK(sonde_proc_wait_for(&p, 1, "\"size\":" SIZE_S, 10000));
	close(hold[1]); /* now the child may exit */
	waitpid(child, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(go[1]);
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
	ev = run("auto", &all);
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
	ev = run("none", &all);
	REQUIRE(ev);
	addrs = test_json_str(ev, "ustack.addresses");
	syms = test_json_str(ev, "ustack.symbols");
	CHECK(addrs && count_frames(addrs) >= 2);
	CHECK(syms && !*syms);
	json_decref(all);
}

TEST_MAIN(TEST(test_symbols), TEST(test_no_symbolizer))
