/* The socket enricher (lib/ebpf/socket_enricher.c) seen from a gadget: a
 * socket filter (tests/bpf/socket_enricher_lookup.bpf.c) looks every
 * packet's local socket up in gadget_sockets and reports its owner.
 *
 * The test moves into a network namespace of its own (named after its pid,
 * deleted by name at the end), where the gadget's socket filter watches the
 * loopback. Two processes of known pid and comm own the sockets:
 *  - "se_early" opens a UDP socket bound to PORT, a TCP listener on PORT and
 *    a TCP connection to it BEFORE the gadget starts: the initial scan must
 *    find them;
 *  - "se_late" opens an unbound UDP socket and a TCP connection AFTER the
 *    start: the live hooks (sendmsg, inet_sock_set_state) must record them.
 * Both send UDP and TCP; every packet a process sends must carry its pid and
 * comm. Then se_late closes its sockets: their entries must leave the map.
 *
 * test_full_map: "se_filler" binds more sockets than the map holds (only
 * cgroup/post_bind4 sees them): the map stays bounded and the run reports
 * how many entries were evicted. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../unit/test_ebpf_helpers.h"
#include "kernel_probe.h"

#define PORT   47330
#define ROUNDS 20

#define PACKET_OUTGOING 4

/* struct gadget_socket_key */
struct se_key {
	uint32_t netns;
	uint16_t family;
	uint8_t proto;
	uint16_t port;
};

static char ns[32];
static int hostfd = -1;
static uint32_t ns_ino;

static int run_ip(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
                  const char *a6)
{
	const char *argv[] = {"ip", a1, a2, a3, a4, a5, a6, NULL};

	return test_run_quiet(argv);
}

/* Creates the namespace (lo up) and moves this process (all its future
 * threads and children) into it. */
static bool ns_enter(void)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(ns, sizeof(ns), "sonde-se-%d", (int)getpid());
	run_ip("netns", "del", ns, NULL, NULL, NULL);
	if (run_ip("netns", "add", ns, NULL, NULL, NULL) != 0 ||
	    run_ip("-n", ns, "link", "set", "lo", "up") != 0) {
		fprintf(stderr, "cannot create network namespace %s\n", ns);
		return false;
	}
	hostfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (hostfd < 0 || fd < 0 || fstat(fd, &st) || setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "cannot enter %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	ns_ino = (uint32_t)st.st_ino;
	close(fd);
	return true;
}

static void ns_leave(void)
{
	if (hostfd >= 0) {
		if (setns(hostfd, CLONE_NEWNET))
			fprintf(stderr, "cannot return to the host network namespace: %s\n", strerror(errno));
		close(hostfd);
		hostfd = -1;
	}
	if (*ns)
		run_ip("netns", "del", ns, NULL, NULL, NULL);
}

/* ---- the processes that own sockets ---- */

struct ports {
	uint16_t udp, tcp; /* local ports of the UDP socket and the TCP client */
};

struct worker {
	pid_t pid;
	int cmd, rep; /* our ends: commands to it, its replies */
	struct ports ports;
};

static uint16_t local_port(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	return getsockname(fd, (struct sockaddr *)&a, &len) ? 0 : ntohs(a.sin_port);
}

