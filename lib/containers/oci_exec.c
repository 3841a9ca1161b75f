/* The first program an OCI bundle runs, as a host path: config.json's
 * process.args[0], searched in the process's PATH inside root.path, with
 * symlinks resolved relative to the rootfs (as the container will see them).
 *
 * The watcher puts an exec permission mark on that file: the container's
 * init execs it once it is inside its namespaces, which is the moment to
 * register the container before it does anything else. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "containers/internal.h"
#include "util/file.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define MAX_LINKS    40

/* Resolves the absolute in-container path `cpath` under `rootfs`. */
static int resolve_in_rootfs(const char *rootfs, const char *cpath, char *out, size_t outlen)
{
	char cur[PATH_MAX];

	snprintf(cur, sizeof(cur), "%s", cpath);
	for (int hops = 0; hops < MAX_LINKS; hops++) {
		char host[PATH_MAX], target[PATH_MAX];
		struct stat st;
		ssize_t n;

		if ((size_t)snprintf(host, sizeof(host), "%s%s", rootfs, cur) >= sizeof(host))
			return -ENAMETOOLONG;
		if (lstat(host, &st))
			return -errno;
		if (!S_ISLNK(st.st_mode)) {
			if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
				return -EACCES;
			snprintf(out, outlen, "%s", host);
			return 0;
		}
		n = readlink(host, target, sizeof(target) - 1);
		if (n < 0)
			return -errno;
		target[n] = 0;
		if (target[0] == '/') {
			snprintf(cur, sizeof(cur), "%s", target);
		} else {
			char *slash = strrchr(cur, '/');
			char dir[PATH_MAX];

			snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - cur) : 0, cur);
			if ((size_t)snprintf(cur, sizeof(cur), "%s/%s", dir, target) >= sizeof(cur))
				return -ENAMETOOLONG;
		}
	}
	return -ELOOP;
}

static const char *env_path(json_t *env)
{
	size_t i;
	json_t *v;

	json_array_foreach(env, i, v)
	{
		const char *s = json_string_value(v);
		if (s && strncmp(s, "PATH=", 5) == 0)
			return s + 5;
	}
	return DEFAULT_PATH;
}

int oci_bundle_exec_path(const char *bundle, char **path)
{
	char cfg[PATH_MAX], rootfs[PATH_MAX], found[PATH_MAX], *text;
	json_t *root = NULL, *process;
	const char *arg0, *rootpath, *cwd;
	size_t len;
	int err;

	snprintf(cfg, sizeof(cfg), "%s/config.json", bundle);
	err = util_read_file(cfg, 16u << 20, &text, &len);
	if (err)
		return err;
	root = json_loadb(text, len, 0, NULL);
	free(text);
	process = json_object_get(root, "process");
	arg0 = json_string_value(json_array_get(json_object_get(process, "args"), 0));
	rootpath = json_string_value(json_object_get(json_object_get(root, "root"), "path"));
	cwd = json_string_value(json_object_get(process, "cwd"));
	err = -EINVAL;
	if (!arg0 || !*arg0 || !rootpath)
		goto out;
	if (rootpath[0] == '/')
		snprintf(rootfs, sizeof(rootfs), "%s", rootpath);
	else
		snprintf(rootfs, sizeof(rootfs), "%s/%s", bundle, rootpath);
	if (strchr(arg0, '/')) {
		char abs[PATH_MAX];

		snprintf(abs, sizeof(abs), "%s%s%s", arg0[0] == '/' ? "" : (cwd ? cwd : "/"),
		         arg0[0] == '/' || (cwd && cwd[strlen(cwd) - 1] == '/') ? "" : "/", arg0);
		err = resolve_in_rootfs(rootfs, abs, found, sizeof(found));
	} else {
		const char *p = env_path(json_object_get(process, "env"));

		err = -ENOENT;
		while (*p && err) {
			const char *end = strchr(p, ':');
			size_t n = end ? (size_t)(end - p) : strlen(p);
			char cand[PATH_MAX];

			if (n && n + strlen(arg0) + 2 < sizeof(cand)) {
				snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, p, arg0);
				err = resolve_in_rootfs(rootfs, cand, found, sizeof(found));
			}
			p = end ? end + 1 : p + n;
		}
	}
	if (!err) {
		*path = strdup(found);
		err = *path ? 0 : -ENOMEM;
	}
out:
	json_decref(root);
	return err;
}
