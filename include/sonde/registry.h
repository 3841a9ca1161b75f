/* The registry client: pull and push gadget images between the local store
 * and an OCI distribution registry, and the credentials of the auth file.
 *
 * Transport: HTTPS with the peer verified (system CAs, or tls_ca_file, or
 * $SSL_CERT_FILE), plain HTTP only for the hosts in insecure_registries.
 * Auth: a bearer token from the registry's WWW-Authenticate challenge, or
 * basic auth, with the credentials of the docker-style auth file.
 */
#ifndef SONDE_REGISTRY_H
#define SONDE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sonde/image.h>

/* Defaults of the timeouts below: a registry that accepts the connection
 * but stops sending fails after the stall time, not never. */
#define SONDE_REGISTRY_CONNECT_TIMEOUT_MS 10000
#define SONDE_REGISTRY_STALL_TIMEOUT_MS   20000
/* Blobs larger than this are uploaded in PATCH chunks of this size. */
#define SONDE_REGISTRY_CHUNK_SIZE (16u << 20)

struct sonde_registry_opts {
	size_t sz; /* sizeof(struct sonde_registry_opts) */
	/* NULL: $REGISTRY_AUTH_FILE, else the default (sonde_registry_authfile_default) */
	const char *authfile;
	/* hosts ("127.0.0.1:5000") spoken to over plain HTTP; NULL-terminated */
	const char *const *insecure_registries;
	/* extra CA bundle (PEM) to verify registries with; NULL: $SSL_CERT_FILE or the system's */
	const char *tls_ca_file;
	/* a progress bar per blob on stderr, when stderr is a terminal */
	bool progress;
	/* 0: $SONDE_REGISTRY_TIMEOUT seconds, else SONDE_REGISTRY_CONNECT_TIMEOUT_MS */
	int connect_timeout_ms;
	/* no byte for this long fails the transfer; 0: $SONDE_REGISTRY_TIMEOUT
	 * seconds, else SONDE_REGISTRY_STALL_TIMEOUT_MS */
	int stall_timeout_ms;
	/* 0: SONDE_REGISTRY_CHUNK_SIZE */
	size_t chunk_size;
	/* pull/push only the image, not its signature tags */
	bool skip_signatures;
};

/* Pulls ref (normalised as sonde_image_ref_parse does) with its whole graph
 * (index, manifests, configs, layers) into the store and tags it; then, best
 * effort (a warning if it fails), its cosign signatures: the tag
 * sha256-<hex>.sig and the OCI 1.1 referrers of the index (tagged
 * <repo>:sha256-<hex> in the store). digest_out (may be NULL) gets the
 * digest of what ref points at. */
int sonde_image_pull(struct sonde_image_store *s, const char *ref, const struct sonde_registry_opts *opts,
                     char digest_out[72]);
/* Pushes ref from the store to its registry under the same reference, with
 * the signature tags of its digest the store has. digest_out (may be NULL)
 * gets the digest pushed. */
int sonde_image_push(struct sonde_image_store *s, const char *ref, const struct sonde_registry_opts *opts,
                     char digest_out[72]);

/* Checks user/password against the registry (host[:port], or a reference
 * whose domain is used), then stores them in the auth file (0600). */
int sonde_registry_login(const char *registry, const char *user, const char *password,
                         const struct sonde_registry_opts *opts);
/* Removes the registry's entry (all entries with all); -ENOENT if there was none. */
int sonde_registry_logout(const char *registry, bool all, const struct sonde_registry_opts *opts);

/* The auth file written by login: /var/lib/sonde/config.json for root, else
 * $XDG_CONFIG_HOME/sonde/config.json (~/.config/sonde/config.json);
 * $REGISTRY_AUTH_FILE overrides both. */
int sonde_registry_authfile_default(char *buf, size_t n);

#endif
