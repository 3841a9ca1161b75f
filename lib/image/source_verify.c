/* sonde_image_load's verification point: a store image is admitted by
 * --allowed-gadgets, then by its cosign signature (verify.c), both from the
 * local store and offline. */
#include <errno.h>

#include <sonde/image.h>
#include <sonde/log.h>

#include "image/source.h"
#include "image/verify.h"

int image_source_verify(struct oci_store *s, const char *ref, const struct oci_descriptor *index,
                        const struct sonde_image_source_opts *opts)
{
	struct sonde_image_ref r;
	char repo[800];
	int err;

	err = sonde_image_ref_parse(ref, &r);
	if (!err)
		err = sonde_image_ref_repository(&r, repo, sizeof(repo));
	if (err)
		return err;
	return verify_admit(s, ref, repo, index->digest, opts);
}

int image_source_local_allowed(const char *path, const struct sonde_image_source_opts *opts)
{
	if (!opts || !opts->allowed_gadgets || !opts->allowed_gadgets[0])
		return 0;
	sonde_err("%s: --allowed-gadgets admits only images from the store; a local directory or file has no "
	          "reference to check",
	          path);
	return -EPERM;
}
