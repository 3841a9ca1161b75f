/* sonde list-containers [-o columns|json] [-c NAME] [-w]: the container
 * collection as the containers operator sees it (runc and crun state). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sonde/containers.h>
#include <sonde/sonde.h>

#include "cmd.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = 1;
}

static json_t *to_json(const struct sonde_container *c)
{
	json_t *ann = json_object();

	for (size_t i = 0; i < c->nannotations; i++)
		json_object_set_new(ann, c->ann_keys[i], json_string(c->ann_values[i]));
	return json_pack(
	    "{s:{s:s,s:s,s:s,s:I,s:s,s:s,s:I},s:{s:s,s:s,s:s,s:s},s:I,s:I,s:s,s:I,s:s,s:o}", "runtime",
	    "runtimeName", c->runtime, "containerId", c->id, "containerName", c->name, "containerPid",
	    (json_int_t)c->pid, "containerImageName", c->image_name, "containerImageDigest", c->image_digest,
	    "containerStartedAt", (json_int_t)c->started_at_ns, "k8s", "namespace", c->k8s_namespace,
	    "podName", c->k8s_pod_name, "containerName", c->k8s_container_name, "podUID", c->k8s_pod_uid,
	    "mntns", (json_int_t)c->mntns, "netns", (json_int_t)c->netns, "cgroupPath", c->cgroup_path,
	    "cgroupID", (json_int_t)c->cgroup_id, "bundle", c->bundle, "annotations", ann);
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
	printf("%-8s %-16.64s %-24s %-8u %-12llu %-12llu %s\n", c->runtime, c->id, c->name, c->pid,
	       (unsigned long long)c->mntns, (unsigned long long)c->netns, c->cgroup_path);
}

static void print_header(bool watch)
{
	if (watch)
		printf("%-8s ", "EVENT");
	printf("%-8s %-16s %-24s %-8s %-12s %-12s %s\n", "RUNTIME", "CONTAINERID", "CONTAINERNAME", "PID",
	       "MNTNS", "NETNS", "CGROUP");
}

struct opts {
	bool json;
	bool watch;
	const char *name;
	const char *containerd_socket;
};

static void on_change(struct sonde_containers *set, enum sonde_container_event ev,
                      const struct sonde_container *c, void *arg)
{
	const struct opts *o = arg;
	const char *what = ev == SONDE_CONTAINER_ADDED ? "added" : "removed";

	if (o->name && strcmp(o->name, c->name))
		return;
	if (o->json)
		print_json(c, what);
	else
		print_row(c, what);
	fflush(stdout);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: sonde list-containers [flags]\n\n"
	             "Flags:\n"
	             "  -o, --output MODE          columns (default) or json\n"
	             "  -c, --containername NAME   only this container\n"
	             "  -w, --watch                then print containers as they are added and removed\n"
	             "      --containerd-socketpath PATH   containerd's socket (default "
	             "/run/containerd/containerd.sock)\n"
	             "  -h, --help                 this help\n");
}

static int parse(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 1;
		}
		if (!strcmp(a, "-w") || !strcmp(a, "--watch")) {
			o->watch = true;
			continue;
		}
		if (!strncmp(a, "--output=", 9) || !strncmp(a, "-o=", 3))
			v = strchr(a, '=') + 1;
		else if (!strncmp(a, "--containername=", 16) || !strncmp(a, "-c=", 3))
			v = strchr(a, '=') + 1;
		else if (!strncmp(a, "--containerd-socketpath=", 24))
			v = strchr(a, '=') + 1;
		else if ((!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "-c") ||
		          !strcmp(a, "--containername") || !strcmp(a, "--containerd-socketpath")) &&
		         i + 1 < argc)
			v = argv[++i];
		if (!v) {
			cli_error("unknown or incomplete flag \"%s\" (see sonde list-containers --help)", a);
			return -EINVAL;
		}
		if (!strncmp(a, "--containerd-socketpath", 23)) {
			o->containerd_socket = v;
		} else if (a[1] == 'c' || !strncmp(a, "--containername", 15)) {
			o->name = v;
		} else if (!strcmp(v, "json")) {
			o->json = true;
		} else if (strcmp(v, "columns")) {
			cli_error("invalid output mode \"%s\": use columns or json", v);
			return -EINVAL;
		}
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
		return r > 0 ? 0 : 2;
	set = sonde_containers_new();
	if (!set) {
		cli_error("out of memory");
		return 1;
	}
	wo.no_live = !o.watch;
	wo.containerd_socket = o.containerd_socket;
	r = sonde_container_watcher_new(set, &wo, &w);
	if (r) {
		cli_error("cannot read the containers: %s", strerror(-r));
		sonde_containers_free(set);
		return 1;
	}
	arr = json_array();
	if (!o.json)
		print_header(o.watch);
	for (size_t i = 0; i < sonde_containers_count(set); i++) {
		const struct sonde_container *c = sonde_containers_at(set, i);

		if (o.name && strcmp(o.name, c->name))
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
	return 0;
}
