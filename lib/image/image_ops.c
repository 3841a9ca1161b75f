/* list, tag and remove on the local store (spec §1.6). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/image.h>
#include <sonde/log.h>

#include "image/loaded.h"
#include "image/oci.h"

static int normalise(const char *in, char *buf, size_t n, struct sonde_image_ref *r)
{
	struct sonde_image_ref tmp;
	if (!r)
		r = &tmp;
	int err = sonde_image_ref_parse(in, r);
	return err ? err : sonde_image_ref_format(r, buf, n);
}

/* Signature tags (sha256-<hex>.sig) and referrer fallback tags
 * (sha256-<hex>) are the store's, not images to show. */
static bool is_signature_tag(const char *tag)
{
	return !strncmp(tag, "sha256-", 7);
}

/* The created annotation: on the descriptor, else on the index, else on
 * its first manifest (upstream reads the manifest's). */
static void created_of(struct oci_store *s, const struct oci_descriptor *d, char *buf, size_t n)
{
	const char *c = oci_descriptor_annotation(d, OCI_ANN_CREATED);
	buf[0] = '\0';
	if (c) {
		snprintf(buf, n, "%s", c);
		return;
	}
	void *data;
	size_t len;
	if (!oci_blob_exists(s, d->digest) || oci_blob_read(s, d->digest, OCI_MAX_DOCUMENT, &data, &len))
		return;
	json_t *doc = json_loadb(data, len, 0, NULL);
	free(data);
	const char *v =
	    json_string_value(json_object_get(json_object_get(doc, "annotations"), OCI_ANN_CREATED));
	if (v) {
		snprintf(buf, n, "%s", v);
	} else if (json_is_array(json_object_get(doc, "manifests"))) {
		json_t *m0 = json_array_get(json_object_get(doc, "manifests"), 0);
		v = json_string_value(json_object_get(json_object_get(m0, "annotations"), OCI_ANN_CREATED));
		if (v)
			snprintf(buf, n, "%s", v);
		else if (json_is_string(json_object_get(m0, "digest")) &&
		         oci_blob_exists(s, json_string_value(json_object_get(m0, "digest")))) {
			struct oci_descriptor md = {0};
			snprintf(md.digest, sizeof(md.digest), "%s",
			         json_string_value(json_object_get(m0, "digest")));
			json_decref(doc);
			doc = NULL;
			created_of(s, &md, buf, n);
		}
	}
	json_decref(doc);
}

/* A lone manifest counts when it is a gadget's (as sonde_image_load
 * accepts it); descriptors rarely carry artifactType, the manifest does. */
static bool is_gadget_manifest(struct oci_store *s, const struct oci_descriptor *d)
{
	if (!strcmp(d->artifact_type, GADGET_ARTIFACT_TYPE))
		return true;
	void *data;
	size_t len;
	if (!oci_blob_exists(s, d->digest) || oci_blob_read(s, d->digest, OCI_MAX_DOCUMENT, &data, &len))
		return false;
	json_t *doc = json_loadb(data, len, 0, NULL);
	free(data);
	const char *at = json_string_value(json_object_get(doc, "artifactType"));
	const char *cmt = json_string_value(json_object_get(json_object_get(doc, "config"), "mediaType"));
	bool yes = (at && !strcmp(at, GADGET_ARTIFACT_TYPE)) || (cmt && !strcmp(cmt, GADGET_MT_CONFIG));
	json_decref(doc);
	return yes;
}

static int cmp_info(const void *a, const void *b)
{
	const struct sonde_image_info *x = a, *y = b;
	int c = strcmp(x->repository, y->repository);
	return c ? c : strcmp(x->tag, y->tag);
}

