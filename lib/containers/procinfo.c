/* What /proc tells about a container's process: namespaces, cgroup, parent,
 * command line. A process may exit at any moment: every reader returns
 * -ESRCH (or another negative errno) and never blocks. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "containers/internal.h"
#include "util/file.h"

static int gone(void)
{
	return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
}

int proc_ns_inode(const char *proc_root, uint32_t pid, const char *ns, uint64_t *ino)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%u/ns/%s", proc_root, pid, ns);
	if (stat(path, &st))
		return gone();
	*ino = (uint64_t)st.st_ino;
	return 0;
}

int proc_ppid(const char *proc_root, uint32_t pid, uint32_t *ppid)
{
	char path[PATH_MAX], *text, *p;
	int err;

	snprintf(path, sizeof(path), "%s/%u/status", proc_root, pid);
	err = util_read_file(path, 1 << 16, &text, NULL);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	p = strstr(text, "\nPPid:");
	err = p && sscanf(p + 6, "%u", ppid) == 1 ? 0 : -EINVAL;
	free(text);
	return err;
}

int proc_cgroup_path(const char *proc_root, uint32_t pid, char **path)
{
	char file[PATH_MAX], *text, *line, *save = NULL, *v2 = NULL, *sysd = NULL;
	int err;

	snprintf(file, sizeof(file), "%s/%u/cgroup", proc_root, pid);
	err = util_read_file(file, 1 << 20, &text, NULL);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "0::", 3) == 0)
			v2 = line + 3;
		else if (strstr(line, ":name=systemd:"))
			sysd = strstr(line, ":name=systemd:") + 14;
	}
	if (!v2)
		v2 = sysd;
	*path = v2 ? strdup(v2) : NULL;
	free(text);
	if (!v2)
		return -ENOENT;
	return *path ? 0 : -ENOMEM;
}

uint64_t cgroup_v2_id(const char *path)
{
	/* hybrid hosts mount cgroup2 at unified/, pure v2 hosts at the top */
	static const char *const mounts[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup", NULL};
	char dir[PATH_MAX];
	struct stat st;

	for (size_t i = 0; mounts[i]; i++) {
		char probe[PATH_MAX];

		snprintf(probe, sizeof(probe), "%s/cgroup.controllers", mounts[i]);
		if (access(probe, F_OK))
			continue;
		snprintf(dir, sizeof(dir), "%s%s", mounts[i], path);
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
			return (uint64_t)st.st_ino;
		return 0;
	}
	return 0;
}

int proc_cmdline(const char *proc_root, uint32_t pid, char **args, size_t *len)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/%u/cmdline", proc_root, pid);
	err = util_read_file(path, 1 << 20, args, len);
	return err == -ENOENT ? -ESRCH : err;
}

int proc_cwd(const char *proc_root, uint32_t pid, char **cwd)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/cwd", proc_root, pid);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return gone();
	target[n] = 0;
	*cwd = strdup(target);
	return *cwd ? 0 : -ENOMEM;
}

bool proc_runs_runtime(const char *proc_root, uint32_t pid)
{
	char path[PATH_MAX], *comm;
	bool runtime;
	int err;

	/* the exe link does not tell: runc's init runs a sealed memfd copy of
	 * runc, which reads as "/" once the container's root is pivoted */
	snprintf(path, sizeof(path), "%s/%u/comm", proc_root, pid);
	err = util_read_file(path, 64, &comm, NULL);
	if (err)
		return false; /* gone: it ran whatever it was meant to */
	comm[strcspn(comm, "\n")] = 0;
	/* runc's init is "runc:[2:INIT]"; crun's init keeps crun's name */
	runtime = strncmp(comm, "runc:[", 6) == 0 || strcmp(comm, "runc") == 0 || strcmp(comm, "crun") == 0;
	free(comm);
	return runtime;
}

int proc_start_boot_ns(const char *proc_root, uint32_t pid, int64_t *ns)
{
	char path[PATH_MAX], *text, *p;
	unsigned long long ticks;
	int err;

	snprintf(path, sizeof(path), "%s/%u/stat", proc_root, pid);
	err = util_read_file(path, 1 << 16, &text, NULL);
	if (err)
		return err == -ENOENT ? -ESRCH : err;
	/* field 22 (starttime, clock ticks since boot) counts from after the ")" of comm */
	p = strrchr(text, ')');
	err = p && sscanf(p + 1,
	                  " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
	                  &ticks) == 1
	          ? 0
	          : -EINVAL;
	free(text);
	if (err)
		return err;
	*ns = (int64_t)(ticks * 1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
	return 0;
}

int proc_start_time_ns(const char *proc_root, uint32_t pid, int64_t *ns)
{
	struct timespec real, boot;
	int64_t since_boot;
	int err = proc_start_boot_ns(proc_root, pid, &since_boot);

	if (err)
		return err;
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	*ns =
	    ((int64_t)real.tv_sec - boot.tv_sec) * 1000000000LL + (real.tv_nsec - boot.tv_nsec) + since_boot;
	return 0;
}
