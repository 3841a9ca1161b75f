/* sonde list-containers [-o columns|json] [selector flags] [-w]: the
 * container collection as the LocalManager operator sees it, narrowed by the
 * same container selector as `sonde run` (-c, --k8s-namespace, …). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sonde/container_selector.h>
#include <sonde/containers.h>
#include <sonde/sonde.h>

#include "cmd.h"
#include "privileges.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
}

static json_t *to_json(const struct sonde_container *c)
{
	json_t *ann = json_object(), *labels = json_object(), *runtime, *k8s, *j;

	for (size_t i = 0; i < c->nannotations; i++)
		json_object_set_new(ann, c->ann_keys[i], json_string(c->ann_values[i]));
	/* an object, as upstream's list-containers (events carry the k=v text) */
	for (size_t i = 0; i < c->nlabels; i++)
		json_object_set_new(labels, c->label_keys[i], json_string(c->label_values[i]));
	runtime =
	    json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:s}", "runtimeName", c->runtime, "containerId", c->id,
	              "containerName", c->name, "containerPid", (json_int_t)c->pid, "containerImageName",
	              c->image_name, "containerImageDigest", c->image_digest, "containerStartedAt",
	              (json_int_t)c->started_at_ns, "runtimeNamespace", c->runtime_namespace);
	k8s = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "namespace", c->k8s_namespace, "podName",
	                c->k8s_pod_name, "containerName", c->k8s_container_name, "podUID", c->k8s_pod_uid,
	                "podLabels", labels, "podIP", c->pod_ip);
	j = json_pack("{s:o,s:o,s:I,s:I,s:b,s:s,s:b,s:s,s:I,s:s,s:o}", "runtime", runtime, "k8s", k8s,
	              "mntns", (json_int_t)c->mntns, "netns", (json_int_t)c->netns, "hostNetwork",
	              c->host_network, "sandboxId", c->sandbox_id, "sandbox", c->k8s_sandbox, "cgroupPath",
	              c->cgroup_path, "cgroupID", (json_int_t)c->cgroup_id, "bundle", c->bundle,
	              "annotations", ann);
	return j;
}

static void print_json(const struct sonde_container *c, const char *event)
{
	json_t *j = to_json(c);
	char *s;

	if (event)
		j = json_pack("{s:s,s:o}", "type", event, "container", j);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(j);
}

static void print_row(const struct sonde_container *c, const char *event)
{
	if (event)
		printf("%-8s ", event);
	/* ids cut to 13 characters, as upstream's containerId column (full ids in -o json) */
	printf("%-10s %-13.13s %-24s %-8u %-12llu %-12llu %s\n", c->runtime, c->id, c->name, c->pid,
	       (unsigned long long)c->mntns, (unsigned long long)c->netns, c->cgroup_path);
}

static void print_header(bool watch)
{
	if (watch)
		printf("%-8s ", "EVENT");
	printf("%-10s %-13s %-24s %-8s %-12s %-12s %s\n", "RUNTIME", "CONTAINERID", "CONTAINERNAME", "PID",
	       "MNTNS", "NETNS", "CGROUP");
}

struct opts {
	bool json;
	bool watch;
	struct sonde_container_selector_opts sel_opts;
	struct sonde_container_selector *sel;
	const char *containerd_socket;
};

static void on_change(struct sonde_containers *set, enum sonde_container_event ev,
                      const struct sonde_container *c, void *arg)
{
	const struct opts *o = arg;
	const char *what = ev == SONDE_CONTAINER_ADDED     ? "added"
	                   : ev == SONDE_CONTAINER_REMOVED ? "removed"
	                                                   : "updated";

	if (!sonde_container_selector_match(o->sel, c))
		return;
	if (o->json)
		print_json(c, what);
	else
		print_row(c, what);
	fflush(stdout);
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: sonde list-containers [flags]\n\n"
	    "Flags:\n"
	    "  -o, --output MODE                  columns (default) or json\n"
	    "  -c, --containername NAMES          only these containers (also --runtime-containername)\n"
	    "      --k8s-namespace NAMES          only containers in these Kubernetes namespaces\n"
	    "      --k8s-podname NAMES            only containers of these pods\n"
	    "      --k8s-containername NAMES      only these Kubernetes container names\n"
	    "      --k8s-selector LABELS          only pods with all these labels (key=value,key!=value)\n"
	    "  -w, --watch                        then print containers as they are added, updated and "
	    "removed\n"
	    "      --containerd-socketpath PATH   containerd's socket (default "
	    "/run/containerd/containerd.sock)\n"
	    "  -h, --help                         this help\n\n"
	    "NAMES are comma-separated; a name starting with ! excludes it.\n");
}

