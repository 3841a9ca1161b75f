/* The LocalManager operator: container enrichment and in-kernel container
 * filtering (see local_manager.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/container_selector.h>
#include <sonde/containers.h>
#include <sonde/gadget.h>
#include <sonde/log.h>
#include <sonde/mntns_filter.h>

#include "containers/resolve.h"
#include "containers/labels_cache.h"
#include "operators/local_manager.h"
#include "util/ann.h"
#include "util/array.h"

enum lm_field {
	RT_NAME, /* runtime.containerName */
	RT_RUNTIME,
	RT_ID,
	RT_PID,
	RT_IMAGE,
	RT_DIGEST,
	RT_STARTED,
	K8S_NODE,
	K8S_NAMESPACE,
	K8S_POD,
	K8S_CONTAINER,
	K8S_HOSTNET,
	K8S_LABELS,
	NFIELDS,
};

struct field_def {
	int parent; /* 0 runtime, 1 k8s */
	const char *name;
	enum sonde_kind kind;
	int32_t order;
	const char *const *annotations;
};

static const struct field_def field_defs[NFIELDS] = {
    [RT_NAME] = {0, "containerName", SONDE_KIND_STRING, -27,
                 ANN("template", "container", "description",
                     "Name of the container, as its runtime knows it")},
    [RT_RUNTIME] = {0, "runtimeName", SONDE_KIND_STRING, -26,
                    ANN("columns.hidden", "true", "columns.width", "19", "columns.fixed", "true",
                        "description", "Runtime of the container (runc, crun, containerd, podman…)")},
    /* cut to 13 characters in columns without an ellipsis, as list-containers and upstream show it */
    [RT_ID] = {0, "containerId", SONDE_KIND_STRING, -25,
               ANN("columns.hidden", "true", "columns.width", "13", "columns.maxwidth", "64",
                   "columns.ellipsis", "none", "description",
                   "ID of the container (whole in JSON, 13 characters in columns)")},
    [RT_PID] = {0, "containerPid", SONDE_KIND_UINT32, -24,
                ANN("template", "containerPid", "description", "PID of the container's first process")},
    [RT_IMAGE] = {0, "containerImageName", SONDE_KIND_STRING, -23,
                  ANN("template", "containerImageName", "columns.hidden", "true", "description",
                      "Image the container was created from")},
    [RT_DIGEST] = {0, "containerImageDigest", SONDE_KIND_STRING, -22,
                   ANN("template", "containerImageDigest", "columns.hidden", "true", "description",
                       "Digest of the container's image")},
    [RT_STARTED] = {0, "containerStartedAt", SONDE_KIND_INT64, -21,
                    ANN("template", "containerStartedAt", "description",
                        "When the container started, in ns since the Unix epoch (0 if unknown)")},
    /* local runs: k8s.* is hidden, but filled from OCI annotations when present */
    [K8S_NODE] = {1, "node", SONDE_KIND_STRING, -31,
                  ANN("template", "node", "columns.hidden", "true", "description",
                      "Kubernetes node of the pod")},
    [K8S_NAMESPACE] = {1, "namespace", SONDE_KIND_STRING, -30,
                       ANN("template", "namespace", "columns.hidden", "true", "description",
                           "Kubernetes namespace of the pod")},
    [K8S_POD] = {1, "podName", SONDE_KIND_STRING, -29,
                 ANN("template", "pod", "columns.hidden", "true", "description",
                     "Name of the Kubernetes pod")},
    [K8S_CONTAINER] = {1, "containerName", SONDE_KIND_STRING, -28,
                       ANN("template", "container", "columns.hidden", "true", "description",
                           "Name of the container in the pod's spec")},
    [K8S_HOSTNET] = {1, "hostnetwork", SONDE_KIND_BOOL, -27,
                     ANN("columns.hidden", "true", "description", "Whether the pod uses the host's network")},
    [K8S_LABELS] = {1, "podLabels", SONDE_KIND_STRING, -26,
                    ANN("columns.hidden", "true", "description", "Labels of the pod, key=value,…")},
};

