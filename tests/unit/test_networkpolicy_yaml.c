/* The NetworkPolicy generator (lib/net/networkpolicy_yaml.c) on
 * hand-made connection lists: grouping, dedup, sorting, peers as pods,
 * other namespaces and ipBlocks, and the exact text upstream prints. */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "net/networkpolicy_yaml.h"
#include "testlib.h"

#define WEB_LABELS    "app=web,pod-template-hash=5d4f8,tier=front"
#define DB_LABELS     "app=db"
#define KDNS_LABELS   "k8s-app=kube-dns,kubernetes.io/cluster-service=true"
#define CLIENT_LABELS "run=client"

static const struct np_conn conns[] = {
    /* web -> db:5432, twice (two connections, or both replicas) */
    {"shop", "web-1", WEB_LABELS, true, "shop", DB_LABELS, "10.1.0.9", 5432, "TCP"},
    {"shop", "web-2", WEB_LABELS, true, "shop", DB_LABELS, "10.1.0.9", 5432, "TCP"},
    /* web -> kube-dns, UDP and TCP 53: two rules */
    {"shop", "web-1", WEB_LABELS, true, "kube-system", KDNS_LABELS, "10.96.0.10", 53, "UDP"},
    {"shop", "web-1", WEB_LABELS, true, "kube-system", KDNS_LABELS, "10.96.0.10", 53, "TCP"},
    /* web -> the outside and to itself over loopback (no rule) */
    {"shop", "web-2", WEB_LABELS, true, NULL, NULL, "1.1.1.1", 443, "TCP"},
    {"shop", "web-1", WEB_LABELS, true, "", "", "2606:4700::1111", 443, "TCP"},
    {"shop", "web-1", WEB_LABELS, true, NULL, NULL, "127.0.0.1", 8080, "TCP"},
    /* web <- a client pod and <- a host */
    {"shop", "web-2", WEB_LABELS, false, "shop", CLIENT_LABELS, "10.1.0.4", 8080, "TCP"},
    {"shop", "web-1", WEB_LABELS, false, NULL, NULL, "192.168.1.20", 8080, "TCP"},
    /* db <- web */
    {"shop", "db-0", DB_LABELS, false, "shop", WEB_LABELS, "10.1.0.7", 5432, "TCP"},
    /* not a pod: left out */
    {"", "", "", true, NULL, NULL, "8.8.8.8", 53, "UDP"},
};

static const char expected[] = "apiVersion: networking.k8s.io/v1\n"
                               "kind: NetworkPolicy\n"
                               "metadata:\n"
                               "  creationTimestamp: null\n"
                               "  name: db-0-network\n"
                               "  namespace: shop\n"
                               "spec:\n"
                               "  ingress:\n"
                               "  - from:\n"
                               "    - podSelector:\n"
                               "        matchLabels:\n"
                               "          app: web\n"
                               "          tier: front\n"
                               "    ports:\n"
                               "    - port: 5432\n"
                               "      protocol: TCP\n"
                               "  podSelector:\n"
                               "    matchLabels:\n"
                               "      app: db\n"
                               "  policyTypes:\n"
                               "  - Ingress\n"
                               "  - Egress\n"
                               "---\n"
                               "apiVersion: networking.k8s.io/v1\n"
                               "kind: NetworkPolicy\n"
                               "metadata:\n"
                               "  creationTimestamp: null\n"
                               "  name: web-1-network\n"
                               "  namespace: shop\n"
                               "spec:\n"
                               "  egress:\n"
                               "  - ports:\n"
                               "    - port: 53\n"
                               "      protocol: TCP\n"
                               "    to:\n"
                               "    - namespaceSelector:\n"
                               "        matchLabels:\n"
                               "          kubernetes.io/metadata.name: kube-system\n"
                               "      podSelector:\n"
                               "        matchLabels:\n"
                               "          k8s-app: kube-dns\n"
                               "          kubernetes.io/cluster-service: \"true\"\n"
                               "  - ports:\n"
                               "    - port: 443\n"
                               "      protocol: TCP\n"
                               "    to:\n"
                               "    - ipBlock:\n"
                               "        cidr: 1.1.1.1/32\n"
                               "  - ports:\n"
                               "    - port: 443\n"
                               "      protocol: TCP\n"
                               "    to:\n"
                               "    - ipBlock:\n"
                               "        cidr: 2606:4700::1111/128\n"
                               "  - ports:\n"
                               "    - port: 5432\n"
                               "      protocol: TCP\n"
                               "    to:\n"
                               "    - podSelector:\n"
                               "        matchLabels:\n"
                               "          app: db\n"
                               "  - ports:\n"
                               "    - port: 53\n"
                               "      protocol: UDP\n"
                               "    to:\n"
                               "    - namespaceSelector:\n"
                               "        matchLabels:\n"
                               "          kubernetes.io/metadata.name: kube-system\n"
                               "      podSelector:\n"
                               "        matchLabels:\n"
                               "          k8s-app: kube-dns\n"
                               "          kubernetes.io/cluster-service: \"true\"\n"
                               "  ingress:\n"
                               "  - from:\n"
                               "    - ipBlock:\n"
                               "        cidr: 192.168.1.20/32\n"
                               "    ports:\n"
                               "    - port: 8080\n"
                               "      protocol: TCP\n"
                               "  - from:\n"
                               "    - podSelector:\n"
                               "        matchLabels:\n"
                               "          run: client\n"
                               "    ports:\n"
                               "    - port: 8080\n"
                               "      protocol: TCP\n"
                               "  podSelector:\n"
                               "    matchLabels:\n"
                               "      app: web\n"
                               "      tier: front\n"
                               "  policyTypes:\n"
                               "  - Ingress\n"
                               "  - Egress\n";

