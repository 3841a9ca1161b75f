/* trace_sni through the sonde command: the server name of TLS ClientHellos,
 * parsed by the gadget's socket filter, with the process (and container)
 * owning the socket that sent it.
 *
 * Host case (--host): the test moves into a namespace of its own
 * (sdnet-sni-<pid>-h), which sonde, started there, takes for the host's; a
 * listener of the test on the loopback; a child of
 * the test (sd_tls) sends a ClientHello built here (extensions before
 * server_name, so the gadget must walk them), and `openssl s_client
 * -servername` sends a real one. Container case (-c): a runc busybox
 * container joined to a namespace of the test's (sdnet-sni-<pid>), where a
 * child of the test listens, sends the ClientHello with nc; the listener's
 * copy of the packet (owned by the test, not the container) is not
 * reported. Each case uses names of its own (sni-<pid>-<case>.sonde.test). */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns.h"
#include "oci_rootfs.h"
#include "testlib.h"

#define WORKDIR_PREFIX "/tmp/sonde-it-sni-"
#define PORT           4321
#define PORT_S         "4321"
#define SENDER         "sd_tls"

static char workdir[256], ns[64], cid[64];

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A TLS 1.2-style ClientHello record for server name sni: 32-byte session
 * id, two cipher suites, ec_point_formats and supported_groups before
 * server_name. Its length. */
static size_t client_hello(const char *sni, uint8_t *b, size_t cap)
{
	size_t n = strlen(sni), i = 0, ext_start, hs_start;

	if (cap < 200 + n)
		return 0;
	b[i++] = 0x16; /* handshake record */
	b[i++] = 0x03;
	b[i++] = 0x01;
	i += 2; /* record length */
	hs_start = i;
	b[i++] = 0x01; /* ClientHello */
	i += 3;        /* handshake length */
	b[i++] = 0x03;
	b[i++] = 0x03;
	for (int k = 0; k < 32; k++) /* random */
		b[i++] = (uint8_t)(k * 7);
	b[i++] = 32; /* session id */
	for (int k = 0; k < 32; k++)
		b[i++] = (uint8_t)(0xa0 + k);
	put16(b + i, 4);
	i += 2;
	b[i++] = 0x13, b[i++] = 0x01, b[i++] = 0x13, b[i++] = 0x02;
	b[i++] = 1; /* compression methods: null */
	b[i++] = 0;
	i += 2; /* extensions length */
	ext_start = i;
	put16(b + i, 0x000b); /* ec_point_formats */
	put16(b + i + 2, 2);
	b[i + 4] = 1;
	b[i + 5] = 0;
	i += 6;
	put16(b + i, 0x000a); /* supported_groups */
	put16(b + i + 2, 4);
	put16(b + i + 4, 2);
	put16(b + i + 6, 0x001d);
	i += 8;
	put16(b + i, 0x0000); /* server_name */
	put16(b + i + 2, n + 5);
	put16(b + i + 4, n + 3);
	b[i + 6] = 0; /* host_name */
	put16(b + i + 7, n);
	memcpy(b + i + 9, sni, n);
	i += 9 + n;
	put16(b + ext_start - 2, i - ext_start);
	b[hs_start + 1] = 0;
	put16(b + hs_start + 2, i - hs_start - 4);
	put16(b + 3, i - hs_start);
	return i;
}

static int listen_lo(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t len = sizeof(a);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 8)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&a, &len);
	*bound = ntohs(a.sin_port);
	return fd; /* the kernel completes the handshakes: no accept needed */
}

/* A child named SENDER connecting to port and sending the ClientHello for sni. */
static pid_t send_hello(uint16_t port, const char *sni)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
		uint8_t hello[512];
		size_t n = client_hello(sni, hello, sizeof(hello));
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		prctl(PR_SET_NAME, SENDER);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) || write(fd, hello, n) != (ssize_t)n)
			_exit(1);
		usleep(200 * 1000);
		_exit(0);
	}
	return pid;
}

static json_t *find_name(json_t *all, const char *name, long long pid)
{
	size_t i;
	json_t *r;

	json_array_foreach(all, i, r)
	{
		const char *n = test_json_str(r, "name");

		if (n && !strcmp(n, name) && (pid < 0 || test_json_int(r, "proc.pid", -1) == pid))
			return r;
	}
	return NULL;
}

