/* tracefs: tracepoint attachment reads event ids from it, and minimal hosts
 * (containers, VMs booted without systemd) often do not mount it. */
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>

#include <sonde/log.h>

#include "internal.h"

#define TRACEFS_PATH "/sys/kernel/tracing"
#ifndef TRACEFS_MAGIC
#define TRACEFS_MAGIC 0x74726163
#endif

int ebpf_tracefs_ensure(void)
{
	struct statfs st;

	if (statfs(TRACEFS_PATH, &st) == 0 && st.f_type == TRACEFS_MAGIC)
		return 0;
	if (mount("nodev", TRACEFS_PATH, "tracefs", 0, NULL) && errno != EBUSY) {
		int err = -errno;

		sonde_err("cannot mount tracefs on %s (needed to attach tracepoints): %s", TRACEFS_PATH,
		          strerror(errno));
		return err;
	}
	sonde_debug("ebpf: mounted tracefs on %s", TRACEFS_PATH);
	return 0;
}
