/* The container collection: the containers running on this host, found from
 * the OCI runtimes' state (runc, crun) and kept up to date as they come and go.
 *
 * A collection is a plain set (add/remove/lookup, subscribers) with no lock of
 * its own: whoever shares one between threads serialises changes against
 * lookups (lookups may run concurrently with each other). A watcher fills it:
 * an initial scan of the runtimes' state directories, then live detection
 * through one pollable fd (fanotify, inotify and a pidfd per container inside
 * it). Runs share one collection per process through the container service
 * (below), which does that locking.
 *
 * Mount-namespace ids are reused by the kernel as soon as a container exits:
 * removing a container drops its mntns mapping before any other container can
 * take it, and a removed container stays findable (by mntns, id or name) for
 * a short time only when no running container claims the same key, so late
 * events of a short-lived container are still attributed.
 */
#ifndef SONDE_CONTAINERS_H
#define SONDE_CONTAINERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One container. Strings are owned by the record and never NULL once it is in
 * a collection ("" when unknown). */
struct sonde_container {
	char *id;
	char *name;              /* annotation- or podman-given name, else the id */
	char *runtime;           /* "runc", "crun", "podman", "containerd", "cri-o" */
	char *runtime_namespace; /* containerd's namespace ("k8s.io", "default"), else "" */
	uint32_t pid;            /* init process, in the host pid namespace */
	uint64_t mntns, netns;
	char *cgroup_path;  /* cgroup v2 path ("/demo1"); v1 fallback when no v2 line */
	uint64_t cgroup_id; /* inode of the v2 cgroup directory, 0 if unknown */
	char *bundle;
	char *image_name;
	char *image_digest;    /* "sha256:…" when the runtime's storage says */
	int64_t started_at_ns; /* ns since the epoch, 0 if unknown */
	/* Start of its init, CLOCK_BOOTTIME ns in whole clock ticks (0 if
	 * unknown): its mount namespace is younger, so an event of that
	 * namespace from before belongs to an earlier holder of its (reused) id. */
	int64_t started_boot_ns;
	/* Kubernetes metadata from OCI annotations ("" when absent). */
	char *k8s_namespace, *k8s_pod_name, *k8s_container_name, *k8s_pod_uid;
	char *sandbox_id; /* the pod sandbox this container belongs to (itself for a sandbox) */
	bool k8s_sandbox;
	/* From the runtime's clients (CRI PodSandboxStatus), "" / false when unknown. */
	char *pod_ip;
	bool host_network; /* shares the host's network namespace */
	/* Kubernetes pod labels, in the order the runtime gave them. */
	size_t nlabels;
	char **label_keys, **label_values;
	/* OCI annotations, in the order found. */
	size_t nannotations;
	char **ann_keys, **ann_values;
};

struct sonde_container *sonde_container_new(const char *id, const char *runtime);
/* NULL is a no-op. */
void sonde_container_free(struct sonde_container *c);
/* Replaces a string member (e.g. &c->name) with a copy of s (NULL = ""). */
int sonde_container_set_str(char **member, const char *s);
/* Adds or replaces an annotation. */
int sonde_container_set_annotation(struct sonde_container *c, const char *key, const char *value);
const char *sonde_container_annotation(const struct sonde_container *c, const char *key);
/* Adds or replaces a pod label. */
int sonde_container_set_label(struct sonde_container *c, const char *key, const char *value);
const char *sonde_container_label(const struct sonde_container *c, const char *key);
/* The pod labels as "k=v,k2=v2", sorted by key (the k8s.podLabels field); caller frees. */
char *sonde_container_labels_string(const struct sonde_container *c);
/* Derives name and k8s.* members from well-known annotations
 * (io.kubernetes.cri.container-name, io.kubernetes.pod.name, …). */
void sonde_container_apply_annotations(struct sonde_container *c);
/* Valid ids: non-empty, [A-Za-z0-9_+.-], not "." or "..". */
bool sonde_container_id_valid(const char *id);

/* ---- collection ---- */

