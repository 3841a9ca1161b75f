/* One line of /proc/<pid>/maps (proc_pid_maps(5)):
 *   "7f1c2a000000-7f1c2a028000 r-xp 00028000 08:01 1835 /usr/lib/libc.so.6"
 * Parsed in place, without allocating; the path is what follows the inode
 * (empty for anonymous memory, "[vdso]" and the like for special mappings,
 * " (deleted)" appended by the kernel for a removed file). */
#ifndef SONDE_HOST_PROC_MAPS_H
#define SONDE_HOST_PROC_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proc_map {
	uint64_t start, end; /* [start, end) */
	uint64_t offset;     /* file offset of start */
	uint32_t major, minor;
	uint64_t inode;
	bool exec;
	const char *path; /* into the line; "" if none */
	size_t path_len;
};

/* 0, or -EINVAL for a line that is not a maps line. `len` excludes the
 * newline. */
int proc_maps_parse_line(const char *line, size_t len, struct proc_map *out);

#endif
