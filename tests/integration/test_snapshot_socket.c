/* snapshot_socket through the sonde command: the sockets of a container's
 * network namespace, and only those.
 *
 * The test makes two network namespaces (sdnet-ss-<pid>-a and -b). A runc
 * busybox container (`sleep`) joins a; a child of the test in a holds a TCP
 * listener, a TCP connection to it (both ends) and bound UDP sockets (IPv4
 * and IPv6); a child in b holds a listener of its own. `sonde run snapshot_socket -c
 * <container>` must list a's sockets with their ports, states, inodes, the
 * namespace and the container, and nothing of b. The host case: a listener
 * of the test in the host's namespace appears with --host. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns.h"
#include "oci_rootfs.h"
#include "testlib.h"

#define WORKDIR_PREFIX "/tmp/sonde-it-snapsock-"
#define PORT_TCP       4301
#define PORT_UDP       4302
#define PORT_OTHER     4303
#define PORT_UDP6      4304

#define TCP_ESTABLISHED 1
#define TCP_CLOSE       7
#define TCP_LISTEN      10

static char workdir[256], ns_a[64], ns_b[64], cid[64];
static uint64_t ino_a, ino_b;

/* What the socket holder reports: ports and inodes of its sockets. */
struct held {
	uint16_t client_port;
	uint64_t lst_ino, client_ino, accepted_ino, udp_ino, udp6_ino;
};

struct holder {
	pid_t pid;
	int hold; /* the child waits on it */
	struct held h;
};

static struct sockaddr_in lo_addr(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static uint64_t ino_of_fd(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : (uint64_t)st.st_ino;
}

/* The child: in namespace ns (NULL: where it is), a listener on tcp_port,
 * a connection to it and (udp) a UDP socket bound to PORT_UDP. */
static void holder_main(const char *ns, uint16_t tcp_port, bool udp, int rep, int hold)
{
	struct sockaddr_in a = lo_addr(tcp_port), u = lo_addr(PORT_UDP), mine;
	struct sockaddr_in6 u6 = {
	    .sin6_family = AF_INET6, .sin6_port = htons(PORT_UDP6), .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	socklen_t len = sizeof(mine);
	struct held h = {0};
	int one = 1, lst, cli, acc, us;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (ns && test_netns_enter(ns))
		_exit(2);
	lst = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lst, (struct sockaddr *)&a, sizeof(a)) || listen(lst, 4))
		_exit(3);
	cli = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(cli, (struct sockaddr *)&a, sizeof(a)) || (acc = accept(lst, NULL, NULL)) < 0)
		_exit(4);
	getsockname(cli, (struct sockaddr *)&mine, &len);
	h.client_port = ntohs(mine.sin_port);
	h.lst_ino = ino_of_fd(lst);
	h.client_ino = ino_of_fd(cli);
	h.accepted_ino = ino_of_fd(acc);
	if (udp) {
		us = socket(AF_INET, SOCK_DGRAM, 0);
		if (bind(us, (struct sockaddr *)&u, sizeof(u)))
			_exit(5);
		h.udp_ino = ino_of_fd(us);
		us = socket(AF_INET6, SOCK_DGRAM, 0);
		if (bind(us, (struct sockaddr *)&u6, sizeof(u6)))
			_exit(7);
		h.udp6_ino = ino_of_fd(us);
	}
	if (write(rep, &h, sizeof(h)) != sizeof(h))
		_exit(6);
	(void)!read(hold, &c, 1);
	_exit(0);
}