struct sonde_containers;

enum sonde_container_event {
	SONDE_CONTAINER_ADDED = 1,
	SONDE_CONTAINER_REMOVED = 2,
	/* metadata of a running container changed (enrichment completed late) */
	SONDE_CONTAINER_UPDATED = 3,
};

typedef void (*sonde_container_fn)(struct sonde_containers *set, enum sonde_container_event ev,
                                   const struct sonde_container *c, void *arg);

struct sonde_containers *sonde_containers_new(void);
/* Frees every container (no REMOVED notifications). NULL is a no-op. */
void sonde_containers_free(struct sonde_containers *set);

/* Takes ownership of c (also on failure). A container with the same id
 * replaces the old one (REMOVED then ADDED); a running container with the same
 * mntns loses that mapping. -EINVAL for an invalid id. */
int sonde_containers_add(struct sonde_containers *set, struct sonde_container *c);
/* Moves the container to the recently-removed cache and notifies. -ENOENT if unknown. */
int sonde_containers_remove(struct sonde_containers *set, const char *id);
/* Tells subscribers (UPDATED) that the running container `id` was changed in
 * place, e.g. its pod labels filled after it was added. -ENOENT if unknown. */
int sonde_containers_updated(struct sonde_containers *set, const char *id);

/* Running containers first, then the recently removed ones (within the ttl). */
const struct sonde_container *sonde_containers_by_id(struct sonde_containers *set, const char *id);
const struct sonde_container *sonde_containers_by_mntns(struct sonde_containers *set, uint64_t mntns);
/* The container that held mount namespace id mntns at boot_ns (CLOCK_BOOTTIME,
 * an event's gadget timestamp): the newest claimant that had started by then,
 * a removed one within its grace period included. boot_ns 0 = now. */
const struct sonde_container *sonde_containers_by_mntns_at(struct sonde_containers *set, uint64_t mntns,
                                                           int64_t boot_ns);
const struct sonde_container *sonde_containers_by_name(struct sonde_containers *set, const char *name);
/* Running containers only: the first in that netns (`*count` receives how many share it). */
const struct sonde_container *sonde_containers_by_netns(struct sonde_containers *set, uint64_t netns,
                                                        size_t *count);

/* Running containers, in the order they were added. */
size_t sonde_containers_count(const struct sonde_containers *set);
/* No container, running or recently removed: every lookup finds nothing. */
bool sonde_containers_empty(const struct sonde_containers *set);
const struct sonde_container *sonde_containers_at(const struct sonde_containers *set, size_t i);

/* How long removed containers stay findable (default 2 s). */
void sonde_containers_set_removed_ttl(struct sonde_containers *set, int64_t ttl_ns);

/* Subscribers run synchronously on every add/remove; returns an id > 0. */
int sonde_containers_subscribe(struct sonde_containers *set, sonde_container_fn fn, void *arg);
void sonde_containers_unsubscribe(struct sonde_containers *set, int id);

/* ---- per-container attachments ----
 * A gadget whose programs attach per container (uprobes on the libraries
 * inside each container) publishes an attacher under this context variable;
 * the container operator calls it for each selected container as it appears
 * and goes. Before the gadget starts, the container operator sets the bool
 * SONDE_VAR_ATTACH_HOST: whether the host itself is traced too (--host);
 * without it (no container operator), a gadget attaches to the host only. */
#define SONDE_VAR_CONTAINER_ATTACHER "container_attacher"
#define SONDE_VAR_ATTACH_HOST        "attach_host"

struct sonde_container_attacher {
	/* Failures are the attacher's to report; a container lacking a library is not one. */
	void (*attach)(void *arg, const struct sonde_container *c);
	void (*detach)(void *arg, const struct sonde_container *c);
	void *arg;
};

/* ---- discovery and live detection (runc, crun, containerd) ---- */

