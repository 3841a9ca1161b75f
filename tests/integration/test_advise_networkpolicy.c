/* advise_networkpolicy through the sonde command: two "pods" talk TCP and
 * the policies printed at stop allow exactly that.
 *
 * A pod here is one runc busybox container with CRI-O's annotations, its
 * io.kubernetes.cri-o.Labels holding the pod's name, namespace and labels
 * (CRI-O puts a pod's labels on its sandbox: sonde reads them there without
 * Kubernetes; a sandbox is never traced, so the pod here is one container
 * that carries both), each in a network
 * namespace of its own made here: np-client's is joined by a veth pair to
 * np-server's, and by another to a namespace where a plain process (not a
 * pod) listens. The client connects to the server pod on 8080 and to the
 * plain process on 9090. All names start with sdnp; everything is removed
 * at the end, also on failure.
 *
 * The output must parse as YAML (libyaml) into two NetworkPolicies:
 * np-client's with its labels as podSelector and egress rules to the server
 * pod (podSelector app=server, TCP 8080) and to the plain process (ipBlock
 * /32, TCP 9090); np-server's with an ingress rule from the client pod. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <yaml.h>

#include "oci_rootfs.h"
#include "netns.h"
#include "testlib.h"

#define PREFIX    "/tmp/sonde-it-np-"
#define NAMESPACE "sonde-np"
#define SRV_PORT  8080
#define EXT_PORT  9090

static char ns_srv[32], ns_cli[32], ns_ext[32], dir[256], id_srv[48], id_cli[48];
static char ip_srv[16], ip_cli[16], ip_ext[16], ip_cli2[16];

static void net_teardown(void)
{
	const char *const nss[] = {ns_srv, ns_cli, ns_ext};

	for (size_t i = 0; i < 3; i++)
		if (*nss[i])
			test_ip((const char *[]){"netns", "del", nss[i], NULL});
}

static bool net_setup(void)
{
	int id = (int)getpid(), sub = id % 200 + 20;
	char v1[16], v2[16], v3[16], v4[16], a1[24], a2[24], a3[24], a4[24];

	snprintf(ns_srv, sizeof(ns_srv), "sdnp-s-%d", id);
	snprintf(ns_cli, sizeof(ns_cli), "sdnp-c-%d", id);
	snprintf(ns_ext, sizeof(ns_ext), "sdnp-e-%d", id);
	snprintf(v1, sizeof(v1), "sdnpc%d", id % 100000);
	snprintf(v2, sizeof(v2), "sdnps%d", id % 100000);
	snprintf(v3, sizeof(v3), "sdnpd%d", id % 100000);
	snprintf(v4, sizeof(v4), "sdnpe%d", id % 100000);
	snprintf(ip_cli, sizeof(ip_cli), "10.215.%d.1", sub);
	snprintf(ip_srv, sizeof(ip_srv), "10.215.%d.2", sub);
	snprintf(ip_cli2, sizeof(ip_cli2), "10.216.%d.1", sub);
	snprintf(ip_ext, sizeof(ip_ext), "10.216.%d.2", sub);
	snprintf(a1, sizeof(a1), "%s/24", ip_cli);
	snprintf(a2, sizeof(a2), "%s/24", ip_srv);
	snprintf(a3, sizeof(a3), "%s/24", ip_cli2);
	snprintf(a4, sizeof(a4), "%s/24", ip_ext);
	net_teardown();
	test_run_quiet((const char *[]){"modprobe", "veth", NULL});
	const char *const steps[][TEST_IP_STEP_ARGS] = {
	    {"netns", "add", ns_srv},
	    {"netns", "add", ns_cli},
	    {"netns", "add", ns_ext},
	    {"link", "add", v1, "netns", ns_cli, "type", "veth", "peer", "name", v2, "netns", ns_srv},
	    {"link", "add", v3, "netns", ns_cli, "type", "veth", "peer", "name", v4, "netns", ns_ext},
	    {"-n", ns_cli, "addr", "add", a1, "dev", v1},
	    {"-n", ns_srv, "addr", "add", a2, "dev", v2},
	    {"-n", ns_cli, "addr", "add", a3, "dev", v3},
	    {"-n", ns_ext, "addr", "add", a4, "dev", v4},
	    {"-n", ns_cli, "link", "set", v1, "up"},
	    {"-n", ns_srv, "link", "set", v2, "up"},
	    {"-n", ns_cli, "link", "set", v3, "up"},
	    {"-n", ns_ext, "link", "set", v4, "up"},
	    {"-n", ns_cli, "link", "set", "lo", "up"},
	    {"-n", ns_srv, "link", "set", "lo", "up"},
	};
	return test_ip_steps(steps, sizeof(steps) / sizeof(steps[0])) == 0;
}

/* The plain process in ns_ext: accepts one connection, reads it to EOF, says so. */
static pid_t ext_start(int done)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(EXT_PORT)};
		char path[64], buf[64], c = 'd';
		int fd, l, s, one = 1;

		prctl(PR_SET_NAME, "sdnp_ext");
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(path, sizeof(path), "/run/netns/%s", ns_ext);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET))
			_exit(2);
		inet_pton(AF_INET, ip_ext, &a.sin_addr);
		l = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4))
			_exit(3);
		s = accept(l, NULL, NULL);
		while (s >= 0 && read(s, buf, sizeof(buf)) > 0)
			;
		_exit(write(done, &c, 1) == 1 ? 0 : 4);
	}
	return pid;
}

