/* TC classifiers (`classifier/<ingress|egress>/<name>`), spec §2.8.
 *
 * With --iface, each classifier goes on that host interface in its own
 * direction. Without, it goes on the host-side veth peer of each selected
 * container's interfaces, direction inverted (what the container receives
 * leaves the host-side peer). Every attachment is a dispatcher (skb->cb[0]
 * = the netns the traffic belongs to) in a direct-action cls_bpf filter
 * under a clsact qdisc, at priority 1 with a handle the kernel picks.
 *
 * Other programs may share the interface: the clsact qdisc is created when
 * missing and never removed (removing it would drop their filters too, and
 * another may have been added between a check and the removal), filters are
 * removed by their own handle and priority only, and the dispatcher returns
 * TC_ACT_UNSPEC so that the filters after it still run. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sonde/containers.h>
#include <sonde/log.h>

#include "internal.h"

#define HOST_ID   "<iface>"
#define MAX_PEERS 16

struct tc_att {
	int ifindex;
	char ifname[IF_NAMESIZE];
	enum bpf_tc_attach_point dir;
	int disp_fd;
	uint32_t handle, priority;
	struct ebpf_att_users users;
};

struct tc_prog {
	struct bpf_program *prog;
	enum bpf_tc_attach_point dir; /* of the section */
	int array_fd;
	struct tc_att *atts;
	size_t natts;
};

struct ebpf_tc {
	struct tc_prog *progs;
	size_t nprogs;
	int host_nsfd; /* filters are managed from the host's network namespace */
};

static const char *dir_name(enum bpf_tc_attach_point d)
{
	return d == BPF_TC_INGRESS ? "ingress" : "egress";
}

static bool is_classifier(struct bpf_program *prog)
{
	return bpf_program__autoload(prog) &&
	       ebpf_section_kind(ebpf_prog_section(prog), NULL) == EBPF_SEC_CLASSIFIER;
}

/* "classifier/ingress/<name>" -> BPF_TC_INGRESS; -EINVAL for anything else. */
static int section_dir(const char *sec, enum bpf_tc_attach_point *dir)
{
	const char *target;
	const char *slash;

	ebpf_section_kind(sec, &target);
	slash = strchr(target, '/');
	if (!slash || !slash[1] || strchr(slash + 1, '/'))
		return -EINVAL;
	if ((size_t)(slash - target) == 7 && strncmp(target, "ingress", 7) == 0)
		*dir = BPF_TC_INGRESS;
	else if ((size_t)(slash - target) == 6 && strncmp(target, "egress", 6) == 0)
		*dir = BPF_TC_EGRESS;
	else
		return -EINVAL;
	return 0;
}

int ebpf_tc_params(struct ebpf_gadget *g)
{
	static const struct sonde_param_desc d = {
	    .key = "iface",
	    .description = "Network interface to attach to (in the host network namespace); empty: "
	                   "the host-side interfaces of the selected containers",
	};
	struct bpf_program *prog;
	bool any = false;

	bpf_object__for_each_program(prog, g->obj)
	{
		enum bpf_tc_attach_point dir;

		if (ebpf_section_kind(ebpf_prog_section(prog), NULL) != EBPF_SEC_CLASSIFIER)
			continue;
		if (section_dir(ebpf_prog_section(prog), &dir)) {
			sonde_err("program '%s' (%s): a classifier section must be classifier/ingress/<name> "
			          "or classifier/egress/<name>",
			          bpf_program__name(prog), ebpf_prog_section(prog));
			return -EINVAL;
		}
		any = true;
	}
	if (!any)
		return 0;
	g->iface = sonde_params_add(sonde_gadget_params(g->ctx), EBPF_PARAM_PREFIX, &d);
	if (!g->iface) {
		sonde_err("cannot add the iface param");
		return -EINVAL;
	}
	return 0;
}

static void att_close(struct ebpf_tc *tc, struct tc_att *a);

/* ---- work done in the host's network namespace ---- */

