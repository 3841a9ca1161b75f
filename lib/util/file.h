/* Reading small files (proc, config, state) whole. */
#ifndef SONDE_UTIL_FILE_H
#define SONDE_UTIL_FILE_H

#include <stddef.h>

/* Reads all of path into a malloc'ed, NUL-terminated *out (*len bytes
 * without the NUL; len may be NULL). Files that do not end in one read (proc)
 * are read until EOF. -EFBIG past max bytes, else 0 or -errno; *out is NULL
 * on failure. */
int util_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
