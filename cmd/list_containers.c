/* sonde list-containers [-o columns|json] [selector flags] [-w]: the
 * container collection as the LocalManager operator sees it, narrowed by the
 * same container selector as `sonde run` (-c, --k8s-namespace, …). */
#include <errno.h>
#include <stddef.h>
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
#include "completion.h"
#include "flags.h"
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

/* The flags, their help and where their values go. */
enum lc_target { LC_OUTPUT, LC_WATCH, LC_HELP, LC_SOCKET, LC_SELECTOR };

static const struct lc_flag {
	struct flag_desc flag; /* first: the flag reader's view */
	enum lc_target target;
	size_t off; /* LC_SELECTOR: in struct sonde_container_selector_opts */
} lc_flags[] = {
    {{"output", 'o', "MODE", "columns (default) or json"}, LC_OUTPUT, 0},
    {{"containername", 'c', "NAMES", "only these containers"},
     LC_SELECTOR,
     offsetof(struct sonde_container_selector_opts, containername)},
    {{"runtime-containername", 0, "NAMES", "the same as --containername"},
     LC_SELECTOR,
     offsetof(struct sonde_container_selector_opts, containername)},
    {{"k8s-namespace", 0, "NAMES", "only containers in these Kubernetes namespaces"},
     LC_SELECTOR,
     offsetof(struct sonde_container_selector_opts, k8s_namespace)},
    {{"k8s-podname", 0, "NAMES", "only containers of these pods"},
     LC_SELECTOR,
     offsetof(struct sonde_container_selector_opts, k8s_podname)},
    {{"k8s-containername", 0, "NAMES", "only these Kubernetes container names"},
     LC_SELECTOR,
     offsetof(struct sonde_container_selector_opts, k8s_containername)},
    {{"k8s-selector", 0, "LABELS", "only pods with all these labels (key=value,key!=value)"},
     LC_SELECTOR,
     offsetof(struct sonde_container_selector_opts, k8s_selector)},
    {{"watch", 'w', NULL, "then print containers as they are added, updated and removed"}, LC_WATCH, 0},
    {{"containerd-socketpath", 0, "PATH", "containerd's socket (default /run/containerd/containerd.sock)"},
     LC_SOCKET,
     0},
    {{"help", 'h', NULL, "this help"}, LC_HELP, 0},
};
#define NLC_FLAGS (sizeof(lc_flags) / sizeof(lc_flags[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: sonde list-containers [flags]\n\nFlags:\n");
	flags_print_table(out, &lc_flags[0].flag, NLC_FLAGS, sizeof(lc_flags[0]), 34);
	fprintf(out, "\nNAMES are comma-separated; a name starting with ! excludes it.\n");
}

static enum flag_lookup lookup_lc_flag(void *arg, const char *name, char shorthand, struct flag *out)
{
	return flags_find(&lc_flags[0].flag, NLC_FLAGS, sizeof(lc_flags[0]), name, shorthand, out);
}

void list_containers_complete_flags(const char *prefix)
{
	for (size_t i = 0; i < NLC_FLAGS; i++)
		complete_flag(prefix, lc_flags[i].flag.shorthand, lc_flags[i].flag.name);
}

/* 1: help was printed; 0: go on; -EINVAL after one error line. */
static int parse(int argc, char **argv, struct opts *o)
{
	struct flag_parser parser;
	const char *value;
	struct flag flag;
	char err[512];
	int r;

	o->sel_opts.sz = sizeof(o->sel_opts);
	flags_init(&parser, argc, argv, 1, lookup_lc_flag, NULL);
	parser.help_hint = " (see sonde list-containers --help)";
	while ((r = flags_next(&parser, &flag, &value)) > 0) {
		const struct lc_flag *f = flag.id;

		if (r == FLAGS_POSITIONAL) {
			cli_error("unexpected argument \"%s\" (see sonde list-containers --help)", value);
			return -EINVAL;
		}
		switch (f->target) {
		case LC_HELP:
			usage(stdout);
			return 1;
		case LC_WATCH:
			o->watch = !value || strcmp(value, "false");
			break;
		case LC_SOCKET:
			o->containerd_socket = value;
			break;
		case LC_SELECTOR:
			*(const char **)((char *)&o->sel_opts + f->off) = value;
			break;
		case LC_OUTPUT:
			if (strcmp(value, "json") && strcmp(value, "columns")) {
				cli_error("invalid output mode \"%s\": use columns or json", value);
				return -EINVAL;
			}
			o->json = !strcmp(value, "json");
			break;
		}
	}
	if (r < 0)
		return r;
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
