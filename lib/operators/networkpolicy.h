/* The networkpolicy operator: upstream's GenerateNetworkPolicy (priority
 * 9200), with the peer lookup its KubeNameResolver/KubeIPResolver give it.
 *
 * Active for every Array DataSource annotated
 * `generate_networkpolicy.enable: true` (advise_networkpolicy's
 * network_connections: netns_id, endpoint, egress). The records must carry
 * the container enrichment's k8s.namespace, k8s.podName, k8s.podLabels and
 * k8s.hostnetwork (the run fails otherwise, as upstream's does). For each
 * packet (one, at stop) it resolves every peer address to a running pod of
 * the container collection (its CRI pod IP or an address of its network
 * namespace) and emits the policies of networkpolicy_yaml.h as one record of
 * DataSource `advise-<name>` (field `text`, output mode `advise`, which the
 * cli prints as is). Host-network pods and records without a pod are left
 * out; so is ingress from the pod's own addresses. */
#ifndef SONDE_OPERATORS_NETWORKPOLICY_H
#define SONDE_OPERATORS_NETWORKPOLICY_H

#include <sonde/operator.h>

extern const struct sonde_operator networkpolicy_operator;

#endif
