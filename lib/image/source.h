/* The places where other image modules plug into sonde_image_load. Each
 * hook lives in its own file (source_build.c, source_pull.c,
 * source_verify.c) whose stub the module replaces. */
#ifndef SONDE_IMAGE_SOURCE_H
#define SONDE_IMAGE_SOURCE_H

#include <sonde/image.h>

#include "image/oci.h"

/* A gadget directory (program.bpf.c, gadget.yaml, build.yaml …) built on
 * the fly into *out; nothing is stored. -ENOTSUP (logged) when this build
 * cannot build. */
int image_source_build_dir(const char *dir, const struct sonde_image_source_opts *opts,
                           struct sonde_loaded_gadget **out);

/* Pulls ref (full normalised reference) from its registry into the store at
 * store_dir (the hook opens it for writing and takes its lock). Called when
 * the policy asks: always, or missing and the store lacks ref. -ENOTSUP,
 * not logged, when this build has no registry client. */
int image_source_pull(const char *store_dir, const char *ref, const struct sonde_image_source_opts *opts);

/* Checks the image ref, resolved to index, against opts->allowed_gadgets
 * and its signature (opts->public_keys, skip_verify), from the local store.
 * 0 to go on; else an error already logged. */
int image_source_verify(struct oci_store *s, const char *ref, const struct oci_descriptor *index,
                        const struct sonde_image_source_opts *opts);

#endif
