#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/fd.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

/* Caps the one-by-one loop: RLIMIT_NOFILE may be 2^30 on some hosts. */
#define MAX_FD_LOOP (1u << 20)

void util_close_fds_except(int keep_a, int keep_b)
{
	int keep[2] = {keep_a < keep_b ? keep_a : keep_b, keep_a < keep_b ? keep_b : keep_a};
	unsigned int next = 0, max = 4096;
	struct rlimit rl;
	int err = 0;

	if (keep[0] == keep[1])
		keep[0] = -1;
	for (int i = 0; i < 2; i++) {
		if (keep[i] < 0)
			continue;
		if ((unsigned int)keep[i] > next)
			err |= (int)syscall(SYS_close_range, next, (unsigned int)keep[i] - 1, 0);
		next = (unsigned int)keep[i] + 1;
	}
	err |= (int)syscall(SYS_close_range, next, ~0U, 0);
	if (!err)
		return;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur < MAX_FD_LOOP ? (unsigned int)rl.rlim_cur : MAX_FD_LOOP;
	for (unsigned int fd = 0; fd < max; fd++)
		if ((int)fd != keep_a && (int)fd != keep_b)
			close((int)fd);
}
