/* Keeps a container collection in sync with runc, crun and containerd (whose
 * shim runs runc with a root per namespace), event-driven.
 *
 * Sources, all behind one epoll fd that the caller's loop watches:
 *  - fanotify FAN_OPEN_EXEC on the runtime binaries: remembers the pids of
 *    recent runtime invocations (their argv and cwd name the bundle);
 *  - inotify on each state root (/run/runc, /run/containerd/runc/<ns>; on the
 *    nearest existing ancestor of one not there yet): a new <id>/ directory is
 *    a container being created. Its bundle's first program (config.json
 *    process.args[0] in its rootfs) gets a FAN_OPEN_EXEC_PERM mark: the
 *    container's init execs it from inside its namespaces and waits until we
 *    answer, so the container is in the collection (and in-kernel filters)
 *    before its first instruction — even if it exits a millisecond later;
 *  - inotify on <id>/: the state file written (the fallback when the first
 *    program could not be resolved);
 *  - a pidfd per container: readable when its init exits → removed.
 * Permission events are answered "allow" by the exec gate, a child process
 * (exec_gate.h): when we have registered the container, or after
 * EXEC_GATE_TIMEOUT_MS whatever this process is doing (blocked output,
 * SIGSTOP); closing the fanotify group (on free or crash) allows everything
 * still pending. A held exec's mark is removed only after its registration:
 * removing it lets the exec go on at once.
 *
 * The hold is on the exec itself, so a program hooked at the entry of that
 * execve runs before the container is known (trace_exec reads the container
 * filter at the exit). A container registered without a hold once its
 * program runs is said once, by name: its first events may be missing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <sonde/log.h>

#include "containers/exec_gate.h"
#include "containers/internal.h"
#include "util/clock.h"
#include "util/array.h"

#define NRECENT          32
#define NHOLDS           32                    /* held execs remembered until their hold may time out */
#define RECENT_NS        (10LL * 1000000000LL) /* a runtime invocation stays relevant this long */
#define PENDING_NS       (15LL * 1000000000LL) /* as upstream: creations that never start expire */
#define TAG_GATE         1ull
#define TAG_INOTIFY      2ull
#define TAG_PIDFD        3ull
#define TAG(kind, value) (((kind) << 32) | (uint32_t)(value))

static const char *const runtime_binaries[] = {
    "/usr/sbin/runc",
    "/usr/bin/runc",
    "/usr/local/bin/runc",
    "/usr/local/sbin/runc",
    "/bin/runc",
    "/sbin/runc",
    "/usr/bin/crun",
    "/usr/local/bin/crun",
    "/usr/sbin/crun",
    "/usr/lib/cri-o-runc/sbin/runc",
    NULL,
};

/* A state directory: <root>/<id>/ per container. A nested root holds one
 * such directory per namespace (containerd's runc root: <root>/<ns>/<id>/). */
struct root_watch {
	const struct runtime_desc *rt;
	char *root;
	bool nested;
	int wd;          /* on the root, -1 until it exists */
	int ancestor_wd; /* on its nearest existing ancestor while it is missing */
};

struct dir_watch {
	int wd;
	struct root_watch *r;
	char *id;
};

struct pending {
	struct root_watch *r;
	char *id;
	char *bundle;
	char *exec_path; /* marked for exec permission, NULL if unresolved */
	dev_t dev;
	ino_t ino;
	int64_t since;
	const char *unheld; /* why its first exec cannot be held, NULL if it can */
	bool said;          /* a warning about it was given already */
	bool timed_out;     /* its first exec went on before its registration */
};

struct pid_watch {
	int fd;
	char *id;
};

struct recent {
	uint32_t pid;
	int64_t at;
};

/* A held exec, remembered until its hold may have timed out. */
struct hold {
	uint64_t seq;
	uint32_t pid;
	dev_t dev;
	ino_t ino;
};

