/* Shared by the fuzz targets: libFuzzer's input as a NUL-terminated string
 * (the parsers under test take C strings), the logger silenced, and a check
 * for the targets' oracles that aborts (libFuzzer saves the input) whatever
 * NDEBUG says. */
#ifndef SONDE_FUZZ_INPUT_H
#define SONDE_FUZZ_INPUT_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#define FUZZ_CHECK(cond)                                                                                     \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: fuzz oracle failed: %s\n", __FILE__, __LINE__, #cond);       \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

static inline char *fuzz_cstring(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, data, len);
		s[len] = 0;
	}
	return s;
}

static inline void fuzz_quiet(enum sonde_log_level level, const char *msg, void *arg)
{
	(void)level;
	(void)msg;
	(void)arg;
}

static inline void fuzz_init_once(void)
{
	static int done;

	if (!done) {
		done = 1;
		sonde_log_set_sink(fuzz_quiet, NULL);
		setenv("SONDE_CACHE_DIR", "", 1); /* no file system side effects */
	}
}

#endif
