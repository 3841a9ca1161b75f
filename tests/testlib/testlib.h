/* Minimal test harness: CHECK macros, test registration and helpers to run
 * the sonde command as a user would. */
#ifndef SONDE_TESTLIB_H
#define SONDE_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

extern int test_failures;

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);             \
			test_failures++;                                                                     \
		}                                                                                            \
	} while (0)

#define CHECK_INT(a, b)                                                                                      \
	do {                                                                                                 \
		long long _a = (long long)(a), _b = (long long)(b);                                          \
		if (_a != _b) {                                                                              \
			fprintf(stderr, "%s:%d: %s == %lld, want %s == %lld\n", __FILE__, __LINE__, #a, _a,  \
			        #b, _b);                                                                     \
			test_failures++;                                                                     \
		}                                                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                                                      \
	do {                                                                                                 \
		const char *_a = (a), *_b = (b);                                                             \
		if (!_a || !_b || strcmp(_a, _b) != 0) {                                                     \
			fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__, #a,        \
			        _a ? _a : "(null)", _b ? _b : "(null)");                                     \
			test_failures++;                                                                     \
		}                                                                                            \
	} while (0)

#define REQUIRE(cond)                                                                                        \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);           \
			test_failures++;                                                                     \
			return;                                                                              \
		}                                                                                            \
	} while (0)

typedef void (*test_fn)(void);
struct test_case {
	const char *name;
	test_fn fn;
};

/* Runs the cases, prints one line per case and a summary; returns the exit code. */
int test_main(const struct test_case *cases, size_t n, int argc, char **argv);
#define TEST_MAIN(...)                                                                                       \
	int main(int argc, char **argv)                                                                      \
	{                                                                                                    \
		static const struct test_case cases[] = {__VA_ARGS__};                                       \
		return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);                       \
	}
#define TEST(fn)                                                                                             \
	{                                                                                                    \
#fn, fn                                                                                      \
	}

/* Skips: the case ends at once (the file's other cases still run) and the
 * file exits 77, ctest's "Skipped", with "SKIP: kind: why" in its output,
 * which `make test` lists after ctest's summary. A skip after a failed check
 * is a failure. Two kinds:
 *  - test_skip_dep, test_require_root: a package or privilege that
 *    scripts/install-deps.sh (or running as root, as CI does) provides. With
 *    CI=true they fail the case: CI must run what the suite claims.
 *  - test_skip_machine: a documented fact of the machine that no install
 *    fixes; the reasons allowed are listed in README.md ("Tests"). */
bool test_is_root(void);
bool test_in_ci(void);
_Noreturn void test_skip_dep(const char *why);
void test_require_root(void);
_Noreturn void test_skip_machine(const char *why);

/* Reads a whole file; caller frees. */
char *test_read_file(const char *path, size_t *len);
/* Writes text to path: 0, or -1 after saying why on stderr (for setup code
 * that reports its own failures). */
int test_write_file(const char *path, const char *text);
/* The same for test bodies that do not check: a file that cannot be written
 * ends the test (abort) rather than making a later check fail obscurely. */
void test_write_file_or_abort(const char *path, const char *text);
/* test_read_file for a file the test cannot go on without: abort, after
 * saying which, when it cannot be read. */
char *test_read_file_or_abort(const char *path, size_t *len);
/* Removes the tree at dir (depth first, not following links nor crossing
 * into other mounts: what survived an unmount is left alone rather than
 * emptied through), but only if dir starts with prefix, the test's own temp
 * dir template, so that a wrong path can never remove anything else. */
void test_rm_tree(const char *dir, const char *prefix);

/* CLOCK_MONOTONIC in ms, for deadlines. */
int64_t test_now_ms(void);

/* ---- other commands (runtimes, podman, tar, …) ---- */

/* Starts argv (PATH searched) with stdin, stdout and stderr on /dev/null;
 * the pid, or -1. */
pid_t test_spawn_quiet(const char *const *argv);
/* Waits for pid: its exit status, 128 if a signal ended it, -1 if pid is
 * not a child. */
int test_wait_status(pid_t pid);
/* test_spawn_quiet and test_wait_status: runs argv to completion. */
int test_run_quiet(const char *const *argv);
/* Whether `tool --version` runs and exits 0. */
bool test_have(const char *tool);
/* Whether data is an ELF eBPF object (EM_BPF, 64-bit) with a non-empty .BTF
 * section, its headers checked against len. */
bool test_is_bpf_elf_with_btf(const void *data, size_t len);
/* Whether process pid maps a file whose path contains needle (/proc/PID/maps). */
bool test_maps_have(pid_t pid, const char *needle);

