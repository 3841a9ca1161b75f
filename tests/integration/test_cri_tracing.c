/* Pods end to end through containerd's CRI plugin: a private containerd
 * (containerd_env.h) runs pod sandboxes (host network, the static pause
 * image) and busybox containers in them over runtime.v1, as kubelet would,
 * and sonde must name them from CRI: pod name, namespace, labels and the
 * container's name. Pod labels exist only in CRI's answers (not in the OCI
 * annotations), so they prove that sonde asked CRI. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "containerd_env.h"
#include "testlib.h"

#define K8S_NAMESPACE "sonde-test"

static const char *const web_labels[] = {"tier", "front", "app", "web", NULL};
static const char *const db_labels[] = {"app", "db", NULL};

/* A file name no other test opens; it does not exist in the image (the
 * failed open is traced all the same). */
static void unique_file(char *buf, size_t sz, const char *what)
{
	snprintf(buf, sz, "/sonde-cri-%s-%d-%ld", what, getpid(), random() % 100000);
}

/* A pod with one container running `script`; 0 or -1 (already reported). */
static int start_pod(struct ctrd_env *e, struct cri_pod *pod, const char *pod_name, const char *const *labels,
                     const char *ctr_name, const char *script, char *id, size_t idsz)
{
	const char *cmd[] = {"sh", "-c", script, NULL};

	if (cri_pod_run(e, pod, pod_name, K8S_NAMESPACE, labels) ||
	    cri_container_start(e, pod, ctr_name, cmd, id, idsz)) {
		test_failures++;
		return -1;
	}
	return 0;
}

static int start_sonde(struct sonde_proc *p, struct ctrd_env *e, const char *const *extra)
{
	const char *argv[16] = {"run",    "trace_open", "-o", "json", "-v", "--containerd-socketpath",
	                        e->socket};
	size_t n = 7;

	for (size_t k = 0; extra && extra[k] && n < 15; k++)
		argv[n++] = extra[k];
	argv[n] = NULL;
	return sonde_proc_start_running(p, argv);
}

/* Stops sonde; returns the records of cat opening one of fnames. */
static json_t *finish_sonde(struct sonde_proc *p, const char *const *fnames)
{
	json_t *all, *ev, *events = json_array();
	size_t i;
	int rc;

	rc = sonde_proc_finish(p, SIGINT, 10000);
	CHECK_INT(rc, 0);
	if (rc != 0)
		sonde_proc_print_errors(p);
	all = test_json_lines(p->out ? p->out : "");
	json_array_foreach(all, i, ev)
	{
		const char *f = test_json_str(ev, "fname"), *comm = test_json_str(ev, "proc.comm");

		for (size_t k = 0; f && comm && !strcmp(comm, "cat") && fnames[k]; k++)
			if (!strcmp(f, fnames[k]))
				json_array_append(events, ev);
	}
	if (json_array_size(events) == 0)
		fprintf(stderr, "no matching events; sonde stderr:\n%s\n", p->err ? p->err : "");
	json_decref(all);
	sonde_proc_free(p);
	return events;
}

static json_t *find(json_t *events, const char *fname)
{
	return test_json_find(events, "fname", fname);
}

static void check_web_event(struct ctrd_env *e, json_t *ev, const struct cri_pod *pod, const char *id)
{
	if (!ev) {
		fprintf(stderr, "no event of container web of pod %s\n", pod->name);
		test_failures++;
		return;
	}
	CHECK_STR(test_json_str(ev, "k8s.podName"), pod->name);
	CHECK_STR(test_json_str(ev, "k8s.namespace"), K8S_NAMESPACE);
	CHECK_STR(test_json_str(ev, "k8s.containerName"), "web");
	/* sorted by key, whatever order the pod was given them in */
	CHECK_STR(test_json_str(ev, "k8s.podLabels"), "app=web,tier=front");
	CHECK_STR(test_json_str(ev, "runtime.containerName"), "web");
	/* CRI's repo digest of an imported image is its manifest's, as containerd's own */
	ctrd_check_busybox_record(e, ev, id);
}

/* A pod started while sonde runs: its container, a second after its start,
 * opens a file; the event carries the pod's CRI metadata. */
