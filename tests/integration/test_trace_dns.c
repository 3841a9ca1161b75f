/* trace_dns end to end: `sonde run trace_dns -o json` (containers only)
 * while a runc busybox container resolves names with nslookup against a DNS
 * server this test runs.
 *
 * The test makes a network namespace (sdtdns-<pid>, lo up, deleted at the
 * end) and a tiny responder inside it, UDP on 127.0.0.1:53 and [::1]:53 and
 * TCP on 127.0.0.1:53 (a child named "sd_dnsd", killed by pid): the known name gets A 10.1.2.3 and
 * AAAA fd00:5d::1, any other name NXDOMAIN. Each container joins that
 * namespace and execs `nslookup NAME 127.0.0.1` as its init (after a short
 * sleep, so the socket filter is surely on the namespace), which asks for A
 * and AAAA; the known name's container first asks ::1 from a child, and
 * sends a query over TCP with busybox's nc (printf'd bytes). The
 * init's pid comes from runc's --pid-file, so what sonde says about the
 * process is checked against what the runtime says.
 *
 * On lo every packet is seen twice (leaving and arriving); with containers
 * selected, only those whose local socket is the container's are kept: the
 * query leaving (OUTGOING) and the response arriving (HOST), both owned by
 * the client, the responder's own never. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci_rootfs.h"
#include "testlib.h"

#define WORKDIR_PREFIX "/tmp/sonde-it-dns-"
#define DNS_PORT       53

static char workdir[256];
static char netns[32];
static uint32_t netns_ino;
static pid_t dnsd = -1;
static char known[64], unknown[64];
static char ids[2][64];

static const uint8_t known_a[4] = {10, 1, 2, 3};
static const uint8_t known_aaaa[16] = {0xfd, 0x00, 0x00, 0x5d, [15] = 1};

static int run_ip(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
                  const char *a6)
{
	const char *argv[] = {"ip", a1, a2, a3, a4, a5, a6, NULL};

	return test_run_quiet(argv);
}

/* ---- the DNS responder ---- */

/* The question's name in text form, without the trailing dot; its end. */
static size_t qname(const uint8_t *q, size_t len, char *out, size_t cap)
{
	size_t off = 12, n = 0;

	while (off < len && q[off] && q[off] < 64) {
		size_t l = q[off];

		if (off + 1 + l > len || n + l + 2 > cap)
			return 0;
		if (n)
			out[n++] = '.';
		memcpy(out + n, q + off + 1, l);
		n += l;
		off += 1 + l;
	}
	out[n] = 0;
	return off < len && q[off] == 0 ? off + 1 : 0;
}

/* Answers one query in place: the header and question echoed, then the
 * known name's address of the asked type (name compressed to the
 * question), or NXDOMAIN. */
static size_t answer(uint8_t *b, size_t len, size_t cap)
{
	char name[256];
	size_t end = qname(b, len, name, sizeof(name)), n;
	uint16_t type;
	bool is_known;

	if (len < 12 || !end || end + 4 > len)
		return 0;
	type = (uint16_t)(b[end] << 8 | b[end + 1]);
	n = end + 4;
	is_known = strcmp(name, known) == 0;
	b[2] = 0x81;                              /* QR, RD */
	b[3] = (uint8_t)(is_known ? 0x80 : 0x83); /* RA, NOERROR or NXDOMAIN */
	b[4] = 0, b[5] = 1;                       /* one question */
	b[6] = 0, b[7] = 0;
	b[8] = b[9] = b[10] = b[11] = 0;
	if (is_known && (type == 1 || type == 28)) {
		size_t alen = type == 1 ? 4 : 16;
		uint8_t rr[12] = {0xc0, 12, 0, (uint8_t)type, 0, 1, 0, 0, 0, 60, 0, (uint8_t)alen};

		if (n + sizeof(rr) + alen > cap)
			return 0;
		memcpy(b + n, rr, sizeof(rr));
		memcpy(b + n + sizeof(rr), type == 1 ? known_a : known_aaaa, alen);
		n += sizeof(rr) + alen;
		b[7] = 1;
	}
	return n;
}

static int udp_socket(int family)
{
	struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(DNS_PORT)};
	struct sockaddr_in6 a6 = {
	    .sin6_family = AF_INET6, .sin6_port = htons(DNS_PORT), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	int s = socket(family, SOCK_DGRAM, 0), one = 1;

	a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || (family == AF_INET6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    (family == AF_INET ? bind(s, (struct sockaddr *)&a4, sizeof(a4))
	                       : bind(s, (struct sockaddr *)&a6, sizeof(a6))))
		_exit(3);
	return s;
}

