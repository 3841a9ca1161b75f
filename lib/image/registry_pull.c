/* Pull: a reference's whole graph (index → manifests → config and layers)
 * from the registry into the local store, then the tag, all under the store
 * lock: children are stored before their parents, so whatever is in the
 * store is complete, and a concurrent gc never sees a half-pulled graph.
 * Then, best effort, the cosign signatures of the index (spec §1.8): the
 * legacy tag sha256-<hex>.sig and the OCI 1.1 referrers, stored under
 * <repo>:sha256-<hex>.sig and <repo>:sha256-<hex>, where the verifier reads
 * them offline. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "image/registry.h"

#define MAX_DEPTH 3 /* index → manifest, or index → index → manifest */

static bool is_index_type(const char *mt)
{
	return !strcmp(mt, OCI_MT_INDEX) || !strcmp(mt, OCI_MT_DOCKER_LIST);
}

static bool is_manifest_type(const char *mt)
{
	return !strcmp(mt, OCI_MT_MANIFEST) || !strcmp(mt, OCI_MT_DOCKER_MANIF);
}

static int pull_blob_once(struct registry_client *c, struct oci_store *s, const struct oci_descriptor *d)
{
	if (oci_blob_exists(s, d->digest))
		return 0;
	return registry_pull_blob(c, s, d);
}

/* Pulls the document `ref` (a tag or a digest) and everything under it;
 * *out describes it (media type, digest, size). */
static int pull_graph(struct registry_client *c, struct oci_store *s, const char *ref, bool quiet_missing,
                      int depth, struct oci_descriptor *out)
{
	void *body = NULL;
	size_t len = 0;
	char digest[OCI_DIGEST_LEN], mt[128];
	int r;

	if (depth > MAX_DEPTH) {
		sonde_err("registry: %s: indexes nested deeper than %d", ref, MAX_DEPTH);
		return -ELOOP;
	}
	r = registry_get_manifest(c, ref, quiet_missing, &body, &len, digest, mt);
	if (r)
		return r;
	if (is_index_type(mt)) {
		struct oci_index idx;

		memset(&idx, 0, sizeof(idx));
		r = oci_index_parse(body, len, &idx);
		for (size_t i = 0; !r && i < idx.nmanifests; i++) {
			struct oci_descriptor child;

			memset(&child, 0, sizeof(child));
			r = pull_graph(c, s, idx.manifests[i].digest, false, depth + 1, &child);
			if (!r && child.size != idx.manifests[i].size) {
				sonde_err("registry: manifest %s is %lld bytes, its index says %lld",
				          child.digest, (long long)child.size,
				          (long long)idx.manifests[i].size);
				r = -EBADMSG;
			}
			oci_descriptor_clear(&child);
		}
		oci_index_clear(&idx);
	} else if (is_manifest_type(mt)) {
		struct oci_manifest m;

		memset(&m, 0, sizeof(m));
		r = oci_manifest_parse(body, len, &m);
		if (!r)
			r = pull_blob_once(c, s, &m.config);
		for (size_t i = 0; !r && i < m.nlayers; i++)
			r = pull_blob_once(c, s, &m.layers[i]);
		oci_manifest_clear(&m);
	} else {
		sonde_err("registry: %s:%s is a \"%s\", not an OCI image index or manifest",
		          registry_client_repo(c), ref, mt);
		r = -EPROTONOSUPPORT;
	}
	if (!r && !oci_blob_exists(s, digest))
		r = oci_blob_put_verified(s, digest, body, len);
	if (!r) {
		memset(out, 0, sizeof(*out));
		snprintf(out->media_type, sizeof(out->media_type), "%s", mt);
		snprintf(out->digest, sizeof(out->digest), "%s", digest);
		out->size = (int64_t)len;
	}
	free(body);
	return r;
}

/* ---- signatures: errors become warnings ---- */
struct demote {
	struct sonde_log_target self;
	const struct sonde_log_target *prev;
};

static void demote_log(enum sonde_log_level level, const char *msg, void *arg)
{
	struct demote *d = arg;
	const struct sonde_log_target *mine = sonde_log_bind(d->prev);

	sonde_log(level == SONDE_LOG_ERROR ? SONDE_LOG_WARN : level, "signatures: %s", msg);
	sonde_log_bind(mine);
}

static int tag_as(struct oci_store *s, const char *repo, const char *tag, const struct oci_descriptor *d)
{
	char ref[1200];

	if ((size_t)snprintf(ref, sizeof(ref), "%s:%s", repo, tag) >= sizeof(ref))
		return -ENAMETOOLONG;
	return oci_store_tag(s, ref, d);
}