static int count_name(json_t *all, const char *name)
{
	size_t i;
	json_t *r;
	int n = 0;

	json_array_foreach(all, i, r)
	{
		const char *s = test_json_str(r, "name");

		n += s && !strcmp(s, name);
	}
	return n;
}

static void test_host_sni(void)
{
	const char *argv[] = {"run", "trace_sni", "--host", "-o", "json", "-v", NULL};
	const char *ossl_version[] = {"openssl", "version", NULL};
	char name[128], ossl_name[128], connect_to[64];
	uint16_t port = 0;
	struct sonde_proc p;
	json_t *all = NULL, *r;
	pid_t sender = -1, ossl = -1;
	struct stat st;
	int lst = -1, status, hostfd;
	uint64_t ino = 0;

	test_require_root();
	/* sonde's host is the namespace it starts in: one of the test's own,
	 * where the loopback is up (it may not be in a bare VM's) */
	snprintf(ns, sizeof(ns), "sdnet-sni-%d-h", (int)getpid());
	hostfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	REQUIRE(hostfd >= 0);
	if (test_netns_add(ns, &ino) || test_netns_enter(ns)) {
		test_failures++;
		goto out;
	}
	REQUIRE(stat("/proc/self/ns/net", &st) == 0 && st.st_ino == ino);
	snprintf(name, sizeof(name), "sni-%d-host.sonde.test", (int)getpid());
	snprintf(ossl_name, sizeof(ossl_name), "sni-%d-openssl.sonde.test", (int)getpid());
	lst = listen_lo(0, &port);
	if (lst < 0) {
		test_failures++;
		goto out;
	}
	if (sonde_proc_start_running(&p, argv))
		goto out;
	sender = send_hello(port, name);
	CHECK_INT(test_wait_status(sender), 0);
	CHECK(sonde_proc_wait_for(&p, 1, name, 5000));
	if (test_run_quiet(ossl_version) == 0) {
		const char *cmd[] = {"openssl",     "s_client", "-connect", connect_to,
		                     "-servername", ossl_name,  NULL};

		snprintf(connect_to, sizeof(connect_to), "127.0.0.1:%u", port);
		ossl = test_spawn_quiet(cmd);
		CHECK(sonde_proc_wait_for(&p, 1, ossl_name, 5000));
	}
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	all = test_json_lines(p.out ? p.out : "");
	printf("  %s pid %d sent %s to port %u: %zu records\n", SENDER, (int)sender, name, port,
	       json_array_size(all));
	r = find_name(all, name, sender);
	CHECK(r != NULL);
	if (r) {
		CHECK_STR(test_json_str(r, "proc.comm"), SENDER);
		CHECK_INT(test_json_int(r, "proc.parent.pid", -1), getpid());
		CHECK_INT(test_json_int(r, "netns_id", -1), (long long)st.st_ino);
		CHECK_STR(test_json_str(r, "runtime.containerName"), "");
	} else {
		sonde_proc_print_errors(&p);
	}
	/* the loopback shows each packet twice: the receiver's copy is the
	 * listener's, owned by the test itself */
	r = find_name(all, name, getpid());
	CHECK(r != NULL);
	CHECK_INT(count_name(all, name), 2);
	if (ossl > 0) {
		r = find_name(all, ossl_name, ossl);
		CHECK(r != NULL);
		if (r)
			CHECK_STR(test_json_str(r, "proc.comm"), "openssl");
		kill(ossl, SIGKILL);
		waitpid(ossl, &status, 0);
	} else {
		printf("  openssl is not installed: only the hand-made ClientHello\n");
	}
	sonde_proc_free(&p);
out:
	json_decref(all);
	if (lst >= 0)
		close(lst);
	if (setns(hostfd, CLONE_NEWNET))
		fprintf(stderr, "cannot return to the host network namespace: %s\n", strerror(errno));
	close(hostfd);
	test_netns_del(ns);
	*ns = 0;
}

