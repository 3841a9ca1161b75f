/* The network namespaces that tcp and udp iterators run in (spec §2.8).
 *
 * A tcp or udp BPF iterator lists the sockets of the network namespace of
 * the task that opens it. So each fetch opens one per selected namespace:
 * the host's when the host is traced, and each selected container's (pods
 * share one). The set follows the containers through the attacher, called
 * from the container watcher's thread while fetches run on the gadget's
 * loop: a mutex keeps the two apart. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <sonde/containers.h>
#include <sonde/log.h>

#include "internal.h"

#define HOST_ID "<host>"

struct in_entry {
	uint64_t netns;
	int fd;
	struct ebpf_att_users users;
};

struct ebpf_iter_netns {
	pthread_mutex_t lock;
	struct in_entry *v;
	size_t n;
};

bool ebpf_iter_per_netns(const struct bpf_program *prog)
{
	const char *sec = ebpf_prog_section(prog);

	return strcmp(sec, "iter/tcp") == 0 || strcmp(sec, "iter/udp") == 0;
}

static bool needed(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->niters; i++)
		for (size_t k = 0; k < g->iters[i].nprogs; k++)
			if (bpf_program__autoload(g->iters[i].progs[k]) &&
			    ebpf_iter_per_netns(g->iters[i].progs[k]))
				return true;
	return false;
}

static int add(struct ebpf_gadget *g, const char *id, const char *shown, uint32_t pid)
{
	struct ebpf_iter_netns *s = g->iter_netns;
	struct in_entry e = {.fd = -1};
	int fd, err = 0;
	size_t k;

	fd = ebpf_netns_open(pid, &e.netns);
	if (fd < 0) {
		sonde_warn("socket iterators: %s: cannot open its network namespace: %s", shown,
		           strerror(-fd));
		return fd;
	}
	pthread_mutex_lock(&s->lock);
	for (k = 0; k < s->n; k++)
		if (s->v[k].netns == e.netns)
			break;
	if (k < s->n) {
		close(fd);
		err = ebpf_att_users_add(&s->v[k].users, id);
	} else {
		e.fd = fd;
		err = ebpf_att_users_add(&e.users, id);
		if (!err && append_array(&s->v, &s->n, &e, sizeof(e)))
			err = -ENOMEM;
		if (err) {
			ebpf_att_users_free(&e.users);
			close(fd);
		} else {
			sonde_debug("ebpf: socket iterators run in network namespace %" PRIu64 " (%s)",
			            e.netns, shown);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int ebpf_iter_netns_start(struct ebpf_gadget *g, bool host)
{
	if (!needed(g))
		return 0;
	g->iter_netns = calloc(1, sizeof(*g->iter_netns));
	if (!g->iter_netns)
		return -ENOMEM;
	pthread_mutex_init(&g->iter_netns->lock, NULL);
	if (host) {
		int err = add(g, HOST_ID, "host", 0);

		if (err) {
			ebpf_iter_netns_stop(g);
			return err;
		}
	}
	return 0;
}

void ebpf_iter_netns_attach_container(struct ebpf_gadget *g, const struct sonde_container *c)
{
	char shown[300];

	if (!g->iter_netns)
		return;
	snprintf(shown, sizeof(shown), "container %s", c->name);
	add(g, c->id, shown, c->pid); /* a failure is logged; the others keep running */
}

void ebpf_iter_netns_detach_container(struct ebpf_gadget *g, const struct sonde_container *c)
{
	struct ebpf_iter_netns *s = g->iter_netns;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (size_t k = 0; k < s->n;) {
		if (ebpf_att_users_drop(&s->v[k].users, c->id)) {
			ebpf_att_users_free(&s->v[k].users);
			close(s->v[k].fd);
			s->v[k] = s->v[--s->n];
			continue;
		}
		k++;
	}
	pthread_mutex_unlock(&s->lock);
}

void ebpf_iter_netns_stop(struct ebpf_gadget *g)
{
	struct ebpf_iter_netns *s = g->iter_netns;

	if (!s)
		return;
	for (size_t k = 0; k < s->n; k++) {
		ebpf_att_users_free(&s->v[k].users);
		close(s->v[k].fd);
	}
	free(s->v);
	pthread_mutex_destroy(&s->lock);
	free(s);
	g->iter_netns = NULL;
}

int ebpf_iter_netns_each(struct ebpf_gadget *g, int (*fn)(void *arg, int nsfd, uint64_t netns), void *arg)
{
	struct ebpf_iter_netns *s = g->iter_netns;
	int err = 0;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	for (size_t k = 0; k < s->n && !err; k++)
		err = fn(arg, s->v[k].fd, s->v[k].netns);
	pthread_mutex_unlock(&s->lock);
	return err;
}
