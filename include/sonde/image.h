/* Gadget images: references, the local OCI store, and turning "what the user
 * named" (a built-in, a reference, a directory, an eBPF object) into the
 * engine's struct sonde_gadget_image.
 *
 * The registry client (sonde/registry.h), the builder (sonde/image_build.h),
 * archives (sonde/image_archive.h) and signatures (sonde/image_verify.h) work
 * on the same store handle.
 */
#ifndef SONDE_IMAGE_H
#define SONDE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sonde/gadget.h>

/* ---- references (spec §1.4) ---- */
#define SONDE_IMAGE_DEFAULT_DOMAIN "ghcr.io"
#define SONDE_IMAGE_DEFAULT_PREFIX "inspektor-gadget/gadget/"

struct sonde_image_ref {
	char domain[256];     /* "ghcr.io", "localhost:5000" */
	char path[512];       /* "inspektor-gadget/gadget/trace_open" */
	char tag[129];        /* "latest" unless given; "" with a digest only */
	char digest[72];      /* "sha256:…" or "" */
};

/* Parses and normalises a reference as upstream does: a first component is a
 * domain only if it has '.' or ':' or is "localhost"; otherwise ghcr.io, and
 * a single-component name gets inspektor-gadget/gadget/ in front; no tag and
 * no digest mean "latest". -EINVAL (logged) for a malformed reference. */
int sonde_image_ref_parse(const char *s, struct sonde_image_ref *out);
/* "domain/path:tag", or "domain/path@digest" when there is no tag. */
int sonde_image_ref_format(const struct sonde_image_ref *r, char *buf, size_t n);
/* "domain/path" (the repository). */
int sonde_image_ref_repository(const struct sonde_image_ref *r, char *buf, size_t n);

/* ---- the local store ---- */
struct sonde_image_store;

/* /var/lib/sonde/oci-store for root, else $XDG_DATA_HOME/sonde/oci-store
 * (~/.local/share/sonde/oci-store). */
int sonde_image_store_default_dir(char *buf, size_t n);
/* dir NULL: the default. Read-only never creates nor writes anything. */
int sonde_image_store_open(const char *dir, bool read_only, struct sonde_image_store **out);
void sonde_image_store_close(struct sonde_image_store *s);
const char *sonde_image_store_dir(const struct sonde_image_store *s);

struct sonde_image_info {
	char ref[1024];       /* full normalised reference */
	char repository[800]; /* as listed: ghcr.io/inspektor-gadget/gadget/ stripped */
	char tag[129];
	char digest[72];      /* of the index */
	char created[64];     /* RFC 3339 from the annotations, "" if absent */
};
/* Every gadget image of the store (signature and referrer tags left out). */
int sonde_image_list(struct sonde_image_store *s, struct sonde_image_info **out, size_t *n);
int sonde_image_tag(struct sonde_image_store *s, const char *src, const char *dst);
/* Untags; when no other tag points at the same index, collects its blobs. */
int sonde_image_remove(struct sonde_image_store *s, const char *ref);
/* A JSON document (malloc'ed text) describing the image without loading it:
 * manifest, metadata, DataSources and fields, params, programs and maps. */
int sonde_image_inspect(struct sonde_image_store *s, const char *ref, char **json_out);

/* ---- gadgets from any source ---- */
enum sonde_pull_policy {
	SONDE_PULL_MISSING = 0, /* pull if the store does not have it (default) */
	SONDE_PULL_ALWAYS,
	SONDE_PULL_NEVER,
};

struct sonde_image_source_opts {
	size_t sz;                    /* sizeof(struct sonde_image_source_opts) */
	const char *store_dir;        /* NULL: the default store */
	enum sonde_pull_policy pull;
	const char *config_path;      /* gadget.yaml for a bare eBPF object */
	const char *arch;             /* NULL: this machine's */
	const char *authfile;         /* NULL: the default */
	const char *const *insecure_registries; /* NULL-terminated, or NULL */
	bool skip_verify;             /* --verify-image=false */
	const char *const *public_keys;     /* PEM files, NULL-terminated */
	const char *const *allowed_gadgets; /* NULL-terminated; entries may end in '*' */
};

/* A gadget image whose memory it owns (layers read from the store, a
 * directory built on the fly, a file read, or a built-in). */
struct sonde_loaded_gadget;

/* Resolves `what` in this order: the name of a built-in (offline, never
 * pulled); an existing directory (built, nothing stored); an existing file
 * (an eBPF object, with opts->config_path as its gadget.yaml); otherwise an
 * image reference in the store, pulled per opts->pull, checked against
 * allowed_gadgets and its signature. */
int sonde_image_load(const char *what, const struct sonde_image_source_opts *opts,
                     struct sonde_loaded_gadget **out);
const struct sonde_gadget_image *sonde_loaded_gadget_image(const struct sonde_loaded_gadget *g);
/* Where it came from, for messages: "built-in", a reference@digest, a path. */
const char *sonde_loaded_gadget_origin(const struct sonde_loaded_gadget *g);
void sonde_loaded_gadget_free(struct sonde_loaded_gadget *g);

#endif
