/* Capability checks of the commands (see privileges.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "privileges.h"

/* Numbers from linux/capability.h (CAP_BPF and CAP_PERFMON: 5.8). */
enum {
	CAP_NUM_DAC_READ_SEARCH = 2,
	CAP_NUM_SYS_PTRACE = 19,
	CAP_NUM_SYS_ADMIN = 21,
	CAP_NUM_PERFMON = 38,
	CAP_NUM_BPF = 39,
};

/* The effective capability set, from /proc/self/status (no libcap needed).
 * Unknown (out of fds, no /proc): every bit set, so that the kernel's own
 * error, not a guess, reaches the user. */
static uint64_t effective_caps(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t caps = UINT64_MAX;

	if (!f)
		return UINT64_MAX;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static bool has(uint64_t caps, int cap)
{
	return caps & (UINT64_C(1) << cap);
}

bool cli_can_trace(const char *what)
{
	uint64_t caps = effective_caps();

	if (has(caps, CAP_NUM_SYS_ADMIN) || (has(caps, CAP_NUM_BPF) && has(caps, CAP_NUM_PERFMON)))
		return true;
	cli_error("%s loads eBPF programs: run it as root (or with CAP_BPF and CAP_PERFMON; "
	          "CAP_SYS_ADMIN too to follow containers)%s",
	          what, geteuid() == 0 ? "; this root process lacks those capabilities" : "");
	return false;
}

bool cli_can_read_containers(const char *what)
{
	uint64_t caps = effective_caps();

	if (has(caps, CAP_NUM_SYS_ADMIN) ||
	    (has(caps, CAP_NUM_DAC_READ_SEARCH) && has(caps, CAP_NUM_SYS_PTRACE)))
		return true;
	cli_error("%s reads the container runtimes' state and other processes' /proc: run it as root "
	          "(or with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE)",
	          what);
	return false;
}
