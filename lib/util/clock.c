#include <time.h>

#include "util/clock.h"

int64_t util_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t util_now_ns(void)
{
	return util_clock_ns(CLOCK_MONOTONIC);
}
