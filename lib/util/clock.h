/* Monotonic time for deadlines, ages and durations. */
#ifndef SONDE_UTIL_CLOCK_H
#define SONDE_UTIL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds: never jumps with wall-clock changes. */
int64_t util_now_ns(void);

#endif
