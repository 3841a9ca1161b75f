/* OCI building blocks shared inside lib/image: digests, descriptors, the
 * JSON documents (index, manifest) and the local store (an OCI image layout).
 *
 * Every function returns 0 or a negative errno and logs (sonde_log) one
 * message saying what failed and why; callers add context, never repeat it.
 */
#ifndef SONDE_IMAGE_OCI_H
#define SONDE_IMAGE_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* ---- media types and annotation keys (spec §1.1, §1.3) ---- */
#define OCI_MT_INDEX         "application/vnd.oci.image.index.v1+json"
#define OCI_MT_MANIFEST      "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_EMPTY         "application/vnd.oci.empty.v1+json"
#define OCI_MT_DOCKER_LIST   "application/vnd.docker.distribution.manifest.list.v2+json"
#define OCI_MT_DOCKER_MANIF  "application/vnd.docker.distribution.manifest.v2+json"
#define GADGET_ARTIFACT_TYPE "application/vnd.gadget.v1+binary"
#define GADGET_MT_CONFIG     "application/vnd.gadget.config.v1+yaml"
#define GADGET_MT_EBPF       "application/vnd.gadget.ebpf.program.v1+binary"
#define GADGET_MT_WASM       "application/vnd.gadget.wasm.program.v1+binary"
#define GADGET_MT_BTFGEN     "application/vnd.gadget.btfgen.v1+binary"
#define COSIGN_MT_SIMPLESIGN "application/vnd.dev.cosign.simplesigning.v1+json"
#define COSIGN_ARTIFACT_SIG  "application/vnd.dev.cosign.artifact.sig.v1+json"
#define COSIGN_ANN_SIGNATURE "dev.cosignproject.cosign/signature"

#define OCI_ANN_REF_NAME    "org.opencontainers.image.ref.name"
#define OCI_ANN_CREATED     "org.opencontainers.image.created"
#define OCI_ANN_TITLE       "org.opencontainers.image.title"
#define OCI_ANN_DESCRIPTION "org.opencontainers.image.description"
#define OCI_ANN_URL         "org.opencontainers.image.url"
#define OCI_ANN_DOCS        "org.opencontainers.image.documentation"
#define OCI_ANN_SOURCE      "org.opencontainers.image.source"
#define GADGET_ANN_BUILDER  "io.inspektor-gadget.builder.version"

/* The empty JSON config ("{}") every gadget without gadget.yaml points at. */
#define OCI_EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

/* Size caps: documents are small; a blob bigger than this is refused before
 * it is read (a gadget image is a few MiB). */
#define OCI_MAX_DOCUMENT (4u << 20)
#define OCI_MAX_BLOB     (512ull << 20)

/* ---- digests ---- */
#define OCI_DIGEST_LEN 72 /* "sha256:" + 64 hex + NUL, rounded up */

/* True if s is "sha256:" followed by exactly 64 lower-case hex digits. */
bool oci_digest_valid(const char *s);
/* sha256 of data as "sha256:<hex>" into out[OCI_DIGEST_LEN]. */
void oci_digest_of(const void *data, size_t len, char out[OCI_DIGEST_LEN]);

/* Incremental sha256 for blobs that arrive in pieces (registry, tar). */
struct oci_hasher;
struct oci_hasher *oci_hasher_new(void);
void oci_hasher_update(struct oci_hasher *h, const void *data, size_t len);
/* Writes the digest and frees h. */
void oci_hasher_finish(struct oci_hasher *h, char out[OCI_DIGEST_LEN]);
void oci_hasher_free(struct oci_hasher *h);

/* ---- descriptors (the OCI "descriptor" object) ---- */
struct oci_descriptor {
	char media_type[128];
	char digest[OCI_DIGEST_LEN];
	int64_t size;
	char artifact_type[128]; /* "" when absent */
	char arch[32], os[32];   /* platform; "" when absent */
	json_t *annotations;     /* owned JSON object, or NULL */
};

/* Reads a descriptor object; -EINVAL (logged, naming `what`) when mediaType,
 * digest or size is missing or malformed. */
int oci_descriptor_from_json(const json_t *obj, const char *what, struct oci_descriptor *out);
/* A new JSON object for d (keys in the order OCI tools write them). */
json_t *oci_descriptor_to_json(const struct oci_descriptor *d);
/* Annotation value or NULL. */
const char *oci_descriptor_annotation(const struct oci_descriptor *d, const char *key);
/* value NULL removes key. */
int oci_descriptor_set_annotation(struct oci_descriptor *d, const char *key, const char *value);
int oci_descriptor_copy(struct oci_descriptor *dst, const struct oci_descriptor *src);
void oci_descriptor_clear(struct oci_descriptor *d);
/* A copy of an annotations object with its keys sorted, as Go writes a map
 * (documents written this way hash the same as upstream's). */
json_t *oci_annotations_sorted(const json_t *ann);

/* ---- documents ---- */
/* Canonical bytes of a document: compact JSON, keys in insertion order, as
 * OCI tools write them. Malloc'ed, NUL-terminated; *len without the NUL. */
char *oci_json_dump(const json_t *doc, size_t *len);
/* Parses a document of at most OCI_MAX_DOCUMENT bytes; NULL (logged, naming
 * `what`) if it is not a JSON object. */
json_t *oci_json_load(const void *data, size_t len, const char *what);