static void test_cri_pod_enriched(void)
{
	struct ctrd_env *e = ctrd_env_setup();
	struct sonde_proc p;
	struct sonde_drain drain = {0};
	struct cri_pod pod;
	char pod_name[64], id[72] = "", file[96], script[160];
	const char *fnames[] = {file, NULL};
	json_t *events;

	if (!e)
		return;
	snprintf(pod_name, sizeof(pod_name), "sonde-pod-%d", getpid());
	unique_file(file, sizeof(file), "web");
	snprintf(script, sizeof(script), "sleep 1; cat %s; sleep 30", file);
	if (start_sonde(&p, e, NULL))
		goto out;
	sonde_drain_start(&drain, &p);
	start_pod(e, &pod, pod_name, web_labels, "web", script, id, sizeof(id));
	sonde_drain_stop(&drain);
	sonde_proc_wait_for(&p, 1, file, 5000);
	usleep(300 * 1000);
	events = finish_sonde(&p, fnames);
	check_web_event(e, find(events, file), &pod, id);
	json_decref(events);
out:
	ctrd_env_stop(e);
}

static json_t *listed(json_t *arr, const char *id)
{
	return test_json_find(arr, "runtime.containerId", id);
}

/* list-containers: the running container and its sandbox, both named from CRI. */
static void test_cri_list_containers(void)
{
	struct ctrd_env *e = ctrd_env_setup();
	const char *argv[] = {"list-containers",  "-o", "json", "--containerd-socketpath",
	                      e ? e->socket : "", NULL};
	struct cri_pod pod;
	char pod_name[64], id[72] = "", *out = NULL, *err = NULL;
	json_t *arr, *c;
	int rc;

	if (!e)
		return;
	snprintf(pod_name, sizeof(pod_name), "sonde-pod-ls-%d", getpid());
	if (start_pod(e, &pod, pod_name, web_labels, "web", "sleep 30", id, sizeof(id)))
		goto out;
	rc = sonde_run_cmd(argv, &out, &err, 20000);
	CHECK_INT(rc, 0);
	if (rc != 0)
		fprintf(stderr, "sonde list-containers exited with %d:\n%s\n", rc, err ? err : "");
	arr = json_loads(out ? out : "", 0, NULL);
	CHECK(json_is_array(arr));
	if (!json_is_array(arr))
		fprintf(stderr, "list-containers printed:\n%s\nstderr:\n%s\n", out ? out : "",
		        err ? err : "");
	c = listed(arr, id);
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(test_json_str(c, "runtime.runtimeName"), "containerd");
		CHECK_STR(test_json_str(c, "runtime.containerName"), "web");
		CHECK_STR(test_json_str(c, "k8s.containerName"), "web");
		CHECK_STR(test_json_str(c, "k8s.podName"), pod_name);
		CHECK_STR(test_json_str(c, "k8s.namespace"), K8S_NAMESPACE);
		CHECK_STR(test_json_str(c, "k8s.podUID"), pod.uid);
		CHECK_STR(test_json_str(c, "k8s.podLabels.app"), "web");
		CHECK_STR(test_json_str(c, "k8s.podLabels.tier"), "front");
		CHECK_STR(test_json_str(c, "sandboxId"), pod.id);
		CHECK(json_is_false(json_object_get(c, "sandbox")));
		CHECK(json_is_true(json_object_get(c, "hostNetwork")));
		CHECK(test_json_int(c, "runtime.containerPid", 0) > 1);
	}
	c = listed(arr, pod.id);
	if (!c)
		fprintf(stderr, "the sandbox %s is not listed:\n%s\n", pod.id, out ? out : "");
	CHECK(c != NULL);
	if (c) {
		CHECK_STR(test_json_str(c, "runtime.runtimeName"), "containerd");
		CHECK_STR(test_json_str(c, "k8s.podName"), pod_name);
		CHECK_STR(test_json_str(c, "k8s.namespace"), K8S_NAMESPACE);
		CHECK(json_is_true(json_object_get(c, "sandbox")));
	}
	json_decref(arr);
	free(out);
	free(err);
out:
	ctrd_env_stop(e);
}

