/* Short-lived containers with network namespaces of their own, started back
 * to back while network gadgets run: each container's first packet must be
 * traced and attributed, however short its life.
 *
 * Each container gets a network namespace that runc itself creates (the
 * default `runc spec`: nothing of it exists until the container is being
 * created), with only lo. Its init is the network action itself, exec'd
 * first thing and exiting a few milliseconds later:
 *  - `nslookup NAME 127.0.0.1` (no server: the query leaves, is refused),
 *    for trace_dns, whose socket filter must be on a namespace that did not
 *    exist a moment before, and whose process comes from the socket
 *    enricher's entry of a socket created after sonde started;
 *  - `nc 127.0.0.1 PORT` (refused), for trace_tcp (tracepoints, mntns filter).
 * Four runs watch the same NCHURN pairs of containers at once: trace_dns
 * selecting the containers by name (-c), trace_dns of all containers,
 * trace_dns selecting them by their Kubernetes namespace (CRI annotations in
 * their bundles, --k8s-namespace), and trace_tcp of all containers. Every container's event must be there,
 * with its container name and its process; the failure message counts the lost.
 *
 * test_veth_churn: as a CNI plugin does, the test makes each container's
 * network namespace (sdnc<pid>-<k>) and veth pair (sdnc<pid>k<k>a on the
 * host, 10.218.<k>.1/24, peer in the namespace .2) before the container
 * starts; the container joins it, and its init connects at once to the
 * host side (refused). `tcpdump -c <every container>` must have the SYN of
 * each on its host-side veth, with nc (socket enricher) and the container's
 * name: its classifiers attach when the container is added. Namespaces and
 * veths are removed at the end, also on failure. */
#include <net/if.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "oci_rootfs.h"
#include "testlib.h"

#define WORKDIR_PREFIX "/tmp/sonde-it-netchurn-"
#define NCHURN         20
#define PORT_BASE      47600  /* container k connects to PORT_BASE + k: refused */
#define WORKER_MS      240000 /* under qemu's emulation (check-kernels) it takes minutes */

static char workdir[256];

struct churn {
	char dns_ids[NCHURN][64], tcp_ids[NCHURN][64];
	char names[NCHURN][64]; /* what dns container k asks for */
	char dns_bundles[NCHURN][320], tcp_bundles[NCHURN][320];
	char selection[NCHURN * 64]; /* -c: every dns container's name */
};

static void container_id(char *buf, size_t sz, const char *kind, int k)
{
	snprintf(buf, sz, "sdnetchurn-%s-%d-%d", kind, (int)getpid(), k);
}

/* Bundle <workdir>/<id> running args with annotations (NULL: none), in a
 * network namespace runc creates. */
static bool bundle_with(const char *id, json_t *args, json_t *annotations, char *dir, size_t sz)
{
	char rootfs[300];

	snprintf(dir, sz, "%s/%s", workdir, id);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	return oci_bundle_write(dir, rootfs, args, annotations ? annotations : json_object()) == 0;
}

static bool bundle_for(const char *id, json_t *args, char *dir, size_t sz)
{
	return bundle_with(id, args, NULL, dir, sz);
}

/* The Kubernetes namespace of the dns containers' annotations (as
 * containerd's CRI plugin writes them), for --k8s-namespace. */
static void k8s_namespace(char *buf, size_t sz)
{
	snprintf(buf, sz, "sdnetchurn-%d", (int)getpid());
}

static bool prepare(struct churn *c)
{
	size_t len = 0;

	for (int k = 0; k < NCHURN; k++) {
		char port[16], pod[32], ns[32];

		container_id(c->dns_ids[k], sizeof(c->dns_ids[k]), "dns", k);
		container_id(c->tcp_ids[k], sizeof(c->tcp_ids[k]), "tcp", k);
		snprintf(c->names[k], sizeof(c->names[k]), "c%d-%d.sonde.test", k, (int)getpid());
		snprintf(port, sizeof(port), "%d", PORT_BASE + k);
		/* -retry=1: one query of each type, refused at once (no server) */
		snprintf(pod, sizeof(pod), "pod-%d", k);
		k8s_namespace(ns, sizeof(ns));
		if (!bundle_with(c->dns_ids[k],
		                 json_pack("[s,s,s,s,s]", "/bin/nslookup", "-timeout=1", "-retry=1",
		                           c->names[k], "127.0.0.1"),
		                 json_pack("{s:s,s:s,s:s,s:s}", "io.kubernetes.cri.container-type",
		                           "container", "io.kubernetes.cri.container-name", c->dns_ids[k],
		                           "io.kubernetes.cri.sandbox-namespace", ns,
		                           "io.kubernetes.cri.sandbox-name", pod),
		                 c->dns_bundles[k], sizeof(c->dns_bundles[k])) ||
		    !bundle_for(c->tcp_ids[k], json_pack("[s,s,s]", "/bin/nc", "127.0.0.1", port),
		                c->tcp_bundles[k], sizeof(c->tcp_bundles[k])))
			return false;
		len += (size_t)snprintf(c->selection + len, sizeof(c->selection) - len, "%s%s", k ? "," : "",
		                        c->dns_ids[k]);
	}
	return true;
}