/* Flags that take a value, and where it goes. */
static const char **flag_target(struct opts *o, const char *flag, const char **output)
{
	static const struct {
		const char *shorthand, *name;
		size_t off; /* in struct sonde_container_selector_opts, or -1 */
	} flags[] = {
	    {"o", "output", (size_t)-1},
	    {"c", "containername", offsetof(struct sonde_container_selector_opts, containername)},
	    {NULL, "runtime-containername", offsetof(struct sonde_container_selector_opts, containername)},
	    {NULL, "k8s-namespace", offsetof(struct sonde_container_selector_opts, k8s_namespace)},
	    {NULL, "k8s-podname", offsetof(struct sonde_container_selector_opts, k8s_podname)},
	    {NULL, "k8s-containername", offsetof(struct sonde_container_selector_opts, k8s_containername)},
	    {NULL, "k8s-selector", offsetof(struct sonde_container_selector_opts, k8s_selector)},
	    {NULL, "containerd-socketpath", (size_t)-2},
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		bool match = flag[0] == '-' && flag[1] == '-' ? !strcmp(flag + 2, flags[i].name)
		             : flags[i].shorthand             ? !strcmp(flag + 1, flags[i].shorthand)
		                                              : false;
		if (!match)
			continue;
		if (flags[i].off == (size_t)-1)
			return output;
		if (flags[i].off == (size_t)-2)
			return &o->containerd_socket;
		return (const char **)((char *)&o->sel_opts + flags[i].off);
	}
	return NULL;
}

static int parse(int argc, char **argv, struct opts *o)
{
	char err[512];

	o->sel_opts.sz = sizeof(o->sel_opts);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *output = NULL, **target;
		char flag[64];
		const char *eq = strchr(a, '=');

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(a, "-w") || !strcmp(a, "--watch")) {
			o->watch = true;
			continue;
		}
		snprintf(flag, sizeof(flag), "%.*s", eq ? (int)(eq - a) : (int)strlen(a), a);
		target = a[0] == '-' ? flag_target(o, flag, &output) : NULL;
		if (target)
			v = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
		if (!v) {
			cli_error("unknown or incomplete flag \"%s\" (see sonde list-containers --help)", a);
			return -EINVAL;
		}
		*target = v;
		if (target != &output)
			continue;
		if (!strcmp(v, "json")) {
			o->json = true;
		} else if (strcmp(v, "columns")) {
			cli_error("invalid output mode \"%s\": use columns or json", v);
			return -EINVAL;
		}
	}
	if (sonde_container_selector_parse(&o->sel_opts, &o->sel, err, sizeof(err))) {
		cli_error("%s", err);
		return -EINVAL;
	}
	return 0;
}

int cmd_list_containers(int argc, char **argv)
{
	struct sonde_container_watch_opts wo = {.sz = sizeof(wo)};
	struct sonde_container_watcher *w = NULL;
	struct sonde_containers *set;
	struct opts o = {0};
	json_t *arr;
	int r = parse(argc, argv, &o);

	if (r)
		return r > 0 ? 0 : 1;
	if (!cli_can_read_containers("sonde list-containers")) {
		sonde_container_selector_free(o.sel);
		return 1;
	}
	set = sonde_containers_new();
	if (!set) {
		cli_error("out of memory");
		sonde_container_selector_free(o.sel);
		return 1;
	}
	wo.no_live = !o.watch;
	wo.containerd_socket = o.containerd_socket;
	r = sonde_container_watcher_new(set, &wo, &w);
	if (r) {
		cli_error("cannot read the containers: %s", strerror(-r));
		sonde_containers_free(set);
		sonde_container_selector_free(o.sel);
		return 1;
	}
	arr = json_array();
	if (!o.json)
		print_header(o.watch);
	for (size_t i = 0; i < sonde_containers_count(set); i++) {
		const struct sonde_container *c = sonde_containers_at(set, i);

		if (!sonde_container_selector_match(o.sel, c))
			continue;
		if (o.json && !o.watch)
			json_array_append_new(arr, to_json(c));
		else if (o.json)
			print_json(c, "added");
		else
			print_row(c, o.watch ? "added" : NULL);
	}
	if (o.json && !o.watch) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		if (s)
			printf("%s\n", s);
		free(s);
	}
	json_decref(arr);
	fflush(stdout);
	if (o.watch) {
		struct sigaction sa = {.sa_handler = on_signal};

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sonde_containers_subscribe(set, on_change, &o);
		while (!stop_requested) {
			struct pollfd pfd = {.fd = sonde_container_watcher_fd(w), .events = POLLIN};

			if (poll(&pfd, 1, -1) > 0)
				sonde_container_watcher_process(w);
		}
	}
	sonde_container_watcher_free(w);
	sonde_containers_free(set);
	sonde_container_selector_free(o.sel);
	return 0;
}
