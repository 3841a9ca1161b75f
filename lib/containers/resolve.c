/* Events to containers: mount namespace first, network namespace as the
 * fallback (see resolve.h). */
#include <string.h>

#include "containers/resolve.h"

bool container_same_pod(const struct sonde_container *a, const struct sonde_container *b)
{
	if (*a->sandbox_id && *b->sandbox_id)
		return strcmp(a->sandbox_id, b->sandbox_id) == 0;
	return *a->k8s_pod_name && *a->k8s_namespace && strcmp(a->k8s_pod_name, b->k8s_pod_name) == 0 &&
	       strcmp(a->k8s_namespace, b->k8s_namespace) == 0;
}

struct container_match container_resolve_netns(struct sonde_containers *set, uint64_t netns)
{
	const struct sonde_container *first = NULL, *sandbox = NULL;
	struct container_match m = {0};
	size_t n = 0;
	bool one_pod = true;

	if (!netns)
		return m;
	for (size_t i = 0; i < sonde_containers_count(set); i++) {
		const struct sonde_container *c = sonde_containers_at(set, i);

		if (c->netns != netns || c->host_network)
			continue;
		if (c->k8s_sandbox) {
			if (!sandbox)
				sandbox = c;
			continue;
		}
		if (!first)
			first = c;
		else
			one_pod &= container_same_pod(first, c);
		n++;
	}
	if (n == 1) {
		m.c = first;
	} else if (n > 1 && one_pod) {
		m.c = first;
		m.pod_only = true;
	} else if (n == 0 && sandbox) {
		m.c = sandbox;
		m.pod_only = true;
	}
	return m;
}

struct container_match container_resolve(struct sonde_containers *set, uint64_t mntns, uint64_t netns,
                                         int64_t boot_ns)
{
	struct container_match m = {sonde_containers_by_mntns_at(set, mntns, boot_ns), false};

	if (m.c)
		return m;
	return container_resolve_netns(set, netns);
}
