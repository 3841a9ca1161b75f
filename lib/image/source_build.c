/* Hook of sonde_image_load: `sonde run DIR` builds the directory for this
 * machine's architecture (or opts->arch) in memory and runs that; nothing
 * is stored. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "image/build.h"
#include "image/loaded.h"
#include "image/source.h"

static void on_progress(const char *step, void *arg)
{
	sonde_log(SONDE_LOG_INFO, "%s: %s", (const char *)arg, step);
}

/* A copy of blob `digest` of img, for the loaded gadget to own. */
static void *blob_copy(const struct build_image *img, const char *digest, size_t *len)
{
	const struct build_blob *b = build_image_blob(img, digest);
	void *copy = b ? malloc(b->len ? b->len : 1) : NULL;

	if (!copy)
		return NULL;
	memcpy(copy, b->data, b->len);
	*len = b->len;
	return copy;
}

int image_source_build_dir(const char *dir, const struct sonde_image_source_opts *opts,
                           struct sonde_loaded_gadget **out)
{
	const char *arch = opts && opts->arch ? opts->arch : oci_host_arch();
	const char *archs[] = {arch, NULL};
	struct sonde_image_build_opts bo = {.sz = sizeof(bo),
	                                    .dir = dir,
	                                    .archs = archs,
	                                    .progress = on_progress,
	                                    .progress_arg = (void *)dir};
	struct build_image img;
	struct oci_index idx = {0};
	struct oci_manifest m = {0};
	struct sonde_loaded_gadget *g = NULL;
	const struct build_blob *b;
	char real[PATH_MAX], *name;
	void *data;
	size_t len;
	int err;

	*out = NULL;
	err = build_dir(&bo, &img);
	if (err < 0)
		return err;
	b = build_image_blob(&img, img.index.digest);
	err = oci_index_parse(b->data, b->len, &idx);
	if (!err && idx.nmanifests == 1 && (b = build_image_blob(&img, idx.manifests[0].digest)))
		err = oci_manifest_parse(b->data, b->len, &m);
	else if (!err)
		err = -EINVAL;
	if (err < 0)
		goto out;
	if (!realpath(dir, real))
		snprintf(real, sizeof(real), "%s", dir);
	name = strrchr(real, '/');
	g = loaded_gadget_new(name && name[1] ? name + 1 : real, dir);
	if (!g) {
		err = -ENOMEM;
		goto out;
	}
	if (!strcmp(m.config.media_type, GADGET_MT_CONFIG)) {
		data = blob_copy(&img, m.config.digest, &len);
		err = data ? loaded_gadget_set_config(g, data, len) : -ENOMEM;
	}
	for (size_t i = 0; !err && i < m.nlayers; i++) {
		data = blob_copy(&img, m.layers[i].digest, &len);
		err = data ? loaded_gadget_add_layer(g, m.layers[i].media_type, data, len) : -ENOMEM;
	}
	if (!err) {
		*out = g;
		g = NULL;
	}
out:
	sonde_loaded_gadget_free(g);
	oci_manifest_clear(&m);
	oci_index_clear(&idx);
	build_image_clear(&img);
	return err;
}
