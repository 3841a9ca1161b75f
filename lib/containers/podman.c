/* Names and images of podman containers, from podman's storage files
 * (containers/storage), with no dependency on the podman REST service.
 *
 * podman's OCI config only says `io.container.manager=libpod`: the name is in
 * c/storage's container store, <graphroot>/<driver>-containers/containers.json
 * (as written by podman 4.3):
 *   [{"id": ..., "names": ["NAME"], "image": "IMAGE-ID",
 *     "metadata": "{\"image-name\":\"localhost/x:latest\",\"name\":\"NAME\",...}"}]
 * and the image's digest in <graphroot>/<driver>-images/images.json:
 *   [{"id": "IMAGE-ID", "digest": "sha256:...", "names": ["localhost/x:latest"]}].
 * The bundle podman hands to the runtime is <graphroot>/<driver>-containers/<id>/userdata,
 * so the store is found next to it, whatever the graphroot. Podman writes both
 * files (atomically) before it starts the runtime, so they name a container as
 * soon as the runtime's state exists. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <sonde/log.h>

#include "containers/internal.h"
#include "util/file.h"

#define MAX_STORE_BYTES        (64u << 20)
#define DEFAULT_CONTAINERS_DIR "/var/lib/containers/storage/overlay-containers"
/* runroot: where a transient store (podman --transient-store) keeps containers.json */
#define DEFAULT_RUNROOT "/run/containers/storage"

void podman_meta_clear(struct podman_meta *m)
{
	free(m->name);
	free(m->image_name);
	free(m->image_id);
	free(m->image_digest);
	memset(m, 0, sizeof(*m));
}

static json_t *load_array(const char *text, size_t len)
{
	json_error_t jerr;
	json_t *root;

	if (!text || !len)
		return NULL;
	root = json_loadb(text, len, 0, &jerr);
	if (root && !json_is_array(root)) {
		json_decref(root);
		return NULL;
	}
	return root;
}

static const char *get_str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

static const char *first_name(json_t *obj)
{
	json_t *names = json_object_get(obj, "names"), *v = json_array_get(names, 0);

	return json_is_string(v) && *json_string_value(v) ? json_string_value(v) : NULL;
}