struct sonde_container_watcher {
	struct sonde_containers *set;
	char *proc_root;
	int epfd, inofd, fanfd;
	int sub_id;
	struct root_watch **roots; /* stable pointers: pending entries point at them */
	size_t nroots;
	struct runtime_clients *clients;
	struct dir_watch *dirs;
	size_t ndirs;
	struct pending *pend;
	size_t npend;
	struct pid_watch *pids;
	size_t npids;
	/* exec marks to remove once no permission event is being held: removing
	 * the mark of a held exec lets it go on before we answer */
	char **unmark;
	size_t nunmark;
	struct recent recent[NRECENT];
	size_t recent_next;
	struct exec_gate *gate; /* answers the held execs; NULL: nothing is held */
	struct hold holds[NHOLDS];
	size_t holds_next;
	int hold_timeout_ms;
	uint64_t self_mntns;
};

static void drop(void *arr, size_t *n, size_t i, size_t size)
{
	char *p = *(char **)arr;

	memmove(p + i * size, p + (i + 1) * size, (*n - i - 1) * size);
	(*n)--;
}

/* ---- pidfds: removal when a container's init exits ---- */

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void unwatch_pid(struct sonde_container_watcher *w, const char *id)
{
	for (size_t i = 0; i < w->npids; i++) {
		if (strcmp(w->pids[i].id, id) == 0) {
			epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->pids[i].fd, NULL);
			close(w->pids[i].fd);
			free(w->pids[i].id);
			drop(&w->pids, &w->npids, i, sizeof(*w->pids));
			return;
		}
	}
}

static void watch_pid(struct sonde_container_watcher *w, const struct sonde_container *c)
{
	struct pid_watch pw = {.fd = pidfd_open_((pid_t)c->pid), .id = strdup(c->id)};
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_PIDFD, pw.fd)};

	if (pw.fd < 0 || !pw.id || epoll_ctl(w->epfd, EPOLL_CTL_ADD, pw.fd, &ev) ||
	    append_array(&w->pids, &w->npids, &pw, sizeof(pw))) {
		/* its init is already gone (or no memory): it cannot stay */
		sonde_debug("containers: %s: cannot watch pid %u: %s", c->id, c->pid, strerror(errno));
		if (pw.fd >= 0)
			close(pw.fd);
		free(pw.id);
		return;
	}
}

static void on_set_change(struct sonde_containers *set, enum sonde_container_event ev,
                          const struct sonde_container *c, void *arg)
{
	struct sonde_container_watcher *w = arg;

	if (ev == SONDE_CONTAINER_ADDED)
		watch_pid(w, c);
	else if (ev == SONDE_CONTAINER_REMOVED)
		unwatch_pid(w, c->id);
}

static void pid_exited(struct sonde_container_watcher *w, int fd)
{
	for (size_t i = 0; i < w->npids; i++) {
		if (w->pids[i].fd == fd) {
			char *id = strdup(w->pids[i].id);

			if (id) {
				sonde_debug("containers: %s exited", id);
				/* the REMOVED notification closes the pidfd */
				sonde_containers_remove(w->set, id);
				unwatch_pid(w, id);
				free(id);
			}
			return;
		}
	}
}

/* ---- registration ---- */

static bool is_live(struct sonde_container_watcher *w, const char *id)
{
	for (size_t i = 0; i < sonde_containers_count(w->set); i++)
		if (strcmp(sonde_containers_at(w->set, i)->id, id) == 0)
			return true;
	return false;
}

static void pending_free(struct sonde_container_watcher *w, size_t i)
{
	struct pending *p = &w->pend[i];
	bool shared = false;

	for (size_t j = 0; j < w->npend; j++)
		if (j != i && w->pend[j].exec_path && p->exec_path && w->pend[j].ino == p->ino &&
		    w->pend[j].dev == p->dev)
			shared = true;
	if (p->exec_path && !shared && w->fanfd >= 0) {
		if (append_array(&w->unmark, &w->nunmark, &p->exec_path, sizeof(p->exec_path)) == 0)
			p->exec_path = NULL; /* now the unmark list's */
		else
			fanotify_mark(w->fanfd, FAN_MARK_REMOVE, FAN_OPEN_EXEC_PERM, AT_FDCWD, p->exec_path);
	}
	free(p->id);
	free(p->bundle);
	free(p->exec_path);
	drop(&w->pend, &w->npend, i, sizeof(*w->pend));
}

