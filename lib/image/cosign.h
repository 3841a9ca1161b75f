/* cosign signatures (spec §1.8): public keys, the signature check and the
 * simple-signing payload. Finding the signature artifacts in the store is
 * verify.c's business; this file only knows bytes and keys. */
#ifndef SONDE_IMAGE_COSIGN_H
#define SONDE_IMAGE_COSIGN_H

#include <stdbool.h>
#include <stddef.h>

/* The payload type cosign writes in critical.type. */
#define COSIGN_PAYLOAD_TYPE "cosign container image signature"

/* A set of public keys; a signature is good if any of them verifies it. */
struct cosign_keys;

struct cosign_keys *cosign_keys_new(void);
void cosign_keys_free(struct cosign_keys *k);
size_t cosign_keys_count(const struct cosign_keys *k);
/* Adds every PUBLIC KEY block of PEM text (ECDSA, RSA or ed25519, PKIX);
 * -EINVAL (logged, naming `what`) if it holds none or a block is not a key. */
int cosign_keys_add_pem(struct cosign_keys *k, const char *pem, size_t len, const char *what);
/* `spec` is PEM text (starts with "-----BEGIN") or the path of a PEM file:
 * upstream takes key contents, Sonde's --public-keys also takes files. */
int cosign_keys_add(struct cosign_keys *k, const char *spec);

/* Standard base64 (whitespace ignored) into a malloc'ed buffer; -EINVAL if
 * it is not base64. */
int cosign_base64_decode(const char *text, unsigned char **out, size_t *len);

/* 0 if any key verifies sig over payload (SHA-256; ed25519 signs the payload
 * itself), -EKEYREJECTED otherwise. Logs nothing: the caller knows which
 * artifact it was checking. */
int cosign_verify_signature(const struct cosign_keys *k, const void *payload, size_t plen,
                            const unsigned char *sig, size_t siglen);

/* Parses a simple-signing payload (call only after its signature verified)
 * and checks that it signs `digest`: critical.type is cosign's and
 * critical.image.docker-manifest-digest equals digest. 0, or -EBADMSG with a
 * reason in err. */
int cosign_payload_check(const void *payload, size_t len, const char *digest, char *err, size_t errlen);

/* ---- sigstore bundles (cosign sign --new-bundle-format) ---- */
#define COSIGN_MT_BUNDLE "application/vnd.dev.sigstore.bundle.v0.3+json"

/* What a bundle's DSSE envelope signs and says. */
struct cosign_dsse {
	unsigned char *sig; /* the one signature */
	size_t siglen;
	unsigned char *signed_data; /* PAE(payloadType, payload): what sig signs */
	size_t signed_len;
	unsigned char *payload; /* the in-toto statement */
	size_t plen;
};
/* Reads a sigstore bundle (protobuf JSON) whose DSSE envelope has exactly
 * one signature. 0, or -EBADMSG with a reason in err. */
int cosign_bundle_parse(const void *data, size_t len, struct cosign_dsse *out, char *err, size_t errlen);
void cosign_dsse_clear(struct cosign_dsse *d);
/* The in-toto statement of a verified bundle: its first subject must name
 * digest ("sha256:<hex>" equal to "<alg>:<value>" of one of its digests).
 * 0, or -EBADMSG with a reason in err. */
int cosign_statement_check(const void *payload, size_t len, const char *digest, char *err, size_t errlen);

#endif