struct oci_index {
	int64_t schema_version;
	char media_type[128]; /* "" when absent (allowed by the spec) */
	char artifact_type[128];
	struct oci_descriptor *manifests;
	size_t nmanifests;
	json_t *annotations; /* owned, or NULL */
};
struct oci_manifest {
	int64_t schema_version;
	char media_type[128];
	char artifact_type[128];
	struct oci_descriptor config;
	struct oci_descriptor *layers;
	size_t nlayers;
	struct oci_descriptor *subject; /* OCI 1.1 referrers; NULL when absent */
	json_t *annotations;
};
int oci_index_parse(const void *data, size_t len, struct oci_index *out);
int oci_manifest_parse(const void *data, size_t len, struct oci_manifest *out);
json_t *oci_index_to_json(const struct oci_index *idx);
json_t *oci_manifest_to_json(const struct oci_manifest *m);
void oci_index_clear(struct oci_index *idx);
void oci_manifest_clear(struct oci_manifest *m);
/* The manifest of idx for arch (Go names: amd64, arm64); NULL if none. */
const struct oci_descriptor *oci_index_for_arch(const struct oci_index *idx, const char *arch);
/* This machine's architecture in Go's names ("amd64", "arm64", …). */
const char *oci_host_arch(void);

/* ---- the local store: an OCI image layout ----
 * <dir>/oci-layout, <dir>/index.json, <dir>/blobs/sha256/<hex>,
 * <dir>/index.json.lock. Tags are index.json entries annotated with
 * org.opencontainers.image.ref.name = the full normalised reference.
 *
 * Readers never lock: index.json and blobs only ever appear by rename, so a
 * reader sees the old or the new file, never a torn one. A writer (tag,
 * untag, a whole pull/import/build, gc) holds the exclusive flock on
 * index.json.lock for its whole operation, so two processes never lose each
 * other's tags and gc never deletes a blob another writer is about to tag. */
struct oci_store;

enum {
	OCI_STORE_READ_ONLY = 1 << 0, /* never creates or writes anything */
};
/* Opens (creating the layout unless read-only) the store at dir. */
int oci_store_open(const char *dir, unsigned flags, struct oci_store **out);
void oci_store_close(struct oci_store *s);
const char *oci_store_dir(const struct oci_store *s);

/* Exclusive lock for a write operation; waits up to timeout_ms, then
 * -EWOULDBLOCK with a message naming the store and the holder's pid.
 * Nested lock/unlock pairs in one process are counted. */
int oci_store_lock(struct oci_store *s, int timeout_ms);
void oci_store_unlock(struct oci_store *s);
#define OCI_STORE_LOCK_TIMEOUT_MS 10000

/* Blobs. Writes go to a temp file in the store and are renamed into place
 * only after their sha256 matched; an existing blob is not rewritten. */
bool oci_blob_exists(struct oci_store *s, const char *digest);
int oci_blob_path(const struct oci_store *s, const char *digest, char *buf, size_t n);
/* Stores data and writes its digest to digest_out (may be NULL). */
int oci_blob_put(struct oci_store *s, const void *data, size_t len, char digest_out[OCI_DIGEST_LEN]);
/* Stores data only if it hashes to digest (-EBADMSG otherwise). */
int oci_blob_put_verified(struct oci_store *s, const char *digest, const void *data, size_t len);
/* Streaming writer for blobs that arrive in pieces; commit checks the digest
 * and the size (expected_size < 0: unknown) and renames into place; abort
 * (or free without commit) removes the temp file. */
struct oci_blob_writer;
int oci_blob_writer_open(struct oci_store *s, const char *digest, int64_t expected_size,
                         struct oci_blob_writer **out);
int oci_blob_writer_write(struct oci_blob_writer *w, const void *data, size_t len);
int oci_blob_writer_commit(struct oci_blob_writer *w); /* frees w */
void oci_blob_writer_abort(struct oci_blob_writer *w); /* frees w; NULL ok */
/* Reads a whole blob (at most max bytes, -EFBIG beyond) and checks its
 * digest (-EBADMSG: the store is damaged). Malloc'ed, NUL-terminated. */
int oci_blob_read(struct oci_store *s, const char *digest, size_t max, void **data, size_t *len);

/* Tags (index.json). ref is a full normalised reference string. */
/* -ENOENT, not logged, when ref is not tagged: absence is an answer
 * (pull policy "missing"), not a failure. */
int oci_store_resolve(struct oci_store *s, const char *ref, struct oci_descriptor *out);
/* Points ref at desc (replacing any previous target). Takes the lock. */
int oci_store_tag(struct oci_store *s, const char *ref, const struct oci_descriptor *desc);
/* Removes ref; -ENOENT if absent. Takes the lock. */
int oci_store_untag(struct oci_store *s, const char *ref);
/* Every tagged descriptor, in index.json order; the array and its
 * descriptors are the caller's (oci_store_tags_free). */
int oci_store_tags(struct oci_store *s, struct oci_descriptor **out, size_t *n);
void oci_store_tags_free(struct oci_descriptor *tags, size_t n);
/* Deletes every blob not reachable from a tag (index → manifests → config,
 * layers, subjects). Takes the lock. *freed (may be NULL) counts blobs. */
int oci_store_gc(struct oci_store *s, size_t *freed);

/* The OCI store behind a public store handle (sonde/image.h), for the image
 * modules (registry, build, archive, verify) that work on it. */
struct sonde_image_store;
struct oci_store *oci_store_of(struct sonde_image_store *s);

#endif
