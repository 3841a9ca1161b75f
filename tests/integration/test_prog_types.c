/* The loader's network, perf and socket program types on the running
 * kernel (`test_prog_types <case>`; ctest runs each case on its own), with
 * the fixture ebpf_netprogs:
 *  - a socket filter in the host's network namespace sees the UDP packets
 *    that arrive from a namespace the test creates over a veth pair, with
 *    the namespace, interface and addresses the packets have;
 *  - for a "container" (a process in that namespace, announced by a small
 *    container operator of the test) the socket filter runs in the
 *    container's namespace and the classifiers on the host-side veth peer,
 *    directions inverted, the netns in skb->cb[0] being the container's;
 *  - classifiers on --iface, both directions, next to a filter of the
 *    test's own that must survive;
 *  - perf_event sampling on every CPU, sockops on the cgroup-v2 root and
 *    sk_msg on its sockhash with a TCP connection over loopback;
 *  - bad input (a missing interface, a program the kernel refuses) fails
 *    with one error naming the program;
 * and after each run, stopped, cancelled by SIGTERM or failed at start, no
 * packet socket, tc filter, dispatcher program or link is left.
 *
 * The namespace and veth pair are named after the test's pid and deleted
 * by name at the end. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/pkt_cls.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sonde/containers.h>
#include <sonde/operator.h>
#include <sonde/phase.h>

#include "../unit/test_ebpf_helpers.h"
#include "kernel_probe.h"
#include "oci_rootfs.h"
#include "ebpf/internal.h"

/* REQUIRE for helpers: they return false, their caller REQUIREs that. */
#define HREQUIRE(cond)                                                                                       \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);           \
			return false;                                                                        \
		}                                                                                            \
	} while (0)

#define PORT 47210 /* UDP to PORT: ns -> host; to PORT + 1: host -> ns */

enum {
	KIND_SOCKET = 1,
	KIND_TC_INGRESS,
	KIND_TC_EGRESS,
	KIND_PERF,
	KIND_SOCKOPS,
	KIND_SK_MSG,
	KIND_SK_SKB,
	NKINDS
};

static const char *const all_progs[] = {"ig_sock",    "ig_tc_in",  "ig_tc_eg", "ig_perf",
                                        "ig_sockops", "ig_sk_msg", "ig_sk_skb"};

/* ---- the test's network: a namespace and a veth pair ---- */

static char ns[32], va[IF_NAMESIZE], vb[IF_NAMESIZE], ip_a[32], ip_b[32], nspath[64];
static bool net_up;

static int run(const char *a0, const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
               const char *a6, const char *a7, const char *a8)
{
	const char *argv[] = {a0, a1, a2, a3, a4, a5, a6, a7, a8, NULL};

	return test_run_quiet(argv);
}

static void net_down(void)
{
	if (!net_up)
		return;
	run("ip", "link", "del", va, NULL, NULL, NULL, NULL, NULL); /* takes its peer along */
	run("ip", "netns", "del", ns, NULL, NULL, NULL, NULL, NULL);
	net_up = false;
}

/* The pair's far end goes into a namespace of its own (pid 0), or into the
 * network namespace of process pid, bound to the same name. */
static bool net_setup_in(pid_t pid)
{
	unsigned sub = (unsigned)getpid() % 250 + 1;
	char cidr_a[40], cidr_b[40];

	if (run("ip", "-V", NULL, NULL, NULL, NULL, NULL, NULL, NULL) != 0)
		test_skip_dep("no ip(8) (iproute2)");
	snprintf(ns, sizeof(ns), "sonde-pt-%d", (int)getpid());
	snprintf(va, sizeof(va), "spt%da", (int)getpid() % 1000000);
	snprintf(vb, sizeof(vb), "spt%db", (int)getpid() % 1000000);
	snprintf(ip_a, sizeof(ip_a), "10.213.%u.1", sub);
	snprintf(ip_b, sizeof(ip_b), "10.213.%u.2", sub);
	snprintf(cidr_a, sizeof(cidr_a), "%s/24", ip_a);
	snprintf(cidr_b, sizeof(cidr_b), "%s/24", ip_b);
	snprintf(nspath, sizeof(nspath), "/run/netns/%s", ns);
	/* where the kernel cannot load modules by itself (the test VM) */
	run("modprobe", "veth", NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	run("modprobe", "sch_ingress", NULL, NULL, NULL, NULL, NULL, NULL, NULL); /* clsact */
	run("modprobe", "cls_bpf", NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	if (pid) {
		char pids[16];

		snprintf(pids, sizeof(pids), "%d", (int)pid);
		HREQUIRE(run("ip", "netns", "attach", ns, pids, NULL, NULL, NULL, NULL) == 0);
	} else {
		HREQUIRE(run("ip", "netns", "add", ns, NULL, NULL, NULL, NULL, NULL) == 0);
	}
	net_up = true;
	atexit(net_down);
	HREQUIRE(run("ip", "link", "add", va, "type", "veth", "peer", "name", vb) == 0);
	HREQUIRE(run("ip", "link", "set", vb, "netns", ns, NULL, NULL, NULL) == 0);
	HREQUIRE(run("ip", "addr", "add", cidr_a, "dev", va, NULL, NULL, NULL) == 0);
	HREQUIRE(run("ip", "link", "set", va, "up", NULL, NULL, NULL, NULL) == 0);
	HREQUIRE(run("ip", "-n", ns, "addr", "add", cidr_b, "dev", vb, NULL) == 0);
	HREQUIRE(run("ip", "-n", ns, "link", "set", vb, "up", NULL, NULL) == 0);
	HREQUIRE(run("ip", "-n", ns, "link", "set", "lo", "up", NULL, NULL) == 0);
	return true;
}

static bool net_setup(void)
{
	return net_setup_in(0);
}

static uint64_t ino_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : (uint64_t)st.st_ino;
}

/* ---- traffic: UDP both ways over the veth pair, until stopped ---- */

/* Sends once the gadget's dispatchers are in the kernel (loading takes
 * seconds under an emulated VM), ROUNDS rounds 10 ms apart, then ends the
 * run: by SIGTERM to this process after kill_after rounds, else by
 * sonde_gadget_cancel. */
#define ROUNDS 120

struct sender {
	pthread_t thread;
	atomic_bool stop;
	atomic_int sent_in, sent_out;
	int kill_after;
	struct sonde_gadget_ctx *ctx;
};

static int udp_to(const char *ip, int port)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, ip, &to.sin_addr);
	rc = (int)sendto(fd, "sonde", 5, 0, (struct sockaddr *)&to, sizeof(to));
	close(fd);
	return rc;
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	int nsfd = open(nspath, O_RDONLY | O_CLOEXEC),
	    hostfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	for (int i = 0; i < 3000 && !s->stop && test_bpf_progs_named("ig_net_disp") == 0; i++)
		usleep(10000);
	usleep(50000); /* the last dispatcher of the run attached */
	for (int round = 1; nsfd >= 0 && hostfd >= 0 && !s->stop && round <= ROUNDS; round++) {
		/* ns -> host from inside the namespace, then host -> ns from here */
		if (setns(nsfd, CLONE_NEWNET) == 0 && udp_to(ip_a, PORT) > 0)
			s->sent_in++;
		if (setns(hostfd, CLONE_NEWNET) == 0 && udp_to(ip_b, PORT + 1) > 0)
			s->sent_out++;
		if (s->kill_after && round == s->kill_after)
			kill(getpid(), SIGTERM);
		usleep(10000);
	}
	usleep(100000); /* the last records drained */
	if (!s->kill_after)
		sonde_gadget_cancel(s->ctx);
	if (nsfd >= 0)
		close(nsfd);
	if (hostfd >= 0)
		close(hostfd);
	return NULL;
}

