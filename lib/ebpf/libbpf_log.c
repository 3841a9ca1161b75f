/* libbpf's messages: routed to the sonde log at debug level, and remembered
 * per thread so that an error can quote libbpf's (or the verifier's) reason
 * instead of a bare errno. libbpf has one process-wide print hook, so the
 * capture is thread-local: concurrent runs do not mix their reasons. libbpf
 * prints on the thread that called it, the run's own, so the messages reach
 * the log target that run bound to its thread, at its level (sonde/log.h). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sonde/log.h>

#include "internal.h"

#define REASON_MAX 320

struct capture {
	char reason[REASON_MAX];   /* last warning line, without "libbpf: " */
	char verifier[REASON_MAX]; /* last meaningful verifier log line */
	char prog[128];            /* program named in the last load failure */
	bool in_verifier_log;
};

static __thread struct capture cap;
static __thread char combined[2 * REASON_MAX + 32];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;

static void copy_line(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Verifier statistics say nothing about why a program was rejected. */
static bool boring_verifier_line(const char *s, size_t n)
{
	static const char *const prefixes[] = {"processed ", "verification time", "stack depth", NULL};

	if (n == 0)
		return true;
	for (size_t i = 0; prefixes[i]; i++)
		if (n >= strlen(prefixes[i]) && strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static void note_line(const char *s, size_t n)
{
	const char *q;

	if (n >= 8 && strncmp(s, "libbpf: ", 8) == 0) {
		s += 8;
		n -= 8;
	}
	if (memmem(s, n, "-- BEGIN PROG LOAD LOG --", 25)) {
		cap.in_verifier_log = true;
		cap.verifier[0] = '\0';
		return;
	}
	if (memmem(s, n, "-- END PROG LOAD LOG --", 23)) {
		cap.in_verifier_log = false;
		return;
	}
	if (cap.in_verifier_log) {
		if (!boring_verifier_line(s, n))
			copy_line(cap.verifier, sizeof(cap.verifier), s, n);
		return;
	}
	if (n == 0)
		return;
	/* "prog 'NAME': BPF program load failed: REASON" names the culprit. */
	if (n > 6 && strncmp(s, "prog '", 6) == 0 && (q = memchr(s + 6, '\'', n - 6)) &&
	    memmem(s, n, "load failed", 11)) {
		copy_line(cap.prog, sizeof(cap.prog), s + 6, (size_t)(q - (s + 6)));
		copy_line(cap.reason, sizeof(cap.reason), s, n);
		return;
	}
	/* Keep the first specific reason of a failing program load; libbpf's
	 * follow-up lines only repeat it or guess (the memlock hint is wrong
	 * on kernels that account BPF memory to cgroups). */
	if (cap.prog[0])
		return;
	copy_line(cap.reason, sizeof(cap.reason), s, n);
}

static void note_message(const char *msg)
{
	const char *s = msg;

	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		note_line(s, n);
		s += n + (nl ? 1 : 0);
	}
}

__attribute__((format(printf, 2, 0))) static int print_fn(enum libbpf_print_level level, const char *fmt,
                                                          va_list ap)
{
	char small[512];
	char *msg = NULL;
	va_list copy;
	int n;

	if (level != LIBBPF_WARN && sonde_log_get_level() < SONDE_LOG_DEBUG)
		return 0;
	va_copy(copy, ap);
	n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		return 0;
	/* Verifier logs are long and their tail carries the reason: format them whole. */
	if ((size_t)n >= sizeof(small) && level == LIBBPF_WARN) {
		if (vasprintf(&msg, fmt, ap) < 0)
			msg = NULL;
	}
	if (level == LIBBPF_WARN)
		note_message(msg ? msg : small);
	if (sonde_log_get_level() >= SONDE_LOG_DEBUG) {
		const char *text = msg ? msg : small;
		size_t len = strlen(text);

		while (len && text[len - 1] == '\n')
			len--;
		sonde_debug("%.*s", (int)len, text);
	}
	free(msg);
	return 0;
}

static void install(void)
{
	libbpf_set_print(print_fn);
}

void ebpf_libbpf_log_install(void)
{
	pthread_once(&install_once, install);
}

void ebpf_libbpf_log_reset(void)
{
	memset(&cap, 0, sizeof(cap));
}

const char *ebpf_libbpf_reason(void)
{
	if (cap.verifier[0] && cap.reason[0])
		snprintf(combined, sizeof(combined), "%s (verifier: %s)", cap.reason, cap.verifier);
	else if (cap.verifier[0])
		snprintf(combined, sizeof(combined), "verifier: %s", cap.verifier);
	else
		snprintf(combined, sizeof(combined), "%s", cap.reason);
	return combined;
}

const char *ebpf_libbpf_verifier(void)
{
	return cap.verifier;
}

const char *ebpf_libbpf_failed_prog(void)
{
	return cap.prog[0] ? cap.prog : NULL;
}