static struct sockaddr_in lo_addr(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* The child: early owns the UDP socket on PORT and the listener (and
 * accepts, reads and closes what connects), late only clients. Commands:
 * 's' send one round, 'c' close the sockets, 'q' quit; each answered by a byte. */
static void worker_main(bool early, int cmd, int rep)
{
	struct sockaddr_in to = lo_addr(PORT), a = lo_addr(PORT);
	struct pollfd pfd[16];
	int udp, tcp, lst = -1, n = 0, one = 1;
	struct ports p;
	char c;

	prctl(PR_SET_NAME, early ? "se_early" : "se_late");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	if (early) {
		lst = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(udp, (struct sockaddr *)&a, sizeof(a)) ||
		    bind(lst, (struct sockaddr *)&a, sizeof(a)) || listen(lst, 16))
			_exit(2);
	}
	tcp = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(tcp, (struct sockaddr *)&to, sizeof(to)))
		_exit(3);
	if (!early && sendto(udp, "x", 1, 0, (struct sockaddr *)&to, sizeof(to)) != 1) /* autobind */
		_exit(4);
	p.udp = local_port(udp);
	p.tcp = local_port(tcp);
	if (write(rep, &p, sizeof(p)) != sizeof(p))
		_exit(5);
	pfd[n++] = (struct pollfd){.fd = cmd, .events = POLLIN};
	if (early)
		pfd[n++] = (struct pollfd){.fd = lst, .events = POLLIN};
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		for (int i = n - 1; i >= 1; i--) {
			char buf[256];

			if (!(pfd[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (pfd[i].fd == lst) {
				int s = accept(lst, NULL, NULL);

				if (s >= 0 && n < 16)
					pfd[n++] = (struct pollfd){.fd = s, .events = POLLIN};
			} else if (read(pfd[i].fd, buf, sizeof(buf)) <= 0) {
				close(pfd[i].fd);
				pfd[i] = pfd[--n];
			}
		}
		if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			_exit(0); /* the test is gone */
		if (!(pfd[0].revents & POLLIN))
			continue;
		if (read(cmd, &c, 1) != 1 || c == 'q')
			_exit(0);
		if (c == 's') {
			if (sendto(udp, "ping", 4, 0, (struct sockaddr *)&to, sizeof(to)) != 4 ||
			    write(tcp, "ping", 4) != 4)
				_exit(6);
		} else if (c == 'c') {
			close(udp);
			shutdown(tcp, SHUT_RDWR);
			close(tcp);
		}
		if (write(rep, &c, 1) != 1)
			_exit(7);
	}
}

static bool worker_start(struct worker *w, bool early)
{
	int cmd[2], rep[2];

	memset(w, 0, sizeof(*w));
	if (pipe2(cmd, O_CLOEXEC) || pipe2(rep, O_CLOEXEC))
		return false;
	w->pid = fork();
	if (w->pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		worker_main(early, cmd[0], rep[1]);
		_exit(0);
	}
	close(cmd[0]);
	close(rep[1]);
	w->cmd = cmd[1];
	w->rep = rep[0];
	if (w->pid < 0 || read(w->rep, &w->ports, sizeof(w->ports)) != sizeof(w->ports)) {
		fprintf(stderr, "worker %s did not start\n", early ? "se_early" : "se_late");
		return false;
	}
	return true;
}

static bool worker_do(struct worker *w, char c)
{
	char r;

	return write(w->cmd, &c, 1) == 1 && read(w->rep, &r, 1) == 1 && r == c;
}

static void worker_stop(struct worker *w)
{
	if (w->pid <= 0)
		return;
	worker_do(w, 'q');
	kill(w->pid, SIGKILL); /* if it did not listen */
	close(w->cmd);
	close(w->rep);
	waitpid(w->pid, NULL, 0);
	w->pid = 0;
}

/* ---- the gadget's records ---- */

struct seen {
	struct sonde_field *found, *pid, *comm, *pkt_type, *sport, *dport, *proto;
	struct worker *early, *late;
	atomic_int udp[2], tcp[2]; /* outgoing packets credited to early (0) / late (1) */
	atomic_int wrong, unknown;
};

static int on_packet(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct seen *s = arg;
	uint16_t sport = sonde_field_uint16(s->sport, rec);
	uint8_t proto = sonde_field_uint8(s->proto, rec);
	uint32_t pid = sonde_field_uint32(s->pid, rec);
	uint32_t len = 0;
	const char *str = sonde_field_string(s->comm, rec, &len);
	char comm[17] = "";
	struct worker *want = NULL;
	int who;

	(void)ds;
	if (str)
		memcpy(comm, str, len < 16 ? len : 16);
	/* outgoing: the local port is the source, its owner is the sender */
	if (sonde_field_uint32(s->pkt_type, rec) != PACKET_OUTGOING)
		return 0;
	if (sport == PORT || sport == s->early->ports.udp || sport == s->early->ports.tcp)
		want = s->early;
	else if (sport == s->late->ports.udp || sport == s->late->ports.tcp)
		want = s->late;
	/* (early's accepted connections send from PORT too: the listener's entry) */
	if (!want) /* late's first packets, before it told its ports */
		return 0;
	who = want == s->late;
	if (!sonde_field_uint32(s->found, rec)) {
		atomic_fetch_add(&s->unknown, 1);
		fprintf(stderr, "  no owner for %s packet %u -> %u\n", proto == IPPROTO_TCP ? "TCP" : "UDP",
		        sport, sonde_field_uint16(s->dport, rec));
		return 0;
	}
	if (pid != (uint32_t)want->pid || strcmp(comm, who ? "se_late" : "se_early") != 0) {
		atomic_fetch_add(&s->wrong, 1);
		fprintf(stderr, "  %s packet %u -> %u: pid %u comm %s, want %d %s\n",
		        proto == IPPROTO_TCP ? "TCP" : "UDP", sport, sonde_field_uint16(s->dport, rec), pid,
		        comm, (int)want->pid, who ? "se_late" : "se_early");
		return 0;
	}
	atomic_fetch_add(proto == IPPROTO_TCP ? &s->tcp[who] : &s->udp[who], 1);
	return 0;
}

/* The enricher's map, found by name among the kernel's maps (the test
 * checks what the kernel holds, not what sonde says). */
static int sockets_map(void)
{
	__u32 id = 0;

	while (bpf_map_get_next_id(id, &id) == 0) {
		struct bpf_map_info info = {0};
		__u32 len = sizeof(info);
		int fd = bpf_map_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && !strcmp(info.name, "gadget_sockets") &&
		    info.type == BPF_MAP_TYPE_LRU_HASH)
			return fd;
		close(fd);
	}
	return -1;
}

