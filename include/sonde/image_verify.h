/* Signatures and admission of gadget images (spec §1.8).
 *
 * Images are verified from the local store only, without the network: the
 * registry client stores an image's cosign signature artifacts when it pulls
 * it, under the tags <repo>:sha256-<hex>.sig (cosign's legacy format) and
 * <repo>:sha256-<hex> (the OCI 1.1 referrers tag schema); ig's bare tags
 * sha256-<hex>[.sig] and tagged referrers whose subject is the image count
 * too. Simple-signing payloads and sigstore bundles (DSSE) are understood. A
 * signature is good when one of the public keys verifies it and what it
 * signs names the digest of the image index. sonde_image_load() applies both checks to store images
 * (sonde_image_source_opts: skip_verify, public_keys, allowed_gadgets);
 * built-ins, directories and eBPF files are never verified.
 *
 * Public keys: PEM files, or PEM text as upstream's --public-keys takes it
 * ("-----BEGIN PUBLIC KEY-----…"); ECDSA, RSA or ed25519. A NULL list means
 * the default, Inspektor Gadget's official key, so images published by
 * upstream verify with no flag (as with ig); an empty list means no key, and
 * every verification fails with a message saying what to pass.
 */
#ifndef SONDE_IMAGE_VERIFY_H
#define SONDE_IMAGE_VERIFY_H

#include <sonde/image.h>

/* Inspektor Gadget's official cosign public key (PEM). */
extern const char sonde_image_upstream_public_key[];

/* Verifies the signature of `ref` (any form sonde_image_ref_parse reads) in
 * the store with `public_keys` (NULL-terminated; NULL: the default). 0 when
 * verified, with the index digest in digest_out (may be NULL); otherwise,
 * logged: -ENOENT (not in the store, or no signature), -ENOKEY (no key),
 * -EKEYREJECTED (no key verifies a signature), -EBADMSG (the signed payload
 * names another image, or a signature artifact is malformed). */
int sonde_image_verify(struct sonde_image_store *s, const char *ref, const char *const *public_keys,
                       char digest_out[72]);

/* --allowed-gadgets as upstream: with a non-empty list (NULL-terminated),
 * the normalised ref ("ghcr.io/…/trace_open:latest") or "<repository>@<digest>"
 * must equal an entry, or the normalised ref must start with an entry that
 * ends in '*' (the '*' left out). 0, or -EPERM (logged), or -EINVAL for a
 * malformed ref. */
int sonde_image_check_allowed(const char *ref, const char *digest, const char *const *allowed);

#endif