/* After every held exec was answered. */
static void flush_unmarks(struct sonde_container_watcher *w)
{
	for (size_t i = 0; i < w->nunmark; i++) {
		struct stat st;
		bool reused = false;

		/* a newer creation may have marked the same file again meanwhile */
		if (stat(w->unmark[i], &st) == 0)
			for (size_t j = 0; j < w->npend; j++)
				reused |= w->pend[j].exec_path && w->pend[j].ino == st.st_ino &&
				          w->pend[j].dev == st.st_dev;
		if (!reused)
			fanotify_mark(w->fanfd, FAN_MARK_REMOVE, FAN_OPEN_EXEC_PERM, AT_FDCWD, w->unmark[i]);
		free(w->unmark[i]);
	}
	w->nunmark = 0;
}

static ssize_t pending_index(struct sonde_container_watcher *w, struct root_watch *r, const char *id)
{
	for (size_t i = 0; i < w->npend; i++)
		if (w->pend[i].r == r && strcmp(w->pend[i].id, id) == 0)
			return (ssize_t)i;
	return -1;
}

static void say_hold_timed_out(const struct sonde_container_watcher *w, const struct sonde_container *c)
{
	sonde_warn("containers: %s (%s) started after waiting %d ms, the limit, for Sonde to register "
	           "it: events from its first moments may be missing",
	           c->name, c->id, w->hold_timeout_ms);
}

/* A container created while we watch, registered without holding its first
 * exec: if that exec already happened, its first events were dropped by the
 * in-kernel filter. Said once, when it is registered. */
static void say_if_started(struct sonde_container_watcher *w, const struct pending *p,
                           const struct sonde_container *c)
{
	if (proc_runs_runtime(w->proc_root, c->pid))
		return; /* registered before its program started: nothing missed */
	sonde_warn("containers: %s (%s) was registered after its program started (%s): events from "
	           "its first moments may be missing",
	           c->name, c->id, p->unheld ? p->unheld : "its start was not held in time");
}

/* Registers <root>/<id> (pid_hint from an exec of its first program, held
 * while we register it). */
static int try_register(struct sonde_container_watcher *w, struct root_watch *r, const char *id,
                        uint32_t pid_hint, bool held)
{
	ssize_t pi = pending_index(w, r, id);
	const char *bundle = pi >= 0 ? w->pend[pi].bundle : NULL;
	struct sonde_container *c;
	int err;

	if (is_live(w, id)) {
		if (pi >= 0)
			pending_free(w, (size_t)pi);
		return 0;
	}
	err = runtime_load(r->rt, r->root, id, w->proc_root, pid_hint, bundle, w->clients, &c);
	if (err == -EINVAL && !(pi >= 0 && w->pend[pi].said)) {
		sonde_warn("containers: %s/%s: unreadable %s state; skipped", r->root, id, r->rt->name);
		if (pi >= 0)
			w->pend[pi].said = true;
	}
	if (err) {
		sonde_debug("containers: %s/%s not registered yet: %s", r->root, id, strerror(-err));
		return err;
	}
	pi = pending_index(w, r, id); /* indices may have moved */
	if (pi >= 0) {
		if (w->pend[pi].timed_out)
			say_hold_timed_out(w, c);
		else if (!held)
			say_if_started(w, &w->pend[pi], c);
		pending_free(w, (size_t)pi);
	}
	sonde_debug("containers: %s %s (%s) pid %u mntns %llu", c->runtime, c->id, c->name, c->pid,
	            (unsigned long long)c->mntns);
	return sonde_containers_add(w->set, c);
}