/* Runs the gadget (a minute at most) while snd sends: the sender ends the
 * run when it is done (or kills at snd->kill_after); the run's result. */
static int run_while_sending(struct sonde_gadget_ctx *ctx, struct sender *snd)
{
	int rc;

	snd->ctx = ctx;
	pthread_create(&snd->thread, NULL, sender_main, snd);
	rc = sonde_gadget_run(ctx, 60000 * 1000000LL);
	snd->stop = true;
	pthread_join(snd->thread, NULL);
	return rc;
}

/* ---- records ---- */

struct seen {
	struct sonde_field *kind, *netns, *ifindex, *pkt_type, *saddr, *daddr, *sport, *dport, *cpu, *len;
	atomic_int n[NKINDS];
	atomic_int bad[NKINDS]; /* a field not what the case expects */
	uint32_t want_netns[NKINDS], want_ifindex[NKINDS], want_pkt_type[NKINDS];
	uint32_t cpus_mask;
	uint32_t msg_bytes, skb_bytes;
	struct sonde_field *ctr_name; /* runtime.containerName, when LocalManager runs */
	const char *want_ctr;
	atomic_int named; /* records that carry want_ctr */
};

static bool field_is(const struct sonde_field *f, const struct sonde_record *rec, const char *want)
{
	uint32_t len = 0;
	const char *v = sonde_field_string(f, rec, &len);

	return v && strlen(want) == len && memcmp(v, want, len) == 0;
}

static int on_event(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct seen *s = arg;
	uint32_t k = sonde_field_uint32(s->kind, rec);

	(void)ds;
	if (k == 0 || k >= NKINDS)
		return 0;
	s->n[k]++;
	switch (k) {
	case KIND_SOCKET:
	case KIND_TC_INGRESS:
	case KIND_TC_EGRESS: {
		uint32_t sa = sonde_field_uint32(s->saddr, rec), da = sonde_field_uint32(s->daddr, rec);
		uint16_t dp = sonde_field_uint16(s->dport, rec);
		char sas[32], das[32];

		inet_ntop(AF_INET, &sa, sas, sizeof(sas));
		inet_ntop(AF_INET, &da, das, sizeof(das));
		/* which way the packet went follows from its port */
		if (dp == PORT && (strcmp(sas, ip_b) || strcmp(das, ip_a)))
			s->bad[k]++;
		if (dp == PORT + 1 && (strcmp(sas, ip_a) || strcmp(das, ip_b)))
			s->bad[k]++;
		if (s->want_netns[k] && sonde_field_uint32(s->netns, rec) != s->want_netns[k])
			s->bad[k]++;
		if (s->want_ifindex[k] && sonde_field_uint32(s->ifindex, rec) != s->want_ifindex[k])
			s->bad[k]++;
		if (s->ctr_name && s->want_ctr && field_is(s->ctr_name, rec, s->want_ctr))
			s->named++;
		if (s->want_pkt_type[k] != UINT32_MAX &&
		    sonde_field_uint32(s->pkt_type, rec) != s->want_pkt_type[k])
			s->bad[k]++;
		if (getenv("TEST_VERBOSE"))
			fprintf(stderr, "  kind %u %s -> %s:%u netns %u ifindex %u pkt_type %u\n", k, sas,
			        das, dp, sonde_field_uint32(s->netns, rec),
			        sonde_field_uint32(s->ifindex, rec), sonde_field_uint32(s->pkt_type, rec));
		break;
	}
	case KIND_PERF:
		s->cpus_mask |= 1u << (sonde_field_uint32(s->cpu, rec) & 31);
		break;
	case KIND_SK_MSG:
		s->msg_bytes += sonde_field_uint32(s->len, rec);
		break;
	case KIND_SK_SKB:
		s->skb_bytes += sonde_field_uint32(s->len, rec);
		break;
	default:
		break;
	}
	return 0;
}

/* gadget.yaml switching off every program but those named (comma-separated). */
static void yaml_keep(char *out, size_t len, const char *keep, const char *extra)
{
	size_t n = (size_t)snprintf(out, len, "programs:\n");

	for (size_t i = 0; i < sizeof(all_progs) / sizeof(all_progs[0]); i++)
		if (!strstr(keep, all_progs[i]))
			n +=
			    (size_t)snprintf(out + n, len - n,
			                     "  %s:\n    attach_to: gadget_program_disabled\n", all_progs[i]);
	if (extra)
		snprintf(out + n, len - n, "%s", extra);
}

static bool open_fixture(struct gadget_run *r, const char *yaml, struct seen *s)
{
	struct sonde_ds *ds;
	char port[16];

	capture_reset();
	HREQUIRE(gadget_open_fixture(r, "ebpf_netprogs", yaml) == 0);
	snprintf(port, sizeof(port), "%d", PORT);
	CHECK_INT(set_param(r, "port", port), 0);
	ds = sonde_gadget_ds(r->ctx, "net");
	HREQUIRE(ds);
	s->kind = sonde_ds_field(ds, "kind");
	s->netns = sonde_ds_field(ds, "netns");
	s->ifindex = sonde_ds_field(ds, "ifindex");
	s->pkt_type = sonde_ds_field(ds, "pkt_type");
	s->saddr = sonde_ds_field(ds, "saddr");
	s->daddr = sonde_ds_field(ds, "daddr");
	s->sport = sonde_ds_field(ds, "sport");
	s->dport = sonde_ds_field(ds, "dport");
	s->cpu = sonde_ds_field(ds, "cpu");
	s->len = sonde_ds_field(ds, "len");
	HREQUIRE(s->kind && s->netns && s->ifindex && s->pkt_type && s->saddr && s->daddr && s->dport &&
	         s->cpu && s->len);
	for (int k = 0; k < NKINDS; k++)
		s->want_pkt_type[k] = UINT32_MAX;
	HREQUIRE(sonde_ds_subscribe(ds, on_event, s, 100) == 0);
	return true;
}

