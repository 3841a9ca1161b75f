/* What the commands need from the kernel's permission checks, said before
 * anything fails halfway with a bare "Operation not permitted". */
#ifndef SONDE_CMD_PRIVILEGES_H
#define SONDE_CMD_PRIVILEGES_H

#include <stdbool.h>

/* Whether the process may load and attach eBPF programs: root, or CAP_BPF
 * with CAP_PERFMON. If not, prints one error line saying what is needed for
 * `what` ("sonde run trace_open") and returns false. */
bool cli_can_trace(const char *what);
/* Whether the process may read the container runtimes' state (root, or
 * CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE); if not, one error line and false. */
bool cli_can_read_containers(const char *what);

#endif
