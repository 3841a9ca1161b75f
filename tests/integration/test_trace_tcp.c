/* trace_tcp through the sonde command.
 *
 * test_veth: two network namespaces joined by a veth pair, both made here
 * (names prefixed sdtcp, deleted at the end even on failure). A server
 * ("sd_tcp_srv") listens in one on IPv4 and IPv6; a client ("sd_tcp_cli")
 * in the other connects over each, sends a byte and closes, and makes one
 * connect the server refuses. Every event must name the process that made
 * it and mirror the endpoints: connect (client, client -> server), accept
 * (server, server -> client), close on both sides, ECONNREFUSED; and an
 * aborted connection (SO_LINGER 0), whose reset reaches the server in
 * softirq: its close must still name the server (gadget_sockets).
 *
 * test_container: a runc busybox container serves and connects to itself
 * over its loopback with nc; its connect and accept carry its name. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci_rootfs.h"
#include "netns.h"
#include "testlib.h"

#define SRV_COMM "sd_tcp_srv"
#define CLI_COMM "sd_tcp_cli"
#define PORT     47411
#define PORT_OFF 47412 /* nobody listens: refused */
#define V4_CLI   "10.214.57.1"
#define V4_SRV   "10.214.57.2"
#define V6_CLI   "fd00:5d7c::1"
#define V6_SRV   "fd00:5d7c::2"

static char ns_cli[32], ns_srv[32], veth_cli[16], veth_srv[16];

static void net_teardown(void)
{
	/* deleting a namespace deletes the veth end in it, and so its peer */
	if (*ns_cli)
		test_ip((const char *[]){"netns", "del", ns_cli, NULL});
	if (*ns_srv)
		test_ip((const char *[]){"netns", "del", ns_srv, NULL});
}

static bool net_setup(void)
{
	int id = (int)getpid();

	snprintf(ns_cli, sizeof(ns_cli), "sdtcp-c-%d", id);
	snprintf(ns_srv, sizeof(ns_srv), "sdtcp-s-%d", id);
	snprintf(veth_cli, sizeof(veth_cli), "sdtcpc%d", id % 1000000);
	snprintf(veth_srv, sizeof(veth_srv), "sdtcps%d", id % 1000000);
	net_teardown();
	/* Debian's 6.1 loads veth on demand only through modprobe */
	test_run_quiet((const char *[]){"modprobe", "veth", NULL});
	const char *const steps[][TEST_IP_STEP_ARGS] = {
	    {"netns", "add", ns_cli},
	    {"netns", "add", ns_srv},
	    {"link", "add", veth_cli, "netns", ns_cli, "type", "veth", "peer", "name", veth_srv, "netns",
	     ns_srv},
	    {"-n", ns_cli, "addr", "add", V4_CLI "/24", "dev", veth_cli},
	    {"-n", ns_srv, "addr", "add", V4_SRV "/24", "dev", veth_srv},
	    {"-n", ns_cli, "addr", "add", V6_CLI "/64", "dev", veth_cli, "nodad"},
	    {"-n", ns_srv, "addr", "add", V6_SRV "/64", "dev", veth_srv, "nodad"},
	    {"-n", ns_cli, "link", "set", veth_cli, "up"},
	    {"-n", ns_srv, "link", "set", veth_srv, "up"},
	    {"-n", ns_cli, "link", "set", "lo", "up"},
	    {"-n", ns_srv, "link", "set", "lo", "up"},
	};
	return test_ip_steps(steps, sizeof(steps) / sizeof(steps[0])) == 0;
}

/* Moves the calling (child) process into namespace name; its inode or 0. */
static uint32_t enter_ns(const char *name)
{
	char path[64];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || setns(fd, CLONE_NEWNET))
		return 0;
	close(fd);
	return (uint32_t)st.st_ino;
}

static uint32_t ns_inode(const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	return stat(path, &st) ? 0 : (uint32_t)st.st_ino;
}

/* addr:port of family into ss; its length. */
static socklen_t sockaddr_of(int family, const char *addr, uint16_t port, struct sockaddr_storage *ss)
{
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		inet_pton(AF_INET, addr, &a->sin_addr);
		return sizeof(*a);
	}
	struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

	a->sin6_family = AF_INET6;
	a->sin6_port = htons(port);
	inet_pton(AF_INET6, addr, &a->sin6_addr);
	return sizeof(*a);
}

