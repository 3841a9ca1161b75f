/* What completes a container beyond its OCI state, by runtime: podman's
 * storage files (its OCI config has no name), containerd's own API and its
 * CRI plugin (one socket for both). runc and crun have nothing more to say. */
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "containers/internal.h"
#include "containers/runtime_api.h"

#define DEFAULT_CONTAINERD_SOCKET "/run/containerd/containerd.sock"

struct runtime_clients {
	struct grpc_endpoint *containerd;
};

struct runtime_clients *runtime_clients_new(const struct runtime_clients_opts *opts)
{
	struct runtime_clients *rc = calloc(1, sizeof(*rc));
	struct grpc_endpoint_opts eo = {.sz = sizeof(eo)};
	const char *sock = DEFAULT_CONTAINERD_SOCKET;

	if (!rc)
		return NULL;
	if (opts && opts->sz >= sizeof(*opts)) {
		sock = opts->containerd_socket && *opts->containerd_socket ? opts->containerd_socket : sock;
		eo.timeout_ms = opts->timeout_ms;
	}
	rc->containerd = grpc_endpoint_new(sock, "containerd", &eo);
	if (!rc->containerd) {
		free(rc);
		return NULL;
	}
	return rc;
}

void runtime_clients_free(struct runtime_clients *rc)
{
	if (!rc)
		return;
	grpc_endpoint_free(rc->containerd);
	free(rc);
}

void runtime_clients_enrich(struct runtime_clients *rc, struct sonde_container *c)
{
	int err;

	if (strcmp(c->runtime, "podman") == 0)
		podman_enrich(c);
	if (!rc || strcmp(c->runtime, "containerd") != 0)
		return;
	/* containers of the CRI plugin say so in their OCI annotations */
	if (sonde_container_annotation(c, "io.kubernetes.cri.container-type")) {
		err = cri_enrich(rc->containerd, c);
		if (err)
			sonde_debug("containers: %s: CRI status incomplete: %s", c->id, strerror(-err));
	}
	if (!c->k8s_sandbox && (!*c->image_name || !*c->image_digest)) {
		err = containerd_enrich(rc->containerd, c);
		if (err)
			sonde_debug("containers: %s: no image from containerd: %s", c->id, strerror(-err));
	}
}