static bool holder_start(struct holder *w, const char *ns, uint16_t tcp_port, bool udp)
{
	int rep[2], hold[2];

	memset(w, 0, sizeof(*w));
	w->hold = -1;
	if (pipe2(rep, O_CLOEXEC) || pipe2(hold, O_CLOEXEC))
		return false;
	w->pid = fork();
	if (w->pid == 0) {
		close(rep[0]);
		close(hold[1]);
		holder_main(ns, tcp_port, udp, rep[1], hold[0]);
	}
	close(rep[1]);
	close(hold[0]);
	w->hold = hold[1];
	if (w->pid < 0 || read(rep[0], &w->h, sizeof(w->h)) != sizeof(w->h)) {
		fprintf(stderr, "the socket holder (%s) did not start\n", ns ? ns : "host");
		close(rep[0]);
		return false;
	}
	close(rep[0]);
	return true;
}

static void holder_stop(struct holder *w)
{
	if (w->hold >= 0)
		close(w->hold);
	if (w->pid > 0) {
		kill(w->pid, SIGKILL); /* a later holder may hold a copy of our pipe */
		waitpid(w->pid, NULL, 0);
	}
	w->pid = 0;
	w->hold = -1;
}

/* The record of proto with local port sport (and remote port dport, if not 0). */
static json_t *find_sock(json_t *arr, const char *proto, long long sport, long long dport)
{
	size_t i;
	json_t *r;

	json_array_foreach(arr, i, r)
	{
		const char *p = test_json_str(r, "src.proto");

		if (p && !strcmp(p, proto) && test_json_int(r, "src.port", -1) == sport &&
		    (!dport || test_json_int(r, "dst.port", -1) == dport))
			return r;
	}
	return NULL;
}

static void check_sock6(json_t *r, const char *what, long long state, uint64_t ino, long long dport,
                        const char *addr, long long version)
{
	if (!r) {
		fprintf(stderr, "no record for the %s\n", what);
		test_failures++;
		return;
	}
	CHECK_INT(test_json_int(r, "state", -1), state);
	CHECK_INT(test_json_int(r, "ino", -1), (long long)ino);
	CHECK_INT(test_json_int(r, "netns_id", -1), (long long)ino_a);
	CHECK_STR(test_json_str(r, "src.addr"), addr);
	CHECK_INT(test_json_int(r, "src.version", -1), version);
	CHECK_INT(test_json_int(r, "dst.port", -1), dport);
	CHECK_STR(test_json_str(r, "runtime.containerName"), cid);
}

static void check_sock(json_t *r, const char *what, long long state, uint64_t ino, long long dport)
{
	check_sock6(r, what, state, ino, dport, "127.0.0.1", 4);
}

static void cleanup(void)
{
	if (*cid)
		oci_delete("runc", cid);
	if (*ns_a)
		test_netns_del(ns_a);
	if (*ns_b)
		test_netns_del(ns_b);
	if (*workdir)
		test_rm_tree(workdir, WORKDIR_PREFIX);
	*cid = *ns_a = *ns_b = *workdir = 0;
}

