/* The exec gate on its own: a real fanotify group, a real exec held on a
 * marked copy of /bin/true. A held exec goes on when the watcher releases
 * it, by itself when the timeout passes (and the watcher hears of it), and
 * when the gate dies the watcher learns it and can end the hold. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containers/exec_gate.h"
#include "testlib.h"

#define PREFIX "/tmp/sonde-it-gate-"

static char dir[64], prog[128];

/* The child that will exec prog once released: forked before the group
 * exists, so that it holds no fd of it (a held exec has not closed its
 * close-on-exec fds yet, and would keep the group alive). */
struct execer {
	pid_t pid;
	int go;
};

static bool execer_start(struct execer *e)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return false;
	e->pid = fork();
	if (e->pid == 0) {
		char c;
		const char *argv[] = {prog, NULL};

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(99);
		execv(prog, (char *const *)argv);
		_exit(98);
	}
	close(p[0]);
	e->go = p[1];
	return e->pid > 0;
}

static pid_t execer_go(struct execer *e)
{
	if (write(e->go, "x", 1) != 1)
		return -1;
	close(e->go);
	e->go = -1;
	return e->pid;
}

/* A private copy of /bin/true (its own inode, so only our execs are held),
 * the child that will exec it, and a fanotify group marking its exec; the
 * group's fd, or -1. */
static int setup(struct stat *st, struct execer *e)
{
	const char *cp[] = {"cp", "/bin/true", prog, NULL};
	int fd;

	test_require_root(); /* fanotify permission events */
	snprintf(dir, sizeof(dir), PREFIX "XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(prog, sizeof(prog), "%s/true", dir);
	if (test_run_quiet(cp) || stat(prog, st) || !execer_start(e))
		return -1;
	fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fanotify_mark(fd, FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, AT_FDCWD, prog)) {
		fprintf(stderr, "fanotify: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Also ends a child still there (a failed case): nothing may outlive the test. */
static void teardown(int fanfd, struct execer *e)
{
	if (fanfd >= 0)
		close(fanfd);
	if (e->pid > 0 && waitpid(e->pid, NULL, WNOHANG) == 0) {
		kill(e->pid, SIGKILL);
		waitpid(e->pid, NULL, 0);
	}
	if (e->go >= 0)
		close(e->go);
	test_rm_tree(dir, PREFIX);
}

/* The next message within timeout_ms; false if none came. */
static bool next(struct exec_gate *g, struct exec_gate_msg *m, int timeout_ms)
{
	int64_t end = test_now_ms() + timeout_ms;

	for (;;) {
		struct pollfd p = {.fd = exec_gate_fd(g), .events = POLLIN};
		int err = exec_gate_next(g, m);

		if (err != -EAGAIN)
			return err == 0;
		if (test_now_ms() >= end || poll(&p, 1, (int)(end - test_now_ms())) < 0)
			return false;
	}
}

/* The held exec's message: HELD, naming the child and the marked file. */
static bool expect_held(struct exec_gate *g, pid_t child, const struct stat *st, struct exec_gate_msg *m)
{
	if (!next(g, m, 5000)) {
		fprintf(stderr, "no message for the held exec\n");
		return false;
	}
	CHECK_INT(m->kind, EXEC_GATE_HELD);
	CHECK_INT(m->pid, child);
	CHECK(m->dev == st->st_dev && m->ino == st->st_ino);
	return m->kind == EXEC_GATE_HELD;
}

/* Whether pid has exited within timeout_ms (its status in *status). */
static bool exits_within(pid_t pid, int timeout_ms, int *status)
{
	int64_t end = test_now_ms() + timeout_ms;

	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(2000);
	} while (test_now_ms() < end);
	return false;
}

/* One exec held by a gate with the given timeout. */
struct held {
	struct exec_gate *g;
	struct execer e;
	struct stat st;
	struct exec_gate_msg m; /* its HELD message */
	int fanfd;
	pid_t child;
	int64_t t0; /* just before the exec */
};

/* Sets up, starts the gate and lets the child exec: true once its exec is
 * held (h is ended by held_end in any case). */
static bool held_start(struct held *h, int timeout_ms)
{
	*h = (struct held){.e = {-1, -1}, .fanfd = -1};
	h->fanfd = setup(&h->st, &h->e);
	CHECK(h->fanfd >= 0);
	if (h->fanfd < 0)
		return false;
	CHECK_INT(exec_gate_start(h->fanfd, timeout_ms, &h->g), 0);
	if (!h->g)
		return false;
	h->t0 = test_now_ms();
	h->child = execer_go(&h->e);
	CHECK(h->child > 0);
	return h->child > 0 && expect_held(h->g, h->child, &h->st, &h->m);
}

static void held_end(struct held *h)
{
	exec_gate_stop(h->g);
	teardown(h->fanfd, &h->e);
}

/* The held exec went on (within 5 s) and its program ran to a clean exit. */
static void check_went_on(const struct held *h)
{
	int status = -1;

	CHECK(exits_within(h->child, 5000, &status));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_release(void)
{
	struct held h;
	int status;

	if (held_start(&h, 60000)) {
		/* held: the hold is a minute, and nobody answered yet */
		CHECK(!exits_within(h.child, 300, &status));
		exec_gate_release(h.g, h.m.seq);
		check_went_on(&h);
	}
	held_end(&h);
}

static void test_timeout(void)
{
	struct exec_gate_msg t = {0};
	struct held h;

	if (held_start(&h, 200)) {
		/* never released here: the gate lets it go after 200 ms, and says so */
		check_went_on(&h);
		CHECK(test_now_ms() - h.t0 >= 200);
		CHECK(next(h.g, &t, 2000));
		CHECK_INT(t.kind, EXEC_GATE_TIMED_OUT);
		CHECK(t.seq == h.m.seq);
	}
	held_end(&h);
}

/* The gate killed while it holds an exec: the watcher's next read says so,
 * and closing the group (what the watcher then does) lets the exec go on. */
static void test_gate_killed(void)
{
	struct exec_gate_msg m;
	struct held h;
	int status;

	if (held_start(&h, 60000)) {
		CHECK_INT(kill(exec_gate_pid(h.g), SIGKILL), 0);
		CHECK(!next(h.g, &m, 2000));
		CHECK_INT(exec_gate_next(h.g, &m), -EPIPE);
		CHECK(!exits_within(h.child, 300, &status)); /* the group still holds it */
		close(h.fanfd);
		h.fanfd = -1;
		check_went_on(&h);
	}
	held_end(&h);
}

/* sonde stopping (SIGINT, SIGTERM) while an exec is held: the watcher stops
 * the gate and closes the group, and the exec goes on at once, not after
 * the hold's timeout. */
static void test_stop_while_held(void)
{
	struct held h;

	if (held_start(&h, 60000)) {
		exec_gate_stop(h.g);
		h.g = NULL;
		close(h.fanfd);
		h.fanfd = -1;
		check_went_on(&h);
	}
	held_end(&h);
}

TEST_MAIN(TEST(test_release), TEST(test_timeout), TEST(test_gate_killed), TEST(test_stop_while_held))