struct tc_work {
	struct ebpf_tc *tc;
	struct tc_att *a;
	const char *ifname; /* resolve this name, or use a->ifindex */
	const char *step;   /* what failed */
	char why[256];      /* libbpf's words (the kernel's extack), from the netns thread */
};

static int attach_in_host(void *arg)
{
	struct tc_work *w = arg;
	struct tc_att *a = w->a;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = a->dir);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = a->disp_fd, .priority = 1);
	int err;

	if (w->ifname) {
		a->ifindex = (int)if_nametoindex(w->ifname);
		if (!a->ifindex)
			return -ENODEV;
	}
	if (!if_indextoname((unsigned)a->ifindex, a->ifname))
		return -ENODEV;
	hook.ifindex = a->ifindex;
	ebpf_libbpf_log_reset();
	w->step = "cannot create its clsact qdisc";
	err = bpf_tc_hook_create(&hook);
	if (!err || err == -EEXIST) {
		w->step = "cannot attach a tc filter";
		err = bpf_tc_attach(&hook, &opts);
	}
	if (err) {
		snprintf(w->why, sizeof(w->why), "%s", ebpf_libbpf_reason());
		return err;
	}
	a->handle = opts.handle;
	a->priority = opts.priority;
	return 0;
}

static int detach_in_host(void *arg)
{
	struct tc_att *a = ((struct tc_work *)arg)->a;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = a->ifindex, .attach_point = a->dir);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = a->handle, .priority = a->priority);

	return bpf_tc_detach(&hook, &opts);
}

static void att_close(struct ebpf_tc *tc, struct tc_att *a)
{
	ebpf_att_users_free(&a->users);
	if (a->handle) {
		struct tc_work w = {.tc = tc, .a = a};
		int err = ebpf_in_netns(tc->host_nsfd, detach_in_host, &w);

		/* -ENOENT/-ENODEV: the interface went (a container's veth goes with it) */
		if (err && err != -ENOENT && err != -ENODEV && err != -EINVAL)
			sonde_warn("ebpf: cannot remove the tc filter on %s %s: %s", a->ifname,
			           dir_name(a->dir), strerror(-err));
	}
	if (a->disp_fd >= 0)
		close(a->disp_fd);
}

/* Attaches program p on one interface (ifname, or ifindex in the host). */
static int attach_iface(struct ebpf_tc *tc, struct tc_prog *p, const char *id, const char *shown,
                        const char *ifname, int ifindex, enum bpf_tc_attach_point dir, uint64_t netns,
                        bool strict)
{
	struct tc_att na = {.ifindex = ifindex, .dir = dir, .disp_fd = -1};
	struct tc_work w = {.tc = tc, .a = &na, .ifname = ifname};
	char why[1200];
	int err;

	for (size_t k = 0; !ifname && k < p->natts; k++)
		if (p->atts[k].ifindex == ifindex && p->atts[k].dir == dir)
			return ebpf_att_users_add(&p->atts[k].users, id);
	na.disp_fd =
	    ebpf_dispatcher_load(BPF_PROG_TYPE_SCHED_CLS, p->array_fd, (uint32_t)netns, why, sizeof(why));
	if (na.disp_fd < 0) {
		sonde_log(strict ? SONDE_LOG_ERROR : SONDE_LOG_WARN, "program '%s' (%s): %s: %s",
		          bpf_program__name(p->prog), ebpf_prog_section(p->prog), shown, why);
		return na.disp_fd;
	}
	err = ebpf_in_netns(tc->host_nsfd, attach_in_host, &w);
	if (err) {
		if (ifname && err == -ENODEV)
			sonde_err("program '%s' (%s): interface '%s' not found in the host network namespace",
			          bpf_program__name(p->prog), ebpf_prog_section(p->prog), ifname);
		else
			sonde_log(strict ? SONDE_LOG_ERROR : SONDE_LOG_WARN,
			          "program '%s' (%s): %s: %s on %s %s: %s%s%s", bpf_program__name(p->prog),
			          ebpf_prog_section(p->prog), shown,
			          w.step ? w.step : "cannot attach a tc filter", ifname ? ifname : na.ifname,
			          dir_name(dir), strerror(-err), *w.why ? "; " : "", w.why);
		close(na.disp_fd);
		return err;
	}
	if (ebpf_att_users_add(&na.users, id) || append_array(&p->atts, &p->natts, &na, sizeof(na))) {
		att_close(tc, &na);
		return -ENOMEM;
	}
	sonde_debug("ebpf: classifier '%s' attached on %s %s (handle %#x, priority %u)",
	            bpf_program__name(p->prog), na.ifname, dir_name(dir), na.handle, na.priority);
	return 0;
}

