/* Building a struct sonde_loaded_gadget from any source: the store loader
 * (load.c), the directory builder and the registry fill one the same way. */
#ifndef SONDE_IMAGE_LOADED_H
#define SONDE_IMAGE_LOADED_H

#include <stdbool.h>
#include <stddef.h>

#include <sonde/image.h>

#include "image/oci.h"

/* An empty gadget named `name` (messages, "gadget NAME: running") that came
 * from `origin`; NULL on allocation failure. */
struct sonde_loaded_gadget *loaded_gadget_new(const char *name, const char *origin);
/* Both take ownership of data (malloc'ed), also on failure. */
int loaded_gadget_set_config(struct sonde_loaded_gadget *g, void *data, size_t len);
int loaded_gadget_add_layer(struct sonde_loaded_gadget *g, const char *media_type, void *data, size_t len);

/* ref in the store: by its tag, or for name@digest by the content with that
 * digest (any tag or none). -ENOENT, not logged, when absent. */
int image_store_resolve(struct oci_store *s, const char *ref, struct oci_descriptor *out);

/* Whether the ref.name a tool stored names the full normalised ref. */
bool image_ref_same(const char *stored, const char *full);

/* The gadget of `ref` (a full normalised reference) in store s for arch
 * (NULL: this machine's): index → manifest for arch → config → layers, every
 * blob verified. The manifest's bytes and the resolved index descriptor
 * are returned when asked for (manifest_out malloc'ed, may be NULL). */
int image_load_from_store(struct oci_store *s, const char *ref, const char *arch,
                          struct sonde_loaded_gadget **out, char **manifest_out,
                          struct oci_descriptor *index_out);

#endif