static int listen_on(int family, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	len = sockaddr_of(family, addr, port, &ss);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&ss, len) || listen(s, 4))
		return -1;
	return s;
}

/* Connects to addr:port; the local port in *lport. The socket or -errno. */
static int connect_to(int family, const char *addr, uint16_t port, uint16_t *lport)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	len = sockaddr_of(family, addr, port, &ss);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&ss, len)) {
		int err = errno;
		/* the port the refused SYN came from: still bound */
		struct sockaddr_storage l;
		socklen_t ll = sizeof(l);
		if (!getsockname(s, (struct sockaddr *)&l, &ll))
			*lport = ntohs(((struct sockaddr_in *)&l)->sin_port);
		close(s);
		return -err;
	}
	len = sizeof(ss);
	getsockname(s, (struct sockaddr *)&ss, &len);
	*lport = ntohs(((struct sockaddr_in *)&ss)->sin_port); /* same offset in sockaddr_in6 */
	return s;
}

/* The server: listens, says so, accepts two connections, reads each to EOF, closes. */
static void server_main(int ready)
{
	int l4, l6;
	char c = 'r';

	prctl(PR_SET_NAME, SRV_COMM);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (!enter_ns(ns_srv))
		_exit(2);
	l4 = listen_on(AF_INET, V4_SRV, PORT);
	l6 = listen_on(AF_INET6, V6_SRV, PORT);
	if (l4 < 0 || l6 < 0 || write(ready, &c, 1) != 1)
		_exit(3);
	/* in the client's order: IPv4, IPv6, the IPv4 one it aborts */
	for (int i = 0; i < 3; i++) {
		char buf[64];
		int s = accept4(i == 1 ? l6 : l4, NULL, NULL, SOCK_CLOEXEC);

		if (s < 0)
			_exit(4);
		while (read(s, buf, sizeof(buf)) > 0)
			;
		close(s);
	}
	_exit(0);
}

struct client_result {
	int refused; /* -errno of the refused connect */
	uint16_t port4, port6, port_refused, port_rst;
};

/* The client, held until sonde runs: v4, refused, v6; results on `out`. */
static int client_main(void *arg)
{
	struct client_result r = {0};
	int out = *(int *)arg, s;

	prctl(PR_SET_NAME, CLI_COMM);
	if (!enter_ns(ns_cli))
		return 10;
	s = connect_to(AF_INET, V4_SRV, PORT, &r.port4);
	if (s < 0 || write(s, "x", 1) != 1)
		return 11;
	close(s);
	r.refused = connect_to(AF_INET, V4_SRV, PORT_OFF, &r.port_refused);
	s = connect_to(AF_INET6, V6_SRV, PORT, &r.port6);
	if (s < 0 || write(s, "x", 1) != 1)
		return 12;
	close(s);
	/* aborted: the reset reaches the server in softirq, where only the
	 * socket enricher knows whose socket it is */
	s = connect_to(AF_INET, V4_SRV, PORT, &r.port_rst);
	if (s < 0 || write(s, "x", 1) != 1)
		return 14;
	usleep(100 * 1000); /* the server has accepted and reads again */
	if (setsockopt(s, SOL_SOCKET, SO_LINGER, &(struct linger){.l_onoff = 1, .l_linger = 0},
	               sizeof(struct linger)))
		return 15;
	close(s);
	if (write(out, &r, sizeof(r)) != sizeof(r))
		return 13;
	usleep(200 * 1000); /* the server's close follows our FIN */
	return 0;
}

/* The event of type from pid whose local endpoint is src_addr:src_port
 * and whose remote port is dst_port. */
static json_t *find_event(json_t *evs, const char *type, pid_t pid, const char *src_addr, int src_port,
                          int dst_port)
{
	size_t i;
	json_t *ev;

	json_array_foreach(evs, i, ev)
	{
		const char *t = test_json_str(ev, "type"), *a = test_json_str(ev, "src.addr");

		if (t && !strcmp(t, type) && test_json_int(ev, "proc.pid", 0) == pid && a &&
		    !strcmp(a, src_addr) && test_json_int(ev, "src.port", 0) == src_port &&
		    test_json_int(ev, "dst.port", 0) == dst_port)
			return ev;
	}
	return NULL;
}

