/* Gadget images assembled in memory: the OCI object graph of upstream's
 * `ig image build` (spec §1.2, §1.3), written once here for the builder, the
 * export of built-in gadgets and `sonde run DIR`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sonde/config.h>
#include <sonde/gadget.h>
#include <sonde/log.h>
#include <sonde/sonde.h>

#include "image/build.h"
#include "util/array.h"

int build_created_now(char buf[64])
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	time_t t;
	struct tm tm;

	if (sde && *sde) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(sde, &end, 10);
		if (errno || *end || v < 0 || v > 253402300799LL) {
			sonde_err("SOURCE_DATE_EPOCH=\"%s\" is not a time in seconds since 1970", sde);
			return -EINVAL;
		}
		t = (time_t)v;
	} else {
		t = time(NULL);
	}
	gmtime_r(&t, &tm);
	strftime(buf, 64, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return 0;
}

const struct build_blob *build_image_blob(const struct build_image *img, const char *digest)
{
	for (size_t i = 0; i < img->nblobs; i++)
		if (!strcmp(img->blobs[i].digest, digest))
			return &img->blobs[i];
	return NULL;
}

/* Adds a copy of data as a blob (once per digest) and fills desc. */
static int add_blob(struct build_image *img, const char *media_type, const void *data, size_t len,
                    struct oci_descriptor *desc)
{
	struct build_blob b = {0};

	memset(desc, 0, sizeof(*desc));
	snprintf(desc->media_type, sizeof(desc->media_type), "%s", media_type);
	oci_digest_of(data, len, desc->digest);
	desc->size = (int64_t)len;
	if (build_image_blob(img, desc->digest))
		return 0;
	b.data = malloc(len ? len : 1);
	if (!b.data)
		return -ENOMEM;
	memcpy(b.data, data, len);
	b.len = len;
	memcpy(b.digest, desc->digest, sizeof(b.digest));
	if (append_array(&img->blobs, &img->nblobs, &b, sizeof(b)) < 0) {
		free(b.data);
		return -ENOMEM;
	}
	return 0;
}

/* A document (manifest, index) as a blob. */
static int add_document(struct build_image *img, const char *media_type, json_t *doc,
                        struct oci_descriptor *desc)
{
	size_t len;
	char *text = doc ? oci_json_dump(doc, &len) : NULL;
	int err;

