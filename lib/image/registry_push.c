/* Push: the reverse of a pull, bottom up so the registry never holds a
 * manifest whose blobs are missing: blobs (skipped when the registry has
 * them, mounted when another repository of the same registry that the store
 * knows has them), then manifests by digest, then the index under its tag;
 * then the signature tags of that index the store has. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "image/registry.h"

#define MAX_DEPTH 3

struct push_ctx {
	struct registry_client *c;
	struct oci_store *s;
	const char *mount_from; /* a repository of the same registry with this image, or NULL */
	size_t pushed, skipped, mounted;
};

static int push_blob(struct push_ctx *p, const struct oci_descriptor *d)
{
	bool mounted = false;
	int r;

	r = registry_blob_exists(p->c, d->digest);
	if (r < 0)
		return r;
	if (r == 1) {
		p->skipped++;
		return 0;
	}
	if (!oci_blob_exists(p->s, d->digest)) {
		sonde_err("store %s: blob %s is missing", oci_store_dir(p->s), d->digest);
		return -ENOENT;
	}
	r = registry_push_blob(p->c, p->s, d, p->mount_from, &mounted);
	if (!r) {
		p->pushed += !mounted;
		p->mounted += mounted;
	}
	return r;
}

static int push_graph(struct push_ctx *p, const struct oci_descriptor *d, const char *tag, int depth)
{
	void *body = NULL;
	size_t len = 0;
	int r;

	if (depth > MAX_DEPTH) {
		sonde_err("store: %s: indexes nested deeper than %d", d->digest, MAX_DEPTH);
		return -ELOOP;
	}
	r = oci_blob_read(p->s, d->digest, OCI_MAX_DOCUMENT, &body, &len);
	if (r)
		return r;
	if (!strcmp(d->media_type, OCI_MT_INDEX) || !strcmp(d->media_type, OCI_MT_DOCKER_LIST)) {
		struct oci_index idx;

		memset(&idx, 0, sizeof(idx));
		r = oci_index_parse(body, len, &idx);
		for (size_t i = 0; !r && i < idx.nmanifests; i++)
			r = push_graph(p, &idx.manifests[i], NULL, depth + 1);
		oci_index_clear(&idx);
	} else if (!strcmp(d->media_type, OCI_MT_MANIFEST) || !strcmp(d->media_type, OCI_MT_DOCKER_MANIF)) {
		struct oci_manifest m;

		memset(&m, 0, sizeof(m));
		r = oci_manifest_parse(body, len, &m);
		if (!r)
			r = push_blob(p, &m.config);
		for (size_t i = 0; !r && i < m.nlayers; i++)
			r = push_blob(p, &m.layers[i]);
		oci_manifest_clear(&m);
	} else {
		sonde_err("store: %s is a \"%s\", not an OCI image index or manifest", d->digest,
		          d->media_type);
		r = -EPROTONOSUPPORT;
	}
	if (!r)
		r = registry_put_manifest(p->c, tag ? tag : d->digest, d->media_type, body, len);
	free(body);
	return r;
}

/* Another repository of the same registry the store has this digest under
 * (sonde image tag reg/a:1 reg/b:1; push reg/b:1): its blobs can be mounted
 * instead of uploaded. */
static int find_mount_source(struct oci_store *s, const struct sonde_image_ref *ref, const char *digest,
                             char *buf, size_t n)
{
	struct oci_descriptor *tags = NULL;
	size_t ntags = 0;
	int found = 0;

	if (oci_store_tags(s, &tags, &ntags))
		return 0;
	for (size_t i = 0; i < ntags && !found; i++) {
		const char *name = oci_descriptor_annotation(&tags[i], OCI_ANN_REF_NAME);
		struct sonde_image_ref other;

		if (!name || strcmp(tags[i].digest, digest))
			continue;
		if (sonde_image_ref_parse(name, &other))
			continue;
		if (!strcmp(other.domain, ref->domain) && strcmp(other.path, ref->path)) {
			snprintf(buf, n, "%s", other.path);
			found = 1;
		}
	}
	oci_store_tags_free(tags, ntags);
	return found;
}

