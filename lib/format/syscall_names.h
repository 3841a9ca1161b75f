/* Syscall numbers of the host architecture (x86_64) → names. */
#ifndef SONDE_FORMAT_SYSCALL_NAMES_H
#define SONDE_FORMAT_SYSCALL_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* "SYS_" + the longest name (set_mempolicy_home_node) with room to spare. */
#define FMT_SYSCALL_MAX 48

/* "openat"; NULL for numbers without a syscall. */
const char *format_syscall_name(uint64_t n);
/* The gadget_syscall rendering: "SYS_OPENAT", or "SYS_UNKNOWN". Returns the length. */
size_t fmt_syscall(uint64_t n, char *buf, size_t cap);

#endif