static void check_event(json_t *ev, const char *what, const char *comm, const char *dst, int dst_port,
                        int version, uint32_t netns, const char *error)
{
	if (!ev) {
		fprintf(stderr, "missing: %s\n", what);
		test_failures++;
		return;
	}
	CHECK_STR(test_json_str(ev, "proc.comm"), comm);
	CHECK_STR(test_json_str(ev, "dst.addr"), dst);
	CHECK_INT(test_json_int(ev, "dst.port", 0), dst_port);
	CHECK_INT(test_json_int(ev, "src.version", 0), version);
	CHECK_STR(test_json_str(ev, "src.proto"), "TCP");
	CHECK_INT(test_json_int(ev, "netns_id", 0), netns);
	CHECK_STR(test_json_str(ev, "error"), error);
}

static void test_veth(void)
{
	const char *argv[] = {"run", "trace_tcp", "--host", "-o", "json", "-v", NULL};
	struct client_result r = {0};
	struct test_child cli;
	struct sonde_proc p;
	int ready[2], res[2], status;
	uint32_t netns_c, netns_s;
	pid_t srv, srv_pid;
	json_t *evs;
	char c;

	test_require_root();
	if (!net_setup()) {
		test_failures++;
		net_teardown();
		return;
	}
	netns_c = ns_inode(ns_cli);
	netns_s = ns_inode(ns_srv);
	REQUIRE(pipe(ready) == 0 && pipe(res) == 0);
	srv = fork();
	if (srv == 0) {
		close(ready[0]);
		server_main(ready[1]);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		fprintf(stderr, "the server did not start\n");
		test_failures++;
		goto out;
	}
	test_child_start(&cli, client_main, &res[1]);
	if (sonde_proc_start_running(&p, argv)) {
		kill(cli.pid, SIGKILL);
		test_child_release(&cli);
		test_failures++;
		goto out;
	}
	CHECK_INT(test_child_release(&cli), 0);
	CHECK(read(res[0], &r, sizeof(r)) == sizeof(r));
	srv_pid = srv;
	waitpid(srv, &status, 0);
	srv = 0;
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	usleep(500 * 1000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	CHECK_INT(r.refused, -ECONNREFUSED);

	evs = test_json_lines(p.out ? p.out : "");
	/* IPv4: the client's view, then the server's, mirrored */
	check_event(find_event(evs, "connect", cli.pid, V4_CLI, r.port4, PORT), "v4 connect", CLI_COMM,
	            V4_SRV, PORT, 4, netns_c, "");
	check_event(find_event(evs, "accept", srv_pid, V4_SRV, PORT, r.port4), "v4 accept", SRV_COMM, V4_CLI,
	            r.port4, 4, netns_s, "");
	check_event(find_event(evs, "close", cli.pid, V4_CLI, r.port4, PORT), "v4 client close", CLI_COMM,
	            V4_SRV, PORT, 4, netns_c, "");
	check_event(find_event(evs, "close", srv_pid, V4_SRV, PORT, r.port4), "v4 server close", SRV_COMM,
	            V4_CLI, r.port4, 4, netns_s, "");
	/* refused: a failed connect, and no close for it */
	check_event(find_event(evs, "connect", cli.pid, V4_CLI, r.port_refused, PORT_OFF), "refused connect",
	            CLI_COMM, V4_SRV, PORT_OFF, 4, netns_c, "ECONNREFUSED");
	CHECK(find_event(evs, "close", cli.pid, V4_CLI, r.port_refused, PORT_OFF) == NULL);
	/* IPv6 */
	check_event(find_event(evs, "connect", cli.pid, V6_CLI, r.port6, PORT), "v6 connect", CLI_COMM,
	            V6_SRV, PORT, 6, netns_c, "");
	check_event(find_event(evs, "accept", srv_pid, V6_SRV, PORT, r.port6), "v6 accept", SRV_COMM, V6_CLI,
	            r.port6, 6, netns_s, "");
	check_event(find_event(evs, "close", cli.pid, V6_CLI, r.port6, PORT), "v6 client close", CLI_COMM,
	            V6_SRV, PORT, 6, netns_c, "");
	check_event(find_event(evs, "close", srv_pid, V6_SRV, PORT, r.port6), "v6 server close", SRV_COMM,
	            V6_CLI, r.port6, 6, netns_s, "");
	/* the abort: a close on each side, the server's named from gadget_sockets */
	check_event(find_event(evs, "close", cli.pid, V4_CLI, r.port_rst, PORT), "aborted client close",
	            CLI_COMM, V4_SRV, PORT, 4, netns_c, "");
	check_event(find_event(evs, "close", srv_pid, V4_SRV, PORT, r.port_rst), "reset server close",
	            SRV_COMM, V4_CLI, r.port_rst, 4, netns_s, "");
	if (test_failures)
		fprintf(stderr, "sonde output:\n%s\n", p.out ? p.out : "");
	json_decref(evs);
	sonde_proc_free(&p);
out:
	if (srv > 0) {
		kill(srv, SIGKILL);
		waitpid(srv, NULL, 0);
	}
	close(ready[0]);
	close(res[0]);
	close(res[1]);
	net_teardown();
}

#define CT_PREFIX "/tmp/sonde-it-tcp-"
#define CT_NAME   "tcpbox"
#define CT_PORT   8080

/* The container's own loopback: nc serves one connection, another nc
 * connects to it, sends a line and leaves. */
static void test_container(void)
{
	static const char *const applets[] = {"sh", "nc", "sleep", NULL};
	const char *argv[] = {"run", "trace_tcp", "-o", "json", "-v", NULL};
	char dir[256], bundle[320], rootfs[320], id[64];
	struct sonde_proc p;
	json_t *evs, *ev, *connect = NULL, *accept = NULL;
	size_t i;
	pid_t worker;

	oci_require("runc");
	REQUIRE(oci_workdir_create(dir, sizeof(dir), CT_PREFIX, applets) == 0);
	snprintf(bundle, sizeof(bundle), "%s/bundle", dir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	snprintf(id, sizeof(id), "sdtcp-ct-%d", (int)getpid());
	if (oci_bundle_write(
	        bundle, rootfs,
	        json_pack("[s,s,s]", "sh", "-c",
	                  "nc -l -p 8080 >/dev/null & sleep 1; echo hi | nc -w 1 127.0.0.1 8080; wait"),
	        json_pack("{s:s}", "io.kubernetes.cri.container-name", CT_NAME))) {
		test_failures++;
		goto out;
	}
	if (sonde_proc_start_running(&p, argv)) {
		test_failures++;
		goto out;
	}
	/* from a child, so that sonde's output keeps being read meanwhile */
	worker = fork();
	if (worker == 0)
		_exit(oci_run("runc", bundle, id) != 0);
	sonde_proc_await_child(&p, worker);
	usleep(500 * 1000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	evs = test_json_lines(p.out ? p.out : "");
	json_array_foreach(evs, i, ev)
	{
		const char *type = test_json_str(ev, "type"),
		           *name = test_json_str(ev, "runtime.containerName");

		if (!type || !name || strcmp(name, CT_NAME))
			continue;
		if (!strcmp(type, "connect") && test_json_int(ev, "dst.port", 0) == CT_PORT)
			connect = ev;
		if (!strcmp(type, "accept") && test_json_int(ev, "src.port", 0) == CT_PORT)
			accept = ev;
	}
	CHECK(connect && accept);
	if (connect && accept) {
		CHECK_STR(test_json_str(connect, "proc.comm"), "nc");
		CHECK_STR(test_json_str(accept, "proc.comm"), "nc");
		CHECK(test_json_int(connect, "proc.pid", 0) != test_json_int(accept, "proc.pid", 0));
		CHECK_STR(test_json_str(connect, "dst.addr"), "127.0.0.1");
		CHECK_INT(test_json_int(connect, "src.port", 0), test_json_int(accept, "dst.port", -1));
		CHECK_STR(test_json_str(connect, "runtime.containerId"), id);
		CHECK_INT(test_json_int(connect, "netns_id", 0), test_json_int(accept, "netns_id", -1));
	} else {
		fprintf(stderr, "sonde output:\n%s\nstderr:\n%s\n", p.out ? p.out : "", p.err ? p.err : "");
	}
	json_decref(evs);
	sonde_proc_free(&p);
out:
	oci_delete("runc", id);
	test_rm_tree(dir, CT_PREFIX);
}

TEST_MAIN(TEST(test_veth), TEST(test_container))