struct lm_ds {
	struct lm *lm;
	struct sonde_ds *ds;
	struct sonde_field *mntns; /* either may be NULL, not both */
	struct sonde_field *netns;
	struct sonde_field *time; /* the event's boot-time timestamp, NULL if none */
	struct sonde_field *f[NFIELDS];
	bool want[NFIELDS]; /* requested by some consumer: only those are filled */
	bool requested;     /* any of them */
};

struct lm {
	struct sonde_gadget_ctx *ctx;
	struct lm_ds *dss;
	size_t ndss;
	/* the process-wide collection (NULL: no containers to watch); its set,
	 * our labels and our attacher change on the watcher's thread, with the
	 * service's lock held for writing, and are read here under its read lock */
	struct sonde_container_service *svc;
	struct sonde_containers *set;
	int sub_id;
	/* filtering */
	bool filter;
	const struct sonde_mntns_filter *mntns_filter; /* the gadget's, when it filters */
	struct sonde_container_selector *sel;
	struct labels_cache *labels;
	/* per-container attachments (uprobes) of the gadget, NULL if it has none */
	const struct sonde_container_attacher *attacher;
	bool attach_host; /* the value behind SONDE_VAR_ATTACH_HOST */
};

static const struct sonde_param_desc lm_params[] = {
    {.key = "containername",
     .alias = "c",
     .alt_key = "runtime-containername",
     .description = "Show only data from containers with these names (comma-separated, !name excludes)",
     .type_hint = "string"},
    {.key = "k8s-namespace",
     .description = "Show only data from containers in these Kubernetes namespaces (comma-separated, !ns "
                    "excludes)",
     .type_hint = "string"},
    {.key = "k8s-podname",
     .description = "Show only data from containers in these pods (comma-separated, !pod excludes)",
     .type_hint = "string"},
    {.key = "k8s-containername",
     .description = "Show only data from containers with these Kubernetes container names "
                    "(comma-separated, !name excludes)",
     .type_hint = "string"},
    {.key = "k8s-selector",
     .description = "Show only data from pods with all these labels (key=value or key!=value, "
                    "comma-separated)",
     .type_hint = "string"},
    {.key = "host",
     .description = "Show data from both the host and containers",
     .default_value = "false",
     .type_hint = "bool"},
    {.key = "container-hold-timeout",
     .description = "How long a new container's first program may wait for Sonde to register it "
                    "(its events are traced from its first instruction only if it does not wait "
                    "longer)",
     .default_value = "50ms",
     .type_hint = "duration"},
    {.key = "containerd-socketpath",
     .description = "containerd's socket (its own API and its CRI plugin)",
     .default_value = "/run/containerd/containerd.sock",
     .type_hint = "string"},
};

static struct sonde_param *param(struct sonde_gadget_ctx *ctx, const char *key)
{
	char name[64];

	snprintf(name, sizeof(name), "operator.LocalManager.%s", key);
	return sonde_params_find(sonde_gadget_params(ctx), name);
}

static const char *param_value(struct sonde_gadget_ctx *ctx, const char *key)
{
	struct sonde_param *p = param(ctx, key);

	return p ? sonde_param_value(p) : NULL;
}

/* ---- selection and the filter map ---- */

/* Pod sandboxes (pause containers) run no workload: never traced by
 * selection, as upstream drops them, though their events are still enriched. */
static bool selected(const struct lm *lm, const struct sonde_container *c)
{
	return !c->k8s_sandbox && sonde_container_selector_match(lm->sel, c);
}

static void map_add(struct lm *lm, const struct sonde_container *c)
{
	int err;

	if (!lm->mntns_filter || !c->mntns)
		return;
	/* adding twice (an update of a selected container) is harmless */
	err = sonde_mntns_filter_add(lm->mntns_filter, c->mntns);
	if (err)
		sonde_warn("LocalManager: cannot add container %s to the filter: %s", c->name,
		           strerror(-err));
}

