/* The exec gate: a small child process that owns the answers to the
 * watcher's fanotify permission events, so that a held exec is released
 * within a bounded time whatever the sonde process is doing — blocked on a
 * full stdout, busy with a burst of events, or stopped with SIGSTOP.
 *
 * The child reads the fanotify group's events and forwards each one to the
 * watcher as a message. A permission event is answered "allow" when the
 * watcher says it is done with it (it registered the container), or when the
 * hold timeout passes, whichever comes first; the watcher is then told the
 * hold timed out, so it can say which container may have lost events. The
 * child never denies anything, and it exits when the watcher closes its end
 * (closing the group allows whatever is still pending). */
#ifndef SONDE_CONTAINERS_EXEC_GATE_H
#define SONDE_CONTAINERS_EXEC_GATE_H

#include <stdint.h>
#include <sys/types.h>

/* The default of how long a container's first exec may wait for its
 * registration: what Sonde can add to a container's start at worst
 * (documented in the README). A registration reads a few state files (well
 * under a millisecond); a gadget with uprobes also attaches them to the
 * container's libraries first (10-20 ms for trace_malloc on an idle host,
 * ten times that on a host with twice as many runnable tasks as CPUs). */
#define EXEC_GATE_TIMEOUT_MS 50

enum exec_gate_kind {
	EXEC_GATE_HELD = 1, /* a permission event: answer with exec_gate_release */
	EXEC_GATE_SEEN,     /* a notification (a runtime binary was executed) */
	EXEC_GATE_TIMED_OUT /* the held exec `seq` was let go without our answer */
};

struct exec_gate_msg {
	uint32_t kind;
	uint32_t pid;
	uint64_t seq;
	uint64_t mask;
	uint64_t dev; /* the executed file, for HELD */
	uint64_t ino;
};

struct exec_gate;

/* Forks the gate over fanotify group `fanfd` (which the caller keeps for its
 * marks). The gate dies with the thread that calls this (PR_SET_PDEATHSIG
 * follows the forking thread): call it from a thread that lives as long as
 * the gate. 0 or a negative errno. */
int exec_gate_start(int fanfd, int timeout_ms, struct exec_gate **out);
/* Stops the child (everything it still holds is allowed) and frees. */
void exec_gate_stop(struct exec_gate *g);
/* Readable when messages wait. */
int exec_gate_fd(const struct exec_gate *g);
/* The next message: 0, -EAGAIN when none waits, -EPIPE once the child is
 * gone (what it held stays pending until the caller closes the group). */
int exec_gate_next(struct exec_gate *g, struct exec_gate_msg *msg);
/* Lets the held exec `seq` go on. */
void exec_gate_release(struct exec_gate *g, uint64_t seq);
pid_t exec_gate_pid(const struct exec_gate *g);

#endif
