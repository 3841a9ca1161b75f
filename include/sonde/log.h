/* Logging: leveled messages, routed to the run they belong to.
 *
 * Each gadget run has its own log callback and level
 * (sonde_gadget_set_log in gadget.h): several runs in one process, each on
 * its own thread, send their messages to their own clients. The many
 * sonde_err()/sonde_warn() call sites do not pass a context: instead a run
 * binds its target to the thread that works for it (thread-local), for the
 * duration of sonde_gadget_instantiate, sonde_gadget_run (so the whole event
 * loop and every operator hook) and sonde_gadget_ctx_free. A thread that works
 * for a run outside those calls (e.g. the shared container watcher calling a
 * run's callback) binds it itself with sonde_log_bind, and restores the
 * previous binding after.
 *
 * A message on a thread with no run bound — start-up, the shared container
 * watcher's own messages — goes to the process-wide sink
 * (sonde_log_set_sink) at the process-wide level; without a sink, to stderr
 * as "sonde: <level>: <message>". A run without a callback of its own writes
 * to the process-wide sink too, at its own level. libbpf's messages follow
 * the same rule (they are printed on the thread that called libbpf). */
#ifndef SONDE_LOG_H
#define SONDE_LOG_H

#include <stdarg.h>

enum sonde_log_level {
	SONDE_LOG_ERROR = 0,
	SONDE_LOG_WARN = 1,
	SONDE_LOG_INFO = 2,
	SONDE_LOG_DEBUG = 3,
};

/* Called on the thread that logs, possibly several threads at once. */
typedef void (*sonde_log_fn)(enum sonde_log_level level, const char *msg, void *arg);

/* Where a run's messages go: fn NULL = the process-wide sink (or stderr). */
struct sonde_log_target {
	sonde_log_fn fn;
	void *arg;
	enum sonde_log_level level; /* messages above it are dropped */
};

/* Process-wide level and sink, for messages outside any run. Messages above
 * `level` are dropped. Default: SONDE_LOG_WARN to stderr. Thread-safe. */
void sonde_log_set_level(enum sonde_log_level level);
/* The level in force on this thread: the bound run's, else the process-wide one. */
enum sonde_log_level sonde_log_get_level(void);
/* Replace the process-wide sink (NULL restores stderr). */
void sonde_log_set_sink(sonde_log_fn fn, void *arg);

/* Binds `target` (NULL: none) to the calling thread; returns the previous
 * binding, to give back to sonde_log_bind when done. The target must stay
 * alive while bound. */
const struct sonde_log_target *sonde_log_bind(const struct sonde_log_target *target);

void sonde_log(enum sonde_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sonde_vlog(enum sonde_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define sonde_err(...)   sonde_log(SONDE_LOG_ERROR, __VA_ARGS__)
#define sonde_warn(...)  sonde_log(SONDE_LOG_WARN, __VA_ARGS__)
#define sonde_info(...)  sonde_log(SONDE_LOG_INFO, __VA_ARGS__)
#define sonde_debug(...) sonde_log(SONDE_LOG_DEBUG, __VA_ARGS__)

#endif
