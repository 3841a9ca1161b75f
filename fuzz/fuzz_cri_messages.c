/* Protobuf answers of the container runtimes' gRPC services (CRI
 * ContainerStatus / PodSandboxStatus, containerd Containers.Get / Images.Get):
 * a runtime socket is trusted less than the kernel, and labels, annotations
 * and names in these answers come from whoever created the pod.
 *
 * The first byte picks the message type, the rest is its wire encoding. An
 * answer that unpacks is mapped onto a container record as the clients do
 * (runtime_api.h), then the record's label string is built. */
#include "containers/runtime_api.h"
#include "fuzz_input.h"

static void apply_container_status(const ProtobufCMessage *m, struct sonde_container *c)
{
	const Runtime__V1__ContainerStatusResponse *r = (const void *)m;

	if (r->status)
		cri_apply_container_status(r->status, c);
}

static void apply_pod_status(const ProtobufCMessage *m, struct sonde_container *c)
{
	const Runtime__V1__PodSandboxStatusResponse *r = (const void *)m;

	if (r->status)
		cri_apply_pod_status(r->status, c);
}

static void apply_container(const ProtobufCMessage *m, struct sonde_container *c)
{
	const Containerd__Api__GetContainerResponse *r = (const void *)m;

	if (r->container)
		containerd_apply_container(r->container, c);
}

static void apply_image(const ProtobufCMessage *m, struct sonde_container *c)
{
	const Containerd__Api__GetImageResponse *r = (const void *)m;

	if (r->image)
		containerd_apply_image(r->image, c);
}

static const struct {
	const ProtobufCMessageDescriptor *desc;
	void (*apply)(const ProtobufCMessage *m, struct sonde_container *c);
} answers[] = {
    {&runtime__v1__container_status_response__descriptor, apply_container_status},
    {&runtime__v1__pod_sandbox_status_response__descriptor, apply_pod_status},
    {&containerd__api__get_container_response__descriptor, apply_container},
    {&containerd__api__get_image_response__descriptor, apply_image},
};

#define NANSWERS (sizeof(answers) / sizeof(answers[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	size_t which;
	ProtobufCMessage *msg;
	struct sonde_container *c;

	fuzz_init_once();
	if (len == 0)
		return 0;
	which = data[0] % NANSWERS;
	msg = protobuf_c_message_unpack(answers[which].desc, NULL, len - 1, data + 1);
	if (!msg)
		return 0;
	c = sonde_container_new("fuzz", "containerd");
	if (c) {
		sonde_container_set_str(&c->runtime_namespace, "k8s.io");
		answers[which].apply(msg, c);
		free(sonde_container_labels_string(c));
		sonde_container_free(c);
	}
	protobuf_c_message_free_unpacked(msg, NULL);
	return 0;
}
