/* Logging: leveled messages routed through a replaceable sink. */
#ifndef SONDE_LOG_H
#define SONDE_LOG_H

#include <stdarg.h>

enum sonde_log_level {
	SONDE_LOG_ERROR = 0,
	SONDE_LOG_WARN = 1,
	SONDE_LOG_INFO = 2,
	SONDE_LOG_DEBUG = 3,
};

typedef void (*sonde_log_fn)(enum sonde_log_level level, const char *msg, void *arg);

/* Messages above `level` are dropped. Default: SONDE_LOG_WARN to stderr. */
void sonde_log_set_level(enum sonde_log_level level);
enum sonde_log_level sonde_log_get_level(void);
/* Replace the sink (NULL restores stderr). */
void sonde_log_set_sink(sonde_log_fn fn, void *arg);

void sonde_log(enum sonde_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sonde_vlog(enum sonde_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define sonde_err(...)   sonde_log(SONDE_LOG_ERROR, __VA_ARGS__)
#define sonde_warn(...)  sonde_log(SONDE_LOG_WARN, __VA_ARGS__)
#define sonde_info(...)  sonde_log(SONDE_LOG_INFO, __VA_ARGS__)
#define sonde_debug(...) sonde_log(SONDE_LOG_DEBUG, __VA_ARGS__)

#endif
