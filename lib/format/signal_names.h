/* Signal numbers → names, as Go's x/sys/unix SignalName gives them on
 * linux/amd64. */
#ifndef SONDE_FORMAT_SIGNAL_NAMES_H
#define SONDE_FORMAT_SIGNAL_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Longest rendering: "signal#4294967295". */
#define FMT_SIGNAL_MAX 24

/* "SIGKILL"; NULL for numbers without a name (0, real-time signals). */
const char *signal_name(uint32_t n);
/* The gadget_signal rendering: the name, else "signal#N". Returns the length. */
size_t fmt_signal(uint32_t n, char *buf, size_t cap);

#endif