/* ---- what is left in the kernel ---- */

/* Packet sockets of this network namespace (/proc/net/packet, one line each). */
static int packet_sockets(void)
{
	size_t len = 0;
	char *t = test_read_file("/proc/self/net/packet", &len);
	int n = -1; /* the header line */

	for (size_t i = 0; t && i < len; i++)
		n += t[i] == '\n';
	free(t);
	return n;
}

/* Lines of `tc filter show dev <dev> <dir>` with needle; -1 if tc fails. */
static int tc_filters(const char *dev, const char *dir, const char *needle)
{
	char cmd[128], line[1024];
	FILE *f;
	int n = 0;

	snprintf(cmd, sizeof(cmd), "tc filter show dev %s %s 2>&1", dev, dir);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	return pclose(f) == 0 ? n : -1;
}

/* Open file descriptors of this process (sockets, netns, maps, programs, links). */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

struct leftovers {
	int sockets, filters_in, filters_eg, fds;
};

static void leftovers_take(struct leftovers *l)
{
	l->fds = open_fds();
	l->sockets = packet_sockets();
	/* one line per filter has its handle */
	l->filters_in = tc_filters(va, "ingress", "handle 0x");
	l->filters_eg = tc_filters(va, "egress", "handle 0x");
}

static void check_nothing_left(const struct leftovers *before)
{
	struct leftovers now;

	leftovers_take(&now);
	CHECK_INT(now.fds, before->fds);
	CHECK_INT(now.sockets, before->sockets);
	CHECK_INT(now.filters_in, before->filters_in);
	CHECK_INT(now.filters_eg, before->filters_eg);
	CHECK_INT(test_bpf_progs_named_settled("ig_net_disp"), 0);
	CHECK_INT(test_bpf_progs_named_settled("ig_sock"), 0);
	CHECK_INT(test_bpf_progs_named_settled("ig_tc_in"), 0);
	CHECK_INT(test_bpf_progs_named_settled("ig_tc_eg"), 0);
}

/* Warnings and errors logged since capture_reset. */
static int error_lines(void)
{
	int n = 0;

	for (const char *p = log_errors; *p; p++)
		n += *p == '\n';
	return n;
}

/* ---- cases ---- */

static void test_socket_filter_host(void)
{
	char yaml[1024];
	struct gadget_run r;
	struct seen s = {0};
	struct sender snd = {0};
	struct leftovers before;

	test_require_root();
	REQUIRE(net_setup());
	leftovers_take(&before);
	yaml_keep(yaml, sizeof(yaml), "ig_sock", NULL);
	REQUIRE(open_fixture(&r, yaml, &s));
	/* in the host: packets from the namespace arrive on va, for this host */
	s.want_netns[KIND_SOCKET] = (uint32_t)ino_of("/proc/self/ns/net");
	s.want_ifindex[KIND_SOCKET] = if_nametoindex(va);

	CHECK_INT(run_while_sending(r.ctx, &snd), 0);
	printf("  sent %d in, %d out; socket filter saw %d\n", (int)snd.sent_in, (int)snd.sent_out,
	       (int)s.n[KIND_SOCKET]);
	CHECK(snd.sent_in > 10);
	/* both directions cross va: what comes in and what goes out */
	CHECK(s.n[KIND_SOCKET] > 10);
	CHECK_INT(s.bad[KIND_SOCKET], 0);
	CHECK_INT(s.n[KIND_TC_INGRESS] + s.n[KIND_TC_EGRESS], 0);
	CHECK(!logged("cannot"));
	gadget_close(&r);
	check_nothing_left(&before);
	net_down();
}

/* The container operator of this test: one "container", the process that
 * holds the namespace, the host not traced. */
static pid_t holder_pid;
static bool fake_enabled, host_traced;
static int after_detach_sockets = -1, after_detach_filters = -1, after_detach_dispatchers = -1;
static struct sonde_container fake = {.id = "c0ffee", .name = "fake-ctr", .runtime = "test"};
/* a container whose namespace is gone by the time it is attached */
static struct sonde_container gone_ctr = {.id = "dead", .name = "gone-ctr", .runtime = "test"};

static int fake_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	(void)layer;
	*state = NULL;
	if (!fake_enabled)
		return 0;
	sonde_gadget_set_var(ctx, SONDE_VAR_ATTACH_HOST, &host_traced);
	*state = ctx;
	return 0;
}

static int fake_start(struct sonde_gadget_ctx *ctx, void *state)
{
	const struct sonde_container_attacher *a = sonde_gadget_var(ctx, SONDE_VAR_CONTAINER_ATTACHER);

	(void)state;
	CHECK(a != NULL);
	if (a && gone_ctr.pid)
		a->attach(a->arg, &gone_ctr);
	if (a) {
		a->attach(a->arg, &fake);
		a->attach(a->arg, &fake); /* twice: the runtime said so twice; still one user */
	}
	return 0;
}

static int fake_stop(struct sonde_gadget_ctx *ctx, void *state)
{
	const struct sonde_container_attacher *a = sonde_gadget_var(ctx, SONDE_VAR_CONTAINER_ATTACHER);

	char path[64];
	size_t len = 0;
	char *txt;

	(void)state;
	if (a)
		a->detach(a->arg, &fake); /* the container goes before the gadget stops */
	/* what the container's departure left, while the gadget still runs */
	snprintf(path, sizeof(path), "/proc/%d/net/packet", (int)fake.pid);
	txt = test_read_file(path, &len);
	after_detach_sockets = -1;
	for (size_t i = 0; txt && i < len; i++)
		after_detach_sockets += txt[i] == '\n';
	free(txt);
	after_detach_filters = tc_filters(va, "ingress", "handle 0x") + tc_filters(va, "egress", "handle 0x");
	/* tcx links are not tc filters: their dispatchers must be gone too */
	after_detach_dispatchers = test_bpf_progs_named_settled("ig_net_disp");
	return 0;
}

static const struct sonde_operator fake_containers = {
    .name = "test_containers",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_CONTAINERS,
    .instantiate = fake_instantiate,
    .start = fake_start,
    .stop = fake_stop,
};

