/* Containers for integration tests without a registry: a root filesystem
 * of the host's busybox-static, OCI bundles for it (`runc spec`, edited),
 * and runc/crun runs of them. Only what a test names is created, run or
 * deleted. Failures print what failed on stderr. */
#ifndef SONDE_TEST_OCI_ROOTFS_H
#define SONDE_TEST_OCI_ROOTFS_H

#include <stddef.h>

#include <jansson.h>

/* Skips the test (77) unless it runs as root with `tool` (the runtime or
 * podman it drives) and /bin/busybox. */
void oci_require(const char *tool);

/* Creates rootfs (which must not exist) with the directories a runtime
 * mounts on or a shell expects, /bin/busybox, a /bin/<applet> link for each
 * of applets (NULL-terminated: the commands the test's containers run) and
 * a root-only /etc/passwd and /etc/group. 0 or -1. */
int oci_rootfs_busybox(const char *rootfs, const char *const *applets);

/* A test's work dir: mkdtemp of <prefix>XXXXXX into dir (sz bytes), with a
 * busybox rootfs (oci_rootfs_busybox) at <dir>/rootfs. 0 or -1. Removed
 * with test_rm_tree(dir, prefix). */
int oci_workdir_create(char *dir, size_t sz, const char *prefix, const char *const *applets);

/* Bundle dir (created) whose config.json is `runc spec`'s default with no
 * terminal, process.args args, root.path rootfs and annotations as the
 * whole annotations object. Takes the references to args and annotations,
 * also on failure. 0 or -1. */
int oci_bundle_write(const char *dir, const char *rootfs, json_t *args, json_t *annotations);

/* Edits the bundle's config.json (oci_bundle_write's): the container's
 * namespace of `type` ("network", "pid", …) becomes the one at path (a
 * namespace the test made, say /run/netns/NAME); path NULL: it has none of
 * its own and shares the host's. 0 or -1 after saying why. */
int oci_bundle_set_namespace(const char *dir, const char *type, const char *path);

/* `runtime run --bundle BUNDLE ID` to completion, then `runtime delete -f
 * ID` (also after a failed run, which may leave a created container). The
 * run's exit status. */
int oci_run(const char *runtime, const char *bundle, const char *id);
/* `runtime run -d --bundle BUNDLE ID`: the container keeps running until
 * oci_delete. Its exit status. */
int oci_run_detached(const char *runtime, const char *bundle, const char *id);
/* The pid of running container ID from `runtime state ID`, or -1. */
long long oci_state_pid(const char *runtime, const char *id);
/* `runtime delete -f ID`; a container that is not there is fine. */
void oci_delete(const char *runtime, const char *id);

/* crun (1.8) refuses a cgroup v1/v2 hybrid host whose cgroup2 hierarchy
 * holds a controller ("cgroups in hybrid mode not supported, drop all
 * controllers from cgroupv2"); this machine leaves hugetlb there. This
 * moves hugetlb to a v1 hierarchy of its own at /sys/fs/cgroup/hugetlb, as
 * the other controllers are: 0 when crun can run (also when nothing needed
 * moving), -1 after saying why not. Skips the test (machine-level) when
 * cgroup2 holds controllers other than hugetlb, which a test cannot move
 * without disturbing the host's own cgroups. Runs at exit too. */
int oci_crun_cgroups_setup(void);
/* Gives hugetlb back to cgroup2 if oci_crun_cgroups_setup moved it: 0, or
 * -1 after saying why not (the host is then left as crun needs it). */
int oci_crun_cgroups_restore(void);

#endif
