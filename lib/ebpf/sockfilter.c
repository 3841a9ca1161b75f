/* Socket filters (`socket`, `socket1`, … sections), spec §2.8.
 *
 * A socket filter sees packets only through a socket, and a raw AF_PACKET
 * socket sees every packet of its network namespace. So each selected
 * network namespace (the host's with the host selection, and each selected
 * container's) gets one such socket, made inside the namespace, with a
 * dispatcher attached that tells the gadget's program which namespace the
 * packet is from (skb->cb[0]). Containers of one pod share a namespace and
 * share its attachment; it goes when the last of them goes. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sonde/containers.h>
#include <sonde/log.h>

#include "internal.h"

#define HOST_ID "<host>"

struct sf_att {
	uint64_t netns;
	int sock_fd;
	int disp_fd;
	struct ebpf_att_users users; /* container ids (HOST_ID for the host) */
};

struct sf_prog {
	struct bpf_program *prog;
	int array_fd;
	struct sf_att *atts;
	size_t natts;
};

struct ebpf_sockfilters {
	struct sf_prog *progs;
	size_t nprogs;
};

static bool is_sockfilter(struct bpf_program *prog)
{
	return bpf_program__autoload(prog) &&
	       ebpf_section_kind(ebpf_prog_section(prog), NULL) == EBPF_SEC_SOCKET;
}

static void att_close(struct sf_att *a)
{
	ebpf_att_users_free(&a->users);
	if (a->sock_fd >= 0)
		close(a->sock_fd); /* detaches the dispatcher */
	if (a->disp_fd >= 0)
		close(a->disp_fd);
}

struct open_sock {
	int disp_fd;
	int fd;
};

/* Runs inside the namespace: the socket belongs to where it was created. */
static int open_sock_in_netns(void *arg)
{
	struct open_sock *o = arg;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	int fd, err;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0)
		return -errno;
	/* ifindex 0: every interface of the namespace */
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &o->disp_fd, sizeof(o->disp_fd))) {
		err = -errno;
		close(fd);
		return err;
	}
	o->fd = fd;
	return 0;
}

/* Attaches every socket filter in the namespace nsfd (inode netns) for user id. */
static int attach_netns(struct ebpf_gadget *g, const char *id, const char *shown, int nsfd, uint64_t netns,
                        bool strict)
{
	struct ebpf_sockfilters *sf = g->sockfilters;

	for (size_t i = 0; i < sf->nprogs; i++) {
		struct sf_prog *p = &sf->progs[i];
		struct sf_att na = {.netns = netns, .sock_fd = -1, .disp_fd = -1};
		struct open_sock o = {.fd = -1};
		size_t k;
		char why[1200];
		int err;

		for (k = 0; k < p->natts; k++)
			if (p->atts[k].netns == netns)
				break;
		if (k < p->natts) {
			err = ebpf_att_users_add(&p->atts[k].users, id);
			if (err)
				return err;
			continue;
		}
		na.disp_fd = ebpf_dispatcher_load(BPF_PROG_TYPE_SOCKET_FILTER, p->array_fd, (uint32_t)netns,
		                                  why, sizeof(why));
		if (na.disp_fd < 0) {
			sonde_log(strict ? SONDE_LOG_ERROR : SONDE_LOG_WARN, "program '%s' (%s): %s: %s",
			          bpf_program__name(p->prog), ebpf_prog_section(p->prog), shown, why);
			return na.disp_fd;
		}
		o.disp_fd = na.disp_fd;
		err = ebpf_in_netns(nsfd, open_sock_in_netns, &o);
		if (err) {
			sonde_log(strict ? SONDE_LOG_ERROR : SONDE_LOG_WARN,
			          "program '%s' (%s): %s: cannot attach a packet socket in network namespace "
			          "%" PRIu64 ": %s",
			          bpf_program__name(p->prog), ebpf_prog_section(p->prog), shown, netns,
			          strerror(-err));
			close(na.disp_fd);
			return err;
		}
		na.sock_fd = o.fd;
		if (ebpf_att_users_add(&na.users, id) || append_array(&p->atts, &p->natts, &na, sizeof(na))) {
			att_close(&na);
			return -ENOMEM;
		}
		sonde_debug("ebpf: socket filter '%s' attached in network namespace %" PRIu64 " (%s)",
		            bpf_program__name(p->prog), netns, shown);
	}
	return 0;
}