static void test_container_sockets(void)
{
	static const char *const applets[] = {"sleep", NULL};
	const char *argv[] = {"run", "snapshot_socket", "-c", cid, "-o", "json", "--timeout", "20", NULL};
	char bundle[600], rootfs[600], nspath[300];
	struct holder a = {.hold = -1}, b = {.hold = -1};
	char *out = NULL, *err = NULL;
	json_t *lines = NULL, *arr;
	size_t i;
	json_t *r;

	oci_require("runc");
	snprintf(ns_a, sizeof(ns_a), "sdnet-ss-%d-a", (int)getpid());
	snprintf(ns_b, sizeof(ns_b), "sdnet-ss-%d-b", (int)getpid());
	snprintf(cid, sizeof(cid), "sdnet-ss-%d", (int)getpid());
	if (test_netns_add(ns_a, &ino_a) || test_netns_add(ns_b, &ino_b) ||
	    oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets)) {
		test_failures++;
		goto out;
	}
	snprintf(bundle, sizeof(bundle), "%s/bundle", workdir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	snprintf(nspath, sizeof(nspath), "/run/netns/%s", ns_a);
	if (oci_bundle_write(bundle, rootfs, json_pack("[s,s]", "sleep", "60"), json_object()) ||
	    oci_bundle_set_namespace(bundle, "network", nspath)) {
		test_failures++;
		goto out;
	}
	CHECK_INT(oci_run_detached("runc", bundle, cid), 0);
	if (!holder_start(&a, ns_a, PORT_TCP, true) || !holder_start(&b, ns_b, PORT_OTHER, false)) {
		test_failures++;
		goto out;
	}
	printf("  container %s in %s (%llu); client port %u; other namespace %s (%llu)\n", cid, ns_a,
	       (unsigned long long)ino_a, a.h.client_port, ns_b, (unsigned long long)ino_b);

	CHECK_INT(sonde_run_cmd(argv, &out, &err, 30000), 0);
	lines = test_json_lines(out ? out : "");
	REQUIRE(json_array_size(lines) == 1); /* one snapshot, then the run ends */
	arr = json_array_get(lines, 0);
	REQUIRE(json_is_array(arr));
	check_sock(find_sock(arr, "TCP", PORT_TCP, 0), "listener", TCP_LISTEN, a.h.lst_ino, 0);
	check_sock(find_sock(arr, "TCP", a.h.client_port, PORT_TCP), "client end", TCP_ESTABLISHED,
	           a.h.client_ino, PORT_TCP);
	check_sock(find_sock(arr, "TCP", PORT_TCP, a.h.client_port), "accepted end", TCP_ESTABLISHED,
	           a.h.accepted_ino, a.h.client_port);
	check_sock(find_sock(arr, "UDP", PORT_UDP, 0), "UDP socket", TCP_CLOSE, a.h.udp_ino, 0);
	check_sock6(find_sock(arr, "UDP", PORT_UDP6, 0), "UDP socket on ::1", TCP_CLOSE, a.h.udp6_ino, 0,
	            "::1", 6);
	/* namespace a only: nothing of b, nor of the host */
	json_array_foreach(arr, i, r)
	{
		CHECK_INT(test_json_int(r, "netns_id", -1), (long long)ino_a);
		CHECK(test_json_int(r, "src.port", -1) != PORT_OTHER);
	}
	CHECK_INT((int)json_array_size(arr), 5);
	if (test_failures)
		fprintf(stderr, "sonde output:\n%s\nstderr:\n%s\n", out ? out : "", err ? err : "");
out:
	json_decref(lines);
	free(out);
	free(err);
	holder_stop(&a);
	holder_stop(&b);
	cleanup();
}

/* --host: the host namespace's sockets, the test's own listener among them. */
static void test_host_sockets(void)
{
	const char *argv[] = {"run", "snapshot_socket", "--host", "-o", "json", "--timeout", "20", NULL};
	struct sockaddr_in a = lo_addr(0);
	socklen_t len = sizeof(a);
	char *out = NULL, *err = NULL;
	json_t *lines, *r;
	int lst;
	struct stat st;

	test_require_root();
	lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(lst >= 0 && bind(lst, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lst, 1) == 0);
	getsockname(lst, (struct sockaddr *)&a, &len);
	REQUIRE(stat("/proc/self/ns/net", &st) == 0);
	CHECK_INT(sonde_run_cmd(argv, &out, &err, 30000), 0);
	lines = test_json_lines(out ? out : "");
	r = find_sock(json_array_get(lines, 0), "TCP", ntohs(a.sin_port), 0);
	CHECK(r != NULL);
	if (r) {
		CHECK_INT(test_json_int(r, "state", -1), TCP_LISTEN);
		CHECK_INT(test_json_int(r, "ino", -1), (long long)ino_of_fd(lst));
		CHECK_INT(test_json_int(r, "netns_id", -1), (long long)st.st_ino);
	} else {
		fprintf(stderr, "no listener on port %u; stderr:\n%s\n", ntohs(a.sin_port), err ? err : "");
	}
	close(lst);
	json_decref(lines);
	free(out);
	free(err);
}

TEST_MAIN(TEST(test_container_sockets), TEST(test_host_sockets))
