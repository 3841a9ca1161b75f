/* How the command prints library messages: one prefixed line each, errors counted. */
#include <stdarg.h>
#include <stdio.h>

#include <sonde/log.h>

#include "cmd.h"

static unsigned errors;

static void sink(enum sonde_log_level level, const char *msg, void *arg)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};

	if (level == SONDE_LOG_ERROR)
		errors++;
	fprintf(stderr, "sonde: %s: %s\n", names[level], msg);
}

void cli_log_init(void)
{
	sonde_log_set_sink(sink, NULL);
}

unsigned cli_errors_logged(void)
{
	return errors;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sonde_vlog(SONDE_LOG_ERROR, fmt, ap);
	va_end(ap);
}
