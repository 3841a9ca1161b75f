/* trace_tcpdrop through the sonde command: TCP segments a netfilter rule
 * drops, with the reason the running kernel gives, the endpoints, the
 * state, the flags and the process (and container) owning the socket.
 *
 * Each case makes a network namespace (sdnet-td-<pid>-…) whose OUTPUT
 * chain drops TCP (iptables): a connect() to PORT there sends a SYN that
 * netfilter drops (SKB_DROP_REASON_NETFILTER_DROP, on every kernel since
 * 5.17 but under a different number on each). The host case connects from
 * a child of the test named sd_dropper; the container case from a runc
 * busybox container joined to such a namespace (`nc`), selected with -c,
 * while a host child drops packets too, which must not be reported. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns.h"
#include "oci_rootfs.h"
#include "testlib.h"

#define WORKDIR_PREFIX "/tmp/sonde-it-tcpdrop-"
#define PORT           4311
#define PORT_S         "4311"
#define DROPPER        "sd_dropper"

static char workdir[256], ns_host[64], ns_ctr[64], cid[64];
static uint64_t ino_host, ino_ctr;

/* A namespace whose OUTPUT chain drops TCP. */
static bool drop_netns(const char *name, uint64_t *ino)
{
	/* all TCP: a port match needs the xt_tcpudp module, which a kernel
	 * with nf_tables as a module (Debian's) does not load by itself */
	const char *rule[] = {"iptables", "-A", "OUTPUT", "-p", "tcp", "-j", "DROP", NULL};

	if (test_netns_add(name, ino))
		return false;
	if (test_netns_exec(name, rule)) {
		fprintf(stderr, "iptables failed in %s\n", name);
		return false;
	}
	return true;
}

struct dropper {
	pid_t pid;
	uint16_t port; /* its local port */
};

/* A child named DROPPER in namespace ns connecting to PORT (its SYNs are
 * dropped), until killed. */
static bool dropper_start(struct dropper *d, const char *ns)
{
	int rep[2];

	d->port = 0;
	if (pipe2(rep, O_CLOEXEC))
		return false;
	d->pid = fork();
	if (d->pid == 0) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)}, mine;
		socklen_t len = sizeof(mine);
		uint16_t port;
		int fd;

		prctl(PR_SET_NAME, DROPPER);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(rep[0]);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (test_netns_enter(ns))
			_exit(2);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EINPROGRESS)
			_exit(3);
		getsockname(fd, (struct sockaddr *)&mine, &len);
		port = ntohs(mine.sin_port);
		if (write(rep[1], &port, sizeof(port)) != sizeof(port))
			_exit(4);
		pause();
		_exit(0);
	}
	close(rep[1]);
	if (d->pid < 0 || read(rep[0], &d->port, sizeof(d->port)) != sizeof(d->port)) {
		fprintf(stderr, "the dropper did not start\n");
		close(rep[0]);
		return false;
	}
	close(rep[0]);
	return true;
}

static void dropper_stop(struct dropper *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
	}
	d->pid = 0;
}

/* The first record of a drop to PORT in namespace netns. */
static json_t *find_drop(json_t *all, uint64_t netns)
{
	size_t i;
	json_t *r;

	json_array_foreach(all, i, r)
	{
		if (test_json_int(r, "dst.port", -1) == PORT &&
		    test_json_int(r, "netns_id", -1) == (long long)netns)
			return r;
	}
	return NULL;
}

static void check_drop(json_t *r, uint64_t netns, long long pid, const char *comm, long long sport)
{
	const char *stack;

	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_STR(test_json_str(r, "reason"), "SKB_DROP_REASON_NETFILTER_DROP");
	CHECK_STR(test_json_str(r, "src.addr"), "127.0.0.1");
	CHECK_STR(test_json_str(r, "dst.addr"), "127.0.0.1");
	CHECK_STR(test_json_str(r, "src.proto"), "TCP");
	if (sport)
		CHECK_INT(test_json_int(r, "src.port", -1), sport);
	CHECK_STR(test_json_str(r, "state"), "tcp_syn_sent");
	CHECK_STR(test_json_str(r, "tcpflags"), "SYN");
	CHECK_INT(test_json_int(r, "netns_id", -1), (long long)netns);
	CHECK_INT(test_json_int(r, "pid", -1), pid);
	CHECK_STR(test_json_str(r, "comm"), comm);
	stack = test_json_str(r, "kernel_stack");
	CHECK(stack && strstr(stack, "nf_hook_slow"));
}

static void cleanup(void)
{
	if (*cid)
		oci_delete("runc", cid);
	if (*ns_host)
		test_netns_del(ns_host);
	if (*ns_ctr)
		test_netns_del(ns_ctr);
	if (*workdir)
		test_rm_tree(workdir, WORKDIR_PREFIX);
	*cid = *ns_host = *ns_ctr = *workdir = 0;
}