/* Also for a container that stays but is no longer selected: its own record is
 * skipped, not only removed ones. */
static void map_remove(struct lm *lm, const struct sonde_container *c)
{
	if (!lm->mntns_filter || !c->mntns)
		return;
	/* a newer running container may have the same (reused) mntns */
	for (size_t i = 0; i < sonde_containers_count(lm->set); i++) {
		const struct sonde_container *o = sonde_containers_at(lm->set, i);
		if (o != c && o->mntns == c->mntns && selected(lm, o))
			return;
	}
	sonde_mntns_filter_remove(lm->mntns_filter, c->mntns);
}

/* Added or changed: in the map exactly when selected now. */
static void map_sync(struct lm *lm, const struct sonde_container *c)
{
	if (selected(lm, c))
		map_add(lm, c);
	else
		map_remove(lm, c);
}

/* The gadget's per-container programs follow the selection too. */
static void attach_sync(struct lm *lm, const struct sonde_container *c, bool gone)
{
	if (!lm->attacher)
		return;
	if (!gone && selected(lm, c))
		lm->attacher->attach(lm->attacher->arg, c);
	else
		lm->attacher->detach(lm->attacher->arg, c);
}

/* On the shared watcher's thread (or, for the containers already known, the
 * run's own thread as it subscribes), with the service's write lock held. */
static void on_container(struct sonde_containers *set, enum sonde_container_event ev,
                         const struct sonde_container *c, void *arg)
{
	struct lm *lm = arg;
	/* what this says belongs to the run, whichever thread says it */
	const struct sonde_log_target *prev = sonde_log_bind(sonde_gadget_log(lm->ctx));

	sonde_debug("LocalManager: container %s %s (%s, mntns %llu%s)", c->name,
	            ev == SONDE_CONTAINER_ADDED     ? "added"
	            : ev == SONDE_CONTAINER_REMOVED ? "removed"
	                                            : "updated",
	            c->runtime, (unsigned long long)c->mntns, selected(lm, c) ? ", selected" : "");
	/* added or updated (labels may come after ADDED): everything re-evaluated */
	if (ev != SONDE_CONTAINER_REMOVED) {
		if (labels_cache_update(lm->labels, c))
			sonde_warn("LocalManager: out of memory for the pod labels of %s", c->name);
		map_sync(lm, c);
	} else {
		map_remove(lm, c);
	}
	attach_sync(lm, c, ev == SONDE_CONTAINER_REMOVED);
	labels_cache_sweep(lm->labels, set);
	sonde_log_bind(prev);
}

static int parse_selector(struct lm *lm)
{
	struct sonde_gadget_ctx *ctx = lm->ctx;
	struct sonde_container_selector_opts so = {
	    .sz = sizeof(so),
	    .containername = param_value(ctx, "containername"),
	    .k8s_namespace = param_value(ctx, "k8s-namespace"),
	    .k8s_podname = param_value(ctx, "k8s-podname"),
	    .k8s_containername = param_value(ctx, "k8s-containername"),
	    .k8s_selector = param_value(ctx, "k8s-selector"),
	};
	char err[512];
	int r = sonde_container_selector_parse(&so, &lm->sel, err, sizeof(err));

	if (r)
		sonde_err("%s", err);
	return r;
}

/* ---- enrichment ---- */

static int put_str(struct lm_ds *d, enum lm_field i, struct sonde_record *rec, const char *s)
{
	return d->want[i] ? sonde_field_put_string(d->f[i], rec, s, (uint32_t)strlen(s)) : 0;
}

static void fill(struct lm_ds *d, struct sonde_record *rec, struct container_match m);