/* DNS container k's query (A) in evs, attributed; false if missing or not. */
static bool dns_seen(const char *run, json_t *evs, const char *id, const char *name)
{
	char fq[80];
	const char *got = NULL;
	size_t i;
	json_t *ev;

	snprintf(fq, sizeof(fq), "%s.", name);
	json_array_foreach(evs, i, ev)
	{
		const char *n = test_json_str(ev, "name"), *qr = test_json_str(ev, "qr"),
		           *t = test_json_str(ev, "qtype");

		if (!n || !qr || !t || strcmp(n, fq) || strcmp(qr, "Q") || strcmp(t, "A"))
			continue;
		got = test_json_str(ev, "runtime.containerName") ?: "";
		if (!strcmp(got, id) && !strcmp(test_json_str(ev, "proc.comm") ?: "", "nslookup") &&
		    test_json_int(ev, "proc.pid", 0) > 0 &&
		    !strcmp(test_json_str(ev, "pkt_type") ?: "", "OUTGOING"))
			return true;
	}
	if (got)
		fprintf(stderr, "%s: the query of %s is attributed to '%s'\n", run, id, got);
	else
		fprintf(stderr, "%s: no query of %s\n", run, id);
	return false;
}

/* TCP container k's connect in evs, attributed; false if missing or not. */
static bool tcp_seen(json_t *evs, const char *id, int port)
{
	const char *got = NULL;
	size_t i;
	json_t *ev;

	json_array_foreach(evs, i, ev)
	{
		const char *t = test_json_str(ev, "type");

		if (!t || strcmp(t, "connect") || test_json_int(ev, "dst.port", 0) != port)
			continue;
		got = test_json_str(ev, "runtime.containerName") ?: "";
		if (!strcmp(got, id) && !strcmp(test_json_str(ev, "proc.comm") ?: "", "nc"))
			return true;
	}
	if (got)
		fprintf(stderr, "trace_tcp: the connect of %s is attributed to '%s'\n", id, got);
	else
		fprintf(stderr, "trace_tcp: no connect of %s\n", id);
	return false;
}

/* Reads every run's output until the worker exits (a sonde blocked on a
 * full pipe could not answer the held execs). Its exit status, or -1. */
