/* Leveled logging with a replaceable sink; stderr by default. */
#include <stdio.h>
#include <sonde/log.h>

static enum sonde_log_level current_level = SONDE_LOG_WARN;
static sonde_log_fn sink_fn;
static void *sink_arg;

void sonde_log_set_level(enum sonde_log_level level)
{
	current_level = level;
}

enum sonde_log_level sonde_log_get_level(void)
{
	return current_level;
}

void sonde_log_set_sink(sonde_log_fn fn, void *arg)
{
	sink_fn = fn;
	sink_arg = arg;
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
	char msg[1024];

	if (level > current_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sink_fn) {
		sink_fn(level, msg, sink_arg);
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
