/* A private containerd for integration tests: its own root, state and socket
 * in a temp dir (so the host's containerd, if any, and other tests are never
 * touched), busybox and pause images built here from busybox-static and a
 * static pause program, `ctr` helpers for plain containerd containers and a
 * small CRI client for pods. Everything an env starts is stopped, unmounted
 * and removed by ctrd_env_stop, which also runs at exit (after a test_skip_*, or
 * a case that returned early). Failures print what failed and why on stderr. */
#ifndef SONDE_TEST_CONTAINERD_ENV_H
#define SONDE_TEST_CONTAINERD_ENV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "testlib.h"

#define CTRD_BUSYBOX_IMAGE "localhost/sonde-busybox:latest"
#define CTRD_PAUSE_IMAGE   "localhost/sonde-pause:latest"
#define CTRD_MAX_TRACKED   16

struct ctrd_image {
	char name[96];
	char archive[200];        /* oci-archive tar for `ctr images import` */
	char manifest_digest[72]; /* "sha256:…", what containerd calls the image's digest */
	char config_digest[72];   /* "sha256:…", the image id CRI reports */
};

struct grpc_endpoint;

struct ctrd_env {
	char dir[64];    /* /tmp/sonde-ctrd-XXXXXX */
	char socket[96]; /* containerd's grpc (and CRI) socket */
	char log[96];    /* containerd's stdout and stderr */
	char logdir[96]; /* CRI pods' log_directory */
	pid_t pid;       /* containerd */
	struct ctrd_image busybox, pause;
	struct grpc_endpoint *cri;
	/* CRI objects made here, removed through CRI first so that it tears
	 * down its own mounts; everything else in this private containerd is
	 * swept by namespace */
	char cri_ctrs[CTRD_MAX_TRACKED][72];
	int ncri_ctrs;
	char pods[CTRD_MAX_TRACKED][72];
	int npods;
};

/* Skips the test (77) unless run as root with containerd and ctr. */
void ctrd_require(void);

/* Cleans up after test processes that died with an env up, builds both
 * images, starts containerd, waits until it answers, imports pause into
 * k8s.io and busybox into default and k8s.io. NULL after printing why (and
 * cleaning up). */
struct ctrd_env *ctrd_env_start(void);
/* What a test case starts with: ctrd_require, then ctrd_env_start; an env
 * that does not come up is a test failure (and NULL). */
struct ctrd_env *ctrd_env_setup(void);
/* Removes every pod, container and task, stops containerd by its pid,
 * unmounts what is left under the temp dir, removes it and frees e. Without a
 * working containerd, its containers, shims and daemon are found by their pids
 * and paths instead. NULL is a no-op. */
void ctrd_env_stop(struct ctrd_env *e);
/* The last lines of containerd's log, on stderr (for failure reports). */
void ctrd_env_dump_log(const struct ctrd_env *e, int lines);

/* Runs `ctr --address SOCK -n NS ARGS…` (args NULL-terminated). Returns the
 * exit status; prints the command and its stderr when it is not 0. *out, if
 * not NULL, gets stdout (caller frees). */
int ctrd_ctr(const struct ctrd_env *e, const char *ns, const char *const *args, char **out);

/* `ctr run -d` of busybox in namespace "default" as container `id`, with
 * labels ("k=v", NULL-terminated, may be NULL) and the command argv. */
int ctrd_run(struct ctrd_env *e, const char *id, const char *const *labels, const char *const *argv);
/* Kills the task (SIGKILL), deletes it and the container; missing is fine. */
void ctrd_remove(struct ctrd_env *e, const char *ns, const char *id);
/* `ctr tasks ls` status of id ("RUNNING", "STOPPED", "" if no task) into buf. */
const char *ctrd_task_status(const struct ctrd_env *e, const char *ns, const char *id, char *buf, size_t sz);
/* Waits until the task has exited (STOPPED). 0, or -1 after saying why. */
int ctrd_task_wait(const struct ctrd_env *e, const char *ns, const char *id, int timeout_ms);
/* The host pid of the task's init (`ctr tasks ls`), or -1. */
pid_t ctrd_task_pid(const struct ctrd_env *e, const char *ns, const char *id);
/* Waits until the task's process holds the integer at least `min` in file
 * path of its root (read through /proc/PID/root: what a container's script
 * writes there is how a test learns it has done something, without a fixed
 * wait). The last value read (or -1), when it is not reached in timeout_ms
 * after saying so. */
long ctrd_task_wait_counter(const struct ctrd_env *e, const char *ns, const char *id, const char *path,
                            long min, int timeout_ms);

/* Checks the runtime fields sonde's containerd enrichment gives a record of
 * busybox container id: runtimeName containerd, the id, the image name, its
 * digest (the manifest's, which the env computed) and a container pid. */
void ctrd_check_busybox_record(const struct ctrd_env *e, json_t *ev, const char *id);

/* ---- CRI (runtime.v1 on the same socket) ---- */

#define CRI_MAX_LABELS 8

struct cri_pod {
	char id[72]; /* sandbox id, once running */
	char name[64], namespace[64], uid[40];
	int nlabels;
	char label_keys[CRI_MAX_LABELS][32], label_values[CRI_MAX_LABELS][64];
};

/* RunPodSandbox with host networking (and the empty hostname that needs), a
 * random uid, labels as "k", "v" pairs (NULL-terminated, may be NULL) and a
 * log directory in the env. Fills pod (id included). 0 or -1. */
int cri_pod_run(struct ctrd_env *e, struct cri_pod *pod, const char *name, const char *ns,
                const char *const *labels);
/* CreateContainer + StartContainer of busybox in the pod; the log goes to
 * <logdir>/<pod name>-<name>.log. id (idsz bytes; 65 hold one) gets the container id. */
int cri_container_start(struct ctrd_env *e, const struct cri_pod *pod, const char *name,
                        const char *const *argv, char *id, size_t idsz);
/* StopContainer (no grace) + RemoveContainer. 0 or -1. */
int cri_container_remove(struct ctrd_env *e, const char *id);
/* StopPodSandbox + RemovePodSandbox (which removes its containers too). */
int cri_pod_remove(struct ctrd_env *e, const char *pod_id);
/* ContainerStatus: state (0 created, 1 running, 2 exited, 3 unknown) and exit
 * code. 0 or -1. */
int cri_container_state(struct ctrd_env *e, const char *id, int *state, int *exit_code);

/* ---- keeping a running sonde unblocked ---- */

/* Reads a running sonde's output on a thread while the test does slow,
 * blocking work (ctr, CRI): a sonde stuck on a full stdout pipe could not
 * answer the exec permission events that hold a new container's first exec.
 * The test must not touch p until sonde_drain_stop. */
struct sonde_drain {
	pthread_t thread;
	struct sonde_proc *p;
	atomic_bool stop;
	bool running;
};
void sonde_drain_start(struct sonde_drain *d, struct sonde_proc *p);
void sonde_drain_stop(struct sonde_drain *d);

#endif