static void test_container(void)
{
	char yaml[1024];
	struct gadget_run r;
	struct seen s = {0};
	struct sender snd = {0};
	struct leftovers before;
	uint32_t ns_ino;
	int in_ns_ifindex;

	test_require_root();
	REQUIRE(net_setup());
	{
		const char *sl[] = {"ip", "netns", "exec", ns, "sleep", "30", NULL};

		holder_pid = test_spawn_quiet(sl);
	}
	REQUIRE(holder_pid > 0);
	ns_ino = (uint32_t)ino_of(nspath);
	for (int i = 0; i < 200; i++) { /* until ip(8) has entered the namespace */
		char p[64];

		snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)holder_pid);
		if (ino_of(p) == ns_ino)
			break;
		usleep(10000);
	}
	fake.pid = (uint32_t)holder_pid;
	fake.netns = ns_ino;
	{
		const char *t[] = {"true", NULL};

		gone_ctr.pid = (uint32_t)test_spawn_quiet(t);
		test_wait_status((pid_t)gone_ctr.pid); /* reaped: its /proc entry is gone */
	}
	{
		/* vb's index inside the namespace */
		char cmd[128];
		FILE *f;

		snprintf(cmd, sizeof(cmd), "ip -n %s -o link show %s", ns, vb);
		f = popen(cmd, "r");
		REQUIRE(f);
		in_ns_ifindex = fscanf(f, "%d", &in_ns_ifindex) == 1 ? in_ns_ifindex : 0;
		pclose(f);
		REQUIRE(in_ns_ifindex > 0);
	}
	fake_enabled = true;
	REQUIRE(sonde_operator_register(&fake_containers) == 0);
	leftovers_take(&before);

	yaml_keep(yaml, sizeof(yaml), "ig_sock,ig_tc_in,ig_tc_eg", NULL);
	REQUIRE(open_fixture(&r, yaml, &s));
	/* the socket filter in the container's namespace sees vb's traffic;
	 * the classifiers on va, directions inverted: the container's ingress
	 * (host -> ns) on va's egress, and the reverse */
	s.want_netns[KIND_SOCKET] = s.want_netns[KIND_TC_INGRESS] = s.want_netns[KIND_TC_EGRESS] = ns_ino;
	s.want_ifindex[KIND_SOCKET] = (uint32_t)in_ns_ifindex;
	s.want_ifindex[KIND_TC_INGRESS] = s.want_ifindex[KIND_TC_EGRESS] = if_nametoindex(va);

	CHECK_INT(run_while_sending(r.ctx, &snd), 0);
	printf("  sent %d in, %d out; socket %d, tc ingress %d, tc egress %d (container netns %u)\n",
	       (int)snd.sent_in, (int)snd.sent_out, (int)s.n[KIND_SOCKET], (int)s.n[KIND_TC_INGRESS],
	       (int)s.n[KIND_TC_EGRESS], ns_ino);
	CHECK(s.n[KIND_SOCKET] > 10);
	CHECK(s.n[KIND_TC_INGRESS] > 5);
	CHECK(s.n[KIND_TC_EGRESS] > 5);
	for (int k = KIND_SOCKET; k <= KIND_TC_EGRESS; k++)
		CHECK_INT(s.bad[k], 0);
	/* the vanished container: one warning per kind of attachment, the run goes on */
	CHECK_LOGGED("socket filters: container gone-ctr: cannot open its network namespace");
	CHECK_LOGGED("tc classifiers: container gone-ctr: cannot open its network namespace");
	CHECK_INT(error_lines(), 2);
	/* detaching the container (attached twice) released its socket and filters */
	CHECK_INT(after_detach_sockets, 0);
	CHECK_INT(after_detach_filters, 0);
	CHECK_INT(after_detach_dispatchers, 0);
	gadget_close(&r);
	check_nothing_left(&before);
	kill(holder_pid, SIGKILL);
	test_wait_status(holder_pid);
	net_down();
}

/* ---- a real runc container, selected through LocalManager ---- */

#define RUNC_WORKDIR_PREFIX "/tmp/sonde-it-progtypes-"

static char runc_workdir[256], runc_id[64];

static void runc_cleanup(void)
{
	if (runc_id[0])
		oci_delete("runc", runc_id);
	runc_id[0] = '\0';
	if (runc_workdir[0])
		test_rm_tree(runc_workdir, RUNC_WORKDIR_PREFIX);
	runc_workdir[0] = '\0';
}

/* Sends UDP to 127.0.0.1:PORT inside the container's namespace and on the
 * host's loopback, once the dispatcher is in, then ends the run. */
struct lo_sender {
	struct sonde_gadget_ctx *ctx;
	pid_t ctr_pid;
	atomic_int sent_ctr, sent_host;
};

static void *lo_sender_main(void *arg)
{
	struct lo_sender *s = arg;
	char path[64];
	int nsfd, hostfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)s->ctr_pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	for (int i = 0; i < 3000 && test_bpf_progs_named("ig_net_disp") == 0; i++)
		usleep(10000);
	usleep(50000);
	for (int round = 0; nsfd >= 0 && hostfd >= 0 && round < ROUNDS; round++) {
		if (setns(nsfd, CLONE_NEWNET) == 0 && udp_to("127.0.0.1", PORT) > 0)
			s->sent_ctr++;
		if (setns(hostfd, CLONE_NEWNET) == 0 && udp_to("127.0.0.1", PORT) > 0)
			s->sent_host++;
		usleep(10000);
	}
	usleep(100000);
	sonde_gadget_cancel(s->ctx);
	if (nsfd >= 0)
		close(nsfd);
	if (hostfd >= 0)
		close(hostfd);
	return NULL;
}

/* Starts a runc container (own network namespace, `sleep 60`) named
 * runc_id; its init's pid, or 0 after saying why. */