static int drain_until_exit(struct sonde_proc *p, size_t n, pid_t worker, int timeout_ms)
{
	int64_t t0 = test_now_ms();
	int st;

	for (;;) {
		pid_t r = waitpid(worker, &st, WNOHANG);

		if (r == worker)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		if (test_now_ms() - t0 > timeout_ms) {
			fprintf(stderr, "the containers still run after %d ms: killed\n", timeout_ms);
			kill(worker, SIGKILL);
			waitpid(worker, NULL, 0);
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			sonde_proc_wait_for(&p[i], 1, "\x01never\x01", 20);
	}
}

static void netns_churn(const char *runtime)
{
	static const char *const applets[] = {"nslookup", "nc", NULL};
	struct churn *c = calloc(1, sizeof(*c));
	const char *dns_sel[] = {"run", "trace_dns", "-o", "json", "-v", "-c", NULL, NULL};
	const char *dns_all[] = {"run", "trace_dns", "-o", "json", "-v", NULL};
	const char *dns_k8s[] = {"run", "trace_dns", "-o", "json", "-v", "--k8s-namespace", NULL, NULL};
	const char *tcp_all[] = {"run", "trace_tcp", "-o", "json", "-v", NULL};
	const char *const *argvs[] = {dns_sel, dns_all, dns_k8s, tcp_all};
	const char *runs[] = {"trace_dns -c", "trace_dns", "trace_dns --k8s-namespace", "trace_tcp"};
	enum { NRUNS = 4, TCP_RUN = 3 };
	struct sonde_proc p[NRUNS];
	size_t started = 0;
	int lost[NRUNS] = {0};
	char ns[32];
	pid_t worker;

	REQUIRE(c);
	if (oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets) || !prepare(c)) {
		test_failures++;
		goto out;
	}
	dns_sel[6] = c->selection;
	k8s_namespace(ns, sizeof(ns));
	dns_k8s[6] = ns;
	for (; started < NRUNS; started++)
		if (sonde_proc_start_running(&p[started], argvs[started]))
			goto stop;
	worker = fork();
	if (worker == 0) {
		/* nslookup and nc exit 1 (refused): what counts is what sonde saw */
		for (int k = 0; k < NCHURN; k++) {
			oci_run(runtime, c->dns_bundles[k], c->dns_ids[k]);
			oci_run(runtime, c->tcp_bundles[k], c->tcp_ids[k]);
		}
		_exit(0);
	}
	CHECK_INT(drain_until_exit(p, NRUNS, worker, WORKER_MS), 0);
	for (size_t i = 0; i < TCP_RUN; i++)
		sonde_proc_wait_for(&p[i], 1, c->names[NCHURN - 1], 3000);
	usleep(300 * 1000);
stop:
	for (size_t i = 0; i < started; i++) {
		json_t *evs;

		CHECK_INT(sonde_proc_finish(&p[i], SIGINT, 10000), 0);
		evs = test_json_lines(p[i].out ? p[i].out : "");
		for (int k = 0; k < NCHURN && started == NRUNS; k++)
			lost[i] += i < TCP_RUN ? !dns_seen(runs[i], evs, c->dns_ids[k], c->names[k])
			                       : !tcp_seen(evs, c->tcp_ids[k], PORT_BASE + k);
		if (started == NRUNS)
			printf("  %s: %zu events, %d of %d containers lost\n", runs[i], json_array_size(evs),
			       lost[i], NCHURN);
		if (lost[i]) {
			fprintf(stderr, "%s: %d of %d short-lived containers lost\n", runs[i], lost[i],
			        NCHURN);
			test_failures++;
		}
		json_decref(evs);
	}
	if (test_failures)
		for (size_t i = 0; i < started; i++)
			sonde_proc_print_errors(&p[i]);
	for (size_t i = 0; i < started; i++)
		sonde_proc_free(&p[i]);
out:
	test_rm_tree(workdir, WORKDIR_PREFIX);
	free(c);
}

static void test_runc_netns_churn(void)
{
	oci_require("runc");
	netns_churn("runc");
}

/* crun refuses this host's cgroup layout (hugetlb left on cgroup2) until
 * hugetlb moves to a v1 hierarchy; given back after. Not in the suite
 * (tests/CMakeLists.txt): crun often execs a container's first program
 * before the watcher has marked it, and that container's events are lost
 * (said by a warning) — a known gap, run by name to measure it. */
static void test_crun_netns_churn(void)
{
	oci_require("crun");
	REQUIRE(oci_crun_cgroups_setup() == 0);
	netns_churn("crun");
	CHECK(oci_crun_cgroups_restore() == 0);
}

/* ---- containers on veths the test made ---- */

static char veth_ns[NCHURN][32], veth_host[NCHURN][IF_NAMESIZE];

static int ip(const char *const *argv)
{
	return test_run_quiet(argv);
}

static void veth_cleanup(void)
{
	for (int k = 0; k < NCHURN; k++) {
		if (*veth_host[k])
			ip((const char *[]){"ip", "link", "del", veth_host[k], NULL});
		if (*veth_ns[k])
			ip((const char *[]){"ip", "netns", "del", veth_ns[k], NULL});
		veth_ns[k][0] = veth_host[k][0] = 0;
	}
}

/* Container k's namespace and veth pair (see the top); false after saying why. */
static bool veth_setup(int k)
{
	char peer[IF_NAMESIZE], host_cidr[32], peer_cidr[32];

	snprintf(veth_ns[k], sizeof(veth_ns[k]), "sdnc%d-%d", (int)getpid(), k);
	snprintf(veth_host[k], sizeof(veth_host[k]), "sdnc%dk%da", (int)getpid() % 100000, k);
	snprintf(peer, sizeof(peer), "sdnc%dk%db", (int)getpid() % 100000, k);
	snprintf(host_cidr, sizeof(host_cidr), "10.218.%d.1/24", k);
	snprintf(peer_cidr, sizeof(peer_cidr), "10.218.%d.2/24", k);
	ip((const char *[]){"ip", "netns", "del", veth_ns[k], NULL});
	if (ip((const char *[]){"ip", "netns", "add", veth_ns[k], NULL}) ||
	    ip((const char *[]){"ip", "link", "add", veth_host[k], "type", "veth", "peer", "name", peer,
	                        NULL}) ||
	    ip((const char *[]){"ip", "link", "set", peer, "netns", veth_ns[k], NULL}) ||
	    ip((const char *[]){"ip", "addr", "add", host_cidr, "dev", veth_host[k], NULL}) ||
	    ip((const char *[]){"ip", "link", "set", veth_host[k], "up", NULL}) ||
	    ip((const char *[]){"ip", "-n", veth_ns[k], "addr", "add", peer_cidr, "dev", peer, NULL}) ||
	    ip((const char *[]){"ip", "-n", veth_ns[k], "link", "set", peer, "up", NULL}) ||
	    ip((const char *[]){"ip", "-n", veth_ns[k], "link", "set", "lo", "up", NULL})) {
		fprintf(stderr, "cannot make namespace %s with veth %s\n", veth_ns[k], veth_host[k]);
		return false;
	}
	return true;
}

