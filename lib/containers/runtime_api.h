/* What containerd's two APIs say about a container, mapped onto the record:
 * its CRI plugin (pods: names, labels, IP, network mode) and its own API
 * (images). The apply functions are pure, for tests and fuzzing; the enrich
 * functions make the bounded calls (grpc_client.h) and apply the answers. */
#ifndef SONDE_CONTAINERS_RUNTIME_API_H
#define SONDE_CONTAINERS_RUNTIME_API_H

#include <sonde/containers.h>

#include "containerd_api.pb-c.h"
#include "containers/grpc_client.h"
#include "cri_runtime_v1.pb-c.h"

/* ---- cri_client.c: runtime.v1.RuntimeService ---- */
void cri_apply_container_status(const Runtime__V1__ContainerStatus *st, struct sonde_container *c);
void cri_apply_pod_status(const Runtime__V1__PodSandboxStatus *st, struct sonde_container *c);
/* ContainerStatus of c (not for sandboxes, which CRI does not list as
 * containers), then PodSandboxStatus of its sandbox. 0 if both answered. */
int cri_enrich(struct grpc_endpoint *ep, struct sonde_container *c);

/* ---- containerd_client.c: containerd.services.{containers,images}.v1 ---- */
void containerd_apply_container(const Containerd__Api__Container *ct, struct sonde_container *c);
void containerd_apply_image(const Containerd__Api__Image *im, struct sonde_container *c);
/* Fills image name and digest (and k8s names from labels) of a container of
 * namespace c->runtime_namespace. 0 when the image's digest was found. */
int containerd_enrich(struct grpc_endpoint *ep, struct sonde_container *c);

#endif
