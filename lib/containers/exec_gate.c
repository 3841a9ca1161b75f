/* The exec gate (see exec_gate.h).
 *
 * The child is forked from a process that may have threads and a large heap,
 * so it only makes async-signal-safe calls: no malloc, no stdio, no locks.
 * It lives in its own process group (a Ctrl-Z or a SIGSTOP meant for sonde's
 * job does not stop it) and dies with its parent (PR_SET_PDEATHSIG, and the
 * end of its socket). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "containers/exec_gate.h"
#include "util/clock.h"
#include "util/fd.h"

#define MAX_HELD 256 /* permission events held at once; beyond, allowed at once */

struct exec_gate {
	pid_t pid;
	int sock;
};

struct held {
	uint64_t seq;
	int fd;
	int64_t deadline_ms;
};

/* ---- the child ---- */

static void allow(int fanfd, int fd)
{
	struct fanotify_response r = {.fd = fd, .response = FAN_ALLOW};

	/* nothing to do on failure: closing the group would allow it too */
	if (write(fanfd, &r, sizeof(r)) < 0) {
	}
	close(fd);
}

/* Never blocks: a stopped parent fills the socket, the holds still time out. */
static void tell(int sock, const struct exec_gate_msg *m)
{
	if (send(sock, m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
	}
}

static void read_events(int fanfd, int sock, struct held *held, size_t *nheld, uint64_t *seq, int timeout_ms)
{
	char buf[4096] __attribute__((aligned(8)));

	for (;;) {
		ssize_t len = read(fanfd, buf, sizeof(buf));
		struct fanotify_event_metadata *m = (void *)buf;

		if (len <= 0)
			return;
		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			struct exec_gate_msg msg = {.pid = (uint32_t)m->pid, .mask = m->mask};
			struct stat st;

			if (m->vers != FANOTIFY_METADATA_VERSION || m->fd < 0)
				continue;
			/* not FAN_ALL_PERM_EVENTS: that legacy mask lacks the exec one */
			if (!(m->mask & (FAN_OPEN_PERM | FAN_ACCESS_PERM | FAN_OPEN_EXEC_PERM))) {
				msg.kind = EXEC_GATE_SEEN;
				tell(sock, &msg);
				close(m->fd);
				continue;
			}
			if (*nheld == MAX_HELD || fstat(m->fd, &st)) {
				allow(fanfd, m->fd);
				continue;
			}
			msg.kind = EXEC_GATE_HELD;
			msg.seq = ++*seq;
			msg.dev = st.st_dev;
			msg.ino = st.st_ino;
			held[(*nheld)++] =
			    (struct held){msg.seq, m->fd, util_now_ns() / 1000000 + timeout_ms};
			tell(sock, &msg);
		}
	}
}

static void read_releases(int fanfd, int sock, struct held *held, size_t *nheld)
{
	uint64_t seq;
	ssize_t n;

	while ((n = recv(sock, &seq, sizeof(seq), MSG_DONTWAIT)) == sizeof(seq)) {
		for (size_t i = 0; i < *nheld; i++) {
			if (held[i].seq == seq) {
				allow(fanfd, held[i].fd);
				held[i] = held[--*nheld];
				break;
			}
		}
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		_exit(0); /* the watcher is gone: exiting closes the group, which allows all */
}

static int expire(int fanfd, int sock, struct held *held, size_t *nheld)
{
	int64_t now = util_now_ns() / 1000000, next = -1;

	for (size_t i = 0; i < *nheld;) {
		if (held[i].deadline_ms <= now) {
			struct exec_gate_msg msg = {.kind = EXEC_GATE_TIMED_OUT, .seq = held[i].seq};

			allow(fanfd, held[i].fd);
			tell(sock, &msg);
			held[i] = held[--*nheld];
			continue;
		}
		if (next < 0 || held[i].deadline_ms - now < next)
			next = held[i].deadline_ms - now;
		i++;
	}
	return (int)next;
}

static _Noreturn void gate_main(int fanfd, int sock, pid_t parent, int timeout_ms)
{
	static struct held held[MAX_HELD];
	size_t nheld = 0;
	uint64_t seq = 0;
	sigset_t all;

	/* signals are for sonde, not for its gate */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	setpgid(0, 0);
	/* answers must not wait for a time slice on a loaded host (best effort) */
	setpriority(PRIO_PROCESS, 0, -10);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
	util_close_fds_except(fanfd, sock);
	for (;;) {
		struct pollfd p[2] = {{.fd = fanfd, .events = POLLIN}, {.fd = sock, .events = POLLIN}};
		int wait_ms = expire(fanfd, sock, held, &nheld);

		if (poll(p, 2, wait_ms) < 0 && errno != EINTR)
			_exit(1);
		if (p[1].revents)
			read_releases(fanfd, sock, held, &nheld);
		if (p[0].revents)
			read_events(fanfd, sock, held, &nheld, &seq, timeout_ms);
	}
}

/* ---- the watcher's side ---- */

int exec_gate_start(int fanfd, int timeout_ms, struct exec_gate **out)
{
	struct exec_gate *g = calloc(1, sizeof(*g));
	pid_t parent = getpid();
	int sv[2];

	if (!g)
		return -ENOMEM;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		int err = -errno;
		free(g);
		return err;
	}
	g->pid = fork();
	if (g->pid < 0) {
		int err = -errno;
		close(sv[0]);
		close(sv[1]);
		free(g);
		return err;
	}
	if (g->pid == 0) {
		/* the group's fd was opened non-blocking: reads drain, poll waits */
		gate_main(fanfd, sv[1], parent, timeout_ms);
	}
	close(sv[1]);
	g->sock = sv[0];
	fcntl(g->sock, F_SETFL, fcntl(g->sock, F_GETFL) | O_NONBLOCK);
	*out = g;
	return 0;
}

void exec_gate_stop(struct exec_gate *g)
{
	if (!g)
		return;
	close(g->sock); /* the child exits at the end of its socket */
	if (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
		waitpid(g->pid, NULL, 0);
	free(g);
}

int exec_gate_fd(const struct exec_gate *g)
{
	return g ? g->sock : -1;
}

pid_t exec_gate_pid(const struct exec_gate *g)
{
	return g ? g->pid : -1;
}

int exec_gate_next(struct exec_gate *g, struct exec_gate_msg *msg)
{
	ssize_t n = recv(g->sock, msg, sizeof(*msg), MSG_DONTWAIT);

	if (n == sizeof(*msg))
		return 0;
	if (n == 0)
		return -EPIPE; /* the child is gone */
	return n < 0 && errno != EAGAIN ? -errno : -EAGAIN;
}

void exec_gate_release(struct exec_gate *g, uint64_t seq)
{
	/* a full socket means a stuck child: the hold times out by itself */
	if (send(g->sock, &seq, sizeof(seq), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
	}
}
