/* The LocalManager operator: containers on this host (spec §5.2, §5.3, §8).
 *
 * Data operator "LocalManager", priority -1. Active when a DataSource has a
 * `type:gadget_mntns_id` field: it adds `runtime.*` (and hidden `k8s.*`)
 * fields to every such DataSource and fills them per record from the
 * container collection (mntns lookup; skipped when no sink wants them).
 *
 * Instance params (operator.LocalManager.*):
 *   containername / -c  only these containers (comma-separated names)
 *   host                also trace processes that are not in containers
 * Without --host (or with -c) it replaces the gadget's
 * `gadget_mntns_filter_map` by its own map of the selected containers' mount
 * namespaces, kept in sync as containers come and go, and sets
 * `gadget_filter_by_mntns`: other processes' events never leave the kernel. */
#ifndef SONDE_OPERATORS_LOCAL_MANAGER_H
#define SONDE_OPERATORS_LOCAL_MANAGER_H

#include <sonde/operator.h>

extern const struct sonde_operator sonde_local_manager_operator;

#endif
