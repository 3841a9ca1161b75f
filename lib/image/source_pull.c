/* Hook: pull an image from its registry into the store. Stub until the
 * registry client (helper img-registry) replaces this file. */
#include <errno.h>

#include "image/source.h"

int image_source_pull(const char *store_dir, const char *ref, const struct sonde_image_source_opts *opts)
{
	(void)store_dir;
	(void)ref;
	(void)opts;
	return -ENOTSUP;
}
