/* Signing images in a test the way `cosign sign --key` does (cosign's legacy
 * format), with the openssl tool: what Sonde's verifier must accept. */
#ifndef SONDE_TEST_COSIGN_SIGN_H
#define SONDE_TEST_COSIGN_SIGN_H

/* An ECDSA P-256 key pair in dir: key.pem (private) and pub.pem. 0 or -1. */
int test_cosign_make_key(const char *dir);

/* Signs the image index `digest` ("sha256:…") of repository `repo`
 * ("domain/path") with key_pem: a simple-signing payload naming the digest,
 * its ECDSA signature (base64) in the annotation of the one layer of a
 * manifest tagged <repo>:sha256-<hex>.sig in the OCI store at store_dir.
 * 0, or -1 after saying why on stderr. */
int test_cosign_sign(const char *store_dir, const char *repo, const char *digest, const char *key_pem);

#endif
