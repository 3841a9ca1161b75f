/* Nanosecond durations → Go's time.Duration strings. */
#ifndef SONDE_FORMAT_DURATION_H
#define SONDE_FORMAT_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* "-2562047h47m16.854775808s" is the longest. */
#define FMT_DURATION_MAX 32

/* time.Duration(ns).String(): "0s", "1ns", "1.5µs", "2.000001ms", "1h2m3.5s",
 * negative values with a leading '-'. Returns the length. */
size_t fmt_go_duration(int64_t ns, char *buf, size_t cap);
/* The gadget_duration rendering: under 1µs "Nns" (also every negative value),
 * under 1ms "%.2fµs", under 1s "%.2fms", else the Go duration string. A u64
 * source is read as int64, as upstream converts it. Returns the length. */
size_t fmt_duration(int64_t ns, char *buf, size_t cap);

#endif