static void release(struct ebpf_tc *tc, const char *id)
{
	for (size_t i = 0; tc && i < tc->nprogs; i++) {
		struct tc_prog *p = &tc->progs[i];

		for (size_t k = 0; k < p->natts;) {
			struct tc_att *a = &p->atts[k];

			if (ebpf_att_users_drop(&a->users, id)) {
				att_close(tc, a);
				*a = p->atts[--p->natts];
				continue;
			}
			k++;
		}
	}
}

/* ---- host-side veth peers of a container ---- */

struct peers {
	int ifindex[MAX_PEERS];
	size_t n;
};

/* Inside the container's namespace: IFLA_LINK of each veth is its peer's
 * ifindex in the peer's namespace (the host's, for a container's veth). */
static int list_veth_peers(void *arg)
{
	struct peers *out = arg;
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
	    .nh = {.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
	           .nlmsg_type = RTM_GETLINK,
	           .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
	           .nlmsg_seq = 1},
	    .ifi = {.ifi_family = AF_UNSPEC},
	};
	/* a thread of its own (ebpf_in_netns): its stack has room */
	char buf[32768] __attribute__((aligned(8)));
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), err = 0;
	bool done = false;

	if (fd < 0)
		return -errno;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0) {
			err = -errno;
			break;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len); nh = NLMSG_NEXT(nh, len)) {
			struct ifinfomsg *ifi = NLMSG_DATA(nh);
			struct rtattr *rta = IFLA_RTA(ifi);
			int rlen = (int)IFLA_PAYLOAD(nh), link = 0;
			bool veth = false, elsewhere = false; /* the peer is in another netns */

			if (nh->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
				done = true;
				break;
			}
			for (; RTA_OK(rta, rlen); rta = RTA_NEXT(rta, rlen)) {
				if (rta->rta_type == IFLA_LINK && RTA_PAYLOAD(rta) >= 4)
					memcpy(&link, RTA_DATA(rta), 4);
				if (rta->rta_type == IFLA_LINK_NETNSID)
					elsewhere = true;
				if (rta->rta_type == IFLA_LINKINFO) {
					struct rtattr *in = RTA_DATA(rta);
					int ilen = (int)RTA_PAYLOAD(rta);

					for (; RTA_OK(in, ilen); in = RTA_NEXT(in, ilen))
						if (in->rta_type == IFLA_INFO_KIND &&
						    strncmp(RTA_DATA(in), "veth", RTA_PAYLOAD(in)) == 0)
							veth = true;
				}
			}
			if (veth && elsewhere && link > 0 && out->n < MAX_PEERS)
				out->ifindex[out->n++] = link;
		}
	}
out:
	close(fd);
	return err;
}

/* ---- lifecycle ---- */

