/* Internal API of lib/containers, shared by its files. */
#ifndef SONDE_CONTAINERS_INTERNAL_H
#define SONDE_CONTAINERS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sonde/containers.h>

/* kubelet's labels on a CRI container (io.kubernetes.pod.name, .pod.namespace,
 * .pod.uid, .container.name) fill those k8s members still empty. */
void container_apply_kubelet_label(struct sonde_container *c, const char *key, const char *value);

/* "2026-11-22T06:42:20.746611345Z" (or ±hh:mm) → ns since the epoch; 0 on garbage. */
int64_t containers_parse_rfc3339_ns(const char *s);

/* ---- procinfo.c: what /proc says about a process ---- */
/* Inode of /proc/<pid>/ns/<ns>; -ESRCH when the process is gone. */
int proc_ns_inode(const char *proc_root, uint32_t pid, const char *ns, uint64_t *ino);
/* Parent pid from /proc/<pid>/status. */
int proc_ppid(const char *proc_root, uint32_t pid, uint32_t *ppid);
/* The cgroup v2 path ("0::" line; else the name=systemd one), caller frees. */
int proc_cgroup_path(const char *proc_root, uint32_t pid, char **path);
/* Inode of the cgroup v2 directory of `path` (0 if not found). */
uint64_t cgroup_v2_id(const char *path);
/* Start time of the process, CLOCK_BOOTTIME ns in whole clock ticks (its /proc stat starttime). */
int proc_start_boot_ns(const char *proc_root, uint32_t pid, int64_t *ns);
/* Start time of the process, ns since the epoch (from its /proc stat starttime). */
int proc_start_time_ns(const char *proc_root, uint32_t pid, int64_t *ns);
/* NUL-separated argv; *len bytes; caller frees. */
int proc_cmdline(const char *proc_root, uint32_t pid, char **args, size_t *len);
/* True while the process still runs a container runtime (runc, crun): a
 * container's init that has not executed the container's program yet. */
bool proc_runs_runtime(const char *proc_root, uint32_t pid);
/* readlink of /proc/<pid>/cwd, caller frees. */
int proc_cwd(const char *proc_root, uint32_t pid, char **cwd);

/* ---- runtime_state.c: one runtime's state directory ---- */
struct runtime_desc {
	const char *name;       /* "runc" */
	const char *state_file; /* file in <root>/<id>/ that holds the pid */
	int (*parse)(const char *text, size_t len, struct sonde_container *c);
};
/* runtime_containerd: runc state kept by containerd's shim, <root>/<namespace>/<id>/ */
extern const struct runtime_desc runtime_runc, runtime_crun, runtime_containerd;

struct runtime_clients;

/* Builds the container <root>/<id> from its state, /proc, its OCI config and
 * the runtime's own API (clients may be NULL).
 * pid_hint (0 = none) is used when the state file is not written yet.
 * -ENOENT: no state yet; -ESRCH: its process is gone; -EINVAL: garbage. */
int runtime_load(const struct runtime_desc *rt, const char *root, const char *id, const char *proc_root,
                 uint32_t pid_hint, const char *bundle_hint, struct runtime_clients *clients,
                 struct sonde_container **out);
/* Adds every container of `root` not yet in the set; returns how many. */
int runtime_scan(struct sonde_containers *set, const struct runtime_desc *rt, const char *root,
                 const char *proc_root, struct runtime_clients *clients);

/* ---- runtime_clients.c: what the runtimes' APIs add (names, images, pods) ---- */
struct runtime_clients_opts {
	size_t sz;
	const char *containerd_socket; /* default /run/containerd/containerd.sock */
	int timeout_ms;                /* per call, default 500 */
};
struct runtime_clients *runtime_clients_new(const struct runtime_clients_opts *opts);
void runtime_clients_free(struct runtime_clients *rc);
/* Completes c from its runtime's storage or API (rc NULL: storage only); each
 * call bounded, failures only leave fields as they were. */
void runtime_clients_enrich(struct runtime_clients *rc, struct sonde_container *c);

/* ---- oci_exec.c: the first program a bundle runs ---- */
/* The host path of the executable config.json's process.args[0] names,
 * resolved inside the bundle's rootfs (symlinks kept inside it); caller frees. */
int oci_bundle_exec_path(const char *bundle, char **path);

/* ---- podman.c: names and images from podman's storage files ---- */
struct podman_meta {
	char *name, *image_name, *image_id, *image_digest; /* NULL when unknown */
};
void podman_meta_clear(struct podman_meta *m);
/* The entry of container `id` in a containers/storage containers.json (fills
 * only members still NULL). -ENOENT if absent, -EINVAL on garbage. */
int podman_containers_json_find(const char *text, size_t len, const char *id, struct podman_meta *m);
/* The entry of image `image_id` in an images.json: digest, first name. */
int podman_images_json_find(const char *text, size_t len, const char *image_id, struct podman_meta *m);
/* Both lookups in the store next to `bundle` (<graphroot>/<driver>-containers/<id>/userdata);
 * falls back to /var/lib/containers/storage and the /run/containers/storage runroot. */
int podman_lookup(const char *bundle, const char *id, struct podman_meta *m);
/* Sets name, image name and digest of a podman container; unchanged if not found. */
void podman_enrich(struct sonde_container *c);

#endif
