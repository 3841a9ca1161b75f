/* Container and pod metadata from a CRI runtime (containerd's CRI plugin,
 * CRI-O): what a pod's OCI annotations do not carry — pod labels, the pod IP,
 * whether the pod uses the host network. */
#include <errno.h>
#include <string.h>

#include "containers/internal.h"
#include "containers/runtime_api.h"

#define CRI_METHOD(m) "/runtime.v1.RuntimeService/" m

static bool set(const char *s)
{
	return s && *s;
}

/* Labels kubelet adds to every pod and container to find them again; they
 * are not the pod's labels. */
static bool kubelet_label(const char *key)
{
	return strncmp(key, "io.kubernetes.", 14) == 0;
}

void cri_apply_container_status(const Runtime__V1__ContainerStatus *st, struct sonde_container *c)
{
	const char *at;

	if (st->metadata && set(st->metadata->name)) {
		sonde_container_set_str(&c->name, st->metadata->name);
		sonde_container_set_str(&c->k8s_container_name, st->metadata->name);
	}
	if (st->image && set(st->image->image) && !*c->image_name)
		sonde_container_set_str(&c->image_name, st->image->image);
	/* image_ref is a repo digest ("name@sha256:…") when the image was pulled
	 * by name, else the image id, which is not a manifest digest */
	if (set(st->image_ref) && (at = strchr(st->image_ref, '@')) && set(at + 1))
		sonde_container_set_str(&c->image_digest, at + 1);
	for (size_t i = 0; i < st->n_labels; i++)
		container_apply_kubelet_label(c, st->labels[i]->key, st->labels[i]->value);
}

void cri_apply_pod_status(const Runtime__V1__PodSandboxStatus *st, struct sonde_container *c)
{
	const Runtime__V1__PodSandboxMetadata *md = st->metadata;

	if (md && set(md->name))
		sonde_container_set_str(&c->k8s_pod_name, md->name);
	if (md && set(md->namespace_))
		sonde_container_set_str(&c->k8s_namespace, md->namespace_);
	if (md && set(md->uid))
		sonde_container_set_str(&c->k8s_pod_uid, md->uid);
	if (set(st->id) && !*c->sandbox_id)
		sonde_container_set_str(&c->sandbox_id, st->id);
	for (size_t i = 0; i < st->n_labels; i++) {
		const char *k = st->labels[i]->key;

		if (set(k) && !kubelet_label(k))
			sonde_container_set_label(c, k, st->labels[i]->value);
	}
	/* the pod's annotations, where the container's own OCI ones do not say otherwise */
	for (size_t i = 0; i < st->n_annotations; i++) {
		const char *k = st->annotations[i]->key;

		if (set(k) && !sonde_container_annotation(c, k))
			sonde_container_set_annotation(c, k, st->annotations[i]->value);
	}
	if (st->network && set(st->network->ip))
		sonde_container_set_str(&c->pod_ip, st->network->ip);
	if (st->linux && st->linux->namespaces && st->linux->namespaces->options)
		c->host_network =
		    st->linux->namespaces->options->network == RUNTIME__V1__NAMESPACE_MODE__NODE;
}

int cri_enrich(struct grpc_endpoint *ep, struct sonde_container *c)
{
	ProtobufCMessage *resp;
	int err = 0;

	if (!c->k8s_sandbox) {
		Runtime__V1__ContainerStatusRequest req = RUNTIME__V1__CONTAINER_STATUS_REQUEST__INIT;

		req.container_id = c->id;
		err = grpc_endpoint_call(ep, CRI_METHOD("ContainerStatus"), NULL, &req.base,
		                         &runtime__v1__container_status_response__descriptor, &resp);
		if (!err) {
			const Runtime__V1__ContainerStatusResponse *r = (const void *)resp;

			if (r->status)
				cri_apply_container_status(r->status, c);
			protobuf_c_message_free_unpacked(resp, NULL);
		}
	}
	/* a sandbox asks about itself; while it is being created CRI does not
	 * know it yet (NOT_FOUND), its containers later find it */
	if (*c->sandbox_id && err != -EAGAIN && err != -ETIMEDOUT && err != -ECONNREFUSED) {
		Runtime__V1__PodSandboxStatusRequest req = RUNTIME__V1__POD_SANDBOX_STATUS_REQUEST__INIT;
		int perr;

		req.pod_sandbox_id = c->sandbox_id;
		perr = grpc_endpoint_call(ep, CRI_METHOD("PodSandboxStatus"), NULL, &req.base,
		                          &runtime__v1__pod_sandbox_status_response__descriptor, &resp);
		if (!perr) {
			const Runtime__V1__PodSandboxStatusResponse *r = (const void *)resp;

			if (r->status)
				cri_apply_pod_status(r->status, c);
			protobuf_c_message_free_unpacked(resp, NULL);
		}
		err = err ? err : perr;
	}
	return err;
}