/* A running sonde process with its stdout/stderr captured. */
struct sonde_proc {
	pid_t pid;
	int out_fd, err_fd;
	char *out, *err;
	size_t out_len, err_len;
	int status;
};
/* The sonde binary the helpers below run: SONDE_BIN unless a test points
 * it at a copy (one an unprivileged user can reach, say). */
extern const char *sonde_bin;
/* Starts sonde_bin with argv (NULL-terminated, without argv[0]). */
int sonde_proc_start(struct sonde_proc *p, const char *const *argv);
/* Reads output until `needle` appears in stderr or stdout (which = 1/2) or timeout. */
bool sonde_proc_wait_for(struct sonde_proc *p, int which, const char *needle, int timeout_ms);
/* Sends SIGINT (if sig) and collects all output and the exit status. */
int sonde_proc_finish(struct sonde_proc *p, int sig, int timeout_ms);
void sonde_proc_free(struct sonde_proc *p);
/* sonde_proc_start, then waits up to 15 s for "running" on stderr (argv must
 * hold -v). A sonde that could not start is a test failure and -1; one that
 * does not say "running" in time is a test failure too (its stderr printed),
 * but 0: p is started and must be finished. */
int sonde_proc_start_running(struct sonde_proc *p, const char *const *argv);
/* Waits for child (a worker doing what sonde must see) to exit, reading
 * sonde's output meanwhile: a sonde blocked on a full pipe could not answer
 * the exec permission events a runtime's exec waits on. Checks that it
 * exited 0; one still running after 30 s is killed and a failure. */
void sonde_proc_await_child(struct sonde_proc *p, pid_t child);
/* The same with another bound (a slow kernel under emulation, long workers). */
void sonde_proc_await_child_for(struct sonde_proc *p, pid_t child, int timeout_ms);
/* sonde's stderr without its -v debug lines, with its exit status, for a
 * failed run. */
void sonde_proc_print_errors(const struct sonde_proc *p);
/* The sum of every "sonde: warning: DS: lost N events: <cause>" line of sonde's
 * stderr (each reports what was lost since the previous one); other lines
 * that mention "lost" (libbpf's debug output) do not count. */
unsigned long long sonde_lost_samples(const char *err);
/* Runs sonde to completion; returns exit status (or -1). */
int sonde_run_cmd(const char *const *argv, char **out, char **err, int timeout_ms);
/* Runs sonde with RLIMIT_NOFILE at `nofile` (stdout to /dev/null) to
 * completion; its exit status (126: the limit could not be set), and its
 * whole stderr in *err (caller frees). */
int sonde_run_cmd_nofile(const char *const *argv, int nofile, char **err);
/* Runs sonde and checks what bad input must give: exit status 1 and exactly
 * one stderr line, "sonde: error: " followed by text containing `needle`
 * (failures counted and printed). */
void sonde_expect_error(const char *const *argv, const char *needle);
/* Whether `sonde list-containers` sees any container now: with --host and
 * none, runs leave the (empty) container column out of the default columns.
 * Stable under the integration lock, which keeps other tests' containers out. */
bool sonde_sees_containers(void);

/* A child process held until released, so that a test can start tracing
 * first: after the release it runs fn(arg) and exits; fn's return value
 * comes back from test_child_release (-9999 if the child died first). */
struct test_child {
	pid_t pid;
	int go_fd, result_fd;
};
void test_child_start(struct test_child *c, int (*fn)(void *arg), void *arg);
int test_child_release(struct test_child *c);

/* Runs sonde with argv (which must hold -v: it waits for "running"),
 * releases the child, waits up to 3 s for `needle` on stdout, then stops
 * sonde with SIGINT and checks it exits 0. Returns stdout (caller frees, NULL
 * if sonde did not start); *child_result gets the child's result if not NULL. */
char *sonde_run_around_child(const char *const *argv, struct test_child *c, const char *needle,
                             int *child_result);
/* sonde_run_around_child with a child named comm that opens (creates) a
 * file of its own under /tmp, removed after: whether the -o json output of
 * a trace_open gadget has that open (from comm where it says the comm).
 * Prints the output when not. */
bool test_sonde_sees_open(const char *const *argv, const char *comm);

/* ---- JSON output helpers (jansson) ---- */
#include <jansson.h>

/* Parses every line of `text` (sonde's -o json output: one JSON document a
 * line); returns an array (caller decrefs). A line that is not valid JSON
 * is printed and counted as a failure, never dropped silently. */
json_t *test_json_lines(const char *text);
/* Looks up a dotted path ("proc.pid") in nested objects. */
json_t *test_json_path(json_t *obj, const char *path);
const char *test_json_str(json_t *obj, const char *path);
long long test_json_int(json_t *obj, const char *path, long long dflt);
/* The first element of array arr whose string at path equals value, or NULL. */
json_t *test_json_find(json_t *arr, const char *path, const char *value);
#endif