static void cleanup(void)
{
	if (*cid)
		oci_delete("runc", cid);
	if (*ns)
		test_netns_del(ns);
	if (*workdir)
		test_rm_tree(workdir, WORKDIR_PREFIX);
	*cid = *ns = *workdir = 0;
}

/* A child listening on PORT in the namespace until killed. */
static pid_t listener_in(const char *netns)
{
	int rep[2];
	pid_t pid;
	char c = 0;

	if (pipe2(rep, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		uint16_t port;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (test_netns_enter(netns) || listen_lo(PORT, &port) < 0)
			_exit(2);
		if (write(rep[1], &c, 1) != 1)
			_exit(3);
		pause();
		_exit(0);
	}
	close(rep[1]);
	if (pid < 0 || read(rep[0], &c, 1) != 1) {
		fprintf(stderr, "the listener in %s did not start\n", netns);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		pid = -1;
	}
	close(rep[0]);
	return pid;
}

static void test_container_sni(void)
{
	static const char *const applets[] = {"sh", "nc", NULL};
	const char *argv[] = {"run", "trace_sni", "-c", cid, "-o", "json", "-v", NULL};
	char bundle[600], rootfs[600], nspath[300], name[128], path[700];
	uint8_t hello[512];
	size_t len;
	struct sonde_proc p;
	json_t *all = NULL, *r;
	long long pid = -1;
	pid_t lst = -1;
	uint64_t ino = 0;
	FILE *f;

	oci_require("runc");
	snprintf(ns, sizeof(ns), "sdnet-sni-%d", (int)getpid());
	snprintf(cid, sizeof(cid), "sdnet-sni-%d", (int)getpid());
	snprintf(name, sizeof(name), "sni-%d-container.sonde.test", (int)getpid());
	if (test_netns_add(ns, &ino) ||
	    oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets)) {
		test_failures++;
		goto out;
	}
	snprintf(bundle, sizeof(bundle), "%s/bundle", workdir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	snprintf(nspath, sizeof(nspath), "/run/netns/%s", ns);
	snprintf(path, sizeof(path), "%s/hello", rootfs);
	len = client_hello(name, hello, sizeof(hello));
	f = fopen(path, "w");
	REQUIRE(f && fwrite(hello, 1, len, f) == len);
	fclose(f);
	/* nc keeps the connection open (the listener never answers) until the
	 * container is deleted: runc state can tell its pid */
	if (oci_bundle_write(bundle, rootfs,
	                     json_pack("[s,s,s]", "sh", "-c", "exec nc 127.0.0.1 " PORT_S " </hello"),
	                     json_object()) ||
	    oci_bundle_set_namespace(bundle, "network", nspath)) {
		test_failures++;
		goto out;
	}
	lst = listener_in(ns);
	if (lst < 0) {
		test_failures++;
		goto out;
	}
	if (sonde_proc_start_running(&p, argv))
		goto out;
	CHECK_INT(oci_run_detached("runc", bundle, cid), 0);
	pid = oci_state_pid("runc", cid);
	CHECK(sonde_proc_wait_for(&p, 1, name, 5000));
	usleep(300 * 1000); /* the listener's copy, which must not come */
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	all = test_json_lines(p.out ? p.out : "");
	printf("  container %s (nc pid %lld) in %s (%llu) sent %s: %zu records\n", cid, pid, ns,
	       (unsigned long long)ino, name, json_array_size(all));
	CHECK(pid > 0);
	r = find_name(all, name, -1);
	CHECK(r != NULL);
	if (r) {
		CHECK_INT(test_json_int(r, "proc.pid", -1), pid);
		CHECK_STR(test_json_str(r, "proc.comm"), "nc");
		CHECK_INT(test_json_int(r, "netns_id", -1), (long long)ino);
		CHECK_STR(test_json_str(r, "runtime.containerName"), cid);
		CHECK_STR(test_json_str(r, "runtime.runtimeName"), "runc");
	} else {
		sonde_proc_print_errors(&p);
	}
	CHECK_INT(count_name(all, name), 1);
	sonde_proc_free(&p);
out:
	json_decref(all);
	if (lst > 0) {
		kill(lst, SIGKILL);
		waitpid(lst, NULL, 0);
	}
	cleanup();
}

TEST_MAIN(TEST(test_host_sni), TEST(test_container_sni))
