/* Image admission inside lib/image: cosign signatures found in the local
 * store (spec §1.8) and the allowed-gadgets list. Both work offline: the
 * registry client pulls signature artifacts into the store beforehand. */
#ifndef SONDE_IMAGE_VERIFY_INTERNAL_H
#define SONDE_IMAGE_VERIFY_INTERNAL_H

#include "image/cosign.h"
#include "image/oci.h"

/* Local-store tags of an image's signature artifacts, for the index digest
 * "sha256:<hex>" of repository repo ("domain/path"):
 * legacy cosign   <repo>:sha256-<hex>.sig  (a manifest)
 * OCI 1.1 schema  <repo>:sha256-<hex>      (an index of referrers) */
int verify_legacy_tag(const char *repo, const char *digest, char *buf, size_t n);
int verify_referrers_tag(const char *repo, const char *digest, char *buf, size_t n);

/* Checks that the image index `digest` of `repo` carries a cosign signature
 * that one of keys verifies and whose payload names that digest. Every
 * signature found is tried (legacy first, then each referrer); the first good
 * one wins. `what` names the image in messages. Returns 0, or (logged):
 * -ENOKEY       keys is empty
 * -ENOENT       no signature artifact in the store
 * -EKEYREJECTED signatures exist but none verifies with the keys
 * -EBADMSG      a verified signature signs another image, or is malformed */
int verify_image_signature(struct oci_store *s, const char *repo, const char *digest,
                           const struct cosign_keys *keys, const char *what);

/* The keys to verify with: `specs` (PEM files or PEM text, NULL-terminated)
 * or, when specs is NULL, upstream's official key. An empty list gives an
 * empty set (verify_image_signature then refuses with -ENOKEY). */
int verify_load_keys(const char *const *specs, struct cosign_keys **out);

/* allowed-gadgets as upstream: with a non-empty list, the normalised ref or
 * "<repo>@<digest>" must equal an entry, or ref must start with an entry
 * ending in '*' (without the '*'). 0 or -EPERM (logged, listing the entries). */
int verify_allowed(const char *ref, const char *repo, const char *digest, const char *const *allowed);

struct sonde_image_source_opts;
/* What sonde_image_load checks on an image resolved from the store, before
 * anything is loaded: allowed-gadgets, then the signature with
 * opts->public_keys (or the one warning of opts->skip_verify). ref is the
 * normalised reference, repo its repository, digest the index digest. */
int verify_admit(struct oci_store *s, const char *ref, const char *repo, const char *digest,
                 const struct sonde_image_source_opts *opts);

#endif