static int enrich(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct lm_ds *d = arg;
	struct container_match m;
	uint64_t mntns = 0, netns = 0, time = 0;
	/* a gadget without a kernel filter (top_process reads /proc) is narrowed
	 * to the selected containers here */
	bool select = d->lm->filter && !d->lm->mntns_filter;

	/* no container on this host: nothing to look up, and no shared lock
	 * taken per record (records start reset: empty strings, zeros) */
	if (!d->lm->svc || sonde_container_service_empty(d->lm->svc))
		return select ? SONDE_DISCARD : 0;
	if (!d->requested && !select)
		return 0;
	/* a mntns id is reused at once: the event's time tells which holder */
	if (d->time && !sonde_field_as_uint64(d->time, rec, &time))
		time = 0;
	if (d->mntns && !sonde_field_as_uint64(d->mntns, rec, &mntns))
		mntns = 0;
	if (d->netns && !sonde_field_as_uint64(d->netns, rec, &netns))
		netns = 0;
	sonde_container_service_rdlock(d->lm->svc);
	m = container_resolve(d->lm->set, mntns, netns, (int64_t)time);
	if (select && (!m.c || !sonde_container_selector_match(d->lm->sel, m.c))) {
		sonde_container_service_unlock(d->lm->svc);
		return SONDE_DISCARD;
	}
	/* every record starts reset: empty strings, zeros (most host events) */
	if (m.c && d->requested)
		fill(d, rec, m);
	sonde_container_service_unlock(d->lm->svc);
	return 0;
}

static void fill(struct lm_ds *d, struct sonde_record *rec, struct container_match m)
{
	const struct sonde_container *c, *pod;

	pod = m.c;
	c = m.pod_only ? NULL : m.c; /* container-level fields stay empty for a pod */
	put_str(d, RT_NAME, rec, c ? c->name : "");
	put_str(d, RT_RUNTIME, rec, c ? c->runtime : "");
	put_str(d, RT_ID, rec, c ? c->id : "");
	if (d->want[RT_PID])
		sonde_field_put_uint(d->f[RT_PID], rec, c ? c->pid : 0);
	put_str(d, RT_IMAGE, rec, c ? c->image_name : "");
	put_str(d, RT_DIGEST, rec, c ? c->image_digest : "");
	if (d->want[RT_STARTED])
		sonde_field_put_int(d->f[RT_STARTED], rec, c ? c->started_at_ns : 0);
	put_str(d, K8S_NODE, rec, "");
	put_str(d, K8S_NAMESPACE, rec, pod ? pod->k8s_namespace : "");
	put_str(d, K8S_POD, rec, pod ? pod->k8s_pod_name : "");
	put_str(d, K8S_CONTAINER, rec, c ? c->k8s_container_name : "");
	if (d->want[K8S_HOSTNET])
		sonde_field_put_bool(d->f[K8S_HOSTNET], rec, pod && pod->host_network);
	if (d->want[K8S_LABELS])
		put_str(d, K8S_LABELS, rec, labels_cache_get(d->lm->labels, pod));
}

static int add_fields(struct lm_ds *d)
{
	struct sonde_field_opts popts = {.sz = sizeof(popts), .flags = SONDE_FIELD_EMPTY};
	struct sonde_field *parents[2];

	parents[0] = sonde_ds_add_field(d->ds, "runtime", SONDE_KIND_INVALID, &popts);
	popts.annotations = ANN("columns.hidden", "true");
	parents[1] = sonde_ds_add_field(d->ds, "k8s", SONDE_KIND_INVALID, &popts);
	if (!parents[0] || !parents[1])
		return -EINVAL;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field_def *fd = &field_defs[i];
		struct sonde_field_opts o = {.sz = sizeof(o),
		                             .parent = parents[fd->parent],
		                             .order = fd->order,
		                             .has_order = true,
		                             .annotations = fd->annotations};

		d->f[i] = sonde_ds_add_field(d->ds, fd->name, fd->kind, &o);
		if (!d->f[i])
			return -EINVAL;
	}
	return 0;
}