static void require_iptables(void)
{
	const char *v[] = {"iptables", "--version", NULL};
	const char *mod[] = {"modprobe", "-q", "nf_tables", NULL};

	test_require_root();
	/* Debian's kernel has nf_tables as a module, which iptables-nft
	 * does not load (its --version already fails without it) */
	test_run_quiet(mod);
	if (test_run_quiet(v))
		test_skip_dep("iptables (nf_tables) does not run: apt-get install iptables");
}

/* --host: the test's own child, its pid, comm and port. */
static void test_host_drop(void)
{
	const char *argv[] = {"run", "trace_tcpdrop", "--host", "-o", "json", "-v", NULL};
	struct dropper d = {0};
	struct sonde_proc p;
	json_t *all = NULL;
	char needle[64];

	require_iptables();
	snprintf(ns_host, sizeof(ns_host), "sdnet-td-%d-h", (int)getpid());
	if (!drop_netns(ns_host, &ino_host)) {
		test_failures++;
		goto out;
	}
	if (sonde_proc_start_running(&p, argv))
		goto out;
	if (dropper_start(&d, ns_host)) {
		snprintf(needle, sizeof(needle), "\"netns_id\":%llu", (unsigned long long)ino_host);
		CHECK(sonde_proc_wait_for(&p, 1, needle, 5000));
	} else {
		test_failures++;
	}
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	all = test_json_lines(p.out ? p.out : "");
	printf("  %s pid %d port %u in %s (%llu): %zu records\n", DROPPER, (int)d.pid, d.port, ns_host,
	       (unsigned long long)ino_host, json_array_size(all));
	check_drop(find_drop(all, ino_host), ino_host, d.pid, DROPPER, d.port);
	if (!find_drop(all, ino_host))
		sonde_proc_print_errors(&p);
	sonde_proc_free(&p);
out:
	json_decref(all);
	dropper_stop(&d);
	cleanup();
}

/* -c: the container's drop with its process and name; not the host's. */
static void test_container_drop(void)
{
	static const char *const applets[] = {"nc", NULL};
	const char *argv[] = {"run", "trace_tcpdrop", "-c", cid, "-o", "json", "-v", NULL};
	char bundle[600], rootfs[600], nspath[300], needle[64];
	struct dropper d = {0};
	struct sonde_proc p;
	json_t *all = NULL, *r;
	long long pid = -1;

	require_iptables();
	oci_require("runc");
	snprintf(ns_host, sizeof(ns_host), "sdnet-td-%d-h", (int)getpid());
	snprintf(ns_ctr, sizeof(ns_ctr), "sdnet-td-%d-c", (int)getpid());
	snprintf(cid, sizeof(cid), "sdnet-td-%d", (int)getpid());
	if (!drop_netns(ns_host, &ino_host) || !drop_netns(ns_ctr, &ino_ctr) ||
	    oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets)) {
		test_failures++;
		goto out;
	}
	snprintf(bundle, sizeof(bundle), "%s/bundle", workdir);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	snprintf(nspath, sizeof(nspath), "/run/netns/%s", ns_ctr);
	/* nc is the container's init: its pid is the one runc reports */
	if (oci_bundle_write(bundle, rootfs, json_pack("[s,s,s,s,s]", "nc", "-w", "5", "127.0.0.1", PORT_S),
	                     json_object()) ||
	    oci_bundle_set_namespace(bundle, "network", nspath)) {
		test_failures++;
		goto out;
	}
	if (sonde_proc_start_running(&p, argv))
		goto out;
	if (!dropper_start(&d, ns_host))
		test_failures++;
	CHECK_INT(oci_run_detached("runc", bundle, cid), 0);
	pid = oci_state_pid("runc", cid);
	snprintf(needle, sizeof(needle), "\"netns_id\":%llu", (unsigned long long)ino_ctr);
	CHECK(sonde_proc_wait_for(&p, 1, needle, 5000));
	usleep(1500 * 1000); /* the host dropper's retransmission too */
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	all = test_json_lines(p.out ? p.out : "");
	printf("  container %s (nc pid %lld) in %s (%llu); host %s pid %d in %llu: %zu records\n", cid, pid,
	       ns_ctr, (unsigned long long)ino_ctr, DROPPER, (int)d.pid, (unsigned long long)ino_host,
	       json_array_size(all));
	CHECK(pid > 0);
	r = find_drop(all, ino_ctr);
	check_drop(r, ino_ctr, pid, "nc", 0);
	if (r) {
		CHECK_STR(test_json_str(r, "runtime.containerName"), cid);
		CHECK_STR(test_json_str(r, "runtime.runtimeName"), "runc");
		CHECK_INT(test_json_int(r, "runtime.containerPid", -1), pid);
	} else {
		sonde_proc_print_errors(&p);
	}
	CHECK(find_drop(all, ino_host) == NULL); /* not selected */
	sonde_proc_free(&p);
out:
	json_decref(all);
	dropper_stop(&d);
	cleanup();
}

TEST_MAIN(TEST(test_host_drop), TEST(test_container_drop))
