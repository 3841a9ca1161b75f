/* Hook: allowed-gadgets and signature checks before a stored image runs.
 * Stub until the verifier (helper img-verify) replaces this file. */
#include "image/source.h"

int image_source_verify(struct oci_store *s, const char *ref, const struct oci_descriptor *index,
                        const struct sonde_image_source_opts *opts)
{
	(void)s;
	(void)ref;
	(void)index;
	(void)opts;
	return 0;
}