struct sonde_container_watch_opts {
	size_t sz;
	const char *runc_root; /* default /run/runc */
	const char *crun_root; /* default /run/crun */
	const char *proc_root; /* default /proc */
	bool no_live;          /* initial scan only: no fanotify/inotify */
	/* containerd's runc state, one directory per namespace; default /run/containerd/runc */
	const char *containerd_runc_root;
	/* containerd's gRPC socket, also its CRI plugin's; default /run/containerd/containerd.sock */
	const char *containerd_socket;
	/* how long a new container's first exec may wait for its registration
	 * (and its subscribers' work: filter maps, uprobes); 0 = 50 ms */
	int hold_timeout_ms;
};

struct sonde_container_watcher;

/* Scans the runtimes' state and, unless no_live, starts live detection.
 * Unreadable or garbage state is skipped with a warning at most. Live
 * detection that cannot start (no fanotify) degrades to inotify with a
 * warning. */
int sonde_container_watcher_new(struct sonde_containers *set, const struct sonde_container_watch_opts *opts,
                                struct sonde_container_watcher **out);
void sonde_container_watcher_free(struct sonde_container_watcher *w);
/* One pollable fd (readable when there is work); -1 with no_live. */
int sonde_container_watcher_fd(const struct sonde_container_watcher *w);
/* Handles everything pending without blocking. */
void sonde_container_watcher_process(struct sonde_container_watcher *w);

/* ---- the process-wide container service ----
 * One collection per process, shared by every run that needs containers. The
 * first reference starts it (initial scan, live detection on one watcher
 * thread, one exec gate) with that caller's options; later references share
 * it as it is; the last one stops it. The collection changes only on the
 * watcher's thread, with the service's lock held for writing, and every
 * subscriber's callback runs there, under that lock: a new container's held
 * first exec is let go only once every subscribed run has seen it (each run
 * filling its own in-kernel filter), or when the hold times out. Read the
 * collection from any other thread between rdlock and unlock, briefly (the
 * writer goes first). Pointers found stay valid until the unlock. */
struct sonde_container_service;

/* A reference to the service, starting it if needed. 0 or a negative errno
 * (nothing to watch: no reference is taken). */
int sonde_container_service_get(const struct sonde_container_watch_opts *opts,
                                struct sonde_container_service **out);
/* Drops a reference; the last one stops the thread and frees everything.
 * Unsubscribe first. NULL is a no-op. */
void sonde_container_service_put(struct sonde_container_service *svc);
/* References held now in this process (0: not running). */
size_t sonde_container_service_refs(void);
/* fn is called (ADDED) for every container known now — on the caller's thread,
 * before this returns — then for every change, on the watcher's thread, with
 * the write lock held: it must not take the lock itself. Returns an id > 0. */
int sonde_container_service_subscribe(struct sonde_container_service *svc, sonde_container_fn fn, void *arg);
/* Once it returns, fn is not running and is not called again. */
void sonde_container_service_unsubscribe(struct sonde_container_service *svc, int id);
struct sonde_containers *sonde_container_service_set(struct sonde_container_service *svc);
/* Without the lock: true when no lookup can find anything (no container
 * running or recently removed), so a record needs no lookup at all — on a
 * host without containers, runs on several threads never meet on the lock. A
 * container is counted before its first exec is let go. */
bool sonde_container_service_empty(const struct sonde_container_service *svc);
void sonde_container_service_rdlock(struct sonde_container_service *svc);
/* For state that subscribers' callbacks read: changed with the writer's lock. */
void sonde_container_service_wrlock(struct sonde_container_service *svc);
void sonde_container_service_unlock(struct sonde_container_service *svc);

/* ---- runtime state parsing (exposed for tests and tools) ---- */

/* Fills c from a runc state.json / crun status text. -EINVAL on garbage or
 * when the pid is missing. */
int sonde_runc_state_parse(const char *text, size_t len, struct sonde_container *c);
int sonde_crun_status_parse(const char *text, size_t len, struct sonde_container *c);
/* Copies `annotations` of an OCI config.json into c. */
int sonde_oci_config_parse(const char *text, size_t len, struct sonde_container *c);

#endif
