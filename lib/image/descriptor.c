/* The OCI descriptor object: what every index entry, config and layer is. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "image/oci.h"

static int copy_str(char *dst, size_t n, const json_t *v, const char *what, const char *key)
{
	const char *s = json_string_value(v);
	if (!s) {
		sonde_err("%s: \"%s\" is not a string", what, key);
		return -EINVAL;
	}
	if (strlen(s) >= n) {
		sonde_err("%s: \"%s\" is too long (%zu bytes)", what, key, strlen(s));
		return -EINVAL;
	}
	strcpy(dst, s);
	return 0;
}

int oci_descriptor_from_json(const json_t *obj, const char *what, struct oci_descriptor *out)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj)) {
		sonde_err("%s: descriptor is not a JSON object", what);
		return -EINVAL;
	}
	const json_t *mt = json_object_get(obj, "mediaType");
	const json_t *dg = json_object_get(obj, "digest");
	const json_t *sz = json_object_get(obj, "size");
	if (!mt || !dg || !sz) {
		sonde_err("%s: descriptor lacks %s", what, !mt ? "mediaType" : !dg ? "digest" : "size");
		return -EINVAL;
	}
	int err = copy_str(out->media_type, sizeof(out->media_type), mt, what, "mediaType");
	if (err)
		return err;
	if (!out->media_type[0]) {
		sonde_err("%s: descriptor has an empty mediaType", what);
		return -EINVAL;
	}
	if (!json_is_string(dg) || !oci_digest_valid(json_string_value(dg))) {
		sonde_err("%s: descriptor digest %s%s%s is not sha256:<64 hex digits>", what,
		          json_is_string(dg) ? "\"" : "",
		          json_is_string(dg) ? json_string_value(dg) : "(not a string)",
		          json_is_string(dg) ? "\"" : "");
		return -EINVAL;
	}
	strcpy(out->digest, json_string_value(dg));
	if (!json_is_integer(sz) || json_integer_value(sz) < 0) {
		sonde_err("%s: descriptor size is not a non-negative integer", what);
		return -EINVAL;
	}
	out->size = json_integer_value(sz);
	const json_t *at = json_object_get(obj, "artifactType");
	if (at && (err = copy_str(out->artifact_type, sizeof(out->artifact_type), at, what, "artifactType")))
		return err;
	const json_t *pf = json_object_get(obj, "platform");
	if (pf) {
		if (!json_is_object(pf)) {
			sonde_err("%s: descriptor platform is not an object", what);
			return -EINVAL;
		}
		const json_t *a = json_object_get(pf, "architecture"), *o = json_object_get(pf, "os");
		if (a && (err = copy_str(out->arch, sizeof(out->arch), a, what, "platform.architecture")))
			return err;
		if (o && (err = copy_str(out->os, sizeof(out->os), o, what, "platform.os")))
			return err;
	}
	const json_t *ann = json_object_get(obj, "annotations");
	if (ann && !json_is_null(ann)) {
		if (!json_is_object(ann)) {
			sonde_err("%s: descriptor annotations are not an object", what);
			return -EINVAL;
		}
		const char *k;
		const json_t *v;
		json_object_foreach((json_t *)ann, k, v)
		{
			if (!json_is_string(v)) {
				sonde_err("%s: annotation \"%s\" is not a string", what, k);
				return -EINVAL;
			}
		}
		out->annotations = json_deep_copy(ann);
		if (!out->annotations)
			return -ENOMEM;
	}
	return 0;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's encoding/json writes map keys sorted; annotations are a Go map, so
 * documents written the same way hash the same as upstream's. */
json_t *oci_annotations_sorted(const json_t *ann)
{
	size_t n = json_object_size(ann);
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *out = json_object();
	if (!keys || !out)
		goto fail;
	size_t i = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)ann, k, v) keys[i++] = k;
	qsort(keys, n, sizeof(*keys), cmp_keys);
	for (i = 0; i < n; i++)
		if (json_object_set(out, keys[i], json_object_get(ann, keys[i])))
			goto fail;
	free(keys);
	return out;
fail:
	free(keys);
	json_decref(out);
	return NULL;
}

json_t *oci_descriptor_to_json(const struct oci_descriptor *d)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	/* Field order of Go's ocispec.Descriptor. */
	int err = json_object_set_new(o, "mediaType", json_string(d->media_type));
	err |= json_object_set_new(o, "digest", json_string(d->digest));
	err |= json_object_set_new(o, "size", json_integer(d->size));
	if (d->annotations && json_object_size(d->annotations))
		err |= json_object_set_new(o, "annotations", oci_annotations_sorted(d->annotations));
	if (d->arch[0] || d->os[0]) {
		json_t *p = json_object();
		err |= json_object_set_new(p, "architecture", json_string(d->arch));
		err |= json_object_set_new(p, "os", json_string(d->os));
		err |= json_object_set_new(o, "platform", p);
	}
	if (d->artifact_type[0])
		err |= json_object_set_new(o, "artifactType", json_string(d->artifact_type));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

const char *oci_descriptor_annotation(const struct oci_descriptor *d, const char *key)
{
	return d->annotations ? json_string_value(json_object_get(d->annotations, key)) : NULL;
}

int oci_descriptor_set_annotation(struct oci_descriptor *d, const char *key, const char *value)
{
	if (!d->annotations && !(d->annotations = json_object()))
		return -ENOMEM;
	if (!value) {
		json_object_del(d->annotations, key);
		return 0;
	}
	return json_object_set_new(d->annotations, key, json_string(value)) ? -ENOMEM : 0;
}

int oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src)
{
	if (dst == src)
		return 0;
	json_t *ann = NULL;
	if (src->annotations && !(ann = json_deep_copy(src->annotations)))
		return -ENOMEM;
	*dst = *src;
	dst->annotations = ann;
	return 0;
}

void oci_descriptor_clear(struct oci_descriptor *d)
{
	if (!d)
		return;
	json_decref(d->annotations);
	memset(d, 0, sizeof(*d));
}
