/* Hook: build a gadget directory on the fly. Stub until the builder
 * (helper img-build) replaces this file. */
#include <errno.h>

#include <sonde/log.h>

#include "image/source.h"

int image_source_build_dir(const char *dir, const struct sonde_image_source_opts *opts,
                           struct sonde_loaded_gadget **out)
{
	(void)opts;
	*out = NULL;
	sonde_err("%s is a directory: building gadgets is not available in this build", dir);
	return -ENOTSUP;
}
