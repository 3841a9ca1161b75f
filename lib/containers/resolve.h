/* Which container an event belongs to, from the namespaces it carries
 * (spec §5.3, §8.4).
 *
 * The mount namespace names one container. Without a container there (a
 * process outside containers, or a gadget that only records the network
 * namespace), the network namespace may still tell: exactly one container
 * in it → that container; several, all of one pod → that pod, without
 * container-level metadata; containers sharing the host's network are never
 * picked this way, since every host process is in that netns too. Pod
 * sandboxes (pause containers) only count when nothing else is in the netns,
 * as they are the pod but no workload. */
#ifndef SONDE_CONTAINERS_RESOLVE_H
#define SONDE_CONTAINERS_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>

#include <sonde/containers.h>

struct container_match {
	const struct sonde_container *c; /* NULL: no container */
	bool pod_only;                   /* only c's pod-level metadata applies */
};

/* mntns or netns 0 = not known; boot_ns, the event's time (CLOCK_BOOTTIME),
 * 0 = not known: the newest holder of a reused mntns id. Lookups only:
 * nothing is allocated. */
struct container_match container_resolve(struct sonde_containers *set, uint64_t mntns, uint64_t netns,
                                         int64_t boot_ns);
/* The netns step alone (the mntns step being sonde_containers_by_mntns). */
struct container_match container_resolve_netns(struct sonde_containers *set, uint64_t netns);
/* Same pod: same sandbox id, else the same (non-empty) namespace and pod name. */
bool container_same_pod(const struct sonde_container *a, const struct sonde_container *b);

#endif