/* The bundle of container `id` from a recent runtime invocation naming it. */
static char *bundle_from_runtime(struct sonde_container_watcher *w, const char *id)
{
	int64_t now = util_now_ns();

	for (size_t k = 0; k < NRECENT; k++) {
		struct recent *rc = &w->recent[(w->recent_next + NRECENT - 1 - k) % NRECENT];
		char *args, *bundle = NULL, *cwd = NULL;
		bool names_it = false;
		size_t len;

		if (!rc->pid || now - rc->at > RECENT_NS)
			continue;
		if (proc_cmdline(w->proc_root, rc->pid, &args, &len))
			continue;
		for (size_t off = 0; off < len; off += strlen(args + off) + 1) {
			const char *a = args + off,
			           *next = off + strlen(a) + 1 < len ? a + strlen(a) + 1 : NULL;

			if (strcmp(a, id) == 0)
				names_it = true;
			else if ((!strcmp(a, "--bundle") || !strcmp(a, "-b")) && next && !bundle)
				bundle = strdup(next);
			else if (!strncmp(a, "--bundle=", 9) && !bundle)
				bundle = strdup(a + 9);
		}
		free(args);
		if (!names_it) {
			free(bundle);
			continue;
		}
		/* runc chdirs to the bundle; a relative --bundle is relative to the cwd */
		if (proc_cwd(w->proc_root, rc->pid, &cwd) == 0 && (!bundle || bundle[0] != '/')) {
			char *abs = NULL;

			if (!bundle)
				abs = strdup(cwd);
			else if (asprintf(&abs, "%s/%s", cwd, bundle) < 0)
				abs = NULL;
			free(bundle);
			bundle = abs;
		}
		free(cwd);
		return bundle;
	}
	return NULL;
}

/* A new state directory: a container is being created. */
static void on_new_dir(struct sonde_container_watcher *w, struct root_watch *r, const char *id)
{
	char dir[PATH_MAX];
	struct dir_watch dw = {.r = r};
	struct pending p = {.r = r, .since = util_now_ns()};
	struct stat st;

	if (!sonde_container_id_valid(id) || is_live(w, id) || pending_index(w, r, id) >= 0)
		return;
	snprintf(dir, sizeof(dir), "%s/%s", r->root, id);
	dw.wd = inotify_add_watch(w->inofd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR);
	dw.id = strdup(id);
	if (dw.wd < 0 || !dw.id || append_array(&w->dirs, &w->ndirs, &dw, sizeof(dw)))
		free(dw.id);
	p.id = strdup(id);
	p.bundle = bundle_from_runtime(w, id);
	if (!p.id) {
		free(p.bundle);
		return;
	}
	if (!w->gate)
		p.unheld = "this host cannot hold execs: no fanotify";
	else if (!p.bundle)
		p.unheld = "the runtime call that created it was not seen";
	else if (oci_bundle_exec_path(p.bundle, &p.exec_path))
		p.unheld = "its first program was not found in its bundle";
	if (p.exec_path) {
		if (stat(p.exec_path, &st) == 0 &&
		    fanotify_mark(w->fanfd, FAN_MARK_ADD, FAN_OPEN_EXEC_PERM, AT_FDCWD, p.exec_path) == 0) {
			p.dev = st.st_dev;
			p.ino = st.st_ino;
			sonde_debug("containers: %s: waiting for its init to exec %s", id, p.exec_path);
		} else {
			p.unheld = "its first program could not be marked";
			free(p.exec_path);
			p.exec_path = NULL;
		}
	}
	if (append_array(&w->pend, &w->npend, &p, sizeof(p))) {
		free(p.id);
		free(p.bundle);
		free(p.exec_path);
		return;
	}
	try_register(w, r, id, 0, false); /* the state may be complete already */
}

static void expire_pending(struct sonde_container_watcher *w)
{
	int64_t now = util_now_ns();

	for (size_t i = w->npend; i-- > 0;)
		if (now - w->pend[i].since > PENDING_NS)
			pending_free(w, i);
}

/* ---- roots ---- */

static bool wd_in_use(struct sonde_container_watcher *w, int wd, const struct root_watch *except)
{
	for (size_t i = 0; i < w->nroots; i++)
		if (w->roots[i] != except && (w->roots[i]->wd == wd || w->roots[i]->ancestor_wd == wd))
			return true;
	return false;
}

