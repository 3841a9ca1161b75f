/* Test harness: case runner and helpers that run the sonde command. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "util/clock.h"

int test_failures;

/* The case runner's state, for test_skip_*: a skip inside a case jumps back
 * to test_main (the other cases still run); a skip outside one (a main that
 * checks before test_main) or in a forked child ends that process. */
static jmp_buf case_jmp;
static bool in_case;
static pid_t runner_pid;
static char skip_why[512];

bool test_is_root(void)
{
	return geteuid() == 0;
}

bool test_in_ci(void)
{
	const char *ci = getenv("CI");

	return ci && (!strcmp(ci, "true") || !strcmp(ci, "1"));
}

/* A skip after a failure would hide it (ctest counts exit 77 as "Skipped",
 * not "Failed"), and in CI a skip for what install-deps.sh provides means
 * the suite did not run what it claims: both end as failures. */
static _Noreturn void skip(const char *kind, const char *why, bool fails_in_ci)
{
	bool ci_fail = fails_in_ci && test_in_ci();

	fflush(stdout);
	if (ci_fail) {
		fprintf(stderr, "FAIL: %s: %s; with CI=true install-deps.sh must provide it\n", kind, why);
		test_failures++;
	} else if (test_failures) {
		fprintf(stderr, "FAIL: skip after %d failed check(s) (%s: %s)\n", test_failures, kind, why);
		test_failures++;
	} else {
		printf("SKIP: %s: %s\n", kind, why);
		snprintf(skip_why, sizeof(skip_why), "%s: %s", kind, why);
	}
	fflush(stdout);
	fflush(stderr);
	if (in_case && getpid() == runner_pid)
		longjmp(case_jmp, 1);
	exit(test_failures ? 1 : 77);
}

void test_skip_dep(const char *why)
{
	skip("dependency", why, true);
}

void test_require_root(void)
{
	if (!test_is_root())
		skip("missing privilege", "needs root", true);
}

void test_skip_machine(const char *why)
{
	skip("machine", why, false);
}

/* setjmp in a function of its own: no local of test_main lives across it. */
static void run_case(test_fn fn)
{
	in_case = true;
	if (!setjmp(case_jmp))
		fn();
	in_case = false;
}

int test_main(const struct test_case *cases, size_t n, int argc, char **argv)
{
	size_t passed = 0, failed = 0, skipped = 0;

	/* Runs do not depend on what earlier runs left in the CO-RE BTF cache;
	 * the cache's own test turns it on with a directory of its own. */
	setenv("SONDE_CACHE_DIR", "", 0);
	runner_pid = getpid();

	for (size_t i = 0; i < n; i++) {
		int before = test_failures;

		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		skip_why[0] = 0;
		run_case(cases[i].fn);
		if (test_failures != before) {
			failed++;
			printf("FAIL %s\n", cases[i].name);
		} else if (skip_why[0]) {
			skipped++;
			printf("SKIP %s (%s)\n", cases[i].name, skip_why);
		} else {
			passed++;
			printf("ok   %s\n", cases[i].name);
		}
		fflush(stdout);
	}
	printf("%zu passed, %zu failed, %zu skipped\n", passed, failed, skipped);
	/* 77 (ctest's "Skipped", with the reasons above in the log) when any
	 * case skipped: a partly run file must not read as fully green. */
	return failed ? 1 : skipped ? 77 : 0;
}

char *test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

int test_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int bad;

	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	fputs(text, f);
	bad = ferror(f);
	if (fclose(f) || bad) {
		fprintf(stderr, "cannot write %s\n", path);
		return -1;
	}
	return 0;
}

void test_write_file_or_abort(const char *path, const char *text)
{
	if (test_write_file(path, text))
		abort();
}

char *test_read_file_or_abort(const char *path, size_t *len)
{
	char *d = test_read_file(path, len);

	if (!d) {
		fprintf(stderr, "cannot read %s\n", path);
		abort();
	}
	return d;
}

/*
 * Removes name (in at) and what it holds. Only directories are checked for
 * another mount (st_dev): on overlayfs a file reports its layer's device, not
 * the overlay's, so nftw's FTW_MOUNT skipped files and left their directories
 * behind. Goes on past a failure: the rest of the tree is still worth removing.
 */
static void rm_failed(int at, const char *name, const char *root)
{
	if (at == AT_FDCWD)
		fprintf(stderr, "cannot remove %s: %s\n", name, strerror(errno));
	else
		fprintf(stderr, "cannot remove %s (in %s): %s\n", name, root, strerror(errno));
}