/* Whether the enricher's map is still there (freed after an RCU grace period). */
static bool enricher_running(void)
{
	for (int i = 0; i < 100; i++) {
		int fd = sockets_map();

		if (fd < 0)
			return false;
		close(fd);
		usleep(20000);
	}
	return true;
}

/* The owner pid recorded for (proto, port) in our namespace; 0: none. */
static uint32_t owner(int map, uint8_t proto, uint16_t port, char comm[16])
{
	struct se_key k;
	uint8_t v[4096]; /* the value: pid_tgid at 8, task at 24 */
	uint64_t pid_tgid;

	memset(&k, 0, sizeof(k));
	k.netns = ns_ino;
	k.family = AF_INET;
	k.proto = proto;
	k.port = port;
	if (bpf_map_lookup_elem(map, &k, v))
		return 0;
	memcpy(&pid_tgid, v + 8, 8);
	memcpy(comm, v + 24, 16);
	comm[15] = '\0';
	return (uint32_t)(pid_tgid >> 32);
}

struct driver {
	struct sonde_gadget_ctx *ctx;
	struct worker *early, *late;
	int map;
	atomic_bool run_over; /* the run ended (a failed start: stop waiting) */
	bool ok;
	/* checked by the test once the run is over */
	uint32_t scan_udp, scan_tcp, scan_lst, live_udp, live_tcp;
	char scan_comm[16], live_comm[16];
	uint32_t closed_udp, closed_tcp, grace_udp;
	uint32_t early_after;
};

static void *driver_main(void *arg)
{
	struct driver *d = arg;
	char comm[16];

	for (int i = 0; i < 3000 && !atomic_load(&d->run_over) && test_bpf_progs_named("ig_se_lookup") == 0;
	     i++)
		usleep(10000);
	usleep(100000); /* the dispatcher attached after the gadget's program */
	d->map = sockets_map();
	if (d->map < 0)
		goto out;
	/* the initial scan: early's sockets are older than the gadget */
	d->scan_udp = owner(d->map, IPPROTO_UDP, PORT, d->scan_comm);
	d->scan_lst = owner(d->map, IPPROTO_TCP, PORT, comm);
	d->scan_tcp = owner(d->map, IPPROTO_TCP, d->early->ports.tcp, comm);
	if (!worker_start(d->late, false))
		goto out;
	for (int i = 0; i < ROUNDS; i++) {
		if (!worker_do(d->early, 's') || !worker_do(d->late, 's'))
			goto out;
		usleep(5000);
	}
	usleep(100000);
	d->live_udp = owner(d->map, IPPROTO_UDP, d->late->ports.udp, d->live_comm);
	d->live_tcp = owner(d->map, IPPROTO_TCP, d->late->ports.tcp, comm);
	/* late closes: its entries go, after the grace period (5 s) that lets
	 * the sockets' last packets find their owner */
	if (!worker_do(d->late, 'c'))
		goto out;
	usleep(500000);
	d->grace_udp = owner(d->map, IPPROTO_UDP, d->late->ports.udp, comm);
	for (int i = 0; i < 1000; i++) {
		d->closed_udp = owner(d->map, IPPROTO_UDP, d->late->ports.udp, comm);
		d->closed_tcp = owner(d->map, IPPROTO_TCP, d->late->ports.tcp, comm);
		if (!d->closed_udp && !d->closed_tcp)
			break;
		usleep(10000);
	}
	d->early_after = owner(d->map, IPPROTO_UDP, PORT, comm);
	d->ok = true;
out:
	usleep(100000); /* the last records drained */
	sonde_gadget_cancel(d->ctx);
	return NULL;
}

