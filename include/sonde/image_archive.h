/* OCI archives: images of the store (and built-in gadgets) written to a tar
 * holding a standard OCI image layout, as upstream's `ig image export`
 * writes and `ig image import` reads; and read back into a store. */
#ifndef SONDE_IMAGE_ARCHIVE_H
#define SONDE_IMAGE_ARCHIVE_H

#include <stddef.h>

/* Caps of an import: a tar bomb stops here, not at the disk's end. */
#define SONDE_ARCHIVE_MAX_TOTAL   (1ull << 30) /* all members together */
#define SONDE_ARCHIVE_MAX_MEMBERS 65536

/* Writes refs (references of the store, or built-in gadget names, which are
 * exported as images assembled from their object and gadget.yaml and tagged
 * with their normalised name) to file, replaced atomically. The layout's
 * index.json lists every tag sorted by digest, with its
 * org.opencontainers.image.ref.name; cosign signature tags of the images go
 * along. Every member's mtime is the newest "created" of the images, so the
 * same images give the same bytes. store_dir NULL: the default store. */
int sonde_image_export(const char *store_dir, const char *const *refs, size_t nrefs, const char *file);

/* Imports every tag of the archive into the store: each blob verified by its
 * digest, then every tag's graph checked complete, then all tags set under
 * the store lock. On any error the store is as before (new blobs removed,
 * no tag set). *tags (may be NULL) gets the imported tags but the cosign
 * ".sig" ones, malloc'ed (sonde_image_import_tags_free). */
int sonde_image_import(const char *store_dir, const char *file, char ***tags, size_t *ntags);
void sonde_image_import_tags_free(char **tags, size_t ntags);

#endif