static pid_t runc_start(void)
{
	static const char *const applets[] = {"sleep", NULL};
	char bundle[512], rootfs[512];
	pid_t pid;

	oci_require("runc");
	HREQUIRE(oci_workdir_create(runc_workdir, sizeof(runc_workdir), RUNC_WORKDIR_PREFIX, applets) == 0);
	atexit(runc_cleanup);
	snprintf(bundle, sizeof(bundle), "%s/b", runc_workdir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", runc_workdir);
	HREQUIRE(oci_bundle_write(bundle, rootfs, json_pack("[s,s]", "sleep", "60"), json_object()) == 0);
	snprintf(runc_id, sizeof(runc_id), "sonde-pt-%d", (int)getpid());
	HREQUIRE(oci_run_detached("runc", bundle, runc_id) == 0);
	pid = (pid_t)oci_state_pid("runc", runc_id);
	HREQUIRE(pid > 0);
	return pid;
}

/* A gadget run in-process with the built-in operators, LocalManager
 * selecting the container by name, records only to the test. */
static bool open_for_container(struct gadget_run *r, const char *yaml, struct seen *s)
{
	char err[256];

	sonde_register_builtin_operators(); /* LocalManager among them */
	HREQUIRE(open_fixture(r, yaml, s));
	HREQUIRE(sonde_params_set(sonde_gadget_params(r->ctx), "operator.LocalManager.containername", runc_id,
	                          err, sizeof(err)) == 0);
	HREQUIRE(sonde_params_set(sonde_gadget_params(r->ctx), "operator.cli.output", "none", err,
	                          sizeof(err)) == 0);
	return true;
}

static void test_runc_container(void)
{
	char yaml[1024], state[256], path[64];
	struct lo_sender snd = {0};
	struct gadget_run r;
	struct seen s = {0};
	pthread_t t;
	int pkt_before;

	snd.ctr_pid = runc_start();
	REQUIRE(snd.ctr_pid > 0);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)snd.ctr_pid);
	snprintf(state, sizeof(state), "/proc/%d/net/packet", (int)snd.ctr_pid);
	{
		size_t len = 0;
		char *txt = test_read_file(state, &len);

		pkt_before = 0;
		for (size_t i = 0; txt && i < len; i++)
			pkt_before += txt[i] == '\n';
		free(txt);
	}

	/* what on_event checks the addresses against: loopback both ways */
	snprintf(ip_a, sizeof(ip_a), "127.0.0.1");
	snprintf(ip_b, sizeof(ip_b), "127.0.0.1");
	yaml_keep(yaml, sizeof(yaml), "ig_sock", NULL);
	REQUIRE(open_for_container(&r, yaml, &s));
	s.want_netns[KIND_SOCKET] = (uint32_t)ino_of(path);
	s.want_ifindex[KIND_SOCKET] = 1; /* the container's lo */
	snd.ctx = r.ctx;
	pthread_create(&t, NULL, lo_sender_main, &snd);
	CHECK_INT(sonde_gadget_run(r.ctx, 60000 * 1000000LL), 0);
	pthread_join(t, NULL);
	printf("  sent %d in the container, %d on the host; socket filter saw %d\n", (int)snd.sent_ctr,
	       (int)snd.sent_host, (int)s.n[KIND_SOCKET]);
	/* on lo each packet is seen leaving and arriving: the container's
	 * only, the host is not selected */
	CHECK(snd.sent_ctr > 50 && snd.sent_host > 50);
	CHECK(s.n[KIND_SOCKET] >= snd.sent_ctr);
	CHECK(s.n[KIND_SOCKET] <= 2 * snd.sent_ctr);
	CHECK_INT(s.bad[KIND_SOCKET], 0);
	CHECK(!logged("cannot"));
	gadget_close(&r);
	CHECK_INT(test_bpf_progs_named_settled("ig_net_disp"), 0);
	{
		size_t len = 0;
		char *txt = test_read_file(state, &len);
		int n = 0;

		for (size_t i = 0; txt && i < len; i++)
			n += txt[i] == '\n';
		free(txt);
		CHECK_INT(n, pkt_before); /* the container's packet socket is gone */
	}
	runc_cleanup();
}

/* The container gets a veth pair's far end (as a CNI plugin would give it):
 * the socket filter runs in its namespace, the classifiers on the
 * host-side end with directions inverted, and LocalManager names the
 * container in the records of both, by their netns. */
static void test_runc_tc(void)
{
	char yaml[1024];
	struct gadget_run r;
	struct seen s = {0};
	struct sender snd = {0};
	struct leftovers before;
	char path[64];
	pid_t pid;
	uint32_t ns_ino;

	test_require_root();
	pid = runc_start();
	REQUIRE(pid > 0);
	REQUIRE(net_setup_in(pid));
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	ns_ino = (uint32_t)ino_of(path);
	REQUIRE(ns_ino == (uint32_t)ino_of(nspath));
	leftovers_take(&before);
	yaml_keep(yaml, sizeof(yaml), "ig_sock,ig_tc_in,ig_tc_eg", NULL);
	REQUIRE(open_for_container(&r, yaml, &s));
	s.ctr_name = sonde_ds_field(sonde_gadget_ds(r.ctx, "net"), "runtime.containerName");
	REQUIRE(s.ctr_name);
	/* the test is the sink that reads it (output none requests nothing) */
	sonde_field_set_requested(s.ctr_name, true);
	s.want_ctr = runc_id;
	s.want_netns[KIND_SOCKET] = s.want_netns[KIND_TC_INGRESS] = s.want_netns[KIND_TC_EGRESS] = ns_ino;
	s.want_ifindex[KIND_TC_INGRESS] = s.want_ifindex[KIND_TC_EGRESS] = if_nametoindex(va);
	CHECK_INT(run_while_sending(r.ctx, &snd), 0);
	printf("  sent %d in, %d out; socket %d, tc ingress %d, tc egress %d, %d named %s\n",
	       (int)snd.sent_in, (int)snd.sent_out, (int)s.n[KIND_SOCKET], (int)s.n[KIND_TC_INGRESS],
	       (int)s.n[KIND_TC_EGRESS], (int)s.named, runc_id);
	CHECK(s.n[KIND_SOCKET] >= 2 * ROUNDS - 10);
	CHECK(s.n[KIND_TC_INGRESS] >= ROUNDS - 5);
	CHECK(s.n[KIND_TC_EGRESS] >= ROUNDS - 5);
	for (int k = KIND_SOCKET; k <= KIND_TC_EGRESS; k++)
		CHECK_INT(s.bad[k], 0);
	CHECK_INT(s.named, s.n[KIND_SOCKET] + s.n[KIND_TC_INGRESS] + s.n[KIND_TC_EGRESS]);
	CHECK(!logged("cannot"));
	gadget_close(&r);
	check_nothing_left(&before);
	net_down();
	runc_cleanup();
}

/* A tiny classifier of the test's own (TC_ACT_UNSPEC), at priority 2 on
 * ingress: another program sharing the interface. */
static int foreign_filter(int ifindex, struct bpf_tc_opts *opts)
{
	struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = TC_ACT_UNSPEC},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "test_foreign", "GPL", insns, 2, NULL), err;

	if (fd < 0)
		return -errno;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		close(fd);
		return err;
	}
	opts->prog_fd = fd;
	opts->priority = 2;
	opts->handle = 7;
	err = bpf_tc_attach(&hook, opts);
	close(fd); /* the filter holds the program */
	opts->prog_fd = 0;
	opts->prog_id = 0;
	opts->flags = 0;
	return err;
}

static void on_sigterm(int sig)
{
	(void)sig;
}

static struct sonde_gadget_ctx *cancel_ctx;
static void cancel_on_sigterm(int sig)
{
	(void)sig;
	if (cancel_ctx)
		sonde_gadget_cancel(cancel_ctx); /* what `sonde run` does on SIGINT/SIGTERM */
}

