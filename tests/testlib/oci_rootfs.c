/* Busybox root filesystems, OCI bundles and runtime runs for integration
 * tests (see oci_rootfs.h). */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci_rootfs.h"
#include "testlib.h"

void oci_require(const char *tool)
{
	char why[128];

	test_require_root();
	if (!test_have(tool) || access("/bin/busybox", X_OK)) {
		snprintf(why, sizeof(why), "needs %s and busybox-static (scripts/install-deps.sh)", tool);
		test_skip_dep(why);
	}
}

int oci_rootfs_busybox(const char *rootfs, const char *const *applets)
{
	static const char *const dirs[] = {"bin", "proc", "sys", "dev", "etc",
	                                   "tmp", "root", "run", "var", NULL};
	char path[512];

	if (mkdir(rootfs, 0755)) {
		fprintf(stderr, "cannot create %s: %s\n", rootfs, strerror(errno));
		return -1;
	}
	for (size_t i = 0; dirs[i]; i++) {
		snprintf(path, sizeof(path), "%s/%s", rootfs, dirs[i]);
		if (mkdir(path, 0755) && errno != EEXIST) {
			fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s/bin/busybox", rootfs);
	const char *cp[] = {"cp", "/bin/busybox", path, NULL};
	if (test_run_quiet(cp)) {
		fprintf(stderr, "cannot copy /bin/busybox to %s\n", path);
		return -1;
	}
	/* relative: the link works both inside the container and from the host */
	for (size_t i = 0; applets[i]; i++) {
		snprintf(path, sizeof(path), "%s/bin/%s", rootfs, applets[i]);
		if (symlink("busybox", path)) {
			fprintf(stderr, "cannot create %s: %s\n", path, strerror(errno));
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s/etc/passwd", rootfs);
	if (test_write_file(path, "root:x:0:0:root:/root:/bin/sh\n"))
		return -1;
	snprintf(path, sizeof(path), "%s/etc/group", rootfs);
	return test_write_file(path, "root:x:0:\n");
}

int oci_workdir_create(char *dir, size_t sz, const char *prefix, const char *const *applets)
{
	char rootfs[512];

	snprintf(dir, sz, "%sXXXXXX", prefix);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	return oci_rootfs_busybox(rootfs, applets);
}

int oci_bundle_write(const char *dir, const char *rootfs, json_t *args, json_t *annotations)
{
	char path[600];
	const char *spec[] = {"runc", "spec", "--bundle", dir, NULL};
	json_error_t jerr;
	json_t *cfg, *process;
	int rc;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
		goto fail;
	}
	if (test_run_quiet(spec)) {
		fprintf(stderr, "runc spec --bundle %s failed\n", dir);
		goto fail;
	}
	cfg = json_load_file(path, 0, &jerr);
	if (!cfg) {
		fprintf(stderr, "cannot read %s: %s\n", path, jerr.text);
		goto fail;
	}
	process = json_object_get(cfg, "process");
	json_object_set_new(process, "terminal", json_false());
	json_object_set_new(process, "args", args);
	json_object_set_new(json_object_get(cfg, "root"), "path", json_string(rootfs));
	json_object_set_new(cfg, "annotations", annotations);
	rc = json_dump_file(cfg, path, JSON_INDENT(1));
	json_decref(cfg);
	if (rc)
		fprintf(stderr, "cannot write %s\n", path);
	return rc ? -1 : 0;
fail:
	json_decref(args);
	json_decref(annotations);
	return -1;
}

int oci_bundle_set_namespace(const char *dir, const char *type, const char *path)
{
	char file[600];
	json_error_t jerr;
	json_t *cfg, *nss, *ns;
	size_t i;
	int rc;

	snprintf(file, sizeof(file), "%s/config.json", dir);
	cfg = json_load_file(file, 0, &jerr);
	if (!cfg) {
		fprintf(stderr, "cannot read %s: %s\n", file, jerr.text);
		return -1;
	}
	nss = json_object_get(json_object_get(cfg, "linux"), "namespaces");
	json_array_foreach(nss, i, ns)
	{
		if (strcmp(json_string_value(json_object_get(ns, "type")) ?: "", type) == 0)
			break;
	}
	if (i < json_array_size(nss))
		json_array_remove(nss, i);
	if (path)
		json_array_append_new(nss, json_pack("{s:s,s:s}", "type", type, "path", path));
	rc = json_dump_file(cfg, file, JSON_INDENT(1));
	json_decref(cfg);
	if (rc)
		fprintf(stderr, "cannot write %s\n", file);
	return rc ? -1 : 0;
}

int oci_run(const char *runtime, const char *bundle, const char *id)
{
	const char *run[] = {runtime, "run", "--bundle", bundle, id, NULL};
	int rc = test_run_quiet(run);

	oci_delete(runtime, id);
	return rc;
}

int oci_run_detached(const char *runtime, const char *bundle, const char *id)
{
	const char *run[] = {runtime, "run", "-d", "--bundle", bundle, id, NULL};

	return test_run_quiet(run);
}

void oci_delete(const char *runtime, const char *id)
{
	const char *del[] = {runtime, "delete", "-f", id, NULL};

	test_run_quiet(del);
}

/* ---- crun on a hybrid cgroup host ---- */

#define CG2_CONTROLLERS "/sys/fs/cgroup/unified/cgroup.controllers"
#define HUGETLB_V1      "/sys/fs/cgroup/hugetlb"

static bool hugetlb_moved, atexit_registered;

/* The hierarchy id of hugetlb in /proc/cgroups: 0 while it is on cgroup2. */
static int hugetlb_hierarchy(void)
{
	FILE *f = fopen("/proc/cgroups", "r");
	char line[256], name[64];
	int hier = -1, h;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %d", name, &h) == 2 && !strcmp(name, "hugetlb"))
			hier = h;
	if (f)
		fclose(f);
	return hier;
}

/* Removes the (empty) child cgroups crun left, deepest first: a v1
 * hierarchy with children outlives its unmount. */
static int rmdir_child(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag == FTW_DP && ftw->level > 0)
		rmdir(path);
	return 0;
}

int oci_crun_cgroups_restore(void)
{
	int64_t deadline = test_now_ms() + 10000;

	if (!hugetlb_moved)
		return 0;
	/* A hierarchy is destroyed at unmount only when it has no child, dying
	 * ones included; one unmounted too early stays alive, unmounted, until
	 * it is mounted and unmounted again once the children are gone. */
	while (hugetlb_hierarchy() > 0) {
		if (test_now_ms() > deadline) {
			fprintf(stderr, "hugetlb did not go back to cgroup2 in 10 s (hierarchy %d)\n",
			        hugetlb_hierarchy());
			return -1;
		}
		mkdir(HUGETLB_V1, 0755);
		if (mount("cgroup", HUGETLB_V1, "cgroup", 0, "hugetlb") && errno != EBUSY) {
			fprintf(stderr, "cannot mount %s: %s\n", HUGETLB_V1, strerror(errno));
			return -1;
		}
		nftw(HUGETLB_V1, rmdir_child, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		umount(HUGETLB_V1);
		if (hugetlb_hierarchy() > 0)
			usleep(50 * 1000); /* the destruction is asynchronous: no event to wait on */
	}
	rmdir(HUGETLB_V1);
	hugetlb_moved = false;
	return 0;
}

static void restore_at_exit(void)
{
	oci_crun_cgroups_restore();
}

int oci_crun_cgroups_setup(void)
{
	char *ctl = test_read_file(CG2_CONTROLLERS, NULL);
	char *nl;

	if (!ctl)
		return 0; /* no cgroup2 mounted there: not the hybrid layout */
	nl = strchr(ctl, '\n');
	if (nl)
		*nl = 0;
	if (!ctl[0]) {
		free(ctl);
		return 0;
	}
	if (strcmp(ctl, "hugetlb")) {
		char why[300];

		snprintf(why, sizeof(why), "cgroup2 holds controllers \"%s\": crun refuses hybrid hosts",
		         ctl);
		free(ctl);
		test_skip_machine(why);
	}
	free(ctl);
	if (mkdir(HUGETLB_V1, 0755) && errno != EEXIST) {
		fprintf(stderr, "cannot create %s: %s\n", HUGETLB_V1, strerror(errno));
		return -1;
	}
	if (mount("cgroup", HUGETLB_V1, "cgroup", 0, "hugetlb")) {
		fprintf(stderr, "cannot mount hugetlb on %s: %s\n", HUGETLB_V1, strerror(errno));
		rmdir(HUGETLB_V1);
		return -1;
	}
	if (!atexit_registered)
		atexit(restore_at_exit);
	atexit_registered = hugetlb_moved = true;
	return 0;
}

long long oci_state_pid(const char *runtime, const char *id)
{
	char cmd[256], buf[8192];
	long long pid;
	json_t *st;
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "%s state %s 2>/dev/null", runtime, id);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	pclose(f);
	buf[n] = 0;
	st = json_loads(buf, 0, NULL);
	pid = test_json_int(st, "pid", -1);
	json_decref(st);
	return pid;
}