/* A detached runc container in network namespace netns, annotated as a
 * CRI-O container whose labels (a JSON object's members) are its pod's. */
static bool pod_start(const char *id, const char *pod, const char *netns, const char *labels,
                      const char *script)
{
	char bundle[320], rootfs[320], path[400], json[512], nspath[64];
	json_t *cfg, *nss, *ns;
	size_t i;

	snprintf(bundle, sizeof(bundle), "%s/%s", dir, pod);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
	snprintf(json, sizeof(json),
	         "{\"io.kubernetes.pod.name\":\"%s\",\"io.kubernetes.pod.namespace\":\"" NAMESPACE "\",%s}",
	         pod, labels);
	if (oci_bundle_write(bundle, rootfs, json_pack("[s,s,s]", "sh", "-c", script),
	                     json_pack("{s:s,s:s,s:s}", "io.kubernetes.cri-o.ContainerType", "container",
	                               "io.kubernetes.cri-o.Labels", json, "org.sonde.test", "1")))
		return false;
	/* its network namespace: the one made for it */
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	snprintf(nspath, sizeof(nspath), "/run/netns/%s", netns);
	cfg = json_load_file(path, 0, NULL);
	nss = json_object_get(json_object_get(cfg, "linux"), "namespaces");
	json_array_foreach(nss, i, ns)
	{
		if (!strcmp(json_string_value(json_object_get(ns, "type")) ?: "", "network"))
			json_object_set_new(ns, "path", json_string(nspath));
	}
	if (!cfg || json_dump_file(cfg, path, JSON_INDENT(1))) {
		json_decref(cfg);
		fprintf(stderr, "cannot edit %s\n", path);
		return false;
	}
	json_decref(cfg);
	return oci_run_detached("runc", bundle, id) == 0;
}

/* ---- YAML → JSON (scalars as strings), to look things up ---- */

static json_t *node_json(yaml_document_t *doc, yaml_node_t *node)
{
	json_t *out = NULL;

	if (!node)
		return json_null();
	switch (node->type) {
	case YAML_SCALAR_NODE:
		return json_stringn((const char *)node->data.scalar.value, node->data.scalar.length);
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		     it < node->data.sequence.items.top; it++)
			json_array_append_new(out, node_json(doc, yaml_document_get_node(doc, *it)));
		return out;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
		     p++) {
			yaml_node_t *k = yaml_document_get_node(doc, p->key);

			if (k && k->type == YAML_SCALAR_NODE)
				json_object_set_new(out, (const char *)k->data.scalar.value,
				                    node_json(doc, yaml_document_get_node(doc, p->value)));
		}
		return out;
	default:
		return json_null();
	}
}

/* The documents of text, NULL if it does not parse. */
static json_t *parse_yaml(const char *text)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	json_t *docs = json_array();

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	for (;;) {
		yaml_node_t *root;

		if (!yaml_parser_load(&parser, &doc)) {
			fprintf(stderr, "YAML error: %s at line %zu\n", parser.problem ? parser.problem : "?",
			        parser.problem_mark.line + 1);
			json_decref(docs);
			docs = NULL;
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (root)
			json_array_append_new(docs, node_json(&doc, root));
		yaml_document_delete(&doc);
		if (!root)
			break;
	}
	yaml_parser_delete(&parser);
	return docs;
}

/* The rule of rules (egress or ingress) for port whose peer (to/from) has
 * `peer_path` equal to value. */
static json_t *find_rule(json_t *rules, const char *port, const char *peer_key, const char *peer_path,
                         const char *value)
{
	size_t i;
	json_t *r;

	json_array_foreach(rules, i, r)
	{
		json_t *p = json_array_get(json_object_get(r, "ports"), 0);
		json_t *peer = json_array_get(json_object_get(r, peer_key), 0);
		const char *v = test_json_str(peer, peer_path);

		if (p && !strcmp(test_json_str(p, "port") ?: "", port) && v && !strcmp(v, value))
			return r;
	}
	return NULL;
}