/* Whether text is a YAML stream of `docs` documents (libyaml's parser). */
static bool parses(const char *text, int docs)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int n = 0;
	bool ok = true;

	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	for (;;) {
		if (!yaml_parser_load(&parser, &doc)) {
			ok = false;
			break;
		}
		if (!yaml_document_get_root_node(&doc)) {
			yaml_document_delete(&doc);
			break;
		}
		n++;
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	return ok && n == docs;
}

static void test_policies(void)
{
	size_t n = sizeof(conns) / sizeof(conns[0]), len;
	char *yaml;

	CHECK_INT(np_generate(conns, n, &yaml, &len), 0);
	REQUIRE(yaml);
	CHECK_STR(yaml, expected);
	CHECK_INT(len, strlen(expected));
	CHECK(parses(yaml, 2));
	free(yaml);
}

/* The same connections in reverse order: the same text. */
static void test_order_independent(void)
{
	size_t n = sizeof(conns) / sizeof(conns[0]), len;
	struct np_conn rev[sizeof(conns) / sizeof(conns[0])];
	char *yaml;

	for (size_t i = 0; i < n; i++)
		rev[i] = conns[n - 1 - i];
	CHECK_INT(np_generate(rev, n, &yaml, &len), 0);
	REQUIRE(yaml);
	CHECK_STR(yaml, expected);
	free(yaml);
}

/* Nothing that is a pod: no text. A pod with only loopback traffic: a
 * policy with no rules, and a pod without labels selects with {}. */
static void test_edges(void)
{
	const struct np_conn none[] = {{"", "", "", true, NULL, NULL, "8.8.8.8", 53, "UDP"}};
	const struct np_conn lonely[] = {
	    {"default", "solo", "", true, NULL, NULL, "127.0.0.1", 80, "TCP"},
	    {"default", "solo", "", false, "default", "a=1,b", "10.0.0.3", 80, "TCP"},
	};
	char *yaml;
	size_t len;

	CHECK_INT(np_generate(none, 1, &yaml, &len), 0);
	CHECK(yaml == NULL);
	CHECK_INT(len, 0);
	CHECK_INT(np_generate(NULL, 0, &yaml, &len), 0);
	CHECK(yaml == NULL);

	CHECK_INT(np_generate(lonely, 2, &yaml, &len), 0);
	REQUIRE(yaml);
	/* label values that read as numbers are quoted; "b" without a value is skipped */
	CHECK_STR(yaml, "apiVersion: networking.k8s.io/v1\n"
	                "kind: NetworkPolicy\n"
	                "metadata:\n"
	                "  creationTimestamp: null\n"
	                "  name: solo-network\n"
	                "  namespace: default\n"
	                "spec:\n"
	                "  ingress:\n"
	                "  - from:\n"
	                "    - podSelector:\n"
	                "        matchLabels:\n"
	                "          a: \"1\"\n"
	                "    ports:\n"
	                "    - port: 80\n"
	                "      protocol: TCP\n"
	                "  podSelector: {}\n"
	                "  policyTypes:\n"
	                "  - Ingress\n"
	                "  - Egress\n");
	CHECK(parses(yaml, 1));
	free(yaml);
}

TEST_MAIN(TEST(test_policies), TEST(test_order_independent), TEST(test_edges))