/* Drops id from every attachment; those nobody uses any more are closed. */
static void release(struct ebpf_gadget *g, const char *id)
{
	struct ebpf_sockfilters *sf = g->sockfilters;

	for (size_t i = 0; sf && i < sf->nprogs; i++) {
		struct sf_prog *p = &sf->progs[i];

		for (size_t k = 0; k < p->natts;) {
			struct sf_att *a = &p->atts[k];

			if (ebpf_att_users_drop(&a->users, id)) {
				att_close(a);
				*a = p->atts[--p->natts];
				continue;
			}
			k++;
		}
	}
}

static int attach_pid(struct ebpf_gadget *g, const char *id, const char *shown, uint32_t pid, bool strict)
{
	uint64_t netns = 0;
	int nsfd = ebpf_netns_open(pid, &netns), err;

	if (nsfd < 0) {
		sonde_log(strict ? SONDE_LOG_ERROR : SONDE_LOG_WARN,
		          "socket filters: %s: cannot open its network namespace: %s", shown,
		          strerror(-nsfd));
		return nsfd;
	}
	err = attach_netns(g, id, shown, nsfd, netns, strict);
	close(nsfd);
	if (err)
		release(g, id); /* what attached for this user in the other programs */
	return err;
}

int ebpf_sockfilters_start(struct ebpf_gadget *g, bool host)
{
	struct bpf_program *prog;
	int err = 0;

	bpf_object__for_each_program(prog, g->obj)
	{
		struct sf_prog p = {.prog = prog};

		if (!is_sockfilter(prog))
			continue;
		if (!g->sockfilters) {
			g->sockfilters = calloc(1, sizeof(*g->sockfilters));
			if (!g->sockfilters)
				return -ENOMEM;
		}
		p.array_fd = ebpf_dispatch_array(bpf_program__fd(prog), bpf_program__name(prog));
		if (p.array_fd < 0) {
			ebpf_sockfilters_stop(g);
			return p.array_fd;
		}
		if (append_array(&g->sockfilters->progs, &g->sockfilters->nprogs, &p, sizeof(p))) {
			close(p.array_fd);
			ebpf_sockfilters_stop(g);
			return -ENOMEM;
		}
	}
	if (g->sockfilters && host)
		err = attach_pid(g, HOST_ID, "host", 0, true);
	if (err)
		ebpf_sockfilters_stop(g);
	return err;
}

void ebpf_sockfilters_attach_container(struct ebpf_gadget *g, const struct sonde_container *c)
{
	char shown[300];

	if (!g->sockfilters)
		return;
	snprintf(shown, sizeof(shown), "container %s", c->name);
	/* a failure is logged; the others (and the host) keep running */
	attach_pid(g, c->id, shown, c->pid, false);
}

void ebpf_sockfilters_detach_container(struct ebpf_gadget *g, const struct sonde_container *c)
{
	release(g, c->id);
}

void ebpf_sockfilters_stop(struct ebpf_gadget *g)
{
	struct ebpf_sockfilters *sf = g->sockfilters;

	if (!sf)
		return;
	for (size_t i = 0; i < sf->nprogs; i++) {
		for (size_t k = 0; k < sf->progs[i].natts; k++)
			att_close(&sf->progs[i].atts[k]);
		free(sf->progs[i].atts);
		close(sf->progs[i].array_fd);
	}
	free(sf->progs);
	free(sf);
	g->sockfilters = NULL;
}
