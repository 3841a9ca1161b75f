/* open(2) flags → "O_WRONLY|O_CREAT|O_TRUNC". */
#ifndef SONDE_FORMAT_FILE_FLAGS_H
#define SONDE_FORMAT_FILE_FLAGS_H

#include <stddef.h>
#include <stdint.h>

/* Every name at once, separators included, fits. */
#define FMT_FILE_FLAGS_MAX 192

/* The gadget_file_flags rendering: the access mode (O_RDONLY, O_WRONLY or
 * O_RDWR; none for the invalid mode 3), then every set flag in a fixed order,
 * joined by '|'. Bits without a name are left out. Returns the length. */
size_t fmt_file_flags(uint32_t flags, char *buf, size_t cap);

#endif
