/* File descriptors of a child before exec. */
#ifndef SONDE_UTIL_FD_H
#define SONDE_UTIL_FD_H

/* Closes every fd but keep_a and keep_b (-1: none). Async-signal-safe, for a
 * child of fork() in a threaded process: no allocation. close_range (5.9+)
 * where it exists, else one close per fd up to RLIMIT_NOFILE (5.8). */
void util_close_fds_except(int keep_a, int keep_b);

#endif
