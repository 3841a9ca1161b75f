/* The container record: owned strings, OCI annotations and what they tell
 * about names and Kubernetes (spec §8.3 step 1). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <sonde/containers.h>

#include "containers/internal.h"

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

int sonde_container_set_str(char **member, const char *s)
{
	char *copy = dup_or_empty(s);

	if (!copy)
		return -ENOMEM;
	free(*member);
	*member = copy;
	return 0;
}

/* Every string member, so that new/free cannot forget one. */
#define STRING_MEMBERS(c)                                                                                    \
	(&(c)->id), (&(c)->name), (&(c)->runtime), (&(c)->runtime_namespace), (&(c)->cgroup_path),           \
	    (&(c)->bundle), (&(c)->image_name), (&(c)->image_digest), (&(c)->k8s_namespace),                 \
	    (&(c)->k8s_pod_name), (&(c)->k8s_container_name), (&(c)->k8s_pod_uid), (&(c)->sandbox_id),       \
	    (&(c)->pod_ip)

static void kv_free(size_t n, char **keys, char **values)
{
	for (size_t i = 0; i < n; i++) {
		free(keys[i]);
		free(values[i]);
	}
	free(keys);
	free(values);
}

struct sonde_container *sonde_container_new(const char *id, const char *runtime)
{
	struct sonde_container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	char **members[] = {STRING_MEMBERS(c)};
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		if (!(*members[i] = dup_or_empty(NULL))) {
			sonde_container_free(c);
			return NULL;
		}
	}
	if (sonde_container_set_str(&c->id, id) || sonde_container_set_str(&c->name, id) ||
	    sonde_container_set_str(&c->runtime, runtime)) {
		sonde_container_free(c);
		return NULL;
	}
	return c;
}

void sonde_container_free(struct sonde_container *c)
{
	if (!c)
		return;
	char **members[] = {STRING_MEMBERS(c)};
	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		free(*members[i]);
	kv_free(c->nannotations, c->ann_keys, c->ann_values);
	kv_free(c->nlabels, c->label_keys, c->label_values);
	free(c);
}

static const char *kv_get(size_t n, char *const *keys, char *const *values, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return values[i];
	return NULL;
}

