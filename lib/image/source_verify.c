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
	/* an image `sonde image build` made here has no signature to check,
	 * but --allowed-gadgets still applies */
	if (oci_descriptor_annotation(index, SONDE_ANN_BUILT_HERE))
		return verify_allowed(ref, repo, index->digest, opts ? opts->allowed_gadgets : NULL);
	err = verify_admit(s, ref, repo, index->digest, opts);
	/* no signature is a refusal, not a missing image: callers tell the
	 * two apart by -ENOENT (e.g. to list the built-ins) */
	return err == -ENOENT ? -EPERM : err;
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