int ebpf_tc_start(struct ebpf_gadget *g)
{
	const char *iface = g->iface ? sonde_param_value(g->iface) : NULL;
	struct bpf_program *prog;
	uint64_t host_netns = 0;
	int err = 0;

	bpf_object__for_each_program(prog, g->obj)
	{
		struct tc_prog p = {.prog = prog};

		if (!is_classifier(prog))
			continue;
		if (!g->tc) {
			g->tc = calloc(1, sizeof(*g->tc));
			if (!g->tc)
				return -ENOMEM;
			g->tc->host_nsfd = ebpf_netns_open(0, &host_netns);
			if (g->tc->host_nsfd < 0) {
				err = g->tc->host_nsfd;
				sonde_err("program '%s' (%s): cannot open the host network namespace: %s",
				          bpf_program__name(prog), ebpf_prog_section(prog), strerror(-err));
				free(g->tc);
				g->tc = NULL;
				return err;
			}
		}
		section_dir(ebpf_prog_section(prog), &p.dir); /* checked at instantiate */
		p.array_fd = ebpf_dispatch_array(bpf_program__fd(prog), bpf_program__name(prog));
		if (p.array_fd < 0) {
			ebpf_tc_stop(g);
			return p.array_fd;
		}
		if (append_array(&g->tc->progs, &g->tc->nprogs, &p, sizeof(p))) {
			close(p.array_fd);
			ebpf_tc_stop(g);
			return -ENOMEM;
		}
	}
	if (!g->tc || !iface || !*iface)
		return 0; /* the container operator brings the interfaces */
	if (strlen(iface) >= IF_NAMESIZE) {
		sonde_err("program '%s' (%s): interface name '%s' is too long",
		          bpf_program__name(g->tc->progs[0].prog), ebpf_prog_section(g->tc->progs[0].prog),
		          iface);
		ebpf_tc_stop(g);
		return -EINVAL;
	}
	for (size_t i = 0; i < g->tc->nprogs && !err; i++) {
		struct tc_prog *p = &g->tc->progs[i];
		char shown[64];

		snprintf(shown, sizeof(shown), "interface %s", iface);
		err = attach_iface(g->tc, p, HOST_ID, shown, iface, 0, p->dir, host_netns, true);
	}
	if (err)
		ebpf_tc_stop(g);
	return err;
}

void ebpf_tc_attach_container(struct ebpf_gadget *g, const struct sonde_container *c)
{
	const char *iface = g->iface ? sonde_param_value(g->iface) : NULL;
	struct peers peers = {0};
	uint64_t netns = 0;
	char shown[300];
	int nsfd, err;

	if (!g->tc || (iface && *iface) || c->host_network)
		return;
	snprintf(shown, sizeof(shown), "container %s", c->name);
	nsfd = ebpf_netns_open(c->pid, &netns);
	if (nsfd < 0) {
		sonde_warn("tc classifiers: %s: cannot open its network namespace: %s", shown,
		           strerror(-nsfd));
		return;
	}
	err = ebpf_in_netns(nsfd, list_veth_peers, &peers);
	close(nsfd);
	if (err) {
		sonde_warn("tc classifiers: %s: cannot list its interfaces: %s", shown, strerror(-err));
		return;
	}
	for (size_t i = 0; i < g->tc->nprogs && !err; i++) {
		struct tc_prog *p = &g->tc->progs[i];
		/* the container's ingress is its host-side peer's egress */
		enum bpf_tc_attach_point dir = p->dir == BPF_TC_INGRESS ? BPF_TC_EGRESS : BPF_TC_INGRESS;

		for (size_t k = 0; k < peers.n && !err; k++)
			err = attach_iface(g->tc, p, c->id, shown, NULL, peers.ifindex[k], dir, netns, false);
	}
	if (err)
		release(g->tc, c->id);
	else if (!peers.n)
		sonde_debug("ebpf: container %s has no veth interface: no tc filter", c->name);
}

void ebpf_tc_detach_container(struct ebpf_gadget *g, const struct sonde_container *c)
{
	release(g->tc, c->id);
}

void ebpf_tc_stop(struct ebpf_gadget *g)
{
	struct ebpf_tc *tc = g->tc;

	if (!tc)
		return;
	for (size_t i = 0; i < tc->nprogs; i++) {
		for (size_t k = 0; k < tc->progs[i].natts; k++)
			att_close(tc, &tc->progs[i].atts[k]);
		free(tc->progs[i].atts);
		close(tc->progs[i].array_fd);
	}
	free(tc->progs);
	close(tc->host_nsfd);
	free(tc);
	g->tc = NULL;
}