static void release_ancestor(struct sonde_container_watcher *w, struct root_watch *r)
{
	/* inotify hands out one wd per inode: another root may share it */
	if (r->ancestor_wd >= 0 && !wd_in_use(w, r->ancestor_wd, r))
		inotify_rm_watch(w->inofd, r->ancestor_wd);
	r->ancestor_wd = -1;
}

/* Watches the root, or while it does not exist (runtime never used yet) the
 * nearest ancestor that does, to see it appear. IN_MASK_ADD: that ancestor
 * may be another root with a wider mask. */
static void watch_root(struct sonde_container_watcher *w, struct root_watch *r)
{
	char path[PATH_MAX], *slash;
	int wd = -1;

	if (w->inofd < 0 || r->wd >= 0)
		return;
	r->wd = inotify_add_watch(w->inofd, r->root,
	                          IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_ONLYDIR | IN_MASK_ADD);
	if (r->wd >= 0) {
		release_ancestor(w, r);
		return;
	}
	snprintf(path, sizeof(path), "%s", r->root);
	while (wd < 0 && (slash = strrchr(path, '/')) && slash != path) {
		*slash = 0;
		wd = inotify_add_watch(w->inofd, path, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR | IN_MASK_ADD);
	}
	if (wd != r->ancestor_wd) {
		release_ancestor(w, r);
		r->ancestor_wd = wd;
	}
}

static struct root_watch *add_root(struct sonde_container_watcher *w, const struct runtime_desc *rt,
                                   const char *root, bool nested)
{
	struct root_watch *r = calloc(1, sizeof(*r));

	if (!r || !(r->root = strdup(root)) || append_array(&w->roots, &w->nroots, &r, sizeof(r))) {
		if (r)
			free(r->root);
		free(r);
		return NULL;
	}
	r->rt = rt;
	r->nested = nested;
	r->wd = r->ancestor_wd = -1;
	return r;
}

static void scan_root(struct sonde_container_watcher *w, struct root_watch *r, bool live);

/* A namespace directory of a nested root: a root of its own. */
static void add_child_root(struct sonde_container_watcher *w, struct root_watch *parent, const char *name,
                           bool live)
{
	char path[PATH_MAX];
	struct root_watch *r = NULL;

	if (!sonde_container_id_valid(name))
		return;
	snprintf(path, sizeof(path), "%s/%s", parent->root, name);
	for (size_t i = 0; i < w->nroots && !r; i++)
		if (strcmp(w->roots[i]->root, path) == 0)
			r = w->roots[i];
	if (!r && !(r = add_root(w, parent->rt, path, false)))
		return;
	scan_root(w, r, live);
}

/* live: the root appeared while we watch, so what is in it is being
 * created now (the first container of a containerd namespace, say): each
 * one is taken as a new state directory, held and said like any other. */
static void scan_root(struct sonde_container_watcher *w, struct root_watch *r, bool live)
{
	DIR *d;
	struct dirent *e;

	watch_root(w, r);
	if (!r->nested && !live) {
		runtime_scan(w->set, r->rt, r->root, w->proc_root, w->clients);
		return;
	}
	d = opendir(r->root);
	while (d && (e = readdir(d))) {
		if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
			continue;
		if (r->nested)
			add_child_root(w, r, e->d_name, live);
		else
			on_new_dir(w, r, e->d_name);
	}
	if (d)
		closedir(d);
}

static void rescan(struct sonde_container_watcher *w)
{
	/* children appended while scanning are scanned by add_child_root */
	size_t n = w->nroots;

	for (size_t i = 0; i < n; i++)
		scan_root(w, w->roots[i], false);
}

/* ---- event sources ---- */

static void remember_hold(struct sonde_container_watcher *w, const struct exec_gate_msg *m)
{
	w->holds[w->holds_next] = (struct hold){m->seq, m->pid, (dev_t)m->dev, (ino_t)m->ino};
	w->holds_next = (w->holds_next + 1) % NHOLDS;
}