static void test_two_pods(void)
{
	static const char *const applets[] = {"sh", "nc", "sleep", "test", NULL};
	const char *argv[] = {"run", "advise_networkpolicy", "-v", NULL};
	char client_script[512], server_script[128], go[320], cidr[32];
	struct sonde_proc p = {.pid = -1};
	json_t *docs = NULL, *cli = NULL, *srv = NULL, *d;
	int done[2] = {-1, -1};
	pid_t ext = -1;
	size_t i;
	char c;

	oci_require("runc");
	snprintf(id_srv, sizeof(id_srv), "sdnp-srv-%d", (int)getpid());
	snprintf(id_cli, sizeof(id_cli), "sdnp-cli-%d", (int)getpid());
	if (!net_setup() || oci_workdir_create(dir, sizeof(dir), PREFIX, applets) || pipe(done)) {
		test_failures++;
		goto out;
	}
	ext = ext_start(done[1]);
	snprintf(server_script, sizeof(server_script), "nc -l -p %d >/dev/null; sleep 60", SRV_PORT);
	snprintf(client_script, sizeof(client_script),
	         "while ! test -e /go; do sleep 0.1; done; echo hi | nc -w 2 %s %d; echo hi | nc -w 2 %s %d; "
	         "sleep 60",
	         ip_srv, SRV_PORT, ip_ext, EXT_PORT);
	if (!pod_start(id_srv, "np-server", ns_srv, "\"app\":\"server\",\"pod-template-hash\":\"7c9f\"",
	               server_script) ||
	    !pod_start(id_cli, "np-client", ns_cli, "\"app\":\"client\",\"tier\":\"1\"", client_script)) {
		test_failures++;
		goto out;
	}
	if (sonde_proc_start_running(&p, argv)) {
		p.pid = -1;
		test_failures++;
		goto out;
	}
	snprintf(go, sizeof(go), "%s/rootfs/go", dir);
	test_write_file_or_abort(go, "");
	/* the plain process has had its connection: the client is done */
	struct pollfd pfd = {.fd = done[0], .events = POLLIN};
	CHECK(poll(&pfd, 1, 20000) == 1 && read(done[0], &c, 1) == 1);
	usleep(300 * 1000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 15000), 0);

	docs = parse_yaml(p.out ? p.out : "");
	CHECK(docs != NULL);
	json_array_foreach(docs, i, d)
	{
		const char *name = test_json_str(d, "metadata.name");

		CHECK_STR(test_json_str(d, "kind"), "NetworkPolicy");
		CHECK_STR(test_json_str(d, "apiVersion"), "networking.k8s.io/v1");
		CHECK_STR(test_json_str(d, "metadata.namespace"), NAMESPACE);
		if (name && !strcmp(name, "np-client-network"))
			cli = d;
		else if (name && !strcmp(name, "np-server-network"))
			srv = d;
	}
	CHECK_INT(json_array_size(docs), 2);
	CHECK(cli && srv);
	if (cli && srv) {
		char port[8];
		json_t *egress = test_json_path(cli, "spec.egress"),
		       *ingress = test_json_path(srv, "spec.ingress");

		CHECK_STR(test_json_str(cli, "spec.podSelector.matchLabels.app"), "client");
		CHECK_STR(test_json_str(cli, "spec.podSelector.matchLabels.tier"), "1");
		CHECK_STR(test_json_str(srv, "spec.podSelector.matchLabels.app"), "server");
		/* pod-template-hash names a revision, not the workload */
		CHECK(test_json_path(srv, "spec.podSelector.matchLabels.pod-template-hash") == NULL);
		CHECK_INT(json_object_size(test_json_path(srv, "spec.podSelector.matchLabels")), 1);
		CHECK_INT(json_array_size(egress), 2);
		snprintf(port, sizeof(port), "%d", SRV_PORT);
		json_t *to_srv = find_rule(egress, port, "to", "podSelector.matchLabels.app", "server");
		CHECK(to_srv != NULL);
		CHECK_STR(test_json_str(json_array_get(json_object_get(to_srv, "ports"), 0), "protocol"),
		          "TCP");
		snprintf(port, sizeof(port), "%d", EXT_PORT);
		snprintf(cidr, sizeof(cidr), "%s/32", ip_ext);
		CHECK(find_rule(egress, port, "to", "ipBlock.cidr", cidr) != NULL);
		/* the server: reached from the client pod, reaches nobody */
		snprintf(port, sizeof(port), "%d", SRV_PORT);
		CHECK_INT(json_array_size(ingress), 1);
		CHECK(find_rule(ingress, port, "from", "podSelector.matchLabels.app", "client") != NULL);
		CHECK(test_json_path(srv, "spec.egress") == NULL);
		CHECK(test_json_path(cli, "spec.ingress") == NULL);
		CHECK_STR(json_string_value(json_array_get(test_json_path(cli, "spec.policyTypes"), 1)),
		          "Egress");
	}
	if (test_failures)
		fprintf(stderr, "sonde stdout:\n%s\nstderr:\n%s\n", p.out ? p.out : "", p.err ? p.err : "");
out:
	json_decref(docs);
	if (p.pid > 0)
		sonde_proc_free(&p);
	oci_delete("runc", id_cli);
	oci_delete("runc", id_srv);
	if (ext > 0) {
		kill(ext, SIGKILL);
		waitpid(ext, NULL, 0);
	}
	if (done[0] >= 0) {
		close(done[0]);
		close(done[1]);
	}
	net_teardown();
	test_rm_tree(dir, PREFIX);
}

TEST_MAIN(TEST(test_two_pods))
