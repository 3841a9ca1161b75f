/* Kubernetes NetworkPolicies from observed connections: the pure part of the
 * networkpolicy operator (networkpolicy.c), upstream's generate_networkpolicy
 * (pkg/operators/generate_networkpolicy).
 *
 * Connections are grouped by their local pod's namespace and labels (one
 * policy per pod selector). Each group's connections become egress rules
 * (opened by the pod) and ingress rules (opened to it), one per distinct
 * (protocol, port, peer): a known pod is a podSelector on its labels (with a
 * namespaceSelector on kubernetes.io/metadata.name when its namespace is
 * another), anything else an ipBlock of its single address (/32, /128 for
 * IPv6); loopback peers give no rule. Rules sort by protocol, port, then
 * peer; policies by name (the group's first pod name, "-network"). Labels
 * that name a revision or a node's topology rather than the workload
 * (pod-template-hash, topology.kubernetes.io/zone, ...) are left out of
 * selectors, as upstream does.
 *
 * The text is what upstream prints (sigs.k8s.io/yaml: keys sorted, empty
 * fields left out, `creationTimestamp: null`), documents joined by `---`,
 * written with libyaml's emitter. Differences: the dedup key holds the
 * protocol (upstream's drops UDP 53 when TCP 53 to the same peer was seen),
 * IPv6 peers, and the name comes from the smallest pod name of the group
 * (upstream: whichever came first, or the pod's owner). */
#ifndef SONDE_NET_NETWORKPOLICY_YAML_H
#define SONDE_NET_NETWORKPOLICY_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One observed connection, from the side of a local pod. */
struct np_conn {
	const char *namespace; /* the local pod's */
	const char *pod_name;
	const char *labels; /* its labels, "k=v,k2=v2" (k8s.podLabels) */
	bool egress;        /* the local pod opened it */
	/* the peer: a known pod when peer_namespace is not empty */
	const char *peer_namespace;
	const char *peer_labels;
	const char *peer_addr; /* "10.0.0.7", "fd00::7" */
	uint16_t port;         /* the server's */
	const char *proto;     /* "TCP", "UDP" */
};

/* The policies' YAML in *yaml (NUL-terminated, *len bytes; NULL and 0 when
 * no connection has a local pod). Caller frees. 0, -ENOMEM or -EIO (the
 * emitter failed; logged). */
int np_generate(const struct np_conn *conns, size_t n, char **yaml, size_t *len);

#endif