/* The gate let a held exec go before we answered. If it was a container's
 * first program, its first events may have been dropped in the kernel: said
 * now for a registered container, at its registration for a pending one. */
static void hold_timed_out(struct sonde_container_watcher *w, uint64_t seq)
{
	const struct hold *h = NULL;

	for (size_t i = 0; i < NHOLDS && !h; i++)
		if (w->holds[i].seq == seq)
			h = &w->holds[i];
	if (!h)
		return;
	for (size_t i = 0; i < sonde_containers_count(w->set); i++) {
		const struct sonde_container *c = sonde_containers_at(w->set, i);

		if (c->pid == h->pid) {
			say_hold_timed_out(w, c);
			return;
		}
	}
	for (size_t i = 0; i < w->npend; i++)
		if (w->pend[i].exec_path && w->pend[i].ino == h->ino && w->pend[i].dev == h->dev)
			w->pend[i].timed_out = true;
}

/* The exec of a marked file was held: if it is the first program of a
 * container being created, register it before letting the exec go on. */
static void on_held_exec(struct sonde_container_watcher *w, const struct exec_gate_msg *m)
{
	uint64_t mntns = 0;
	int err = proc_ns_inode(w->proc_root, m->pid, "mnt", &mntns);

	sonde_debug("containers: exec by pid %u held (%s)", m->pid,
	            err                      ? strerror(-err)
	            : mntns == w->self_mntns ? "the host"
	                                     : "in a container");
	/* our own namespace: the host runs the same file, not a container */
	if (!err && mntns != w->self_mntns) {
		for (size_t i = 0; i < w->npend; i++) {
			struct pending *p = &w->pend[i];

			if (p->exec_path && p->ino == m->ino && p->dev == m->dev) {
				try_register(w, p->r, p->id, m->pid, true);
				break;
			}
		}
	}
	exec_gate_release(w->gate, m->seq);
}

/* The gate died (killed, out of memory): what it held waits for the group's
 * end, so end it; new containers are no longer held. */
static void gate_lost(struct sonde_container_watcher *w)
{
	sonde_warn("containers: the exec gate (pid %d) exited: new containers' first events may be "
	           "missing from now on",
	           (int)exec_gate_pid(w->gate));
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, exec_gate_fd(w->gate), NULL);
	exec_gate_stop(w->gate);
	w->gate = NULL;
	close(w->fanfd);
	w->fanfd = -1;
	for (size_t i = 0; i < w->npend; i++) {
		free(w->pend[i].exec_path);
		w->pend[i].exec_path = NULL;
		w->pend[i].unheld = "the exec gate exited";
	}
	for (size_t i = 0; i < w->nunmark; i++)
		free(w->unmark[i]);
	w->nunmark = 0;
}

static void handle_gate(struct sonde_container_watcher *w)
{
	struct exec_gate_msg m;
	bool released = false;
	int err;

	while ((err = exec_gate_next(w->gate, &m)) == 0) {
		if (m.kind == EXEC_GATE_HELD) {
			remember_hold(w, &m);
			on_held_exec(w, &m);
			released = true;
		} else if (m.kind == EXEC_GATE_SEEN) {
			w->recent[w->recent_next] = (struct recent){m.pid, util_now_ns()};
			w->recent_next = (w->recent_next + 1) % NRECENT;
		} else if (m.kind == EXEC_GATE_TIMED_OUT) {
			hold_timed_out(w, m.seq);
		}
	}
	if (err == -EPIPE) {
		gate_lost(w);
		return;
	}
	if (released)
		flush_unmarks(w);
}

