/* The pull hook of sonde_image_load: `sonde run REF` pulls per --pull
 * (always, or missing and the store lacks REF) with the run's auth file and
 * insecure registries, progress bars on a terminal. */
#include <errno.h>

#include <sonde/registry.h>

#include "image/source.h"

int image_source_pull(const char *store_dir, const char *ref, const struct sonde_image_source_opts *opts)
{
	struct sonde_registry_opts ro = {
	    .sz = sizeof(ro),
	    .authfile = opts->authfile,
	    .insecure_registries = opts->insecure_registries,
	    .progress = true,
	};
	struct sonde_image_store *s = NULL;
	int err;

	err = sonde_image_store_open(store_dir, false, &s);
	if (err)
		return err;
	err = sonde_image_pull(s, ref, &ro, NULL);
	sonde_image_store_close(s);
	return err;
}