static void rm_at(int at, const char *name, const char *path, dev_t root_dev)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd;

	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW))
		return;
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(at, name, 0) && errno != ENOENT)
			rm_failed(at, name, path);
		return;
	}
	if (st.st_dev != root_dev)
		return; /* a mount point: what is under it is not ours to empty */
	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
	} else {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				rm_at(dirfd(d), de->d_name, path, root_dev);
		closedir(d);
	}
	if (unlinkat(at, name, AT_REMOVEDIR) && errno != ENOENT)
		rm_failed(at, name, path);
}

void test_rm_tree(const char *dir, const char *prefix)
{
	struct stat st;

	if (dir[0] && strncmp(dir, prefix, strlen(prefix)) == 0 && !lstat(dir, &st))
		rm_at(AT_FDCWD, dir, dir, st.st_dev);
}

int64_t test_now_ms(void)
{
	return util_now_ns() / 1000000;
}

pid_t test_spawn_quiet(const char *const *argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid < 0 ? -1 : pid;
}

int test_wait_status(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

int test_run_quiet(const char *const *argv)
{
	return test_wait_status(test_spawn_quiet(argv));
}

bool test_have(const char *tool)
{
	const char *argv[] = {tool, "--version", NULL};

	return test_run_quiet(argv) == 0;
}

bool test_is_bpf_elf_with_btf(const void *data, size_t len)
{
	const unsigned char *p = data;
	const Elf64_Ehdr *eh = data;
	const Elf64_Shdr *sh, *strtab;

	if (!p || len < sizeof(*eh) || memcmp(p, ELFMAG, SELFMAG) || p[EI_CLASS] != ELFCLASS64 ||
	    eh->e_machine != EM_BPF || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    eh->e_shstrndx >= eh->e_shnum || eh->e_shoff > len ||
	    (size_t)eh->e_shnum * sizeof(Elf64_Shdr) > len - eh->e_shoff)
		return false;
	sh = (const Elf64_Shdr *)(p + eh->e_shoff);
	strtab = &sh[eh->e_shstrndx];
	if (strtab->sh_offset > len || strtab->sh_size > len - strtab->sh_offset)
		return false;
	for (size_t i = 0; i < eh->e_shnum; i++)
		if (sh[i].sh_name + sizeof(".BTF") <= strtab->sh_size &&
		    !strcmp((const char *)p + strtab->sh_offset + sh[i].sh_name, ".BTF") &&
		    sh[i].sh_size > 24)
			return true;
	return false;
}

bool test_maps_have(pid_t pid, const char *needle)
{
	char path[64], *maps;
	bool found;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = test_read_file(path, NULL);
	found = maps && strstr(maps, needle);
	free(maps);
	return found;
}

const char *sonde_bin = SONDE_BIN;

int sonde_proc_start(struct sonde_proc *p, const char *const *argv)
{
	int out[2], err[2];
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -errno;
	while (argv[n])
		n++;
	p->pid = fork();
	if (p->pid < 0)
		return -errno;
	if (p->pid == 0) {
		const char **args = calloc(n + 2, sizeof(*args));
		args[0] = sonde_bin;
		memcpy(args + 1, argv, n * sizeof(*args));
		dup2(out[1], 1);
		dup2(err[1], 2);
		execv(sonde_bin, (char *const *)args);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	p->out_fd = out[0];
	p->err_fd = err[0];
	fcntl(p->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(p->err_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* Appends what is readable now; returns false at EOF on both. */
static bool drain(struct sonde_proc *p, int timeout_ms)
{
	struct pollfd fds[2] = {{p->out_fd, POLLIN, 0}, {p->err_fd, POLLIN, 0}};
	char buf[65536];

	if (p->out_fd < 0 && p->err_fd < 0)
		return false;
	if (poll(fds, 2, timeout_ms) <= 0)
		return true;
	for (int i = 0; i < 2; i++) {
		int *fd = i ? &p->err_fd : &p->out_fd;
		char **dst = i ? &p->err : &p->out;
		size_t *len = i ? &p->err_len : &p->out_len;
		ssize_t r;

		if (*fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
			continue;
		r = read(*fd, buf, sizeof(buf));
		if (r <= 0) {
			if (r == 0 || errno != EAGAIN) {
				close(*fd);
				*fd = -1;
			}
			continue;
		}
		*dst = realloc(*dst, *len + (size_t)r + 1);
		memcpy(*dst + *len, buf, (size_t)r);
		*len += (size_t)r;
		(*dst)[*len] = 0;
	}
	return true;
}

bool sonde_proc_wait_for(struct sonde_proc *p, int which, const char *needle, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;

	for (;;) {
		const char *hay = which == 2 ? p->err : p->out;
		if (hay && strstr(hay, needle))
			return true;
		if (test_now_ms() >= deadline || !drain(p, 50))
			return hay && strstr(hay, needle);
	}
}

int sonde_proc_finish(struct sonde_proc *p, int sig, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;

	if (sig)
		kill(p->pid, sig);
	while (drain(p, 50)) {
		if (test_now_ms() >= deadline) {
			kill(p->pid, SIGKILL);
			break;
		}
	}
	if (waitpid(p->pid, &p->status, 0) < 0)
		return -1;
	return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 128 + WTERMSIG(p->status);
}

int sonde_proc_start_running(struct sonde_proc *p, const char *const *argv)
{
	if (sonde_proc_start(p, argv)) {
		fprintf(stderr, "cannot start sonde\n");
		test_failures++;
		return -1;
	}
	if (!sonde_proc_wait_for(p, 2, "running", 15000)) {
		fprintf(stderr, "sonde did not start:\n%s\n", p->err ? p->err : "");
		test_failures++;
	}
	return 0;
}

void sonde_proc_await_child(struct sonde_proc *p, pid_t child)
{
	sonde_proc_await_child_for(p, child, 30000);
}

void sonde_proc_await_child_for(struct sonde_proc *p, pid_t child, int timeout_ms)
{
	int64_t deadline = test_now_ms() + timeout_ms;
	int st;

	while (waitpid(child, &st, WNOHANG) != child) {
		if (test_now_ms() >= deadline) {
			/* a worker still running would race the checks that follow */
			fprintf(stderr, "worker %d did not finish in %d ms: killed\n", child, timeout_ms);
			test_failures++;
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
			return;
		}
		sonde_proc_wait_for(p, 1, "\001never", 100);
	}
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

void sonde_proc_print_errors(const struct sonde_proc *p)
{
	const char *line = p->err;

	fprintf(stderr, "sonde exited with status %d; its messages:\n", p->status);
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);

		/* SONDE_TEST_VERBOSE=1: the debug lines too */
		if (strncmp(line, "sonde: debug:", 13) != 0 || getenv("SONDE_TEST_VERBOSE"))
			fprintf(stderr, "  %.*s\n", len, line);
		line = nl ? nl + 1 : NULL;
	}
}

void sonde_proc_free(struct sonde_proc *p)
{
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
	p->out_fd = p->err_fd = -1;
}

unsigned long long sonde_lost_samples(const char *err)
{
	static const char warn[] = "sonde: warning: ";
	unsigned long long sum = 0;

	for (const char *line = err; line && *line;) {
		const char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
		const char *lost = strstr(line, ": lost ");

		if (!strncmp(line, warn, sizeof(warn) - 1) && lost && lost < end) {
			char *after;
			unsigned long long n = strtoull(lost + 7, &after, 10);

			if (after > lost + 7 && !strncmp(after, " events: ", 9))
				sum += n;
		}
		line = nl ? nl + 1 : NULL;
	}
	return sum;
}

bool sonde_sees_containers(void)
{
	const char *argv[] = {"list-containers", "-o", "json", NULL};
	char *out = NULL, *err = NULL;
	bool any = sonde_run_cmd(argv, &out, &err, 15000) == 0 && out && strcmp(out, "[]\n") != 0;

	free(out);
	free(err);
	return any;
}

int sonde_run_cmd(const char *const *argv, char **out, char **err, int timeout_ms)
{
	struct sonde_proc p;
	int status;

	if (sonde_proc_start(&p, argv))
		return -1;
	status = sonde_proc_finish(&p, 0, timeout_ms);
	if (out) {
		*out = p.out ? p.out : strdup("");
		p.out = NULL;
	}
	if (err) {
		*err = p.err ? p.err : strdup("");
		p.err = NULL;
	}
	sonde_proc_free(&p);
	return status;
}

int sonde_run_cmd_nofile(const char *const *argv, int nofile, char **err)
{
	size_t n = 0, len = 0, cap = 0;
	char buf[4096], *text = NULL;
	int fds[2];
	ssize_t r;
	pid_t pid;

	while (argv[n])
		n++;
	if (pipe2(fds, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char **args = calloc(n + 2, sizeof(*args));
		struct rlimit rl = {(rlim_t)nofile, (rlim_t)nofile};
		int null = open("/dev/null", O_WRONLY);

		args[0] = sonde_bin;
		memcpy(args + 1, argv, n * sizeof(*args));
		dup2(null, 1);
		dup2(fds[1], 2);
		if (setrlimit(RLIMIT_NOFILE, &rl))
			_exit(126);
		execv(sonde_bin, (char *const *)args);
		_exit(127);
	}
	close(fds[1]);
	while ((r = read(fds[0], buf, sizeof(buf))) > 0) {
		if (len + (size_t)r + 1 > cap) {
			cap = (len + (size_t)r + 1) * 2;
			text = realloc(text, cap);
			if (!text)
				abort();
		}
		memcpy(text + len, buf, (size_t)r);
		len += (size_t)r;
		text[len] = 0;
	}
	close(fds[0]);
	*err = text ? text : strdup("");
	return test_wait_status(pid);
}

void sonde_expect_error(const char *const *argv, const char *needle)
{
	char *out = NULL, *err = NULL;
	int status = sonde_run_cmd(argv, &out, &err, 30000);
	size_t lines = 0;

	for (const char *c = err; c && *c; c++)
		lines += *c == '\n';
	if (status != 1) {
		fprintf(stderr, "sonde");
		for (size_t i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, ": exit status %d, want 1\n", status);
		test_failures++;
	}
	if (!err || lines != 1 || !strstr(err, needle) || strncmp(err, "sonde: error: ", 14)) {
		fprintf(stderr, "want one \"sonde: error: \" line containing \"%s\", got:\n%s", needle,
		        err ? err : "(nothing)\n");
		test_failures++;
	}
	free(out);
	free(err);
}

void test_child_start(struct test_child *c, int (*fn)(void *arg), void *arg)
{
	int go[2], res[2];

	if (pipe(go) || pipe(res))
		abort();
	c->pid = fork();
	if (c->pid < 0)
		abort();
	if (c->pid == 0) {
		char byte;
		int r;

		close(go[1]);
		close(res[0]);
		if (read(go[0], &byte, 1) != 1)
			_exit(1);
		r = fn(arg);
		if (write(res[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(res[1]);
	c->go_fd = go[1];
	c->result_fd = res[0];
}

int test_child_release(struct test_child *c)
{
	int r = 0;

	if (write(c->go_fd, "x", 1) != 1 || read(c->result_fd, &r, sizeof(r)) != sizeof(r))
		r = -9999;
	waitpid(c->pid, NULL, 0);
	close(c->go_fd);
	close(c->result_fd);
	return r;
}

char *sonde_run_around_child(const char *const *argv, struct test_child *c, const char *needle,
                             int *child_result)
{
	struct sonde_proc p;
	char *out;
	int r;

	if (sonde_proc_start_running(&p, argv)) {
		test_child_release(c);
		return NULL;
	}
	r = test_child_release(c);
	if (child_result)
		*child_result = r;
	sonde_proc_wait_for(&p, 1, needle, 3000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	out = p.out ? p.out : strdup("");
	p.out = NULL;
	sonde_proc_free(&p);
	return out;
}

struct open_as {
	const char *comm, *path;
};

static int open_as_child(void *arg)
{
	const struct open_as *o = arg;
	int fd;

	prctl(PR_SET_NAME, o->comm);
	fd = open(o->path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

bool test_sonde_sees_open(const char *const *argv, const char *comm)
{
	char path[128];
	struct open_as o = {.comm = comm, .path = path};
	struct test_child c;
	bool found = false;
	json_t *all, *ev;
	size_t i;
	char *out;

	snprintf(path, sizeof(path), "/tmp/sonde-it-%s-%d-%ld", comm, getpid(), random());
	test_child_start(&c, open_as_child, &o);
	out = sonde_run_around_child(argv, &c, path, NULL);
	unlink(path);
	all = test_json_lines(out ? out : "");
	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname"), *ev_comm = test_json_str(ev, "proc.comm");

		if (fname && !strcmp(fname, path) && (!ev_comm || !strcmp(ev_comm, comm)))
			found = true;
	}
	if (!found)
		fprintf(stderr, "no event for %s; output:\n%s\n", path, out ? out : "");
	json_decref(all);
	free(out);
	return found;
}

json_t *test_json_lines(const char *text)
{
	json_t *all = json_array();
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		json_error_t jerr;
		json_t *v = len ? json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr) : NULL;

		if (v) {
			json_array_append_new(all, v);
		} else if (len) {
			/* sonde's JSON output is one document per line: any other line is a bug */
			fprintf(stderr, "not a JSON line (%s): %.*s\n", jerr.text, (int)len, line);
			test_failures++;
		}
		line = nl ? nl + 1 : NULL;
	}
	return all;
}

json_t *test_json_path(json_t *obj, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && obj; tok = strtok_r(NULL, ".", &save))
		obj = json_is_object(obj) ? json_object_get(obj, tok) : NULL;
	return obj;
}

const char *test_json_str(json_t *obj, const char *path)
{
	json_t *v = test_json_path(obj, path);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long test_json_int(json_t *obj, const char *path, long long dflt)
{
	json_t *v = test_json_path(obj, path);

	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

json_t *test_json_find(json_t *arr, const char *path, const char *value)
{
	size_t i;
	json_t *el;

	json_array_foreach(arr, i, el)
	{
		const char *s = test_json_str(el, path);

		if (s && !strcmp(s, value))
			return el;
	}
	return NULL;
}