/* Container k's SYN on its host-side veth (ifindex), attributed. */
static bool syn_seen(json_t *evs, const char *id, int ifindex)
{
	const char *got = NULL;
	size_t i;
	json_t *ev;

	json_array_foreach(evs, i, ev)
	{
		if (test_json_int(ev, "ifindex", -1) != ifindex || test_json_int(ev, "packet_type", -1) != 0)
			continue;
		got = test_json_str(ev, "runtime.containerName") ?: "";
		if (!strcmp(got, id) && !strcmp(test_json_str(ev, "proc.comm") ?: "", "nc"))
			return true;
	}
	if (got)
		fprintf(stderr, "tcpdump: the packets of %s are attributed to '%s'\n", id, got);
	else
		fprintf(stderr, "tcpdump: no packet of %s leaving it\n", id);
	return false;
}

static void test_veth_churn(void)
{
	static const char *const applets[] = {"nc", NULL};
	struct churn *c = calloc(1, sizeof(*c));
	const char *argv[] = {"run", "tcpdump", "-o", "json", "-v", "-c", NULL, NULL};
	int ifindex[NCHURN], lost = 0;
	struct sonde_proc p;
	size_t len = 0;
	pid_t worker;
	json_t *evs;

	REQUIRE(c);
	oci_require("runc");
	if (ip((const char *[]){"ip", "-V", NULL}) != 0)
		test_skip_dep("no ip(8) (iproute2)");
	/* where the kernel cannot load modules by itself (the test VM) */
	ip((const char *[]){"modprobe", "veth", NULL});
	ip((const char *[]){"modprobe", "sch_ingress", NULL});
	ip((const char *[]){"modprobe", "cls_bpf", NULL});
	if (oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets)) {
		test_failures++;
		goto out;
	}
	for (int k = 0; k < NCHURN; k++) {
		char port[16], addr[32], path[64];

		container_id(c->tcp_ids[k], sizeof(c->tcp_ids[k]), "veth", k);
		snprintf(port, sizeof(port), "%d", PORT_BASE + k);
		snprintf(addr, sizeof(addr), "10.218.%d.1", k);
		if (!veth_setup(k) || !(ifindex[k] = (int)if_nametoindex(veth_host[k])) ||
		    !bundle_for(c->tcp_ids[k], json_pack("[s,s,s]", "/bin/nc", addr, port), c->tcp_bundles[k],
		                sizeof(c->tcp_bundles[k])) ||
		    snprintf(path, sizeof(path), "/run/netns/%s", veth_ns[k]) < 0 ||
		    oci_bundle_set_namespace(c->tcp_bundles[k], "network", path)) {
			test_failures++;
			goto out;
		}
		len += (size_t)snprintf(c->selection + len, sizeof(c->selection) - len, "%s%s", k ? "," : "",
		                        c->tcp_ids[k]);
	}
	argv[6] = c->selection;
	if (sonde_proc_start_running(&p, argv))
		goto out;
	worker = fork();
	if (worker == 0) {
		for (int k = 0; k < NCHURN; k++)
			oci_run("runc", c->tcp_bundles[k], c->tcp_ids[k]); /* nc: refused, 1 */
		_exit(0);
	}
	CHECK_INT(drain_until_exit(&p, 1, worker, WORKER_MS), 0);
	usleep(500 * 1000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	evs = test_json_lines(p.out ? p.out : "");
	for (int k = 0; k < NCHURN; k++)
		lost += !syn_seen(evs, c->tcp_ids[k], ifindex[k]);
	printf("  tcpdump: %zu packets, %d of %d containers lost\n", json_array_size(evs), lost, NCHURN);
	if (lost) {
		fprintf(stderr, "tcpdump: %d of %d short-lived containers lost\n", lost, NCHURN);
		test_failures++;
		sonde_proc_print_errors(&p);
	}
	json_decref(evs);
	sonde_proc_free(&p);
out:
	veth_cleanup();
	test_rm_tree(workdir, WORKDIR_PREFIX);
	free(c);
}

TEST_MAIN(TEST(test_runc_netns_churn), TEST(test_crun_netns_churn), TEST(test_veth_churn))