/* ---- lifecycle ---- */

/* The first field with the tag (spec §5.3: only the first of each is used). */
static struct sonde_field *ns_field(struct sonde_ds *ds, const char *tag, const char *what)
{
	struct sonde_field *f[2];
	size_t found = sonde_ds_fields_with_tag(ds, tag, f, 2);

	if (found > 1)
		sonde_warn("LocalManager: datasource %s has several %s namespace fields; using %s",
		           sonde_ds_name(ds), what, sonde_field_full_name(f[0]));
	return found ? f[0] : NULL;
}

/* No callback of ours runs once this returns. */
static void unsubscribe(struct lm *lm)
{
	sonde_container_service_unsubscribe(lm->svc, lm->sub_id);
	lm->sub_id = 0;
}

static void lm_free(struct lm *lm)
{
	if (!lm)
		return;
	unsubscribe(lm);
	sonde_container_service_put(lm->svc);
	labels_cache_free(lm->labels);
	sonde_container_selector_free(lm->sel);
	free(lm->dss);
	free(lm);
}

static int lm_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct lm *lm = calloc(1, sizeof(*lm));
	int err = 0;

	if (!lm)
		return -ENOMEM;
	lm->ctx = ctx;
	for (size_t i = 0; i < sonde_gadget_nds(ctx) && !err; i++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, i);
		struct lm_ds d = {.ds = ds};

		d.mntns = ns_field(ds, "type:gadget_mntns_id", "mount");
		d.netns = ns_field(ds, "type:gadget_netns_id", "network");
		if (!sonde_ds_fields_with_tag(ds, "type:gadget_timestamp", &d.time, 1))
			d.time = NULL;
		if (!d.mntns && !d.netns)
			continue;
		if (grow_array_by_len((void **)&lm->dss, lm->ndss, sizeof(*lm->dss))) {
			err = -ENOMEM;
			break;
		}
		lm->dss[lm->ndss] = d;
		err = add_fields(&lm->dss[lm->ndss]);
		lm->ndss++;
	}
	if (err || !lm->ndss) {
		lm_free(lm);
		return err;
	}
	for (size_t i = 0; i < lm->ndss; i++) {
		lm->dss[i].lm = lm;
		err = sonde_ds_subscribe(lm->dss[i].ds, enrich, &lm->dss[i], SONDE_PHASE_ENRICH);
		if (err) {
			lm_free(lm);
			return err;
		}
	}
	*state = lm;
	return 0;
}

/* Tracing the host (--host, no selector) with no container running as the
 * run starts: the container column would be empty on every line, so it
 * leaves the default columns. It still fills for containers that start
 * later, in JSON/YAML and with --fields +runtime.containerName. */
static void hide_empty_container_column(struct lm *lm)
{
	if (lm->filter || (lm->svc && !sonde_container_service_empty(lm->svc)))
		return;
	for (size_t i = 0; i < lm->ndss; i++) {
		struct sonde_field *f = lm->dss[i].f[RT_NAME];

		/* an explicit columns.hidden (--annotate, gadget.yaml) wins */
		if (!sonde_field_annotation(f, "columns.hidden"))
			sonde_field_set_hidden(f, true, false);
	}
}

