/* The store handle, shared by store.c, store_lock.c, store_blob.c and store_gc.c. */
#ifndef SONDE_IMAGE_STORE_INTERNAL_H
#define SONDE_IMAGE_STORE_INTERNAL_H

#include "image/oci.h"

struct oci_store {
	char *dir;
	unsigned flags;
	int lock_fd;    /* index.json.lock while locked, else -1 */
	int lock_depth; /* nested oci_store_lock calls */
};

/* -EROFS (logged, naming `op`) for a read-only store. */
int oci_store_check_writable(const struct oci_store *s, const char *op);
/* index.json parsed; -EBADMSG (logged) if it is corrupt. */
int oci_store_read_index(struct oci_store *s, struct oci_index *idx);
/* Writes index.json by temp file + fsync + rename; caller holds the lock. */
int oci_store_write_index(struct oci_store *s, const struct oci_index *idx);
/* Writes data to dir/name through a temp file, fsync and rename (or link
 * when !replace: an existing file is then kept). */
int oci_write_file_atomic(const char *dir, const char *name, const void *data, size_t len, bool replace);

#endif