static void test_process_of_packets(void)
{
	struct gadget_run r;
	struct worker early = {0}, late = {0};
	struct seen s = {0};
	struct driver d = {0};
	pthread_t thread;
	struct sonde_ds *ds;
	char port[16];

	test_require_root();
	signal(SIGPIPE, SIG_IGN);     /* a worker that died: its pipe says EPIPE */
	REQUIRE(!enricher_running()); /* another run's would be shared */
	if (!ns_enter()) {
		ns_leave();
		REQUIRE(false);
	}
	REQUIRE(worker_start(&early, true));
	printf("  se_early pid %d: UDP %u, TCP client %u; namespace %s (%u)\n", (int)early.pid,
	       early.ports.udp, early.ports.tcp, ns, ns_ino);

	capture_reset();
	CHECK_INT(gadget_open_fixture(&r, "socket_enricher_lookup", NULL), 0);
	REQUIRE(r.ctx);
	snprintf(port, sizeof(port), "%d", PORT);
	CHECK_INT(set_param(&r, "port", port), 0);
	ds = sonde_gadget_ds(r.ctx, "packets");
	REQUIRE(ds);
	s.found = sonde_ds_field(ds, "found");
	s.pid = sonde_ds_field(ds, "proc.pid");
	s.comm = sonde_ds_field(ds, "proc.comm");
	s.pkt_type = sonde_ds_field(ds, "pkt_type");
	s.sport = sonde_ds_field(ds, "sport");
	s.dport = sonde_ds_field(ds, "dport");
	s.proto = sonde_ds_field(ds, "proto");
	REQUIRE(s.found && s.pid && s.comm && s.pkt_type && s.sport && s.dport && s.proto);
	s.early = &early;
	s.late = &late;
	REQUIRE(sonde_ds_subscribe(ds, on_packet, &s, 100) == 0);

	d.ctx = r.ctx;
	d.early = &early;
	d.late = &late;
	d.map = -1;
	pthread_create(&thread, NULL, driver_main, &d);
	CHECK_INT(sonde_gadget_run(r.ctx, 60000 * 1000000LL), 0);
	atomic_store(&d.run_over, true);
	pthread_join(thread, NULL);
	if (!d.ok)
		fprintf(stderr, "%s", log_errors);
	CHECK(d.ok);
	printf("  se_late pid %d: UDP %u, TCP client %u\n", (int)late.pid, late.ports.udp, late.ports.tcp);
	printf("  scan: UDP %u (%s), listener %u, TCP client %u; live: UDP %u (%s), TCP %u; "
	       "after close: UDP %u, later UDP %u, TCP %u\n",
	       d.scan_udp, d.scan_comm, d.scan_lst, d.scan_tcp, d.live_udp, d.live_comm, d.live_tcp,
	       d.grace_udp, d.closed_udp, d.closed_tcp);
	printf("  outgoing packets credited: early UDP %d TCP %d, late UDP %d TCP %d; wrong %d, unknown %d\n",
	       s.udp[0], s.tcp[0], s.udp[1], s.tcp[1], s.wrong, s.unknown);

	/* the initial scan found the sockets opened before the start */
	CHECK_INT(d.scan_udp, early.pid);
	CHECK_STR(d.scan_comm, "se_early");
	CHECK_INT(d.scan_lst, early.pid);
	CHECK_INT(d.scan_tcp, early.pid);
	/* the live hooks recorded the new ones */
	CHECK_INT(d.live_udp, late.pid);
	CHECK_STR(d.live_comm, "se_late");
	CHECK_INT(d.live_tcp, late.pid);
	/* closed sockets left the map, the others stayed */
	CHECK_INT(d.grace_udp, late.pid);
	CHECK_INT(d.closed_udp, 0);
	CHECK_INT(d.closed_tcp, 0);
	CHECK_INT(d.early_after, early.pid);
	/* and the gadget's packets carry the sender */
	CHECK(s.udp[0] >= ROUNDS);
	CHECK(s.tcp[0] >= ROUNDS / 2);
	CHECK(s.udp[1] >= ROUNDS);
	CHECK(s.tcp[1] >= ROUNDS / 2);
	CHECK_INT(s.wrong, 0);
	CHECK_INT(s.unknown, 0);
	CHECK(!logged("cannot"));

	if (d.map >= 0)
		close(d.map);
	gadget_close(&r);
	/* the enricher stopped with its last gadget */
	CHECK(!enricher_running());
	worker_stop(&late);
	worker_stop(&early);
	ns_leave();
}

