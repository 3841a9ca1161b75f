/* Busybox root filesystems, OCI bundles and runtime runs for integration
 * tests (see oci_rootfs.h). */
#include <errno.h>
#include <stdlib.h>
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
