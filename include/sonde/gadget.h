/* Gadget images and the gadget context that drives one run.
 *
 * A run: sonde_gadget_ctx_new → sonde_gadget_instantiate (operators declare
 * DataSources, fields and params) → the caller sets params →
 * sonde_gadget_run (pre-start, start, event loop until done, timeout or
 * cancel, stop in reverse, post-stop) → sonde_gadget_ctx_free (close).
 * "Get gadget info" is instantiate + free.
 *
 * Several contexts may run at once in one process, each driven by its own
 * thread (the one that calls instantiate, run and free); they share no
 * mutable state (operators are registered before the first context exists,
 * containers come from one shared, locked collection). From another thread,
 * only sonde_gadget_cancel and sonde_gadget_is_running may be called.
 */
#ifndef SONDE_GADGET_H
#define SONDE_GADGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sonde/config.h>
#include <sonde/datasource.h>
#include <sonde/log.h>
#include <sonde/params.h>

#define SONDE_MEDIA_TYPE_EBPF   "application/vnd.gadget.ebpf.program.v1+binary"
#define SONDE_MEDIA_TYPE_WASM   "application/vnd.gadget.wasm.program.v1+binary"
#define SONDE_MEDIA_TYPE_BTFGEN "application/vnd.gadget.btfgen.v1+binary"
#define SONDE_MEDIA_TYPE_CONFIG "application/vnd.gadget.config.v1+yaml"

struct sonde_layer {
	const char *media_type;
	const void *data;
	size_t len;
};

/* A gadget as the engine sees it: metadata plus layers (memory owned by the caller). */
struct sonde_gadget_image {
	const char *name;
	const char *config_yaml; /* gadget.yaml, may be NULL */
	size_t config_len;
	const struct sonde_layer *layers;
	size_t nlayers;
};

/* Gadgets compiled into the binary. */
size_t sonde_builtin_gadget_count(void);
const struct sonde_gadget_image *sonde_builtin_gadget_at(size_t i);
const struct sonde_gadget_image *sonde_builtin_gadget(const char *name);

struct sonde_gadget_ctx;

struct sonde_gadget_ctx *sonde_gadget_ctx_new(const struct sonde_gadget_image *image);
/* Stops if still running, then closes every operator instance. NULL is a no-op. */
void sonde_gadget_ctx_free(struct sonde_gadget_ctx *ctx);

/* This run's own log callback and level (sonde/log.h): bound to the thread
 * that instantiates, runs and frees the context, so every message of the run
 * reaches `fn` (NULL: the process-wide sink, at this run's level). Without
 * it, the run logs like any code outside a run. Set before instantiate. */
void sonde_gadget_set_log(struct sonde_gadget_ctx *ctx, sonde_log_fn fn, void *arg,
                          enum sonde_log_level level);
/* The run's log target, NULL if it has none of its own. */
const struct sonde_log_target *sonde_gadget_log(const struct sonde_gadget_ctx *ctx);

/* Parses gadget.yaml and instantiates image operators (one per layer), then
 * data operators in (priority, name) order. */
int sonde_gadget_instantiate(struct sonde_gadget_ctx *ctx);
/* Runs the lifecycle once (a second call gives -EALREADY).
 * timeout_ns 0 = until done or cancelled. */
int sonde_gadget_run(struct sonde_gadget_ctx *ctx, int64_t timeout_ns);
/* Ends the run loop: sonde_gadget_run then stops the operators and returns.
 * Async-signal-safe, from any thread: a signal handler or a client cancels,
 * an operator calls it when the gadget has nothing more to produce (e.g. one
 * snapshot taken). */
void sonde_gadget_cancel(struct sonde_gadget_ctx *ctx);
bool sonde_gadget_is_running(const struct sonde_gadget_ctx *ctx);

const struct sonde_gadget_image *sonde_gadget_image(const struct sonde_gadget_ctx *ctx);
const char *sonde_gadget_name(const struct sonde_gadget_ctx *ctx);
struct sonde_config *sonde_gadget_config(struct sonde_gadget_ctx *ctx);
/* Instance params of every operator of this run (full names operator.<op>.<key>). */
struct sonde_params *sonde_gadget_params(struct sonde_gadget_ctx *ctx);

/* DataSources owned by the context. Names are unique. */
struct sonde_ds *sonde_gadget_add_ds(struct sonde_gadget_ctx *ctx, const char *name, enum sonde_ds_type type);
size_t sonde_gadget_nds(const struct sonde_gadget_ctx *ctx);
struct sonde_ds *sonde_gadget_ds_at(const struct sonde_gadget_ctx *ctx, size_t i);
struct sonde_ds *sonde_gadget_ds(const struct sonde_gadget_ctx *ctx, const char *name);

/* Variables shared between operators (not owned: the setter keeps them alive). */
int sonde_gadget_set_var(struct sonde_gadget_ctx *ctx, const char *name, void *value);
void *sonde_gadget_var(const struct sonde_gadget_ctx *ctx, const char *name);

/* Event loop of the run (one thread, epoll). Callbacks run during the run phase. */
typedef void (*sonde_fd_fn)(struct sonde_gadget_ctx *ctx, int fd, void *arg);
typedef void (*sonde_timer_fn)(struct sonde_gadget_ctx *ctx, void *arg);
typedef void (*sonde_idle_fn)(struct sonde_gadget_ctx *ctx, void *arg);
int sonde_gadget_watch_fd(struct sonde_gadget_ctx *ctx, int fd, sonde_fd_fn fn, void *arg);
int sonde_gadget_unwatch_fd(struct sonde_gadget_ctx *ctx, int fd);
/* Periodic timer (interval_ns > 0); first tick after first_ns (0 = interval). Returns an id. */
int sonde_gadget_add_timer(struct sonde_gadget_ctx *ctx, int64_t first_ns, int64_t interval_ns,
                           sonde_timer_fn fn, void *arg);
int sonde_gadget_remove_timer(struct sonde_gadget_ctx *ctx, int id);
/* Called after each batch of loop callbacks, e.g. for sinks to flush output. */
int sonde_gadget_on_idle(struct sonde_gadget_ctx *ctx, sonde_idle_fn fn, void *arg);

#endif
