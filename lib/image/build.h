/* Inside lib/image: assembling gadget images in memory (build, export of
 * built-ins, sonde run DIR) and building a source directory. */
#ifndef SONDE_IMAGE_BUILD_INTERNAL_H
#define SONDE_IMAGE_BUILD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <sonde/image_build.h>

#include "image/oci.h"

/* ---- assembly (assemble.c) ---- */

/* One architecture's eBPF object; data NULL: a manifest without eBPF layer. */
struct build_object {
	const char *arch;
	const void *data;
	size_t len;
};

struct build_inputs {
	const char *config; /* gadget.yaml bytes; NULL: the empty config */
	size_t config_len;
	const void *wasm; /* NULL: no wasm layer */
	size_t wasm_len;
	const struct build_object *objects; /* at least one */
	size_t nobjects;
	const char *created; /* RFC 3339 (build_created_now) */
};

struct build_blob {
	char digest[OCI_DIGEST_LEN];
	void *data; /* owned */
	size_t len;
};

/* An image in memory: its blobs (documents, config, layers; each once) and
 * the index descriptor that names it. */
struct build_image {
	struct build_blob *blobs;
	size_t nblobs;
	struct oci_descriptor index;
};

/* Index, manifests (sorted by arch), config and layers (ebpf, wasm) with
 * upstream's media types and annotations (spec §1.2, §1.3). Deterministic:
 * the same inputs give the same digests. */
int build_image_assemble(const struct build_inputs *in, struct build_image *out);
/* The image of a built-in gadget (its object for this machine's arch). */
int build_image_builtin(const char *name, const char *created, struct build_image *out);
/* Puts every blob into the store (existing ones are kept). The caller
 * tags img->index; taking the store lock around both is the caller's. */
int build_image_put(struct oci_store *s, const struct build_image *img);
const struct build_blob *build_image_blob(const struct build_image *img, const char *digest);
void build_image_clear(struct build_image *img);

/* "created" for a build now: SOURCE_DATE_EPOCH when set (-EINVAL, logged,
 * if it is not a number), else the current time, as UTC RFC 3339. */
int build_created_now(char buf[64]);
/* The builder-version annotation Sonde writes. */
#define BUILD_BUILDER_VERSION_PREFIX "sonde "

/* ---- build.yaml (build_yaml.c) ---- */
struct build_file {
	char ebpfsource[4096]; /* absolute or relative to the gadget dir */
	char metadata[4096];
	char wasm[4096]; /* "" when unset */
};
/* Reads path (NULL or missing with `optional`: the defaults). */
int build_file_read(const char *path, bool optional, struct build_file *out);

/* ---- building a directory (build.c) ---- */

/* Compiles dir for opts->archs and assembles the image, storing nothing
 * (sonde run DIR uses it with the host's arch only). */
int build_dir(const struct sonde_image_build_opts *opts, struct build_image *out);

#endif
