/* Leveled logging: the run bound to this thread first, else the process-wide
 * sink, else stderr (see sonde/log.h). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sonde/log.h>

static atomic_int global_level = SONDE_LOG_WARN;
/* fn and arg change together: read under the lock (only when a message is
 * really written, never for a dropped one) */
static pthread_mutex_t sink_lock = PTHREAD_MUTEX_INITIALIZER;
static sonde_log_fn sink_fn;
static void *sink_arg;
static __thread const struct sonde_log_target *bound;

void sonde_log_set_level(enum sonde_log_level level)
{
	atomic_store_explicit(&global_level, (int)level, memory_order_relaxed);
}

enum sonde_log_level sonde_log_get_level(void)
{
	if (bound)
		return bound->level;
	return (enum sonde_log_level)atomic_load_explicit(&global_level, memory_order_relaxed);
}

void sonde_log_set_sink(sonde_log_fn fn, void *arg)
{
	pthread_mutex_lock(&sink_lock);
	sink_fn = fn;
	sink_arg = arg;
	pthread_mutex_unlock(&sink_lock);
}

const struct sonde_log_target *sonde_log_bind(const struct sonde_log_target *target)
{
	const struct sonde_log_target *prev = bound;

	bound = target;
	return prev;
}

static const char *level_name(enum sonde_log_level level)
{
	switch (level) {
	case SONDE_LOG_ERROR:
		return "error";
	case SONDE_LOG_WARN:
		return "warning";
	case SONDE_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void sonde_vlog(enum sonde_log_level level, const char *fmt, va_list ap)
{
	const struct sonde_log_target *t = bound;
	sonde_log_fn fn;
	void *arg;
	char msg[1024];

	if (level > sonde_log_get_level())
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (t && t->fn) {
		t->fn(level, msg, t->arg);
		return;
	}
	pthread_mutex_lock(&sink_lock);
	fn = sink_fn;
	arg = sink_arg;
	pthread_mutex_unlock(&sink_lock);
	if (fn) {
		fn(level, msg, arg);
		return;
	}
	fprintf(stderr, "sonde: %s: %s\n", level_name(level), msg);
}

void sonde_log(enum sonde_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sonde_vlog(level, fmt, ap);
	va_end(ap);
}
