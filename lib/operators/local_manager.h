/* The LocalManager operator: containers on this host (spec §5.2, §5.3, §8).
 *
 * Data operator "LocalManager", priority -1. Active when a DataSource has a
 * `type:gadget_mntns_id` or `type:gadget_netns_id` field: it adds `runtime.*`
 * (and hidden `k8s.*`) fields to every such DataSource and fills them per
 * record from the container collection (mntns lookup, then the netns
 * fallback of containers/resolve.h; skipped when no sink wants them).
 *
 * Instance params (operator.LocalManager.*), the container selector
 * (container_selector.h):
 *   containername / -c   only these containers (alternative key
 *                        runtime-containername)
 *   k8s-namespace, k8s-podname, k8s-containername   only these pods/containers
 *   k8s-selector         only pods with these labels (key=value,key!=value)
 *   host                 also trace processes that are not in containers
 * Without --host, or with any selector, it turns on the gadget's mount
 * namespace filter (sonde/mntns_filter.h) and keeps it holding the selected
 * containers' mount namespaces (pod sandboxes never included) as containers
 * come, change and go: other processes' events never leave the kernel. Bad
 * selector input fails in pre-start, before the gadget is loaded.
 *
 * The containers come from the process-wide container service
 * (sonde/containers.h), shared with every other run: each run subscribes
 * with its own selector, filter and labels, and is called on the service's
 * watcher thread. */
#ifndef SONDE_OPERATORS_LOCAL_MANAGER_H
#define SONDE_OPERATORS_LOCAL_MANAGER_H

#include <sonde/operator.h>

extern const struct sonde_operator local_manager_operator;

#endif
