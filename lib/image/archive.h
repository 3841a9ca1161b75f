/* Inside lib/image: the import of sonde/image_archive.h from an open
 * stream (the fuzz target feeds it memory). */
#ifndef SONDE_IMAGE_ARCHIVE_INTERNAL_H
#define SONDE_IMAGE_ARCHIVE_INTERNAL_H

#include <stddef.h>
#include <stdio.h>

/* sonde_image_import reading the archive from f; `what` names it in
 * messages. */
int archive_import(const char *store_dir, FILE *f, const char *what, char ***tags, size_t *ntags);

#endif