static void run_tc_iface(bool by_signal)
{
	char yaml[1024];
	struct gadget_run r;
	struct seen s = {0};
	struct sender snd = {0};
	struct leftovers before;
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, theirs);
	int err;

	test_require_root();
	REQUIRE(net_setup());
	if (run("tc", "-V", NULL, NULL, NULL, NULL, NULL, NULL, NULL) != 0)
		test_skip_dep("no tc(8) (iproute2)");
	err = foreign_filter((int)if_nametoindex(va), &theirs);
	REQUIRE(err == 0);
	leftovers_take(&before);
	CHECK_INT(before.filters_in, 1);

	yaml_keep(yaml, sizeof(yaml), "ig_tc_in,ig_tc_eg", NULL);
	REQUIRE(open_fixture(&r, yaml, &s));
	CHECK_INT(set_param(&r, "iface", va), 0);
	s.want_netns[KIND_TC_INGRESS] = s.want_netns[KIND_TC_EGRESS] = (uint32_t)ino_of("/proc/self/ns/net");
	s.want_ifindex[KIND_TC_INGRESS] = s.want_ifindex[KIND_TC_EGRESS] = if_nametoindex(va);
	if (by_signal) {
		struct sigaction sa = {.sa_handler = cancel_on_sigterm};

		sigaction(SIGTERM, &sa, NULL);
		cancel_ctx = r.ctx;
		snd.kill_after = 60; /* ~0.6 s after the attachment, far before the timeout */
	}
	CHECK_INT(run_while_sending(r.ctx, &snd), 0);
	if (by_signal)
		CHECK(snd.sent_in < ROUNDS); /* ended by the signal, not by the sender */
	cancel_ctx = NULL;
	signal(SIGTERM, on_sigterm);
	printf("  sent %d in, %d out; tc ingress %d, tc egress %d\n", (int)snd.sent_in, (int)snd.sent_out,
	       (int)s.n[KIND_TC_INGRESS], (int)s.n[KIND_TC_EGRESS]);
	/* ns -> host comes in on va, host -> ns leaves by it */
	CHECK(s.n[KIND_TC_INGRESS] > 5);
	CHECK(s.n[KIND_TC_EGRESS] > 5);
	CHECK_INT(s.bad[KIND_TC_INGRESS], 0);
	CHECK_INT(s.bad[KIND_TC_EGRESS], 0);
	CHECK(!logged("cannot"));
	gadget_close(&r);
	/* ours gone, theirs still there (and the qdisc it needs) */
	check_nothing_left(&before);
	CHECK_INT(tc_filters(va, "ingress", "test_foreign"), 1);
	net_down();
}

static void test_tc_iface(void)
{
	run_tc_iface(false);
}

static void test_tc_sigterm(void)
{
	run_tc_iface(true);
}

/* Start fails after the socket filter was attached: it goes too, and the
 * user reads one line naming the program. */
static void test_failed_start(void)
{
	char yaml[1024];
	struct gadget_run r;
	struct seen s = {0};
	struct leftovers before;

	test_require_root();
	REQUIRE(net_setup());
	leftovers_take(&before);
	yaml_keep(yaml, sizeof(yaml), "ig_sock,ig_tc_in", NULL);
	REQUIRE(open_fixture(&r, yaml, &s));
	CHECK_INT(set_param(&r, "iface", "sonde-nope0"), 0);
	CHECK(sonde_gadget_run(r.ctx, 1000 * 1000000LL) != 0);
	CHECK_LOGGED("program 'ig_tc_in' (classifier/ingress/count): interface 'sonde-nope0' not found");
	CHECK_INT(error_lines(), 1);
	gadget_close(&r);
	check_nothing_left(&before);

	/* an interface name no interface can have */
	REQUIRE(open_fixture(&r, yaml, &s));
	CHECK_INT(set_param(&r, "iface", "a-name-longer-than-ifnamsiz"), 0);
	CHECK(sonde_gadget_run(r.ctx, 1000 * 1000000LL) != 0);
	CHECK_LOGGED("program 'ig_tc_in' (classifier/ingress/count): interface name");
	CHECK_INT(error_lines(), 1);
	gadget_close(&r);
	check_nothing_left(&before);
	net_down();
}

static void test_perf_event(void)
{
	char yaml[1024];
	struct gadget_run r;
	struct seen s = {0};
	int ncpus = libbpf_num_possible_cpus();

	test_require_root();
	yaml_keep(yaml, sizeof(yaml), "ig_perf",
	          "  sample:\n    perf:\n      type: software\n      config: count_sw_cpu_clock\n"
	          "      sampleType: sample_raw\n    sampler:\n      frequency: 99\n");
	REQUIRE(open_fixture(&r, yaml, &s));
	CHECK_INT(sonde_gadget_run(r.ctx, 1000 * 1000000LL), 0);
	printf("  %d samples in 1 s at 99 Hz on %d CPUs, CPU mask %#x\n", (int)s.n[KIND_PERF], ncpus,
	       s.cpus_mask);
	/* the CPU clock ticks on idle CPUs too: ~99 a second each */
	CHECK(s.n[KIND_PERF] >= 50 * ncpus);
	CHECK(s.n[KIND_PERF] <= 200 * ncpus);
	if (ncpus <= 32)
		CHECK_INT(s.cpus_mask, (uint32_t)((1ull << ncpus) - 1));
	gadget_close(&r);
	CHECK_INT(test_bpf_progs_named_settled("ig_perf"), 0);

	/* a frequency the kernel refuses: one error naming the program, and
	 * none of the CPUs' events or the program left */
	yaml_keep(yaml, sizeof(yaml), "ig_perf",
	          "  sample:\n    perf:\n      type: software\n      config: count_sw_cpu_clock\n"
	          "      sampleType: sample_raw\n    sampler:\n      frequency: 100000000\n");
	{
		int fds = open_fds();

		REQUIRE(open_fixture(&r, yaml, &s));
		CHECK(sonde_gadget_run(r.ctx, 1000 * 1000000LL) != 0);
		CHECK_LOGGED(
		    "program 'ig_perf' (perf_event/sample): cannot open a perf event on CPU 0: Invalid "
		    "argument (frequency above kernel.perf_event_max_sample_rate?)");
		CHECK_INT(error_lines(), 1);
		gadget_close(&r);
		CHECK_INT(open_fds(), fds);
		CHECK_INT(test_bpf_progs_named_settled("ig_perf"), 0);
	}
}

/* A TCP connection over loopback made while the gadget runs, and one
 * message each way. */
struct conn {
	int lfd, cfd, afd;
	struct sockaddr_in addr;
	struct sonde_gadget_ctx *ctx;
};

/* Where cgroup v2 is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified
 * on a hybrid host (this one). */
static int cgroup2_open(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], mnt[4096];
	int fd = -1;

	while (f && fd < 0 && fgets(line, sizeof(line), f))
		if (strstr(line, " - cgroup2 ") && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1)
			fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f)
		fclose(f);
	return fd;
}