/* Runs sonde with one selector flag while both pods' containers keep
 * opening their files; returns the records of those opens. Each container
 * counts its opens in /count: sonde stops only after the unwanted one has
 * opened its file twice while sonde ran, so its absence means something. */
static json_t *selector_run(struct ctrd_env *e, const char *flag, const char *value, const char *want,
                            const char *unwanted, const char *unwanted_id)
{
	const char *extra[] = {flag, value, NULL};
	const char *fnames[] = {want, unwanted, NULL};
	struct sonde_proc p;
	long before;

	if (start_sonde(&p, e, extra))
		return json_array();
	before = ctrd_task_wait_counter(e, "k8s.io", unwanted_id, "/count", 0, 10000);
	if (!sonde_proc_wait_for(&p, 1, want, 5000))
		fprintf(stderr, "%s %s: no open of %s within 5 s\n", flag, value, want);
	if (before < 0 ||
	    ctrd_task_wait_counter(e, "k8s.io", unwanted_id, "/count", before + 2, 10000) < before + 2)
		test_failures++;
	return finish_sonde(&p, fnames);
}

static void check_filtered_out(json_t *events, const char *fname, const char *flag, const char *value)
{
	if (find(events, fname))
		fprintf(stderr, "%s %s let the other pod's opens of %s through\n", flag, value, fname);
	CHECK(find(events, fname) == NULL);
}

/* Two pods already running when sonde starts, each container opening its
 * file every 200 ms: pod selectors keep one pod's opens and drop the
 * other's. The db pod is selected once too, so its absence elsewhere is not
 * just a dead container. */
static void test_cri_pod_selectors(void)
{
	struct ctrd_env *e = ctrd_env_setup();
	struct cri_pod web, db;
	char web_name[64], db_name[64], web_id[72] = "", db_id[72] = "", web_file[96], db_file[96];
	char web_script[192], db_script[192];
	json_t *events, *ev;

	if (!e)
		return;
	snprintf(web_name, sizeof(web_name), "sonde-pod-%d", getpid());
	snprintf(db_name, sizeof(db_name), "sonde-pod-db-%d", getpid());
	unique_file(web_file, sizeof(web_file), "web");
	unique_file(db_file, sizeof(db_file), "db");
	snprintf(web_script, sizeof(web_script),
	         "i=0; while :; do cat %s; i=$((i+1)); echo $i > /count; sleep 0.2; done", web_file);
	snprintf(db_script, sizeof(db_script),
	         "i=0; while :; do cat %s; i=$((i+1)); echo $i > /count; sleep 0.2; done", db_file);
	if (start_pod(e, &web, web_name, web_labels, "web", web_script, web_id, sizeof(web_id)) ||
	    start_pod(e, &db, db_name, db_labels, "db", db_script, db_id, sizeof(db_id)))
		goto out;

	events = selector_run(e, "--k8s-selector", "app=web", web_file, db_file, db_id);
	check_web_event(e, find(events, web_file), &web, web_id);
	check_filtered_out(events, db_file, "--k8s-selector", "app=web");
	json_decref(events);

	events = selector_run(e, "--k8s-podname", web_name, web_file, db_file, db_id);
	check_web_event(e, find(events, web_file), &web, web_id);
	check_filtered_out(events, db_file, "--k8s-podname", web_name);
	json_decref(events);

	events = selector_run(e, "--k8s-selector", "app=db", db_file, web_file, web_id);
	ev = find(events, db_file);
	CHECK(ev != NULL);
	if (ev) {
		CHECK_STR(test_json_str(ev, "k8s.podName"), db_name);
		CHECK_STR(test_json_str(ev, "k8s.containerName"), "db");
		CHECK_STR(test_json_str(ev, "k8s.podLabels"), "app=db");
		CHECK_STR(test_json_str(ev, "runtime.containerId"), db_id);
	}
	check_filtered_out(events, web_file, "--k8s-selector", "app=db");
	json_decref(events);
out:
	ctrd_env_stop(e);
}

TEST_MAIN(TEST(test_cri_pod_enriched), TEST(test_cri_list_containers), TEST(test_cri_pod_selectors))
