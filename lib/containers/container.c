/* The container record: owned strings, OCI annotations and what they tell
 * about names and Kubernetes (spec §8.3 step 1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/containers.h>

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

struct sonde_container *sonde_container_new(const char *id, const char *runtime)
{
	struct sonde_container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->id = dup_or_empty(id);
	c->name = dup_or_empty(id);
	c->runtime = dup_or_empty(runtime);
	c->cgroup_path = dup_or_empty(NULL);
	c->bundle = dup_or_empty(NULL);
	c->image_name = dup_or_empty(NULL);
	c->image_digest = dup_or_empty(NULL);
	c->k8s_namespace = dup_or_empty(NULL);
	c->k8s_pod_name = dup_or_empty(NULL);
	c->k8s_container_name = dup_or_empty(NULL);
	c->k8s_pod_uid = dup_or_empty(NULL);
	if (!c->id || !c->name || !c->runtime || !c->cgroup_path || !c->bundle || !c->image_name ||
	    !c->image_digest || !c->k8s_namespace || !c->k8s_pod_name || !c->k8s_container_name ||
	    !c->k8s_pod_uid) {
		sonde_container_free(c);
		return NULL;
	}
	return c;
}

void sonde_container_free(struct sonde_container *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nannotations; i++) {
		free(c->ann_keys[i]);
		free(c->ann_values[i]);
	}
	free(c->ann_keys);
	free(c->ann_values);
	free(c->id);
	free(c->name);
	free(c->runtime);
	free(c->cgroup_path);
	free(c->bundle);
	free(c->image_name);
	free(c->image_digest);
	free(c->k8s_namespace);
	free(c->k8s_pod_name);
	free(c->k8s_container_name);
	free(c->k8s_pod_uid);
	free(c);
}

const char *sonde_container_annotation(const struct sonde_container *c, const char *key)
{
	for (size_t i = 0; i < c->nannotations; i++)
		if (strcmp(c->ann_keys[i], key) == 0)
			return c->ann_values[i];
	return NULL;
}

int sonde_container_set_annotation(struct sonde_container *c, const char *key, const char *value)
{
	char **keys, **values;

	for (size_t i = 0; i < c->nannotations; i++)
		if (strcmp(c->ann_keys[i], key) == 0)
			return sonde_container_set_str(&c->ann_values[i], value);
	keys = realloc(c->ann_keys, (c->nannotations + 1) * sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	c->ann_keys = keys;
	values = realloc(c->ann_values, (c->nannotations + 1) * sizeof(*values));
	if (!values)
		return -ENOMEM;
	c->ann_values = values;
	keys[c->nannotations] = strdup(key);
	values[c->nannotations] = dup_or_empty(value);
	if (!keys[c->nannotations] || !values[c->nannotations]) {
		free(keys[c->nannotations]);
		free(values[c->nannotations]);
		return -ENOMEM;
	}
	c->nannotations++;
	return 0;
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
	const char *manager = sonde_container_annotation(c, "io.container.manager");

	if (manager && strcmp(manager, "libpod") == 0)
		sonde_container_set_str(&c->runtime, "podman");
	else if (manager && strcmp(manager, "cri-o") == 0)
		sonde_container_set_str(&c->runtime, "cri-o");
	c->k8s_sandbox = type && strcmp(type, "sandbox") == 0;
	/* CRI sandboxes without a container name are named after their pod */
	if (!name && c->k8s_sandbox && pod)
		sonde_container_set_str(&c->name, pod);
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