/* The referrers of digest as an index in the store (API, else tag schema). */
static int pull_referrers(struct registry_client *c, struct oci_store *s, const char *repo,
                          const char *digest)
{
	char tag[80], idx_digest[OCI_DIGEST_LEN];
	struct oci_descriptor d;
	struct oci_index idx;
	void *body = NULL;
	size_t len = 0;
	int r;

	snprintf(tag, sizeof(tag), "sha256-%.64s", digest + 7);
	r = registry_get_referrers(c, digest, &body, &len);
	if (r == -ENOENT) {
		/* the referrers tag schema of registries without the API */
		memset(&d, 0, sizeof(d));
		r = pull_graph(c, s, tag, true, 0, &d);
		if (!r)
			r = tag_as(s, repo, tag, &d);
		return r;
	}
	if (r)
		return r;
	memset(&idx, 0, sizeof(idx));
	r = oci_index_parse(body, len, &idx);
	if (r) {
		oci_index_clear(&idx);
		free(body);
		return r;
	}
	for (size_t i = 0; !r && i < idx.nmanifests; i++) {
		memset(&d, 0, sizeof(d));
		r = pull_graph(c, s, idx.manifests[i].digest, false, 1, &d);
		oci_descriptor_clear(&d);
	}
	if (!r && idx.nmanifests)
		r = oci_blob_put(s, body, len, idx_digest);
	if (!r && idx.nmanifests) {
		memset(&d, 0, sizeof(d));
		snprintf(d.media_type, sizeof(d.media_type), "%s", OCI_MT_INDEX);
		snprintf(d.digest, sizeof(d.digest), "%s", idx_digest);
		d.size = (int64_t)len;
		r = tag_as(s, repo, tag, &d);
	}
	oci_index_clear(&idx);
	free(body);
	return r;
}

static void pull_signatures(struct registry_client *c, struct oci_store *s, const char *repo,
                            const char *digest)
{
	struct demote dm = {.self = {.fn = demote_log, .level = sonde_log_get_level()}};
	struct oci_descriptor d;
	char tag[80];
	int r;

	dm.self.arg = &dm;
	dm.prev = sonde_log_bind(&dm.self);
	snprintf(tag, sizeof(tag), "sha256-%.64s.sig", digest + 7);
	memset(&d, 0, sizeof(d));
	r = pull_graph(c, s, tag, true, 0, &d);
	if (!r)
		r = tag_as(s, repo, tag, &d);
	if (r && r != -ENOENT)
		sonde_warn("%s:%s not pulled", repo, tag);
	else if (!r)
		sonde_debug("pulled the signature %s:%s", repo, tag);
	r = pull_referrers(c, s, repo, digest);
	if (r && r != -ENOENT)
		sonde_warn("the referrers of %s@%s not pulled", repo, digest);
	sonde_log_bind(dm.prev);
}

bool registry_opts_skip_signatures(const struct sonde_registry_opts *opts)
{
	return opts && opts->sz > offsetof(struct sonde_registry_opts, skip_signatures) &&
	       opts->skip_signatures;
}

int registry_pull(struct oci_store *s, const struct sonde_image_ref *ref,
                  const struct sonde_registry_opts *opts, char digest_out[OCI_DIGEST_LEN])
{
	struct registry_client *c = NULL;
	struct oci_descriptor d;
	char name[1200], repo[1024];
	int r;

	r = sonde_image_ref_format(ref, name, sizeof(name));
	if (!r)
		r = sonde_image_ref_repository(ref, repo, sizeof(repo));
	if (r)
		return r;
	r = registry_client_new(ref->domain, ref->path, opts, &c);
	if (r)
		return r;
	r = oci_store_lock(s, OCI_STORE_LOCK_TIMEOUT_MS);
	if (r) {
		registry_client_free(c);
		return r;
	}
	memset(&d, 0, sizeof(d));
	r = pull_graph(c, s, *ref->digest ? ref->digest : ref->tag, false, 0, &d);
	if (!r)
		r = oci_store_tag(s, name, &d);
	if (!r && digest_out)
		snprintf(digest_out, OCI_DIGEST_LEN, "%s", d.digest);
	if (!r && !registry_opts_skip_signatures(opts))
		pull_signatures(c, s, repo, d.digest);
	oci_store_unlock(s);
	oci_descriptor_clear(&d);
	registry_client_free(c);
	return r;
}

int sonde_image_pull(struct sonde_image_store *store, const char *refstr,
                     const struct sonde_registry_opts *opts, char digest_out[72])
{
	struct sonde_image_ref ref;
	int r;

	r = sonde_image_ref_parse(refstr, &ref);
	if (r)
		return r;
	return registry_pull(oci_store_of(store), &ref, opts, digest_out);
}