static void on_root_event(struct sonde_container_watcher *w, struct root_watch *r,
                          const struct inotify_event *e)
{
	bool dir = (e->mask & IN_ISDIR) && e->len;

	if (e->mask & IN_IGNORED) {
		r->wd = -1; /* the root itself went away */
		watch_root(w, r);
	} else if ((e->mask & (IN_CREATE | IN_MOVED_TO)) && dir) {
		if (r->nested)
			add_child_root(w, r, e->name, true);
		else
			on_new_dir(w, r, e->name);
	} else if ((e->mask & IN_DELETE) && dir && !r->nested) {
		ssize_t pi = pending_index(w, r, e->name);

		if (pi >= 0 && !w->pend[pi].said) {
			/* created and deleted while we watched, never registered */
			sonde_warn("containers: %s ran and was deleted before Sonde could register it: "
			           "its events were not traced",
			           e->name);
		}
		if (pi >= 0)
			pending_free(w, (size_t)pi);
		if (is_live(w, e->name))
			sonde_containers_remove(w->set, e->name);
	}
}

static void handle_inotify_event(struct sonde_container_watcher *w, const struct inotify_event *e)
{
	size_t n = w->nroots; /* roots added on the way are complete already */

	if (e->mask & IN_Q_OVERFLOW) {
		rescan(w);
		return;
	}
	/* one wd can be a root and another root's ancestor at once */
	for (size_t i = 0; i < n; i++) {
		struct root_watch *r = w->roots[i];

		if (r->wd == e->wd)
			on_root_event(w, r, e);
		else if (r->ancestor_wd == e->wd && (e->mask & (IN_CREATE | IN_MOVED_TO))) {
			watch_root(w, r);
			if (r->wd >= 0)
				scan_root(w, r, true);
		}
	}
	for (size_t i = 0; i < w->ndirs; i++) {
		struct dir_watch *d = &w->dirs[i];

		if (d->wd != e->wd)
			continue;
		if (e->mask & IN_IGNORED) {
			free(d->id);
			drop(&w->dirs, &w->ndirs, i, sizeof(*w->dirs));
		} else if (e->len && strcmp(e->name, d->r->rt->state_file) == 0) {
			try_register(w, d->r, d->id, 0, false);
		}
		return;
	}
}

static void handle_inotify(struct sonde_container_watcher *w)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t len = read(w->inofd, buf, sizeof(buf));

		if (len <= 0)
			return;
		for (ssize_t off = 0; off < len;) {
			const struct inotify_event *e = (const void *)(buf + off);

			handle_inotify_event(w, e);
			off += (ssize_t)(sizeof(*e) + e->len);
		}
	}
}

void sonde_container_watcher_process(struct sonde_container_watcher *w)
{
	struct epoll_event evs[32];
	int n;

	if (!w || w->epfd < 0)
		return;
	/* runtime execs first: a new state directory needs the invocation that made it */
	if (w->gate)
		handle_gate(w);
	if (w->inofd >= 0)
		handle_inotify(w);
	n = epoll_wait(w->epfd, evs, 32, 0);
	for (int i = 0; i < n; i++)
		if (evs[i].data.u64 >> 32 == TAG_PIDFD)
			pid_exited(w, (int)(uint32_t)evs[i].data.u64);
	expire_pending(w);
	flush_unmarks(w);
}

/* ---- setup ---- */

static void start_fanotify(struct sonde_container_watcher *w)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int marked = 0, err;

	w->fanfd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE |
	                             FAN_UNLIMITED_MARKS,
	                         O_RDONLY | O_CLOEXEC | O_LARGEFILE);
	if (w->fanfd < 0) {
		sonde_warn("containers: fanotify unavailable (%s): containers that exit within a "
		           "moment of starting may be missed",
		           strerror(errno));
		return;
	}
	for (size_t i = 0; runtime_binaries[i]; i++)
		if (access(runtime_binaries[i], X_OK) == 0 &&
		    fanotify_mark(w->fanfd, FAN_MARK_ADD, FAN_OPEN_EXEC, AT_FDCWD, runtime_binaries[i]) == 0)
			marked++;
	sonde_debug("containers: watching %d runtime binaries", marked);
	err = exec_gate_start(w->fanfd, w->hold_timeout_ms, &w->gate);
	if (err) {
		sonde_warn("containers: cannot start the exec gate (%s): containers that exit within a "
		           "moment of starting may be missed",
		           strerror(-err));
		close(w->fanfd);
		w->fanfd = -1;
		return;
	}
	ev.data.u64 = TAG(TAG_GATE, 0);
	epoll_ctl(w->epfd, EPOLL_CTL_ADD, exec_gate_fd(w->gate), &ev);
}

