/* Named network namespaces for integration tests (see netns.h). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netns.h"
#include "testlib.h"

int test_netns_add(const char *name, uint64_t *ino)
{
	const char *add[] = {"ip", "netns", "add", name, NULL};
	const char *up[] = {"ip", "-n", name, "link", "set", "lo", "up", NULL};
	char path[300];
	struct stat st;

	test_netns_del(name);
	if (test_run_quiet(add) || test_run_quiet(up)) {
		fprintf(stderr, "cannot create network namespace %s (ip netns add / link set lo up)\n", name);
		return -1;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if (stat(path, &st)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	*ino = (uint64_t)st.st_ino;
	return 0;
}

void test_netns_del(const char *name)
{
	const char *del[] = {"ip", "netns", "del", name, NULL};

	test_run_quiet(del);
}

int test_netns_enter(const char *name)
{
	char path[300];
	int fd, rc;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = setns(fd, CLONE_NEWNET);
	if (rc)
		fprintf(stderr, "cannot enter %s: %s\n", path, strerror(errno));
	close(fd);
	return rc ? -1 : 0;
}

int test_netns_exec(const char *name, const char *const *argv)
{
	const char *full[32] = {"ip", "netns", "exec", name};
	size_t n = 4;

	for (size_t i = 0; argv[i] && n < 31; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	return test_run_quiet(full);
}

int test_ip(const char *const *args)
{
	const char *argv[32] = {"ip"};
	size_t n = 1;

	for (; *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	return test_run_quiet(argv);
}

int test_ip_steps(const char *const (*steps)[TEST_IP_STEP_ARGS], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (test_ip(steps[i])) {
			fprintf(stderr, "ip %s %s %s failed\n", steps[i][0], steps[i][1], steps[i][2]);
			return -1;
		}
	}
	return 0;
}
