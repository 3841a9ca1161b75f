/* The tcpdump gadget end to end (`sonde run tcpdump`), on a runc busybox
 * container with a network namespace of its own, joined to the host by a
 * veth pair the test creates (as a CNI plugin would):
 *  - a process of the test ("sdtd_udp", joined to the container's network
 *    and mount namespaces) sends UDP datagrams "SDTD-PING-nn" to a socket
 *    of the test on the host side, which answers "SDTD-PONG-nn";
 *  - test_container_json: selected by container name, the classifiers sit
 *    on the host-side veth: each datagram is one record with the marker in
 *    its payload, its sizes, the host-side ifindex, its direction seen from
 *    the container (ping egress, pong ingress), the sender's pid and comm
 *    (socket enricher) and the container's name;
 *  - test_container_pcapng: the same as a pcapng stream: blocks checked by
 *    a parser of the test's own (lengths, interface with the container's
 *    name in its description, packets with the markers and wall-clock
 *    times), and read back by tcpdump(8) when it is installed;
 *  - test_iface_json: --iface on the host-side veth: directions are the
 *    interface's own, and the tc filters are gone after the run;
 *  - test_missing_iface: --iface naming no interface is one error and
 *    leaves no qdisc or filter anywhere;
 *  - test_tty_refused: -o pcap-ng on a terminal is refused.
 * Container, namespace binding and veth pair are named after the test's pid
 * (prefix sdtd) and removed at exit, also after a failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "oci_rootfs.h"
#include "testlib.h"

#define PORT_HOST 47410
#define PORT_CTR  47411
#define ROUNDS    30
#define COMM      "sdtd_udp"
#define PING      "SDTD-PING-"
#define PONG      "SDTD-PONG-"
#define MSG_LEN   12 /* "SDTD-PING-nn" */
/* Ethernet + IPv4 (no options) + UDP headers */
#define FRAME_LEN (14 + 20 + 8 + MSG_LEN)

#define WORKDIR_PREFIX "/tmp/sonde-it-tcpdump-"

/* REQUIRE for helpers: they return false, their caller REQUIREs that. */
#define HREQUIRE(cond)                                                                                       \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);           \
			return false;                                                                        \
		}                                                                                            \
	} while (0)

static char workdir[256], ctr_id[64], ns[32], va[IF_NAMESIZE], vb[IF_NAMESIZE], ip_a[32], ip_b[32];
static pid_t ctr_pid;
static bool net_up;

static int run(const char *const *argv)
{
	return test_run_quiet(argv);
}

static void cleanup(void)
{
	if (net_up) {
		run((const char *[]){"ip", "link", "del", va, NULL}); /* takes its peer along */
		run((const char *[]){"ip", "netns", "del", ns, NULL});
		net_up = false;
	}
	if (ctr_id[0])
		oci_delete("runc", ctr_id);
	ctr_id[0] = '\0';
	if (workdir[0])
		test_rm_tree(workdir, WORKDIR_PREFIX);
	workdir[0] = '\0';
}

/* A busybox container (sleep) with the runtime's fresh network namespace. */
static bool container_start(void)
{
	static const char *const applets[] = {"sleep", NULL};
	char bundle[512], rootfs[512];

	oci_require("runc");
	HREQUIRE(oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets) == 0);
	atexit(cleanup);
	snprintf(bundle, sizeof(bundle), "%s/b", workdir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	HREQUIRE(oci_bundle_write(bundle, rootfs, json_pack("[s,s]", "sleep", "120"), json_object()) == 0);
	snprintf(ctr_id, sizeof(ctr_id), "sdtd-%d", (int)getpid());
	HREQUIRE(oci_run_detached("runc", bundle, ctr_id) == 0);
	ctr_pid = (pid_t)oci_state_pid("runc", ctr_id);
	HREQUIRE(ctr_pid > 0);
	return true;
}

/* The veth pair: va on the host, vb in the container's namespace (bound to
 * the name ns so that ip(8) reaches it). */