int sonde_container_watcher_new(struct sonde_containers *set, const struct sonde_container_watch_opts *opts,
                                struct sonde_container_watcher **out)
{
	const char *runc_root = "/run/runc", *crun_root = "/run/crun", *proc_root = "/proc",
	           *containerd_root = "/run/containerd/runc";
	struct runtime_clients_opts co = {.sz = sizeof(co)};
	struct sonde_container_watcher *w;
	bool live = true;
	int hold_timeout_ms;
	struct stat st;

	if (opts && opts->sz >= sizeof(*opts)) {
		runc_root = opts->runc_root ? opts->runc_root : runc_root;
		crun_root = opts->crun_root ? opts->crun_root : crun_root;
		proc_root = opts->proc_root ? opts->proc_root : proc_root;
		containerd_root = opts->containerd_runc_root ? opts->containerd_runc_root : containerd_root;
		co.containerd_socket = opts->containerd_socket;
		live = !opts->no_live;
	}
	hold_timeout_ms = opts && opts->sz >= sizeof(*opts) && opts->hold_timeout_ms > 0
	                      ? opts->hold_timeout_ms
	                      : EXEC_GATE_TIMEOUT_MS;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->set = set;
	w->hold_timeout_ms = hold_timeout_ms;
	w->epfd = w->inofd = w->fanfd = -1;
	w->proc_root = strdup(proc_root);
	w->clients = runtime_clients_new(&co);
	if (!w->proc_root || !w->clients || !add_root(w, &runtime_runc, runc_root, false) ||
	    !add_root(w, &runtime_crun, crun_root, false) ||
	    !add_root(w, &runtime_containerd, containerd_root, true)) {
		sonde_container_watcher_free(w);
		return -ENOMEM;
	}
	{
		char self[PATH_MAX];
		snprintf(self, sizeof(self), "%s/self/ns/mnt", proc_root);
		w->self_mntns = stat(self, &st) == 0 ? (uint64_t)st.st_ino : 0;
	}
	if (live) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG(TAG_INOTIFY, 0)};

		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (w->epfd < 0) {
			int err = -errno;
			sonde_container_watcher_free(w);
			return err;
		}
		w->sub_id = sonde_containers_subscribe(set, on_set_change, w);
		/* watch before scanning, so nothing falls between the two */
		start_fanotify(w);
		w->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (w->inofd < 0)
			sonde_warn("containers: inotify unavailable (%s): new containers will not be seen",
			           strerror(errno));
		else
			epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->inofd, &ev);
		/* containers added before the watcher existed need their pidfds too */
		for (size_t i = 0; i < sonde_containers_count(set); i++)
			watch_pid(w, sonde_containers_at(set, i));
	}
	rescan(w);
	*out = w;
	return 0;
}

void sonde_container_watcher_free(struct sonde_container_watcher *w)
{
	if (!w)
		return;
	if (w->sub_id > 0)
		sonde_containers_unsubscribe(w->set, w->sub_id);
	while (w->npend)
		pending_free(w, w->npend - 1);
	flush_unmarks(w);
	free(w->unmark);
	for (size_t i = 0; i < w->npids; i++) {
		close(w->pids[i].fd);
		free(w->pids[i].id);
	}
	for (size_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i].id);
	for (size_t i = 0; i < w->nroots; i++) {
		free(w->roots[i]->root);
		free(w->roots[i]);
	}
	free(w->roots);
	runtime_clients_free(w->clients);
	exec_gate_stop(w->gate);
	if (w->fanfd >= 0)
		close(w->fanfd);
	if (w->inofd >= 0)
		close(w->inofd);
	if (w->epfd >= 0)
		close(w->epfd);
	free(w->pids);
	free(w->dirs);
	free(w->pend);
	free(w->proc_root);
	free(w);
}

int sonde_container_watcher_fd(const struct sonde_container_watcher *w)
{
	return w ? w->epfd : -1;
}