/* Whether a program called `name` is attached to the cgroup-v2 root as sockops. */
static bool sockops_attached(const char *name)
{
	int fd = cgroup2_open();
	__u32 ids[64], cnt = 64;
	bool found = false;

	if (fd < 0)
		return false;
	if (bpf_prog_query(fd, BPF_CGROUP_SOCK_OPS, 0, NULL, ids, &cnt) == 0)
		for (__u32 i = 0; i < cnt && !found; i++) {
			struct bpf_prog_info info = {0};
			__u32 len = sizeof(info);
			int pfd = bpf_prog_get_fd_by_id(ids[i]);

			found = pfd >= 0 && bpf_obj_get_info_by_fd(pfd, &info, &len) == 0 &&
			        strcmp(info.name, name) == 0;
			if (pfd >= 0)
				close(pfd);
		}
	close(fd);
	return found;
}

static void *connect_main(void *arg);

static void test_sockops_sk_msg(void)
{
	char yaml[1024], port[16], buf[64];
	struct gadget_run r;
	struct seen s = {0};
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(addr);
	int lfd, cfd = -1, afd = -1;
	struct sonde_ds *ds;

	test_require_root();
	yaml_keep(yaml, sizeof(yaml), "ig_sockops,ig_sk_msg,ig_sk_skb", NULL);
	/* a booted test VM brings no interface up, not even lo (a no-op elsewhere) */
	run("ip", "link", "set", "lo", "up", NULL, NULL, NULL, NULL);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(lfd >= 0);
	REQUIRE(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && listen(lfd, 4) == 0);
	REQUIRE(getsockname(lfd, (struct sockaddr *)&addr, &alen) == 0);
	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_netprogs", yaml) == 0);
	snprintf(port, sizeof(port), "%u", ntohs(addr.sin_port));
	CHECK_INT(set_param(&r, "port", port), 0);
	ds = sonde_gadget_ds(r.ctx, "net");
	REQUIRE(ds);
	s.kind = sonde_ds_field(ds, "kind");
	s.len = sonde_ds_field(ds, "len");
	s.cpu = sonde_ds_field(ds, "cpu");
	REQUIRE(sonde_ds_subscribe(ds, on_event, &s, 100) == 0);

	/* the programs attach within the first few ms of the run */
	{
		pthread_t t;
		struct conn c = {.lfd = lfd, .cfd = -1, .afd = -1, .addr = addr, .ctx = r.ctx};

		pthread_create(&t, NULL, connect_main, &c);
		CHECK_INT(sonde_gadget_run(r.ctx, 20000 * 1000000LL), 0);
		pthread_join(t, NULL);
		cfd = c.cfd;
		afd = c.afd;
	}
	printf("  sockops %d, sk_msg %d (%u bytes), sk_skb %d (%u bytes)\n", (int)s.n[KIND_SOCKOPS],
	       (int)s.n[KIND_SK_MSG], s.msg_bytes, (int)s.n[KIND_SK_SKB], s.skb_bytes);
	/* both ends established: active and passive */
	CHECK_INT(s.n[KIND_SOCKOPS], 2);
	/* both sockets are in the sockhash: each write went through sk_msg */
	CHECK(s.n[KIND_SK_MSG] >= 2);
	CHECK_INT(s.msg_bytes, 2 * 11);
	/* … and each arrival through the stream verdict */
	CHECK(s.n[KIND_SK_SKB] >= 2);
	CHECK_INT(s.skb_bytes, 2 * 11);
	CHECK(!logged("cannot"));
	gadget_close(&r);
	CHECK(!sockops_attached("ig_sockops"));
	CHECK_INT(test_bpf_progs_named_settled("ig_sockops"), 0);
	CHECK_INT(test_bpf_progs_named_settled("ig_sk_msg"), 0);
	CHECK_INT(test_bpf_progs_named_settled("ig_sk_skb"), 0);
	/* the connection still works without the programs */
	if (cfd >= 0 && afd >= 0) {
		CHECK_INT((int)write(cfd, "after", 5), 5);
		CHECK_INT((int)read(afd, buf, sizeof(buf)), 5);
	}
	close(cfd);
	close(afd);
	close(lfd);
}

/* Ends the run a little after the last message (its records drained). */
static void *done(struct conn *c)
{
	usleep(100000);
	sonde_gadget_cancel(c->ctx);
	return NULL;
}

static void *connect_main(void *arg)
{
	struct conn *c = arg;
	char buf[64];

	/* the sk programs attach right after sockops, before the run loop */
	for (int i = 0; i < 1000 && !sockops_attached("ig_sockops"); i++)
		usleep(10000);
	usleep(50000);
	c->cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->cfd < 0 || connect(c->cfd, (struct sockaddr *)&c->addr, sizeof(c->addr)))
		return done(c);
	c->afd = accept(c->lfd, NULL, NULL);
	if (c->afd < 0)
		return done(c);
	if (write(c->cfd, "hello world", 11) != 11 || read(c->afd, buf, sizeof(buf)) != 11)
		return done(c);
	if (write(c->afd, "hello again", 11) != 11 || read(c->cfd, buf, sizeof(buf)) != 11)
		return done(c);
	return done(c);
}

/* ---- USDT: a probe of this binary, with a semaphore ----
 *
 * What <sys/sdt.h> emits (not installed here): a nop at the probe site and a
 * .note.stapsdt entry with its address, the link-time base, the semaphore's
 * address, provider, name and the argument ("-8@%reg": a signed 8-byte
 * value in that register). The kernel increments the semaphore while a
 * uprobe with a ref_ctr offset is on the probe; the code fires only then,
 * as a program using *_ENABLED() does. */
unsigned short sonde_test_tick_semaphore __attribute__((section(".probes"), used));

static __attribute__((noinline)) void usdt_tick(long v)
{
	if (!sonde_test_tick_semaphore)
		return;
	__asm__ __volatile__("990: nop\n"
	                     ".pushsection .note.stapsdt,\"?\",\"note\"\n"
	                     ".balign 4\n"
	                     ".4byte 992f-991f, 994f-993f, 3\n"
	                     "991: .asciz \"stapsdt\"\n"
	                     "992: .balign 4\n"
	                     "993: .8byte 990b\n"
	                     ".8byte _.stapsdt.base\n"
	                     ".8byte sonde_test_tick_semaphore\n"
	                     ".asciz \"sonde_test\"\n"
	                     ".asciz \"tick\"\n"
	                     ".asciz \"-8@%0\"\n"
	                     "994: .balign 4\n"
	                     ".popsection\n"
	                     ".ifndef _.stapsdt.base\n"
	                     ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n"
	                     ".weak _.stapsdt.base\n"
	                     ".hidden _.stapsdt.base\n"
	                     "_.stapsdt.base: .space 1\n"
	                     ".size _.stapsdt.base, 1\n"
	                     ".popsection\n"
	                     ".endif\n" ::"r"(v));
}

/* Ticks until the probe has been enabled for TICKS_ENABLED ticks, then ends
 * the run itself: detaching drops the breakpoint before it lowers the
 * semaphore, so ticks during the stop would count as fired but unrecorded
 * (on a loaded machine, hundreds of them). */
#define TICKS_ENABLED 200