static bool net_setup(void)
{
	unsigned sub = (unsigned)getpid() % 250 + 1;
	char pids[16], cidr_a[40], cidr_b[40];

	if (run((const char *[]){"ip", "-V", NULL}) != 0)
		test_skip_dep("no ip(8) (iproute2)");
	snprintf(ns, sizeof(ns), "sdtd-%d", (int)getpid());
	snprintf(va, sizeof(va), "sdtd%da", (int)getpid() % 1000000);
	snprintf(vb, sizeof(vb), "sdtd%db", (int)getpid() % 1000000);
	snprintf(ip_a, sizeof(ip_a), "10.217.%u.1", sub);
	snprintf(ip_b, sizeof(ip_b), "10.217.%u.2", sub);
	snprintf(cidr_a, sizeof(cidr_a), "%s/24", ip_a);
	snprintf(cidr_b, sizeof(cidr_b), "%s/24", ip_b);
	snprintf(pids, sizeof(pids), "%d", (int)ctr_pid);
	/* where the kernel cannot load modules by itself (the test VM) */
	run((const char *[]){"modprobe", "veth", NULL});
	run((const char *[]){"modprobe", "sch_ingress", NULL}); /* clsact */
	run((const char *[]){"modprobe", "cls_bpf", NULL});
	HREQUIRE(run((const char *[]){"ip", "netns", "attach", ns, pids, NULL}) == 0);
	net_up = true;
	HREQUIRE(run((const char *[]){"ip", "link", "add", va, "type", "veth", "peer", "name", vb, NULL}) ==
	         0);
	HREQUIRE(run((const char *[]){"ip", "link", "set", vb, "netns", ns, NULL}) == 0);
	HREQUIRE(run((const char *[]){"ip", "addr", "add", cidr_a, "dev", va, NULL}) == 0);
	HREQUIRE(run((const char *[]){"ip", "link", "set", va, "up", NULL}) == 0);
	HREQUIRE(run((const char *[]){"ip", "-n", ns, "addr", "add", cidr_b, "dev", vb, NULL}) == 0);
	HREQUIRE(run((const char *[]){"ip", "-n", ns, "link", "set", vb, "up", NULL}) == 0);
	HREQUIRE(run((const char *[]){"ip", "-n", ns, "link", "set", "lo", "up", NULL}) == 0);
	return true;
}

static bool setup(void)
{
	test_require_root();
	return container_start() && net_setup();
}

/* stdout of a shell command (names in it are the test's own); caller frees. */
static char *cmd_output(const char *cmd, int *status)
{
	FILE *f = popen(cmd, "r");
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];

	*status = -1;
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		char *nb = realloc(buf, len + n + 1);

		if (!nb)
			break;
		buf = nb;
		memcpy(buf + len, chunk, n);
		len += n;
		buf[len] = 0;
	}
	*status = pclose(f);
	if (*status >= 0 && WIFEXITED(*status))
		*status = WEXITSTATUS(*status);
	return buf ? buf : strdup("");
}

/* ---- traffic ---- */

/* The host side: answers each ping with the pong of the same number. */
struct echo {
	int fd;
	atomic_bool stop;
	atomic_int answered;
	pthread_t thread;
};

static void *echo_loop(void *arg)
{
	struct echo *e = arg;
	char buf[64];

	while (!atomic_load(&e->stop)) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		struct pollfd pfd = {e->fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recvfrom(e->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n != MSG_LEN || memcmp(buf, PING, strlen(PING)) != 0)
			continue;
		memcpy(buf, PONG, strlen(PONG));
		if (sendto(e->fd, buf, MSG_LEN, 0, (struct sockaddr *)&from, flen) == MSG_LEN)
			atomic_fetch_add(&e->answered, 1);
	}
	return NULL;
}

/* Bound before sonde starts: the socket enricher finds it in its first scan. */
static bool echo_start(struct echo *e)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT_HOST)};

	memset(e, 0, sizeof(*e));
	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	HREQUIRE(e->fd >= 0);
	inet_pton(AF_INET, ip_a, &a.sin_addr);
	HREQUIRE(bind(e->fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	HREQUIRE(pthread_create(&e->thread, NULL, echo_loop, e) == 0);
	return true;
}

static void echo_stop(struct echo *e)
{
	atomic_store(&e->stop, true);
	pthread_join(e->thread, NULL);
	close(e->fd);
}

/* The container side, in a child: ROUNDS pings from ip_b:PORT_CTR, each
 * waiting up to 200 ms for its pong. Exits 0 when most were answered. */
static pid_t sender_start(void)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	{
		struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(PORT_CTR)};
		struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(PORT_HOST)};
		struct timeval tv = {.tv_usec = 200000};
		static const char *const nss[] = {"net", "mnt"};
		char path[64], buf[64];
		int fd, pongs = 0;

		/* a process of the container: its network namespace for the
		 * traffic, its mount namespace for the container to be named */
		for (int i = 0; i < 2; i++) {
			int nsfd;

			snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)ctr_pid, nss[i]);
			nsfd = open(path, O_RDONLY | O_CLOEXEC);
			if (nsfd < 0 || setns(nsfd, 0) != 0)
				_exit(2);
			close(nsfd);
		}
		prctl(PR_SET_NAME, COMM);
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		inet_pton(AF_INET, ip_b, &me.sin_addr);
		inet_pton(AF_INET, ip_a, &to.sin_addr);
		if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0 ||
		    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
			_exit(3);
		for (int i = 0; i < ROUNDS; i++) {
			snprintf(buf, sizeof(buf), PING "%02d", i);
			if (sendto(fd, buf, MSG_LEN, 0, (struct sockaddr *)&to, sizeof(to)) != MSG_LEN)
				_exit(4);
			if (recv(fd, buf, sizeof(buf), 0) == MSG_LEN && memcmp(buf, PONG, strlen(PONG)) == 0)
				pongs++;
			usleep(30000);
		}
		_exit(pongs >= ROUNDS / 2 ? 0 : 5);
	}
}