int sonde_image_list(struct sonde_image_store *store, struct sonde_image_info **out, size_t *n)
{
	struct oci_store *s = oci_store_of(store);
	struct oci_descriptor *tags;
	size_t ntags;
	*out = NULL;
	*n = 0;
	int err = oci_store_tags(s, &tags, &ntags);
	if (err)
		return err;
	struct sonde_image_info *infos = calloc(ntags ? ntags : 1, sizeof(*infos));
	if (!infos) {
		oci_store_tags_free(tags, ntags);
		return -ENOMEM;
	}
	size_t k = 0;
	static const char prefix[] = SONDE_IMAGE_DEFAULT_DOMAIN "/" SONDE_IMAGE_DEFAULT_PREFIX;
	for (size_t i = 0; i < ntags; i++) {
		const struct oci_descriptor *d = &tags[i];
		const char *refname = oci_descriptor_annotation(d, OCI_ANN_REF_NAME);
		struct sonde_image_ref r;
		struct sonde_image_info *info = &infos[k];
		bool index =
		    !strcmp(d->media_type, OCI_MT_INDEX) || !strcmp(d->media_type, OCI_MT_DOCKER_LIST);
		bool gadget_manifest = !strcmp(d->media_type, OCI_MT_MANIFEST) && is_gadget_manifest(s, d);
		/* A ref that does not parse was written by another tool: skipped. */
		if (!refname || (!index && !gadget_manifest) || sonde_image_ref_parse(refname, &r) ||
		    is_signature_tag(r.tag))
			continue;
		snprintf(info->ref, sizeof(info->ref), "%s", refname);
		char repo[800];
		sonde_image_ref_repository(&r, repo, sizeof(repo));
		snprintf(info->repository, sizeof(info->repository), "%s",
		         !strncmp(repo, prefix, strlen(prefix)) ? repo + strlen(prefix) : repo);
		snprintf(info->tag, sizeof(info->tag), "%s", r.tag);
		snprintf(info->digest, sizeof(info->digest), "%s", d->digest);
		created_of(s, d, info->created, sizeof(info->created));
		k++;
	}
	oci_store_tags_free(tags, ntags);
	qsort(infos, k, sizeof(*infos), cmp_info);
	*out = infos;
	*n = k;
	return 0;
}

int sonde_image_tag(struct sonde_image_store *store, const char *src, const char *dst)
{
	struct oci_store *s = oci_store_of(store);
	char from[1024], to[1024];
	struct oci_descriptor d;
	int err;
	if ((err = normalise(src, from, sizeof(from), NULL)) || (err = normalise(dst, to, sizeof(to), NULL)))
		return err;
	err = image_store_resolve(s, from, &d);
	if (err == -ENOENT)
		sonde_err("image %s not found in the store %s", from, oci_store_dir(s));
	if (err)
		return err;
	oci_descriptor_set_annotation(&d, OCI_ANN_REF_NAME, NULL);
	err = oci_store_tag(s, to, &d);
	oci_descriptor_clear(&d);
	return err;
}

int sonde_image_remove(struct sonde_image_store *store, const char *ref)
{
	struct oci_store *s = oci_store_of(store);
	char full[1024];
	int err = normalise(ref, full, sizeof(full), NULL);
	if (err)
		return err;
	/* One lock around resolve, untag and gc: no tag may appear on the
	 * digest between the check and the collection. */
	if ((err = oci_store_lock(s, OCI_STORE_LOCK_TIMEOUT_MS)))
		return err;
	struct oci_descriptor *tags = NULL;
	size_t ntags = 0, i;
	if ((err = oci_store_tags(s, &tags, &ntags)))
		goto out;
	for (i = 0; i < ntags; i++)
		if (image_ref_same(oci_descriptor_annotation(&tags[i], OCI_ANN_REF_NAME), full))
			break;
	if (i == ntags) {
		sonde_err("image %s not found in the store %s", full, oci_store_dir(s));
		err = -ENOENT;
		goto out;
	}
	bool shared = false;
	for (size_t j = 0; j < ntags; j++)
		shared |= j != i && !strcmp(tags[j].digest, tags[i].digest);
	if ((err = oci_store_untag(s, oci_descriptor_annotation(&tags[i], OCI_ANN_REF_NAME))))
		goto out;
	if (!shared) {
		size_t freed = 0;
		err = oci_store_gc(s, &freed);
		sonde_debug("image store %s: %zu blobs collected", oci_store_dir(s), freed);
	}
out:
	oci_store_tags_free(tags, ntags);
	oci_store_unlock(s);
	return err;
}
