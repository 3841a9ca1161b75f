/* Signing images in a test the way `cosign sign --key` does, with the
 * openssl tool: what Sonde's verifier must accept. The pieces (payload,
 * signature, signature manifest, referrers index) are there for tests that
 * lay them out in other ways or tamper with one of them. */
#ifndef SONDE_TEST_COSIGN_SIGN_H
#define SONDE_TEST_COSIGN_SIGN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

struct oci_store;
struct oci_descriptor;

/* Stores doc (and drops it) in s: its digest and size in *digest and
 * *size. Aborts on failure: test set-up, not a case. */
void test_oci_put_json(struct oci_store *s, json_t *doc, char digest[72], int64_t *size);
/* Tags ref in s as the document digest of media type mt and size size
 * (artifact_type may be NULL). Aborts on failure. */
void test_oci_tag(struct oci_store *s, const char *ref, const char *mt, const char *digest, int64_t size,
                  const char *artifact_type);

/* An ECDSA P-256 key pair in dir: key.pem (private) and pub.pem. 0 or -1. */
int test_cosign_make_key(const char *dir);

/* cosign's simple-signing payload naming image `digest` of `repo` as its
 * docker-reference; type NULL: "cosign container image signature".
 * malloc'd, NULL when out of memory. */
char *test_cosign_payload(const char *repo, const char *digest, const char *type);

/* base64 of payload's signature with key_pem, as cosign puts it in the
 * annotation: over its sha256 (ECDSA, RSA: openssl dgst), or over the
 * payload itself with ed25519 (openssl pkeyutl -rawin). malloc'd, NULL
 * after saying why on stderr. */
char *test_cosign_sign_payload(const char *payload, const char *key_pem, bool ed25519);

/* Stores cosign's signature manifest in s: the empty config, payload as its
 * one simple-signing layer with sig_b64 in the layer's annotation. With
 * subject (the signed index's digest, subject_size its size) an OCI 1.1
 * referrer: cosign's artifactType, and the subject. *out: its descriptor
 * (with the artifact type of a referrer). 0 or -1. */
int test_cosign_put_manifest(struct oci_store *s, const char *payload, const char *sig_b64,
                             const char *subject, int64_t subject_size, struct oci_descriptor *out);

/* Stores the referrers index (OCI 1.1 tag schema) listing the signature
 * manifest man in s; *out: its descriptor. 0 or -1. */
int test_cosign_put_referrers(struct oci_store *s, const struct oci_descriptor *man,
                              struct oci_descriptor *out);

/* Untags the signature tag ref if the store has it, so that the next case
 * starts unsigned (untagging an absent tag is an error). */
void test_cosign_drop_tag(struct oci_store *s, const char *ref);

/* Signs the image index `digest` ("sha256:…") of repository `repo`
 * ("domain/path") with key_pem in cosign's legacy format: the signature
 * manifest tagged <repo>:sha256-<hex>.sig in the OCI store at store_dir.
 * 0, or -1 after saying why on stderr. */
int test_cosign_sign(const char *store_dir, const char *repo, const char *digest, const char *key_pem);

#endif