/* The store's descriptor for ref, looked up quietly (most images have no
 * signature tags): 1 found, 0 not. */
static int find_tag(struct oci_store *s, const char *ref, struct oci_descriptor *out)
{
	struct oci_descriptor *tags = NULL;
	size_t ntags = 0;
	int found = 0;

	if (oci_store_tags(s, &tags, &ntags))
		return 0;
	for (size_t i = 0; i < ntags && !found; i++) {
		const char *name = oci_descriptor_annotation(&tags[i], OCI_ANN_REF_NAME);

		if (name && !strcmp(name, ref))
			found = oci_descriptor_copy(out, &tags[i]) == 0;
	}
	oci_store_tags_free(tags, ntags);
	return found;
}

static int push_signature_tag(struct push_ctx *p, const char *repo, const char *tag)
{
	struct oci_descriptor d;
	char ref[1200];
	int r;

	snprintf(ref, sizeof(ref), "%s:%s", repo, tag);
	memset(&d, 0, sizeof(d));
	if (!find_tag(p->s, ref, &d))
		return 0;
	r = push_graph(p, &d, tag, 0);
	oci_descriptor_clear(&d);
	if (!r)
		sonde_debug("pushed the signature tag %s", ref);
	return r;
}

int registry_push(struct oci_store *s, const struct sonde_image_ref *ref,
                  const struct sonde_registry_opts *opts, char digest_out[OCI_DIGEST_LEN])
{
	struct push_ctx p = {.s = s};
	struct oci_descriptor d;
	char name[1200], repo[1024], from[600], tag[80];
	bool sigs = !registry_opts_skip_signatures(opts);
	int r;

	r = sonde_image_ref_format(ref, name, sizeof(name));
	if (!r)
		r = sonde_image_ref_repository(ref, repo, sizeof(repo));
	if (r)
		return r;
	memset(&d, 0, sizeof(d));
	r = oci_store_resolve(s, name, &d);
	if (r) {
		if (r == -ENOENT)
			sonde_err("image %s is not in the store %s", name, oci_store_dir(s));
		oci_descriptor_clear(&d);
		return r;
	}
	r = registry_client_new(ref->domain, ref->path, opts, &p.c);
	if (r) {
		oci_descriptor_clear(&d);
		return r;
	}
	registry_client_want_push(p.c);
	if (find_mount_source(s, ref, d.digest, from, sizeof(from))) {
		char scope[700];

		snprintf(scope, sizeof(scope), "repository:%s:pull", from);
		registry_client_add_scope(p.c, scope);
		p.mount_from = from;
	}
	r = push_graph(&p, &d, *ref->tag ? ref->tag : d.digest, 0);
	if (!r && sigs) {
		snprintf(tag, sizeof(tag), "sha256-%.64s.sig", d.digest + 7);
		r = push_signature_tag(&p, repo, tag);
		snprintf(tag, sizeof(tag), "sha256-%.64s", d.digest + 7);
		if (!r)
			r = push_signature_tag(&p, repo, tag);
	}
	if (!r && digest_out)
		snprintf(digest_out, OCI_DIGEST_LEN, "%s", d.digest);
	if (!r)
		sonde_info("pushed %s@%s: %zu blobs uploaded, %zu mounted, %zu already there", name, d.digest,
		           p.pushed, p.mounted, p.skipped);
	oci_descriptor_clear(&d);
	registry_client_free(p.c);
	return r;
}

int sonde_image_push(struct sonde_image_store *store, const char *refstr,
                     const struct sonde_registry_opts *opts, char digest_out[72])
{
	struct sonde_image_ref ref;
	int r;

	r = sonde_image_ref_parse(refstr, &ref);
	if (r)
		return r;
	return registry_push(oci_store_of(store), &ref, opts, digest_out);
}