/* Runs sonde with args (after "run tcpdump -v") while the traffic flows;
 * p holds its whole output after its SIGINT. *sender gets the sender's
 * pid; times bound the run in wall-clock ns. */
static bool capture(struct sonde_proc *p, const char *const *args, pid_t *sender, int64_t *t0, int64_t *t1)
{
	const char *argv[16] = {"run", "tcpdump", "-v"};
	struct timespec ts;
	struct echo e;
	size_t n = 3;

	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	HREQUIRE(echo_start(&e));
	if (sonde_proc_start_running(p, argv)) {
		echo_stop(&e);
		return false;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	*t0 = ts.tv_sec * 1000000000ll + ts.tv_nsec;
	*sender = sender_start();
	HREQUIRE(*sender > 0);
	sonde_proc_await_child(p, *sender);
	echo_stop(&e);
	printf("  %d pings answered\n", atomic_load(&e.answered));
	/* the last packets reach sonde's output within its next batch */
	sonde_proc_wait_for(p, 1, "\001never", 500);
	clock_gettime(CLOCK_REALTIME, &ts);
	*t1 = ts.tv_sec * 1000000000ll + ts.tv_nsec;
	CHECK_INT(sonde_proc_finish(p, SIGINT, 10000), 0);
	if (p->status)
		sonde_proc_print_errors(p);
	return true;
}

/* ---- checks on the json output ---- */

static void hex_of(const char *s, char *out)
{
	for (; *s; s++, out += 2)
		sprintf(out, "%02x", (unsigned char)*s);
	*out = 0;
}

struct want {
	int ping_type, pong_type; /* packet_type */
	pid_t ping_pid, pong_pid; /* process of the local socket; 0: not checked */
	const char *ping_comm, *pong_comm;
	const char *container; /* runtime.containerName, NULL: not checked */
};

static void check_json(const char *out, const struct want *w)
{
	char ping_hex[64], pong_hex[64];
	json_t *all = test_json_lines(out ? out : ""), *ev;
	unsigned ifindex = if_nametoindex(va);
	int pings = 0, pongs = 0, bad = 0;
	size_t i;

	hex_of(PING, ping_hex);
	hex_of(PONG, pong_hex);
	json_array_foreach(all, i, ev)
	{
		const char *payload = test_json_str(ev, "payload"), *comm = test_json_str(ev, "proc.comm");
		const char *ctr = test_json_str(ev, "runtime.containerName");
		bool ping = payload && strstr(payload, ping_hex), pong = payload && strstr(payload, pong_hex);
		int type = (int)test_json_int(ev, "packet_type", -1);
		pid_t pid = (pid_t)test_json_int(ev, "proc.pid", -1);
		bool ok;

		if (!ping && !pong)
			continue;
		pings += ping;
		pongs += pong;
		ok = test_json_int(ev, "ifindex", -1) == (long long)ifindex &&
		     test_json_int(ev, "packet_size", -1) == FRAME_LEN &&
		     test_json_int(ev, "payload_len", -1) == FRAME_LEN && strlen(payload) == 2 * FRAME_LEN &&
		     type == (ping ? w->ping_type : w->pong_type) &&
		     (!(ping ? w->ping_pid : w->pong_pid) || pid == (ping ? w->ping_pid : w->pong_pid)) &&
		     (!(ping ? w->ping_comm : w->pong_comm) ||
		      (comm && !strcmp(comm, ping ? w->ping_comm : w->pong_comm))) &&
		     (!w->container || (ctr && !strcmp(ctr, w->container))) && test_json_str(ev, "timestamp");
		if (!ok && bad++ < 3)
			fprintf(stderr, "unexpected record: %s\n", json_dumps(ev, JSON_COMPACT));
	}
	printf("  %d pings, %d pongs seen\n", pings, pongs);
	CHECK(pings >= ROUNDS / 2);
	CHECK(pongs >= ROUNDS / 2);
	CHECK_INT(bad, 0);
	if (pings < ROUNDS / 2 || pongs < ROUNDS / 2)
		fprintf(stderr, "output:\n%.4000s\n", out ? out : "");
	json_decref(all);
}

static void test_container_json(void)
{
	const char *args[] = {"-c", NULL, "-o", "json", NULL};
	struct sonde_proc p;
	struct want w;
	pid_t sender;
	int64_t t0, t1;

	REQUIRE(setup());
	args[1] = ctr_id;
	REQUIRE(capture(&p, args, &sender, &t0, &t1));
	/* seen from the container: its pings go out, the pongs come in, both
	 * to and from the sender's socket in its namespace */
	w = (struct want){.ping_type = 0,
	                  .pong_type = 1,
	                  .ping_pid = sender,
	                  .pong_pid = sender,
	                  .ping_comm = COMM,
	                  .pong_comm = COMM,
	                  .container = ctr_id};
	check_json(p.out, &w);
	sonde_proc_free(&p);
}

static void test_iface_json(void)
{
	const char *args[] = {"--iface", va, "-o", "json", NULL};
	char cmd[128];
	struct sonde_proc p;
	struct want w;
	char *txt = NULL;
	pid_t sender;
	int64_t t0, t1;

	REQUIRE(setup());
	REQUIRE(capture(&p, args, &sender, &t0, &t1));
	/* the interface's own directions: the pings come in on the host side,
	 * to the test's echo socket in the host's namespace */
	w = (struct want){.ping_type = 1, .pong_type = 0, .ping_pid = getpid(), .pong_pid = getpid()};
	check_json(p.out, &w);
	sonde_proc_free(&p);
	/* nothing of sonde's stays on the interface */
	for (int k = 0; k < 2; k++) {
		int status;

		snprintf(cmd, sizeof(cmd), "tc filter show dev %s %s", va, k ? "egress" : "ingress");
		txt = cmd_output(cmd, &status);
		CHECK_INT(status, 0);
		CHECK_STR(txt ? txt : "?", "");
		free(txt);
	}
}

/* --pf: the kernel keeps only what the pcap filter matches, the pings to
 * the host's port; the pongs, ARP and neighbour discovery never arrive. */
static void test_iface_pf(void)
{
	char filter[64], ping_hex[64];
	const char *args[] = {"--iface", va, "--pf", filter, "-o", "json", NULL};
	struct sonde_proc p;
	json_t *all, *ev;
	int pings = 0, others = 0;
	pid_t sender;
	int64_t t0, t1;
	size_t i;

	snprintf(filter, sizeof(filter), "udp dst port %d", PORT_HOST);
	hex_of(PING, ping_hex);
	REQUIRE(setup());
	REQUIRE(capture(&p, args, &sender, &t0, &t1));
	all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(all, i, ev)
	{
		const char *payload = test_json_str(ev, "payload");

		if (payload && strstr(payload, ping_hex))
			pings++;
		else if (others++ < 3)
			fprintf(stderr, "not matching the filter: %s\n", json_dumps(ev, JSON_COMPACT));
	}
	printf("  %d pings, %d other packets\n", pings, others);
	CHECK(pings >= ROUNDS / 2);
	CHECK_INT(others, 0);
	json_decref(all);
	sonde_proc_free(&p);

	/* a filter pcap cannot compile: one error, nothing attached */
	sonde_expect_error((const char *const[]){"run", "tcpdump", "--iface", va, "--pf", "udp port", NULL},
	                   "invalid packet filter 'udp port'");
	for (int k = 0; k < 2; k++) {
		char cmd[128], *txt;
		int status;

		snprintf(cmd, sizeof(cmd), "tc filter show dev %s %s", va, k ? "egress" : "ingress");
		txt = cmd_output(cmd, &status);
		CHECK_STR(txt ? txt : "?", "");
		free(txt);
	}
}

/* ---- the pcapng stream, read by the test ---- */

static uint32_t u32_at(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t u16_at(const char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

#define MAX_IFACES 8

struct pcap_seen {
	size_t nifaces;
	char if_name[MAX_IFACES][64];
	char if_desc[MAX_IFACES][512];
	int tsresol[MAX_IFACES];
	int pings, pongs, bad;
};

/* Option `code` of the options between o and end, copied into out. */
static bool find_opt(const char *o, const char *end, uint16_t code, char *out, size_t cap)
{
	while (o + 4 <= end && u16_at(o) != 0) {
		uint16_t len = u16_at(o + 2);

		if (o + 4 + len > end)
			return false;
		if (u16_at(o) == code) {
			size_t n = len < cap - 1 ? len : cap - 1;

			memcpy(out, o + 4, n);
			out[n] = 0;
			return true;
		}
		o += 4 + ((len + 3u) & ~3u);
	}
	return false;
}

/* Checks the structure of every block (a stream must parse to its end) and
 * what the packets hold; false when it is not a pcapng stream at all. */
static bool parse_pcapng(const char *p, size_t len, int64_t t0, int64_t t1, struct pcap_seen *s)
{
	size_t off = 0;

	memset(s, 0, sizeof(*s));
	HREQUIRE(len >= 28 && u32_at(p) == 0x0A0D0D0A && u32_at(p + 8) == 0x1A2B3C4D);
	HREQUIRE(u16_at(p + 12) == 1 && u16_at(p + 14) == 0);
	while (off < len) {
		const char *b = p + off;
		uint32_t bl, type;

		HREQUIRE(len - off >= 12);
		type = u32_at(b);
		bl = u32_at(b + 4);
		HREQUIRE(bl >= 12 && bl % 4 == 0 && bl <= len - off && u32_at(b + bl - 4) == bl);
		if (type == 1) { /* IDB */
			char res[4] = {0};

			HREQUIRE(s->nifaces < MAX_IFACES && bl >= 20);
			HREQUIRE(u16_at(b + 8) == 1); /* Ethernet */
			find_opt(b + 16, b + bl - 4, 2, s->if_name[s->nifaces], sizeof(s->if_name[0]));
			find_opt(b + 16, b + bl - 4, 3, s->if_desc[s->nifaces], sizeof(s->if_desc[0]));
			s->tsresol[s->nifaces] =
			    find_opt(b + 16, b + bl - 4, 9, res, sizeof(res)) ? res[0] : 6;
			s->nifaces++;
		} else if (type == 6) { /* EPB */
			uint32_t ifid, caplen, origlen;
			uint64_t ts;

			HREQUIRE(bl >= 32);
			ifid = u32_at(b + 8);
			ts = ((uint64_t)u32_at(b + 12) << 32) | u32_at(b + 16);
			caplen = u32_at(b + 20);
			origlen = u32_at(b + 24);
			HREQUIRE(ifid < s->nifaces); /* described before its first packet */
			HREQUIRE(32 + ((caplen + 3u) & ~3u) <= bl && caplen <= origlen);
			if (caplen == FRAME_LEN && memmem(b + 28, caplen, PING, strlen(PING)))
				s->pings++;
			else if (caplen == FRAME_LEN && memmem(b + 28, caplen, PONG, strlen(PONG)))
				s->pongs++;
			else
				goto next;
			if (s->tsresol[ifid] != 9 || (int64_t)ts < t0 - 1000000000ll || (int64_t)ts > t1 ||
			    origlen != FRAME_LEN) {
				if (s->bad++ < 3)
					fprintf(stderr,
					        "packet: time %llu (run %lld..%lld, tsresol %d), length %u\n",
					        (unsigned long long)ts, (long long)t0, (long long)t1,
					        s->tsresol[ifid], origlen);
			}
		}
	next:
		off += bl;
	}
	return true;
}

static void test_container_pcapng(void)
{
	const char *args[] = {"-c", NULL, "-o", "pcap-ng", NULL};
	char path[300], want_desc[128], cmd[400], line[160];
	struct pcap_seen s;
	struct sonde_proc p;
	pid_t sender;
	int64_t t0, t1;
	bool named = false;

	REQUIRE(setup());
	args[1] = ctr_id;
	REQUIRE(capture(&p, args, &sender, &t0, &t1));
	REQUIRE(p.out);
	CHECK(parse_pcapng(p.out, p.out_len, t0, t1, &s));
	printf("  %zu bytes: %zu interfaces, %d pings, %d pongs\n", p.out_len, s.nifaces, s.pings, s.pongs);
	CHECK(s.pings >= ROUNDS / 2);
	CHECK(s.pongs >= ROUNDS / 2);
	CHECK_INT(s.bad, 0);
	/* the host-side veth, named, described with its container */
	snprintf(want_desc, sizeof(want_desc), "runtime.containerName=%s", ctr_id);
	for (size_t i = 0; i < s.nifaces; i++) {
		printf("  interface %zu: %s \"%s\"\n", i, s.if_name[i], s.if_desc[i]);
		named |= strcmp(s.if_name[i], va) == 0 && strstr(s.if_desc[i], want_desc) != NULL;
	}
	CHECK(named);

	/* what tcpdump makes of it */
	snprintf(path, sizeof(path), "%s/capture.pcapng", workdir);
	REQUIRE(p.out_len > 0);
	{
		FILE *f = fopen(path, "wb");

		REQUIRE(f);
		CHECK_INT(fwrite(p.out, 1, p.out_len, f), p.out_len);
		fclose(f);
	}
	if (test_have("tcpdump")) {
		int status;
		char *txt;

		snprintf(cmd, sizeof(cmd), "tcpdump -r %s -nn 2>&1", path);
		txt = cmd_output(cmd, &status);
		CHECK_INT(status, 0);
		snprintf(line, sizeof(line), "IP %s.%d > %s.%d: UDP, length %d", ip_b, PORT_CTR, ip_a,
		         PORT_HOST, MSG_LEN);
		CHECK(txt && strstr(txt, line));
		snprintf(line, sizeof(line), "IP %s.%d > %s.%d: UDP, length %d", ip_a, PORT_HOST, ip_b,
		         PORT_CTR, MSG_LEN);
		CHECK(txt && strstr(txt, line));
		CHECK(txt && strstr(txt, "link-type EN10MB (Ethernet)"));
		if (!txt || !strstr(txt, line))
			fprintf(stderr, "tcpdump -r:\n%.3000s\n", txt ? txt : "");
		free(txt);
	} else {
		printf("  no tcpdump(8): the stream was checked by the test's parser only\n");
	}
	sonde_proc_free(&p);
}

/* ---- bad input ---- */

static void test_missing_iface(void)
{
	const char *argv[] = {"run", "tcpdump", "--iface", "sdtdnope0", NULL};
	char *before, *after;
	int status;

	test_require_root();
	if (run((const char *[]){"tc", "-V", NULL}) != 0)
		test_skip_dep("no tc(8) (iproute2)");
	before = cmd_output("tc qdisc show", &status);
	REQUIRE(status == 0);
	sonde_expect_error(argv, "interface 'sdtdnope0' not found");
	after = cmd_output("tc qdisc show", &status);
	CHECK_INT(status, 0);
	CHECK_STR(after ? after : "?", before);
	free(before);
	free(after);
}

/* -o pcap-ng with a terminal as stdout: one error, nothing written. */
static void test_tty_refused(void)
{
	char buf[4096], *pts;
	size_t len = 0;
	int master, slave, errp[2], st;
	ssize_t n;
	pid_t pid;

	test_require_root();
	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0)
		test_skip_machine("no pseudo-terminal here (devpts is not mounted)");
	REQUIRE(grantpt(master) == 0 && unlockpt(master) == 0);
	pts = ptsname(master);
	REQUIRE(pts);
	slave = open(pts, O_RDWR | O_NOCTTY);
	REQUIRE(slave >= 0);
	REQUIRE(pipe(errp) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(slave, 1);
		dup2(errp[1], 2);
		execl(sonde_bin, sonde_bin, "run", "tcpdump", "--host", "-o", "pcap-ng", "-t", "5",
		      (char *)NULL);
		_exit(127);
	}
	close(slave);
	close(errp[1]);
	while (len < sizeof(buf) - 1 && (n = read(errp[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(errp[0]);
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	CHECK(strstr(buf, "sonde: error: cli: output mode \"pcap-ng\" writes binary data") != NULL);
	if (!strstr(buf, "writes binary data"))
		fprintf(stderr, "stderr:\n%s\n", buf);
	/* nothing reached the terminal */
	fcntl(master, F_SETFL, O_NONBLOCK);
	n = read(master, buf, sizeof(buf));
	CHECK(n <= 0);
	close(master);
}

TEST_MAIN(TEST(test_container_json), TEST(test_container_pcapng), TEST(test_iface_json), TEST(test_iface_pf),
          TEST(test_missing_iface), TEST(test_tty_refused))