/* Replaces *dst with a copy of s when s is set and *dst is not. */
static int take(char **dst, const char *s)
{
	if (*dst || !s)
		return 0;
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

int podman_containers_json_find(const char *text, size_t len, const char *id, struct podman_meta *m)
{
	json_t *root = load_array(text, len), *e;
	size_t i;
	int err = -ENOENT;

	if (!root)
		return -EINVAL;
	json_array_foreach(root, i, e)
	{
		const char *eid = get_str(e, "id"), *md;
		json_t *meta = NULL;

		if (!json_is_object(e) || !eid || strcmp(eid, id) != 0)
			continue;
		/* metadata is itself JSON, in a string; a bad one only loses the image name */
		if ((md = get_str(e, "metadata")))
			meta = json_loads(md, 0, NULL);
		err = take(&m->name, first_name(e));
		if (!err)
			err = take(&m->name, json_is_object(meta) ? get_str(meta, "name") : NULL);
		if (!err)
			err = take(&m->image_id, get_str(e, "image"));
		if (!err)
			err = take(&m->image_id, json_is_object(meta) ? get_str(meta, "image-id") : NULL);
		if (!err)
			err = take(&m->image_name, json_is_object(meta) ? get_str(meta, "image-name") : NULL);
		json_decref(meta);
		break;
	}
	json_decref(root);
	return err;
}

int podman_images_json_find(const char *text, size_t len, const char *image_id, struct podman_meta *m)
{
	json_t *root = load_array(text, len), *e;
	size_t i;
	int err = -ENOENT;

	if (!root)
		return -EINVAL;
	json_array_foreach(root, i, e)
	{
		const char *eid = get_str(e, "id");

		if (!json_is_object(e) || !eid || strcmp(eid, image_id) != 0)
			continue;
		err = take(&m->image_digest, get_str(e, "digest"));
		if (!err)
			err = take(&m->image_name, first_name(e));
		break;
	}
	json_decref(root);
	return err;
}

/* <…>/<driver>-containers from a bundle <…>/<driver>-containers/<id>/userdata; 0 if it is one. */
static int containers_dir_of(const char *bundle, const char *id, char *dir, size_t dirlen)
{
	size_t n = strlen(bundle), idlen = strlen(id);
	static const char userdata[] = "/userdata";
	const char *base;

	while (n > 1 && bundle[n - 1] == '/')
		n--;
	if (n < sizeof(userdata) - 1 ||
	    memcmp(bundle + n - (sizeof(userdata) - 1), userdata, sizeof(userdata) - 1))
		return -EINVAL;
	n -= sizeof(userdata) - 1;
	if (n < idlen + 1 || memcmp(bundle + n - idlen, id, idlen) || bundle[n - idlen - 1] != '/')
		return -EINVAL;
	n -= idlen + 1;
	if (n == 0 || n >= dirlen)
		return -EINVAL;
	memcpy(dir, bundle, n);
	dir[n] = 0;
	base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	n = strlen(base);
	if (n <= strlen("-containers") || strcmp(base + n - strlen("-containers"), "-containers"))
		return -EINVAL;
	return 0;
}

static int find_in_file(const char *path, const char *key, struct podman_meta *m,
                        int (*find)(const char *, size_t, const char *, struct podman_meta *))
{
	char *text;
	size_t len;
	int err = util_read_file(path, MAX_STORE_BYTES, &text, &len);

	if (err)
		return err;
	err = find(text, len, key, m);
	free(text);
	if (err == -EINVAL)
		sonde_debug("containers: %s: not a containers/storage store; skipped", path);
	return err;
}

/* The container's entry in <dir>/containers.json, else <dir>/volatile-containers.json. */
static int find_container(const char *dir, const char *id, struct podman_meta *m)
{
	static const char *const stores[] = {"containers.json", "volatile-containers.json"};
	char path[PATH_MAX + 32];
	int err = -ENOENT;

	for (size_t i = 0; i < 2 && err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, stores[i]);
		err = find_in_file(path, id, m, podman_containers_json_find);
	}
	return err;
}

int podman_lookup(const char *bundle, const char *id, struct podman_meta *m)
{
	char dir[PATH_MAX], rundir[PATH_MAX], path[PATH_MAX + 32];
	const char *driver_end, *base;
	int err;

	if (!bundle || containers_dir_of(bundle, id, dir, sizeof(dir)))
		snprintf(dir, sizeof(dir), "%s", DEFAULT_CONTAINERS_DIR);
	base = strrchr(dir, '/');
	base = base ? base + 1 : dir;
	driver_end = base + strlen(base) - strlen("-containers");
	err = find_container(dir, id, m);
	if (err) {
		snprintf(rundir, sizeof(rundir), "%s/%.*s-containers", DEFAULT_RUNROOT,
		         (int)(driver_end - base), base);
		err = find_container(rundir, id, m);
	}
	if (err)
		return err;
	if (m->image_id) {
		/* <driver>-images sits next to <driver>-containers */
		snprintf(path, sizeof(path), "%.*s-images/images.json", (int)(driver_end - dir), dir);
		if (find_in_file(path, m->image_id, m, podman_images_json_find) == -ENOMEM)
			return -ENOMEM;
	}
	return 0;
}

void podman_enrich(struct sonde_container *c)
{
	struct podman_meta m = {0};
	int err = podman_lookup(c->bundle, c->id, &m);

	if (err) {
		/* a container of another podman store (rootless, custom graphroot): keep the id as name */
		sonde_debug("containers: podman container %.12s: no storage entry (%s)", c->id,
		            strerror(-err));
		podman_meta_clear(&m);
		return;
	}
	if (m.name)
		sonde_container_set_str(&c->name, m.name);
	if (m.image_name && !*c->image_name)
		sonde_container_set_str(&c->image_name, m.image_name);
	if (m.image_digest && !*c->image_digest)
		sonde_container_set_str(&c->image_digest, m.image_digest);
	podman_meta_clear(&m);
}
