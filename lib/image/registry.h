/* Inside the registry client: one HTTP client per (registry, repository),
 * the parsers of what a registry sends (WWW-Authenticate, error bodies) and
 * the docker-style auth file. */
#ifndef SONDE_IMAGE_REGISTRY_H
#define SONDE_IMAGE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <sonde/registry.h>

#include "image/oci.h"

/* ---- WWW-Authenticate (RFC 7235), registry_auth.c ---- */
enum registry_scheme {
	REGISTRY_AUTH_NONE = 0,
	REGISTRY_AUTH_BASIC,
	REGISTRY_AUTH_BEARER,
};

struct registry_challenge {
	enum registry_scheme scheme;
	char realm[1024];
	char service[256];
	char scope[512];
	char error[64]; /* "insufficient_scope", … ("" when absent) */
};

/* Parses a WWW-Authenticate value. Of several challenges in one value the
 * Bearer one wins (a token is what registries prefer), else Basic. Params
 * too long for their field are cut; unknown schemes and params are skipped.
 * -EINVAL when no Basic or Bearer challenge is there. Never logs. */
int registry_challenge_parse(const char *value, struct registry_challenge *out);

/* ---- error bodies and statuses, registry_error.c ---- */
/* What of an error body is kept (and parsed): registries send a few hundred bytes. */
#define REGISTRY_ERROR_BODY_MAX (64u << 10)
/* One line for a registry's error body: "CODE: message; CODE2: message2"
 * from a distribution-spec {"errors":[{code,message}]}, else the start of
 * the body as text; control bytes and invalid UTF-8 become '?'. Always
 * NUL-terminates out (n > 0); "" when the body says nothing. */
void registry_error_text(const char *body, size_t len, char *out, size_t n);
/* "not found", "too many requests", … for an HTTP status. */
const char *registry_status_text(long status);
/* -EACCES (401), -EPERM (403), -ENOENT (404), -EAGAIN (429), -EFBIG (413),
 * -EIO (5xx), -EPROTO (anything else). */
int registry_status_errno(long status);

/* ---- the auth file (docker config.json), authfile.c ---- */
struct registry_creds {
	char user[256];
	char password[512];
};

/* Which file to read: explicit (--authfile) if not NULL, else
 * $REGISTRY_AUTH_FILE, else the default; when neither the explicit nor the
 * env one is set and the default does not exist, docker's
 * $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
int authfile_read_path(const char *explicit_path, char *buf, size_t n);
/* Which file login and logout write: explicit, $REGISTRY_AUTH_FILE, default. */
int authfile_write_path(const char *explicit_path, char *buf, size_t n);
/* Credentials for host ("docker.io" is looked up as index.docker.io).
 * 0 and *found = false when the file or the entry does not exist; -EINVAL
 * (logged) for a file that is not an auth file. */
int authfile_lookup(const char *path, const char *host, struct registry_creds *out, bool *found);
/* Same lookup on the text of a file (for tests and the fuzzer). */
int authfile_lookup_text(const char *text, size_t len, const char *host, struct registry_creds *out,
                         bool *found);
/* Sets (creds) or removes (creds NULL; all: every entry) host's entry,
 * keeping whatever else the file holds; written 0600 to a temp file in the
 * same directory, then renamed. Removing an entry that is not there:
 * -ENOENT (not logged). */
int authfile_store(const char *path, const char *host, const struct registry_creds *creds, bool all);

/* ---- the HTTP client, registry.c ---- */
struct registry_client;

struct registry_response {
	long status;
	char content_type[128];
	char digest[OCI_DIGEST_LEN]; /* Docker-Content-Digest, "" if absent */
	char location[2048];
	char www_authenticate[2048];
};

/* A client for domain/repo (domain as in a reference: "ghcr.io",
 * "127.0.0.1:5000"; "docker.io" speaks to registry-1.docker.io). */
int registry_client_new(const char *domain, const char *repo, const struct sonde_registry_opts *opts,
                        struct registry_client **out);
void registry_client_free(struct registry_client *c);
const char *registry_client_repo(const struct registry_client *c);
/* Another repository of the same registry whose blobs a push may mount: its
 * pull scope is asked for with the next token. */
void registry_client_add_scope(struct registry_client *c, const char *scope);
/* Tokens are asked for pull only, unless this is called (a push). */
void registry_client_want_push(struct registry_client *c);
/* Credentials to use instead of the auth file's (login checks them). */
void registry_client_set_creds(struct registry_client *c, const struct registry_creds *creds);

/* GET /v2/: whether the registry answers and the credentials (if any) are
 * accepted; -EACCES (logged) when they are not. */
int registry_ping(struct registry_client *c, bool need_auth);

/* A manifest or index by tag or digest, at most OCI_MAX_DOCUMENT bytes,
 * with its sha256 checked against the digest asked for and the registry's
 * Docker-Content-Digest. -ENOENT (not logged when quiet_missing) for an
 * unknown one. *media_type: the document's mediaType, else Content-Type. */
int registry_get_manifest(struct registry_client *c, const char *ref, bool quiet_missing, void **body,
                          size_t *len, char digest_out[OCI_DIGEST_LEN], char media_type[128]);
/* OCI 1.1 referrers of digest: the index document; -ENOENT (not logged) when
 * the registry has no referrers API. */
int registry_get_referrers(struct registry_client *c, const char *digest, void **body, size_t *len);
/* Streams a blob into the store, verified by its digest and size. */
int registry_pull_blob(struct registry_client *c, struct oci_store *s, const struct oci_descriptor *d);

/* HEAD: 1 if the registry has the blob, 0 if not. */
int registry_blob_exists(struct registry_client *c, const char *digest);
/* Uploads a blob of the store (mount from `from` when not NULL, then
 * monolithic or chunked). *mounted (may be NULL) tells whether it was mounted. */
int registry_push_blob(struct registry_client *c, struct oci_store *s, const struct oci_descriptor *d,
                       const char *from, bool *mounted);
/* PUT /v2/<repo>/manifests/<ref>. */
int registry_put_manifest(struct registry_client *c, const char *ref, const char *media_type,
                          const void *body, size_t len);

/* ---- pull and push of whole graphs, registry_pull.c / registry_push.c ---- */
/* Whether opts (NULL: the defaults) say to leave the signature tags out;
 * opts->sz tells whether the caller's struct has the field. */
bool registry_opts_skip_signatures(const struct sonde_registry_opts *opts);
int registry_pull(struct oci_store *s, const struct sonde_image_ref *ref,
                  const struct sonde_registry_opts *opts, char digest_out[OCI_DIGEST_LEN]);
int registry_push(struct oci_store *s, const struct sonde_image_ref *ref,
                  const struct sonde_registry_opts *opts, char digest_out[OCI_DIGEST_LEN]);

/* ---- the progress bar, registry_progress.c ---- */
struct registry_progress;
/* NULL (no bar) unless enabled and stderr is a terminal. */
struct registry_progress *registry_progress_new(bool enabled, const char *verb, const char *digest,
                                                int64_t total);
void registry_progress_update(struct registry_progress *p, int64_t done);
void registry_progress_done(struct registry_progress *p, bool ok);

#endif
