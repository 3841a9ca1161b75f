/* Image names and digests from containerd's own API: containers made with
 * ctr or any containerd client carry neither in their OCI state. */
#include <errno.h>
#include <string.h>

#include "containers/internal.h"
#include "containers/runtime_api.h"

#define CONTAINERS_GET "/containerd.services.containers.v1.Containers/Get"
#define IMAGES_GET     "/containerd.services.images.v1.Images/Get"

void containerd_apply_container(const Containerd__Api__Container *ct, struct sonde_container *c)
{
	if (ct->image && *ct->image && !*c->image_name)
		sonde_container_set_str(&c->image_name, ct->image);
	/* containers of containerd's CRI plugin: kubelet's labels name the pod */
	for (size_t i = 0; i < ct->n_labels; i++)
		container_apply_kubelet_label(c, ct->labels[i]->key, ct->labels[i]->value);
}

void containerd_apply_image(const Containerd__Api__Image *im, struct sonde_container *c)
{
	if (im->target && im->target->digest && *im->target->digest)
		sonde_container_set_str(&c->image_digest, im->target->digest);
}

int containerd_enrich(struct grpc_endpoint *ep, struct sonde_container *c)
{
	const char *md[] = {"containerd-namespace", c->runtime_namespace, NULL};
	ProtobufCMessage *resp;
	int err;

	if (!*c->runtime_namespace)
		return -EINVAL;
	if (!*c->image_name) {
		Containerd__Api__GetContainerRequest req = CONTAINERD__API__GET_CONTAINER_REQUEST__INIT;

		req.id = c->id;
		err = grpc_endpoint_call(ep, CONTAINERS_GET, md, &req.base,
		                         &containerd__api__get_container_response__descriptor, &resp);
		if (err)
			return err;
		if (((Containerd__Api__GetContainerResponse *)resp)->container)
			containerd_apply_container(((Containerd__Api__GetContainerResponse *)resp)->container,
			                           c);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	if (!*c->image_name || *c->image_digest)
		return *c->image_digest ? 0 : -ENOENT;
	{
		Containerd__Api__GetImageRequest req = CONTAINERD__API__GET_IMAGE_REQUEST__INIT;

		req.name = c->image_name;
		err = grpc_endpoint_call(ep, IMAGES_GET, md, &req.base,
		                         &containerd__api__get_image_response__descriptor, &resp);
		if (err)
			return err;
		if (((Containerd__Api__GetImageResponse *)resp)->image)
			containerd_apply_image(((Containerd__Api__GetImageResponse *)resp)->image, c);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	return *c->image_digest ? 0 : -ENOENT;
}