	if (!text)
		return -ENOMEM;
	err = add_blob(img, media_type, text, len, desc);
	free(text);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Annotations of spec §1.3 with keys sorted (as Go writes maps), so the
 * digests do not depend on the order gadget.yaml lists them in. */
static int annotations(const struct build_inputs *in, json_t **out)
{
	static const char *const from_yaml[][2] = {
	    {OCI_ANN_TITLE, "name"},       {OCI_ANN_DESCRIPTION, "description"},
	    {OCI_ANN_URL, "homepageURL"},  {OCI_ANN_DOCS, "documentationURL"},
	    {OCI_ANN_SOURCE, "sourceURL"},
	};
	json_t *all = json_object(), *sorted = json_object();
	struct sonde_config *cfg = NULL;
	const char **keys = NULL;
	size_t nkeys = 0;
	const char *k;
	json_t *v;
	int err = -ENOMEM;

	if (!all || !sorted)
		goto out;
	json_object_set_new(all, OCI_ANN_CREATED, json_string(in->created));
	if (in->config) {
		char why[256] = "";
		struct sonde_config *extra;

		cfg = sonde_config_parse(in->config, in->config_len, why, sizeof(why));
		if (!cfg) {
			sonde_err("gadget.yaml: %s", why);
			err = -EINVAL;
			goto out;
		}
		for (size_t i = 0; i < sizeof(from_yaml) / sizeof(from_yaml[0]); i++) {
			const char *val = sonde_config_str(cfg, from_yaml[i][1], NULL);

			if (val && *val)
				json_object_set_new(all, from_yaml[i][0], json_string(val));
		}
		json_object_set_new(all, GADGET_ANN_BUILDER,
		                    json_string(BUILD_BUILDER_VERSION_PREFIX SONDE_VERSION));
		extra = sonde_config_get(cfg, "annotations");
		if (extra && sonde_config_type(extra) == SONDE_CONFIG_MAP)
			for (size_t i = 0; i < sonde_config_len(extra); i++) {
				const char *val = sonde_config_scalar(sonde_config_value_at(extra, i));

				if (!val) {
					sonde_err("gadget.yaml: annotation \"%s\" is not a string",
					          sonde_config_key_at(extra, i));
					err = -EINVAL;
					goto out;
				}
				json_object_set_new(all, sonde_config_key_at(extra, i), json_string(val));
			}
	}
	keys = calloc(json_object_size(all) + 1, sizeof(*keys));
	if (!keys)
		goto out;
	json_object_foreach(all, k, v) keys[nkeys++] = k;
	qsort(keys, nkeys, sizeof(*keys), cmp_str);
	for (size_t i = 0; i < nkeys; i++)
		json_object_set(sorted, keys[i], json_object_get(all, keys[i]));
	*out = sorted;
	sorted = NULL;
	err = 0;
out:
	free(keys);
	json_decref(all);
	json_decref(sorted);
	sonde_config_free(cfg);
	return err;
}

static int cmp_object(const void *a, const void *b)
{
	return strcmp(((const struct build_object *)a)->arch, ((const struct build_object *)b)->arch);
}

int build_image_assemble(const struct build_inputs *in, struct build_image *out)
{
	struct build_object *objs = NULL;
	struct oci_index idx = {0};
	json_t *ann = NULL, *doc = NULL;
	int err;

	memset(out, 0, sizeof(*out));
	if (!in->nobjects) {
		sonde_err("an image needs at least one architecture");
		return -EINVAL;
	}
	err = annotations(in, &ann);
	if (err < 0)
		return err;
	objs = calloc(in->nobjects, sizeof(*objs));
	idx.manifests = calloc(in->nobjects, sizeof(*idx.manifests));
	if (!objs || !idx.manifests) {
		err = -ENOMEM;
		goto out;
	}
	memcpy(objs, in->objects, in->nobjects * sizeof(*objs));
	qsort(objs, in->nobjects, sizeof(*objs), cmp_object);
	for (size_t i = 0; i < in->nobjects; i++) {
		struct oci_manifest m = {0};
		struct oci_descriptor layers[2];
		struct oci_descriptor *md = &idx.manifests[idx.nmanifests];

		if (i && !strcmp(objs[i].arch, objs[i - 1].arch)) {
			sonde_err("architecture %s given twice", objs[i].arch);
			err = -EINVAL;
			goto out;
		}
		m.schema_version = 2;
		snprintf(m.media_type, sizeof(m.media_type), "%s", OCI_MT_MANIFEST);
		snprintf(m.artifact_type, sizeof(m.artifact_type), "%s", GADGET_ARTIFACT_TYPE);
		if (in->config)
			err = add_blob(out, GADGET_MT_CONFIG, in->config, in->config_len, &m.config);
		else
			err = add_blob(out, OCI_MT_EMPTY, "{}", 2, &m.config);
		if (err < 0)
			goto out;
		m.config.annotations = json_deep_copy(ann);
		m.layers = layers;
		if (objs[i].data) {
			err = add_blob(out, GADGET_MT_EBPF, objs[i].data, objs[i].len, &layers[m.nlayers++]);
			if (err < 0)
				goto manifest_done;
		}
		if (in->wasm) {
			err = add_blob(out, GADGET_MT_WASM, in->wasm, in->wasm_len, &layers[m.nlayers++]);
			if (err < 0)
				goto manifest_done;
		}
		m.annotations = json_deep_copy(ann);
		doc = oci_manifest_to_json(&m);
		err = add_document(out, OCI_MT_MANIFEST, doc, md);
		json_decref(doc);
		doc = NULL;
		if (err < 0)
			goto manifest_done;
		idx.nmanifests++;
		snprintf(md->arch, sizeof(md->arch), "%s", objs[i].arch);
		snprintf(md->os, sizeof(md->os), "linux");
		md->annotations = json_deep_copy(ann);
	manifest_done:
		/* layers[] is on the stack: only the JSON parts are the manifest's */
		for (size_t l = 0; l < m.nlayers; l++)
			oci_descriptor_clear(&layers[l]);
		oci_descriptor_clear(&m.config);
		json_decref(m.annotations);
		if (err < 0)
			goto out;
	}
	idx.schema_version = 2;
	snprintf(idx.media_type, sizeof(idx.media_type), "%s", OCI_MT_INDEX);
	idx.annotations = json_deep_copy(idx.manifests[0].annotations);
	doc = oci_index_to_json(&idx);
	err = add_document(out, OCI_MT_INDEX, doc, &out->index);
	if (!err)
		out->index.annotations = json_deep_copy(idx.annotations);
out:
	json_decref(doc);
	json_decref(ann);
	oci_index_clear(&idx);
	free(objs);
	if (err < 0)
		build_image_clear(out);
	return err;
}

int build_image_builtin(const char *name, const char *created, struct build_image *out)
{
	const struct sonde_gadget_image *g = sonde_builtin_gadget(name);
	struct build_object obj = {.arch = oci_host_arch()};
	struct build_inputs in = {.objects = &obj, .nobjects = 1, .created = created};

	if (!g) {
		sonde_err("no built-in gadget \"%s\"", name);
		return -ENOENT;
	}
	in.config = g->config_yaml;
	in.config_len = g->config_len;
	for (size_t i = 0; i < g->nlayers; i++) {
		if (!strcmp(g->layers[i].media_type, GADGET_MT_EBPF)) {
			obj.data = g->layers[i].data;
			obj.len = g->layers[i].len;
		} else if (!strcmp(g->layers[i].media_type, GADGET_MT_WASM)) {
			in.wasm = g->layers[i].data;
			in.wasm_len = g->layers[i].len;
		}
	}
	return build_image_assemble(&in, out);
}

int build_image_put(struct oci_store *s, const struct build_image *img)
{
	for (size_t i = 0; i < img->nblobs; i++) {
		int err;

		if (oci_blob_exists(s, img->blobs[i].digest))
			continue;
		err = oci_blob_put_verified(s, img->blobs[i].digest, img->blobs[i].data, img->blobs[i].len);
		if (err < 0)
			return err;
	}
	return 0;
}

void build_image_clear(struct build_image *img)
{
	for (size_t i = 0; i < img->nblobs; i++)
		free(img->blobs[i].data);
	free(img->blobs);
	oci_descriptor_clear(&img->index);
	memset(img, 0, sizeof(*img));
}