static int lm_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct lm *lm = state;
	struct sonde_param *host = param(ctx, "host");
	struct sonde_param *containerd = param(ctx, "containerd-socketpath");
	struct sonde_param *hold = param(ctx, "container-hold-timeout");
	struct sonde_container_watch_opts wo = {
	    .sz = sizeof(wo),
	    .containerd_socket = containerd ? sonde_param_value(containerd) : NULL,
	};
	int64_t hold_ns = hold ? sonde_param_duration_ns(hold) : 0;
	int err;

	/* rounded up (0 would mean the default), at most a day */
	if (hold_ns > 86400LL * 1000000000LL)
		hold_ns = 86400LL * 1000000000LL;
	wo.hold_timeout_ms = (int)((hold_ns + 999999) / 1000000);

	/* bad selector input fails before anything is created or loaded */
	err = parse_selector(lm);
	if (err)
		return err;
	/* --host alone traces everything; a selector narrows it again */
	lm->filter = !(host && sonde_param_bool(host)) || !sonde_container_selector_empty(lm->sel);
	lm->labels = labels_cache_new();
	if (!lm->labels)
		return -ENOMEM;
	/* uprobes on the host's own libraries only when the host is traced */
	lm->attach_host = !lm->filter;
	sonde_gadget_set_var(ctx, SONDE_VAR_ATTACH_HOST, &lm->attach_host);
	if (lm->filter) {
		const struct sonde_mntns_filter *f = sonde_gadget_mntns_filter(ctx);

		if (f) {
			err = sonde_mntns_filter_enable(f);
			if (err)
				return err;
			lm->mntns_filter = f;
		} else {
			sonde_debug("LocalManager: the gadget has no mount namespace filter: its records are "
			            "narrowed to the selected containers here");
		}
	}
	/* the containers known now fill the filter before the gadget is loaded */
	err = sonde_container_service_get(&wo, &lm->svc);
	if (err) {
		lm->svc = NULL;
		sonde_warn("LocalManager: cannot watch containers: %s", strerror(-err));
		hide_empty_container_column(lm);
		return 0;
	}
	lm->set = sonde_container_service_set(lm->svc);
	lm->sub_id = sonde_container_service_subscribe(lm->svc, on_container, lm);
	if (lm->sub_id < 0) {
		err = lm->sub_id;
		lm->sub_id = 0;
		return err;
	}
	hide_empty_container_column(lm);
	return 0;
}

static int lm_start(struct sonde_gadget_ctx *ctx, void *state)
{
	struct lm *lm = state;

	for (size_t i = 0; i < lm->ndss; i++) {
		struct lm_ds *d = &lm->dss[i];

		d->requested = false;
		for (size_t k = 0; k < NFIELDS; k++) {
			d->want[k] = sonde_field_is_requested(d->f[k]);
			d->requested |= d->want[k];
		}
	}
	if (!lm->svc)
		return 0;
	/* published by the ebpf operator's start, which runs before ours; the
	 * watcher's thread reads it in our callback */
	sonde_container_service_wrlock(lm->svc);
	lm->attacher = sonde_gadget_var(ctx, SONDE_VAR_CONTAINER_ATTACHER);
	for (size_t i = 0; lm->attacher && i < sonde_containers_count(lm->set); i++)
		attach_sync(lm, sonde_containers_at(lm->set, i), false);
	sonde_debug("LocalManager: %zu containers%s", sonde_containers_count(lm->set),
	            lm->mntns_filter ? ", filtering in the kernel" : "");
	sonde_container_service_unlock(lm->svc);
	return 0;
}

static int lm_stop(struct sonde_gadget_ctx *ctx, void *state)
{
	struct lm *lm = state;

	/* before the gadget (stopped after us) detaches what it attached; the
	 * collection stays for the records still drained (released in close) */
	unsubscribe(lm);
	lm->attacher = NULL; /* the gadget detaches everything itself */
	return 0;
}

/* A run that failed before its start still leaves the watcher's callbacks. */
static int lm_post_stop(struct sonde_gadget_ctx *ctx, void *state)
{
	unsubscribe(state);
	return 0;
}

static void lm_close(struct sonde_gadget_ctx *ctx, void *state)
{
	lm_free(state);
}

const struct sonde_operator local_manager_operator = {
    .name = "LocalManager",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_CONTAINERS,
    .instance_params = lm_params,
    .ninstance_params = sizeof(lm_params) / sizeof(lm_params[0]),
    .instantiate = lm_instantiate,
    .pre_start = lm_pre_start,
    .start = lm_start,
    .stop = lm_stop,
    .post_stop = lm_post_stop,
    .close = lm_close,
};
