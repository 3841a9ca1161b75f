/* Clocks in nanoseconds: monotonic time for deadlines, ages and durations;
 * any clock (boot time of kernel timestamps, wall clock) by id. */
#ifndef SONDE_UTIL_CLOCK_H
#define SONDE_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds: never jumps with wall-clock changes. */
int64_t util_now_ns(void);
/* clock_gettime(id) in nanoseconds. */
int64_t util_clock_ns(clockid_t id);

#endif