struct ticker {
	pthread_t thread;
	struct sonde_gadget_ctx *ctx;
	atomic_bool stop;
	atomic_int fired, sema_max;
};

static void *ticker_main(void *arg)
{
	struct ticker *t = arg;

	for (long i = 1; !t->stop; i++) {
		if (sonde_test_tick_semaphore > t->sema_max)
			t->sema_max = sonde_test_tick_semaphore;
		if (sonde_test_tick_semaphore)
			t->fired++;
		usdt_tick(1000 + i);
		if (t->fired >= TICKS_ENABLED)
			break;
		usleep(2000);
	}
	sonde_gadget_cancel(t->ctx);
	return NULL;
}

struct usdt_seen {
	struct sonde_field *pid, *arg0, *nargs;
	atomic_int n, bad;
	int64_t last;
};

static int on_usdt(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct usdt_seen *s = arg;
	int64_t v = sonde_field_int64(s->arg0, rec);

	(void)ds;
	s->n++;
	if (getenv("TEST_VERBOSE") && s->n < 5)
		fprintf(stderr, "  usdt pid %u nargs %lld arg0 %lld\n", sonde_field_uint32(s->pid, rec),
		        (long long)sonde_field_int32(s->nargs, rec), (long long)v);
	/* this process's ticks, in order, with their one argument */
	if (sonde_field_uint32(s->pid, rec) != (uint32_t)getpid() || sonde_field_int32(s->nargs, rec) != 1 ||
	    v <= s->last || v <= 1000)
		s->bad++;
	s->last = v;
	return 0;
}

static void test_usdt(void)
{
	char exe[PATH_MAX], yaml[PATH_MAX + 128], pid[32];
	struct gadget_run r;
	struct usdt_seen s = {0};
	struct ticker t = {0};
	struct sonde_ds *ds;

	test_require_root();
	REQUIRE(realpath("/proc/self/exe", exe));
	snprintf(yaml, sizeof(yaml), "programs:\n  ig_usdt:\n    attach_to: %s:sonde_test:tick\n", exe);
	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_usdt", yaml) == 0);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	CHECK_INT(set_param(&r, "targ_pid", pid), 0);
	ds = sonde_gadget_ds(r.ctx, "usdt");
	REQUIRE(ds);
	s.pid = sonde_ds_field(ds, "pid");
	s.arg0 = sonde_ds_field(ds, "arg0");
	s.nargs = sonde_ds_field(ds, "nargs");
	REQUIRE(s.pid && s.arg0 && s.nargs);
	REQUIRE(sonde_ds_subscribe(ds, on_usdt, &s, 100) == 0);
	CHECK_INT(sonde_test_tick_semaphore, 0);
	t.ctx = r.ctx;
	pthread_create(&t.thread, NULL, ticker_main, &t);
	/* the ticker ends the run; the timeout only bounds a stuck one */
	CHECK_INT(sonde_gadget_run(r.ctx, 30 * 1000000000LL), 0);
	t.stop = true;
	pthread_join(t.thread, NULL);
	printf("  %d ticks fired while enabled, %d records, semaphore up to %d\n", (int)t.fired, (int)s.n,
	       (int)t.sema_max);
	if (logged("cannot"))
		fprintf(stderr, "  log:\n%s", log_errors);
	CHECK(t.sema_max >= 1);
	CHECK_INT(t.fired, TICKS_ENABLED);
	/* every record is a tick, and nearly every tick while enabled is
	 * recorded (the run's stop drains the ring buffer): the kernel raises
	 * the semaphore just before it writes the breakpoint, and under qemu
	 * (6.1) 2 of 200 ticks once raced the attach */
	CHECK(s.n <= t.fired && s.n >= t.fired * 95 / 100);
	CHECK_INT(s.bad, 0);
	gadget_close(&r);
	/* detached: the semaphore is back to zero and the program gone */
	CHECK_INT(sonde_test_tick_semaphore, 0);
	CHECK_INT(test_bpf_progs_named_settled("ig_usdt"), 0);

	/* a target without provider:probe is refused, naming the program */
	snprintf(yaml, sizeof(yaml), "programs:\n  ig_usdt:\n    attach_to: %s:tick\n", exe);
	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_usdt", yaml) == 0);
	CHECK(sonde_gadget_run(r.ctx, 1000 * 1000000LL) != 0);
	CHECK_LOGGED("program 'ig_usdt' (usdt/libc:sonde_test:tick): usdt target");
	CHECK_INT(error_lines(), 1);
	gadget_close(&r);
}

/* The dispatcher alone, by BPF_PROG_TEST_RUN: it writes the netns to
 * cb[0] and tail-calls whatever is in its array. */
static void test_dispatcher(void)
{
	/* r0 = skb->cb[0]; exit */
	struct bpf_insn target[] = {
	    {.code = BPF_LDX | BPF_MEM | BPF_W,
	     .dst_reg = BPF_REG_0,
	     .src_reg = BPF_REG_1,
	     .off = offsetof(struct __sk_buff, cb[0])},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	char pkt[64] = {0}, why[1200];
	enum bpf_prog_type types[] = {BPF_PROG_TYPE_SOCKET_FILTER, BPF_PROG_TYPE_SCHED_CLS};

	test_require_root();
	for (size_t i = 0; i < 2; i++) {
		int tfd = bpf_prog_load(types[i], "test_target", "GPL", target, 2, NULL), afd, dfd;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof(pkt));

		REQUIRE(tfd >= 0);
		afd = ebpf_dispatch_array(tfd, "test_target");
		REQUIRE(afd >= 0);
		dfd = ebpf_dispatcher_load(types[i], afd, 0x4242, why, sizeof(why));
		if (dfd < 0)
			fprintf(stderr, "  %s\n", why);
		REQUIRE(dfd >= 0);
		CHECK_INT(bpf_prog_test_run_opts(dfd, &opts), 0);
		CHECK_INT((int)opts.retval, 0x4242);
		/* an empty slot: the dispatcher's own verdict (socket: 0, tc: UNSPEC) */
		{
			uint32_t key = 0;

			CHECK_INT(bpf_map_delete_elem(afd, &key), 0);
			CHECK_INT(bpf_prog_test_run_opts(dfd, &opts), 0);
			CHECK_INT((int)opts.retval, types[i] == BPF_PROG_TYPE_SCHED_CLS ? TC_ACT_UNSPEC : 0);
		}
		close(dfd);
		close(afd);
		close(tfd);
	}
}

TEST_MAIN(TEST(test_dispatcher), TEST(test_socket_filter_host), TEST(test_container), TEST(test_tc_iface),
          TEST(test_tc_sigterm), TEST(test_failed_start), TEST(test_perf_event), TEST(test_sockops_sk_msg),
          TEST(test_usdt), TEST(test_runc_container), TEST(test_runc_tc))
