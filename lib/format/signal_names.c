/* Standard signals of Linux x86_64 (asm/signal.h). Real-time signals
 * (32..64) have no name in Go's table, so they render as signal#N. */
#include "format/signal_names.h"

#include "format/fmtbuf.h"

static const char *const names[] = {
    [1] = "SIGHUP",     [2] = "SIGINT",   [3] = "SIGQUIT",   [4] = "SIGILL",   [5] = "SIGTRAP",
    [6] = "SIGABRT",    [7] = "SIGBUS",   [8] = "SIGFPE",    [9] = "SIGKILL",  [10] = "SIGUSR1",
    [11] = "SIGSEGV",   [12] = "SIGUSR2", [13] = "SIGPIPE",  [14] = "SIGALRM", [15] = "SIGTERM",
    [16] = "SIGSTKFLT", [17] = "SIGCHLD", [18] = "SIGCONT",  [19] = "SIGSTOP", [20] = "SIGTSTP",
    [21] = "SIGTTIN",   [22] = "SIGTTOU", [23] = "SIGURG",   [24] = "SIGXCPU", [25] = "SIGXFSZ",
    [26] = "SIGVTALRM", [27] = "SIGPROF", [28] = "SIGWINCH", [29] = "SIGIO",   [30] = "SIGPWR",
    [31] = "SIGSYS",
};

const char *signal_name(uint32_t n)
{
	return n < sizeof(names) / sizeof(names[0]) ? names[n] : NULL;
}

size_t fmt_signal(uint32_t n, char *buf, size_t cap)
{
	struct fmtbuf b = fmtbuf_init(buf, cap);
	const char *name = signal_name(n);

	if (name) {
		fmtbuf_puts(&b, name);
	} else {
		fmtbuf_puts(&b, "signal#");
		fmtbuf_uint(&b, n, 0, '0');
	}
	return b.len;
}