static int kv_set(size_t *n, char ***keysp, char ***valuesp, const char *key, const char *value)
{
	char **keys, **values;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*keysp)[i], key) == 0)
			return sonde_container_set_str(&(*valuesp)[i], value);
	/* exact sizes, no implied capacity: these arrays are public members of
	 * struct sonde_container, which a caller may have allocated itself */
	keys = realloc(*keysp, (*n + 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	*keysp = keys;
	values = realloc(*valuesp, (*n + 1) * sizeof(*values));
	if (!values)
		return -ENOMEM;
	*valuesp = values;
	keys[*n] = strdup(key);
	values[*n] = dup_or_empty(value);
	if (!keys[*n] || !values[*n]) {
		free(keys[*n]);
		free(values[*n]);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

const char *sonde_container_annotation(const struct sonde_container *c, const char *key)
{
	return kv_get(c->nannotations, c->ann_keys, c->ann_values, key);
}

int sonde_container_set_annotation(struct sonde_container *c, const char *key, const char *value)
{
	return kv_set(&c->nannotations, &c->ann_keys, &c->ann_values, key, value);
}

const char *sonde_container_label(const struct sonde_container *c, const char *key)
{
	return kv_get(c->nlabels, c->label_keys, c->label_values, key);
}

int sonde_container_set_label(struct sonde_container *c, const char *key, const char *value)
{
	return kv_set(&c->nlabels, &c->label_keys, &c->label_values, key, value);
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(**(char *const *const *)a, **(char *const *const *)b);
}

char *sonde_container_labels_string(const struct sonde_container *c)
{
	size_t len = 1;
	char ***order, *out, *p;

	for (size_t i = 0; i < c->nlabels; i++)
		len += strlen(c->label_keys[i]) + strlen(c->label_values[i]) + 2;
	out = malloc(len);
	order = malloc((c->nlabels ? c->nlabels : 1) * sizeof(*order));
	if (!out || !order) {
		free(out);
		free(order);
		return NULL;
	}
	/* sort indices through pointers to the keys */
	for (size_t i = 0; i < c->nlabels; i++)
		order[i] = &c->label_keys[i];
	qsort(order, c->nlabels, sizeof(*order), cmp_str_ptr);
	p = out;
	*p = 0;
	for (size_t k = 0; k < c->nlabels; k++) {
		size_t i = (size_t)(order[k] - c->label_keys);

		p += sprintf(p, "%s%s=%s", k ? "," : "", c->label_keys[i], c->label_values[i]);
	}
	free(order);
	return out;
}

/* The first of `keys` that is annotated with a non-empty value. */
static const char *first_of(const struct sonde_container *c, const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++) {
		const char *v = sonde_container_annotation(c, keys[i]);
		if (v && *v)
			return v;
	}
	return NULL;
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

/* CRI-O writes the CRI labels of a sandbox (the pod's labels, with kubelet's
 * io.kubernetes.* ones) and of a container (kubelet's only) as one JSON object
 * into its OCI annotations: pod labels known without asking CRI. */
static void apply_crio_labels(struct sonde_container *c)
{
	const char *text = sonde_container_annotation(c, "io.kubernetes.cri-o.Labels");
	const char *key;
	json_t *labels, *v;

	if (!text || !(labels = json_loads(text, 0, NULL)))
		return;
	json_object_foreach(labels, key, v)
	{
		if (!json_is_string(v))
			continue;
		if (strncmp(key, "io.kubernetes.", 14) == 0)
			container_apply_kubelet_label(c, key, json_string_value(v));
		else if (!sonde_container_label(c, key))
			sonde_container_set_label(c, key, json_string_value(v));
	}
	json_decref(labels);
}

void sonde_container_apply_annotations(struct sonde_container *c)
{
	/* containerd's CRI plugin, then CRI-O (io.kubernetes.*) */
	const char *name =
	    first_of(c, KEYS("io.kubernetes.cri.container-name", "io.kubernetes.container.name"));
	const char *ns =
	    first_of(c, KEYS("io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace"));
	const char *pod = first_of(c, KEYS("io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"));
	const char *uid = first_of(c, KEYS("io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid"));
	const char *image =
	    first_of(c, KEYS("io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName"));
	const char *type =
	    first_of(c, KEYS("io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"));
	const char *sandbox =
	    first_of(c, KEYS("io.kubernetes.cri.sandbox-id", "io.kubernetes.cri-o.SandboxID"));

	if (name) {
		sonde_container_set_str(&c->name, name);
		sonde_container_set_str(&c->k8s_container_name, name);
	}
	if (ns)
		sonde_container_set_str(&c->k8s_namespace, ns);
	if (pod)
		sonde_container_set_str(&c->k8s_pod_name, pod);
	if (uid)
		sonde_container_set_str(&c->k8s_pod_uid, uid);
	if (image)
		sonde_container_set_str(&c->image_name, image);
	if (sandbox)
		sonde_container_set_str(&c->sandbox_id, sandbox);
	const char *manager = sonde_container_annotation(c, "io.container.manager");

	if (manager && strcmp(manager, "libpod") == 0)
		sonde_container_set_str(&c->runtime, "podman");
	else if (manager && strcmp(manager, "cri-o") == 0)
		sonde_container_set_str(&c->runtime, "cri-o");
	c->k8s_sandbox = type && strcmp(type, "sandbox") == 0;
	/* CRI sandboxes without a container name are named after their pod */
	if (!name && c->k8s_sandbox && pod)
		sonde_container_set_str(&c->name, pod);
	apply_crio_labels(c);
}

void container_apply_kubelet_label(struct sonde_container *c, const char *key, const char *value)
{
	char **member = NULL;

	if (!key || !value || !*value)
		return;
	if (!strcmp(key, "io.kubernetes.pod.name"))
		member = &c->k8s_pod_name;
	else if (!strcmp(key, "io.kubernetes.pod.namespace"))
		member = &c->k8s_namespace;
	else if (!strcmp(key, "io.kubernetes.pod.uid"))
		member = &c->k8s_pod_uid;
	else if (!strcmp(key, "io.kubernetes.container.name"))
		member = &c->k8s_container_name;
	if (member && !**member)
		sonde_container_set_str(member, value);
}

bool sonde_container_id_valid(const char *id)
{
	if (!id || !*id || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (const char *p = id; *p; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '+' || ch == '.' || ch == '-'))
			return false;
	}
	return true;
}