/* DNS over TCP: one length-prefixed query per connection, answered, closed. */
static void serve_tcp(int lst)
{
	uint8_t buf[2 + 512];
	size_t got = 0, n;
	int c = accept(lst, NULL, NULL);

	if (c < 0)
		return;
	while (got < sizeof(buf)) {
		ssize_t r = read(c, buf + got, sizeof(buf) - got);

		if (r <= 0)
			break;
		got += (size_t)r;
		if (got >= 2 && got >= 2u + (size_t)(buf[0] << 8 | buf[1]))
			break;
	}
	n = got > 2 ? answer(buf + 2, got - 2, sizeof(buf) - 2) : 0;
	if (n) {
		buf[0] = (uint8_t)(n >> 8);
		buf[1] = (uint8_t)n;
		if (write(c, buf, n + 2) != (ssize_t)(n + 2))
			fprintf(stderr, "sd_dnsd: short TCP answer\n");
	}
	close(c);
}

static void dnsd_main(int ready)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(DNS_PORT)};
	struct pollfd pfd[3];
	int one = 1;
	char path[64];
	int fd;

	prctl(PR_SET_NAME, "sd_dnsd");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET))
		_exit(2);
	pfd[0] = (struct pollfd){.fd = udp_socket(AF_INET), .events = POLLIN};
	pfd[1] = (struct pollfd){.fd = udp_socket(AF_INET6), .events = POLLIN};
	pfd[2] = (struct pollfd){.fd = socket(AF_INET, SOCK_STREAM, 0), .events = POLLIN};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (pfd[2].fd < 0 || setsockopt(pfd[2].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(pfd[2].fd, (struct sockaddr *)&a, sizeof(a)) || listen(pfd[2].fd, 8))
		_exit(5);
	if (write(ready, "r", 1) != 1)
		_exit(4);
	close(ready);
	for (;;) {
		if (poll(pfd, 3, -1) <= 0)
			continue;
		if (pfd[2].revents & POLLIN)
			serve_tcp(pfd[2].fd);
		for (int i = 0; i < 2; i++) {
			uint8_t buf[512];
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t r;
			size_t n;

			if (!(pfd[i].revents & POLLIN))
				continue;
			r = recvfrom(pfd[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			n = r > 0 ? answer(buf, (size_t)r, sizeof(buf)) : 0;
			if (n)
				sendto(pfd[i].fd, buf, n, 0, (struct sockaddr *)&from, fl);
		}
	}
}

/* The namespace (lo up) and the responder in it. */
static bool net_setup(void)
{
	char path[64], c;
	struct stat st;
	int p[2];

	snprintf(netns, sizeof(netns), "sdtdns-%d", (int)getpid());
	run_ip("netns", "del", netns, NULL, NULL, NULL);
	if (run_ip("netns", "add", netns, NULL, NULL, NULL) ||
	    run_ip("-n", netns, "link", "set", "lo", "up")) {
		fprintf(stderr, "cannot create network namespace %s\n", netns);
		return false;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", netns);
	if (stat(path, &st)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return false;
	}
	netns_ino = (uint32_t)st.st_ino;
	if (pipe(p))
		return false;
	dnsd = fork();
	if (dnsd == 0) {
		close(p[0]);
		dnsd_main(p[1]);
	}
	close(p[1]);
	if (dnsd < 0 || read(p[0], &c, 1) != 1) {
		fprintf(stderr, "the DNS responder did not start\n");
		close(p[0]);
		return false;
	}
	close(p[0]);
	return true;
}

static void net_cleanup(void)
{
	if (dnsd > 0) {
		kill(dnsd, SIGKILL);
		waitpid(dnsd, NULL, 0);
		dnsd = -1;
	}
	if (*netns)
		run_ip("netns", "del", netns, NULL, NULL, NULL);
	netns[0] = 0;
}

/* ---- the containers ---- */

/* printf(1) octal escapes of a DNS-over-TCP query (length first) for name, type A, RD. */
static void tcp_query_escapes(const char *name, char *out, size_t cap)
{
	uint8_t q[300];
	size_t n = 2, len = 0;
	const char *p = name;

	memcpy(q + 2, (const uint8_t[]){0x7e, 0x57, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}, 12);
	n += 12;
	while (*p) {
		size_t l = strcspn(p, ".");

		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (p[l] == '.');
	}
	memcpy(q + n, (const uint8_t[]){0, 0, 1, 0, 1}, 5);
	n += 5;
	q[0] = (uint8_t)((n - 2) >> 8);
	q[1] = (uint8_t)(n - 2);
	for (size_t i = 0; i < n && len + 5 < cap; i++)
		len += (size_t)snprintf(out + len, cap - len, "\\%03o", q[i]);
}

/* A bundle whose container joins the test's namespace and resolves name;
 * with `more`, first over IPv6 (nslookup) and over TCP (nc), from children
 * of its init. */
static bool make_bundle(const char *bundle, const char *name, bool more)
{
	char dir[512], rootfs[512], cfg[600], cmd[2048], tcp[1600] = "";
	json_t *doc, *nss, *ns;
	size_t i;
	bool ok = false;

	snprintf(dir, sizeof(dir), "%s/%s", workdir, bundle);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	if (more)
		tcp_query_escapes(name, tcp, sizeof(tcp));
	/* exec: the container's init becomes nslookup, the pid runc reports */
	if (more)
		snprintf(cmd, sizeof(cmd),
		         "sleep 1; nslookup %s ::1; printf '%s' | nc -w 5 127.0.0.1 53 >/dev/null; "
		         "exec nslookup %s 127.0.0.1",
		         name, tcp, name);
	else
		snprintf(cmd, sizeof(cmd), "sleep 1; exec nslookup %s 127.0.0.1", name);
	if (oci_bundle_write(dir, rootfs, json_pack("[s,s,s]", "sh", "-c", cmd), json_object()))
		return false;
	snprintf(cfg, sizeof(cfg), "%s/config.json", dir);
	doc = json_load_file(cfg, 0, NULL);
	nss = test_json_path(doc, "linux.namespaces");
	json_array_foreach(nss, i, ns)
	{
		if (!strcmp(test_json_str(ns, "type") ? test_json_str(ns, "type") : "", "network")) {
			char path[64];

			snprintf(path, sizeof(path), "/run/netns/%s", netns);
			json_object_set_new(ns, "path", json_string(path));
			ok = json_dump_file(doc, cfg, JSON_INDENT(1)) == 0;
		}
	}
	json_decref(doc);
	if (!ok)
		fprintf(stderr, "%s: no network namespace to point at %s\n", cfg, netns);
	return ok;
}

/* runc run with a pid file (the worker, while the test reads sonde). */
static int run_container(const char *bundle, const char *id)
{
	char dir[512], pidfile[512];
	const char *argv[] = {"runc", "run", "--pid-file", pidfile, "--bundle", dir, id, NULL};
	int st;

	snprintf(dir, sizeof(dir), "%s/%s", workdir, bundle);
	snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", workdir, id);
	st = test_run_quiet(argv);
	oci_delete("runc", id);
	return st;
}

static pid_t container_pid(const char *id)
{
	char path[512], *txt;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s.pid", workdir, id);
	txt = test_read_file(path, NULL);
	pid = txt ? (pid_t)atoi(txt) : -1;
	free(txt);
	return pid;
}

/* ---- checks ---- */

static bool is_true(json_t *ev, const char *path)
{
	return json_is_true(test_json_path(ev, path));
}

/* How an exchange went: IP version, transport, the client's comm, and
 * whether the client is a child of the container's init (else the init). */
struct how {
	int v;
	const char *proto;
	const char *comm;
	bool child;
};

static const struct how udp4 = {4, "UDP", "nslookup", false};
static const struct how udp6 = {6, "UDP", "nslookup", true};
static const struct how tcp4 = {4, "TCP", "nc", true};

/* The event of `name` with qr and qtype that went as h says, or NULL. */
static json_t *find(json_t *evs, const struct how *h, const char *name, const char *qr, const char *qtype)
{
	char fq[80];
	size_t i;
	json_t *ev;

	snprintf(fq, sizeof(fq), "%s.", name);
	json_array_foreach(evs, i, ev)
	{
		const char *n = test_json_str(ev, "name"), *q = test_json_str(ev, "qr"),
		           *t = test_json_str(ev, "qtype");

		if (n && q && t && !strcmp(n, fq) && !strcmp(q, qr) && !strcmp(t, qtype) &&
		    test_json_int(ev, "src.version", 0) == h->v && test_json_str(ev, "src.proto") &&
		    !strcmp(test_json_str(ev, "src.proto"), h->proto))
			return ev;
	}
	fprintf(stderr, "no %s %s event for %s over %s/IPv%d\n", qr, qtype, fq, h->proto, h->v);
	test_failures++;
	return NULL;
}

/* What both directions share: the process (the container's init, or a
 * child of it), container, namespace, UDP on lo. */
static void check_common(json_t *ev, const char *id, pid_t pid, const struct how *h)
{
	const char *lo = h->v == 4 ? "127.0.0.1" : "::1";

	CHECK_STR(test_json_str(ev, "proc.comm"), h->comm);
	if (h->child) {
		CHECK(test_json_int(ev, "proc.pid", -1) > 0 && test_json_int(ev, "proc.pid", -1) != pid);
		CHECK_INT(test_json_int(ev, "proc.parent.pid", -1), pid);
		CHECK_STR(test_json_str(ev, "proc.parent.comm"), "sh");
	} else {
		CHECK_INT(test_json_int(ev, "proc.pid", -1), pid);
	}
	CHECK_INT(test_json_int(ev, "runtime.containerPid", -1), pid);
	CHECK_STR(test_json_str(ev, "runtime.containerName"), id);
	CHECK_STR(test_json_str(ev, "runtime.runtimeName"), "runc");
	CHECK_INT(test_json_int(ev, "netns_id", 0), netns_ino);
	CHECK_STR(test_json_str(ev, "src.addr"), lo);
	CHECK_STR(test_json_str(ev, "dst.addr"), lo);
	CHECK_INT(test_json_int(ev, "dst.version", 0), h->v);
	CHECK_STR(test_json_str(ev, "dst.proto"), h->proto);
	CHECK_STR(test_json_str(ev, "nameserver.addr"), lo);
	CHECK_INT(test_json_int(ev, "nameserver.version", 0), h->v);
	CHECK(is_true(ev, "rd"));
	CHECK(!is_true(ev, "tc"));
	/* the packet is for the parser, not the user (json.skip) */
	CHECK(test_json_path(ev, "data") == NULL && test_json_path(ev, "dns_off") == NULL);
	CHECK(test_json_path(ev, "timestamp_raw") != NULL);
}

/* A query and its response for name and qtype; the response's addresses. */
static void check_exchange(json_t *evs, const struct how *h, const char *id, pid_t pid, const char *name,
                           const char *qtype, int qtype_raw, const char *rcode, int rcode_raw,
                           const char *addresses)
{
	json_t *q = find(evs, h, name, "Q", qtype), *r = find(evs, h, name, "R", qtype);
	const char *qid, *rid;

	if (!q || !r)
		return;
	check_common(q, id, pid, h);
	check_common(r, id, pid, h);

	/* the query, leaving the container's socket */
	CHECK_STR(test_json_str(q, "pkt_type"), "OUTGOING");
	CHECK(!is_true(q, "qr_raw"));
	CHECK_INT(test_json_int(q, "qtype_raw", -1), qtype_raw);
	CHECK_INT(test_json_int(q, "dst.port", -1), DNS_PORT);
	CHECK(test_json_int(q, "src.port", 0) > 1023);
	CHECK_STR(test_json_str(q, "rcode"), "");
	CHECK_INT(test_json_int(q, "latency_ns_raw", -1), 0);
	CHECK_INT(test_json_int(q, "num_answers", -1), 0);
	CHECK_STR(test_json_str(q, "addresses"), "");

	/* the response, arriving at it */
	CHECK_STR(test_json_str(r, "pkt_type"), "HOST");
	CHECK(is_true(r, "qr_raw"));
	CHECK(is_true(r, "ra"));
	CHECK_INT(test_json_int(r, "qtype_raw", -1), qtype_raw);
	CHECK_INT(test_json_int(r, "src.port", -1), DNS_PORT);
	CHECK_INT(test_json_int(r, "dst.port", -1), test_json_int(q, "src.port", -2));
	CHECK_STR(test_json_str(r, "rcode"), rcode);
	CHECK_INT(test_json_int(r, "rcode_raw", -1), rcode_raw);
	CHECK_STR(test_json_str(r, "addresses"), addresses);
	CHECK_INT(test_json_int(r, "num_answers", -1), *addresses ? 1 : 0);
	CHECK(test_json_int(r, "latency_ns_raw", 0) > 0);
	/* a response carries its query's ID: 4 hex digits */
	qid = test_json_str(q, "id");
	rid = test_json_str(r, "id");
	CHECK(qid && strlen(qid) == 4 && strspn(qid, "0123456789abcdef") == 4);
	CHECK_STR(rid, qid);
}

static void test_trace_dns_container(void)
{
	static const char *const applets[] = {"sh", "sleep", "nslookup", "printf", "nc", NULL};
	const char *argv[] = {"run", "trace_dns", "-o", "json", "-v", NULL};
	struct sonde_proc p;
	json_t *evs = NULL, *ev;
	pid_t worker, pids[2];
	size_t i;

	oci_require("runc");
	snprintf(known, sizeof(known), "known-%d.sonde.test", (int)getpid());
	snprintf(unknown, sizeof(unknown), "unknown-%d.sonde.test", (int)getpid());
	snprintf(ids[0], sizeof(ids[0]), "sdtdns-known-%d", (int)getpid());
	snprintf(ids[1], sizeof(ids[1]), "sdtdns-unknown-%d", (int)getpid());
	REQUIRE(oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets) == 0);
	if (!net_setup() || !make_bundle("known", known, true) || !make_bundle("unknown", unknown, false)) {
		test_failures++;
		goto out;
	}
	if (sonde_proc_start_running(&p, argv))
		goto out;
	worker = fork();
	if (worker == 0) {
		/* nslookup exits 1 on NXDOMAIN */
		int bad = run_container("known", ids[0]) != 0;

		run_container("unknown", ids[1]);
		_exit(bad);
	}
	sonde_proc_await_child_for(&p, worker, 60000);
	sonde_proc_wait_for(&p, 1, unknown, 3000);
	usleep(300 * 1000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	pids[0] = container_pid(ids[0]);
	pids[1] = container_pid(ids[1]);
	CHECK(pids[0] > 0 && pids[1] > 0);
	evs = test_json_lines(p.out ? p.out : "");
	printf("  %zu events; containers' pids %d and %d, netns %u\n", json_array_size(evs), (int)pids[0],
	       (int)pids[1], netns_ino);

	check_exchange(evs, &udp4, ids[0], pids[0], known, "A", 1, "Success", 0, "10.1.2.3");
	check_exchange(evs, &udp4, ids[0], pids[0], known, "AAAA", 28, "Success", 0, "fd00:5d::1");
	check_exchange(evs, &udp4, ids[1], pids[1], unknown, "A", 1, "NameError", 3, "");
	check_exchange(evs, &udp4, ids[1], pids[1], unknown, "AAAA", 28, "NameError", 3, "");
	/* over IPv6, and over TCP (the message after its length), from
	 * children of the known container's init */
	check_exchange(evs, &udp6, ids[0], pids[0], known, "A", 1, "Success", 0, "10.1.2.3");
	check_exchange(evs, &udp6, ids[0], pids[0], known, "AAAA", 28, "Success", 0, "fd00:5d::1");
	check_exchange(evs, &tcp4, ids[0], pids[0], known, "A", 1, "Success", 0, "10.1.2.3");
	/* 14 (a slow answer may make nslookup ask again), each a DNS message:
	 * the TCP handshake, ACKs and FINs carry none and give no event */
	CHECK(json_array_size(evs) >= 14);
	/* nothing of the host's processes (the responder's socket is not the
	 * container's), and every event a DNS message */
	json_array_foreach(evs, i, ev)
	{
		const char *comm = test_json_str(ev, "proc.comm"), *qr = test_json_str(ev, "qr");

		if (!qr || !*qr) {
			fprintf(stderr,
			        "an event without a parsed DNS message: src.port %lld dst.port %lld\n",
			        test_json_int(ev, "src.port", -1), test_json_int(ev, "dst.port", -1));
			test_failures++;
		}
		if (comm && !strcmp(comm, "sd_dnsd")) {
			fprintf(stderr, "an event of the responder (host) with containers only\n");
			test_failures++;
		}
	}
	if (test_failures)
		sonde_proc_print_errors(&p);
	sonde_proc_free(&p);
out:
	json_decref(evs);
	net_cleanup();
	for (int k = 0; k < 2; k++)
		if (*ids[k])
			oci_delete("runc", ids[k]);
	test_rm_tree(workdir, WORKDIR_PREFIX);
}

TEST_MAIN(TEST(test_trace_dns_container))
