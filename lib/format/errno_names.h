/* errno numbers → names, as Go's x/sys/unix ErrnoName gives them on
 * linux/amd64 (and arm64: the table is the same). */
#ifndef SONDE_FORMAT_ERRNO_NAMES_H
#define SONDE_FORMAT_ERRNO_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* Longest rendering: "error#4294967295". */
#define FMT_ERRNO_MAX 24

/* "ENOENT"; NULL for 0 and numbers without a name. */
const char *errno_name(uint32_t n);
/* The gadget_errno rendering: the name, "" for 0, "error#N" when unknown.
 * Writes into buf (NUL-terminated, truncated to cap) and returns the length. */
size_t fmt_errno(uint32_t n, char *buf, size_t cap);

#endif