/* ---- a full map ---- */

#define FULL_MAX   64
#define FULL_SOCKS 300

struct filler {
	struct sonde_gadget_ctx *ctx;
	atomic_bool run_over;
	pid_t pid;
	int map_entries; /* counted in the kernel while the sockets are open */
};

/* Holds FULL_SOCKS bound UDP sockets until its pipe closes. */
static void filler_child(int rep, int hold)
{
	char c = 1;

	prctl(PR_SET_NAME, "se_filler");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (int i = 0; i < FULL_SOCKS; i++) {
		struct sockaddr_in a = lo_addr(0);
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)))
			_exit(2);
	}
	if (write(rep, &c, 1) != 1)
		_exit(3);
	(void)!read(hold, &c, 1);
	_exit(0);
}

static void *filler_main(void *arg)
{
	struct filler *f = arg;
	int rep[2], hold[2], map;
	char c;

	for (int i = 0; i < 3000 && !atomic_load(&f->run_over) && test_bpf_progs_named("ig_se_lookup") == 0;
	     i++)
		usleep(10000);
	if (pipe2(rep, O_CLOEXEC) || pipe2(hold, O_CLOEXEC))
		goto out;
	f->pid = fork();
	if (f->pid == 0) {
		close(rep[0]);
		close(hold[1]);
		filler_child(rep[1], hold[0]);
	}
	close(rep[1]);
	close(hold[0]);
	if (f->pid > 0 && read(rep[0], &c, 1) == 1) {
		map = sockets_map();
		if (map < 0)
			fprintf(stderr, "  the enricher's map is not there\n");
		f->map_entries = 0;
		if (map >= 0) {
			struct se_key k, next;
			void *prev = NULL;

			while (bpf_map_get_next_key(map, prev, &next) == 0 && f->map_entries < 100000) {
				k = next;
				prev = &k;
				f->map_entries++;
			}
			close(map);
		}
	}
	close(rep[0]);
	close(hold[1]); /* the filler exits */
	if (f->pid > 0)
		waitpid(f->pid, NULL, 0);
out:
	sonde_gadget_cancel(f->ctx);
	return NULL;
}

/* More sockets than socket-enricher-max-entries: the map stays bounded
 * (LRU: the oldest go) and the run says how many entries were lost. */
static void test_full_map(void)
{
	struct filler f = {0};
	struct gadget_run r;
	pthread_t thread;
	const char *warn;
	unsigned long evicted = 0;
	char max[16];

	test_require_root();
	signal(SIGPIPE, SIG_IGN);
	REQUIRE(!enricher_running());
	if (!ns_enter()) {
		ns_leave();
		REQUIRE(false);
	}
	capture_reset();
	CHECK_INT(gadget_open_fixture(&r, "socket_enricher_lookup", NULL), 0);
	REQUIRE(r.ctx);
	snprintf(max, sizeof(max), "%d", FULL_MAX);
	CHECK_INT(set_param(&r, "socket-enricher-max-entries", max), 0);
	f.ctx = r.ctx;
	f.map_entries = -1;
	pthread_create(&thread, NULL, filler_main, &f);
	CHECK_INT(sonde_gadget_run(r.ctx, 60000 * 1000000LL), 0);
	atomic_store(&f.run_over, true);
	pthread_join(thread, NULL);
	gadget_close(&r); /* the enricher stops and reports */
	warn = strstr(log_errors, "entries were evicted");
	if (warn) {
		while (warn > log_errors && warn[-1] != ',')
			warn--;
		evicted = strtoul(warn, NULL, 10);
	}
	printf("  %d sockets, map of %d: %d entries in the map, %lu evicted\n", FULL_SOCKS, FULL_MAX,
	       f.map_entries, evicted);
	CHECK(f.map_entries > 0 && f.map_entries <= FULL_MAX);
	CHECK(warn != NULL);
	CHECK(evicted >= FULL_SOCKS - FULL_MAX);
	CHECK(!enricher_running());
	ns_leave();
}

TEST_MAIN(TEST(test_process_of_packets), TEST(test_full_map))
