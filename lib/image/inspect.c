/* sonde_image_inspect: what an image holds, without loading anything into
 * the kernel: the OCI documents, gadget.yaml, the programs and maps of the
 * eBPF object (libbpf open only), and the DataSources and params the engine
 * derives ("get gadget info": instantiate, read, free). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include <sonde/image.h>
#include <sonde/log.h>
#include <sonde/operator.h>

#include "image/loaded.h"
#include "image/oci.h"

static json_t *ebpf_info(const struct sonde_gadget_image *img, json_t **maps_out)
{
	*maps_out = NULL;
	const struct sonde_layer *l = NULL;
	for (size_t i = 0; i < img->nlayers; i++)
		if (!strcmp(img->layers[i].media_type, GADGET_MT_EBPF))
			l = &img->layers[i];
	if (!l)
		return NULL;
	/* libbpf may keep pointing into the buffer: a private copy. */
	void *copy = malloc(l->len);
	if (!copy)
		return NULL;
	memcpy(copy, l->data, l->len);
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = img->name);
	struct bpf_object *obj = bpf_object__open_mem(copy, l->len, &opts);
	if (!obj) {
		free(copy);
		return NULL;
	}
	json_t *progs = json_array(), *maps = json_array();
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj)
	{
		const char *type = libbpf_bpf_prog_type_str(bpf_program__type(p));
		json_array_append_new(progs, json_pack("{s:s, s:s, s:s}", "name", bpf_program__name(p),
		                                       "section", bpf_program__section_name(p), "type",
		                                       type ? type : "unknown"));
	}
	struct bpf_map *m;
	bpf_object__for_each_map(m, obj)
	{
		const char *type = libbpf_bpf_map_type_str(bpf_map__type(m));
		json_array_append_new(maps, json_pack("{s:s, s:s, s:I, s:I, s:I}", "name", bpf_map__name(m),
		                                      "type", type ? type : "unknown", "keySize",
		                                      (json_int_t)bpf_map__key_size(m), "valueSize",
		                                      (json_int_t)bpf_map__value_size(m), "maxEntries",
		                                      (json_int_t)bpf_map__max_entries(m)));
	}
	bpf_object__close(obj);
	free(copy);
	*maps_out = maps;
	return progs;
}

static json_t *field_json(struct sonde_field *f)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "name", sonde_field_name(f), "fullName",
	                      sonde_field_full_name(f), "kind", sonde_kind_name(sonde_field_kind(f)),
	                      "hidden", (sonde_field_flags(f) & SONDE_FIELD_HIDDEN) != 0);
	if (!o)
		return NULL;
	if (sonde_field_ntags(f)) {
		json_t *tags = json_array();
		for (size_t i = 0; i < sonde_field_ntags(f); i++)
			json_array_append_new(tags, json_string(sonde_field_tag_at(f, i)));
		json_object_set_new(o, "tags", tags);
	}
	if (sonde_field_nannotations(f)) {
		json_t *ann = json_object();
		for (size_t i = 0; i < sonde_field_nannotations(f); i++) {
			const char *k, *v;
			sonde_field_annotation_at(f, i, &k, &v);
			json_object_set_new(ann, k, json_string(v ? v : ""));
		}
		json_object_set_new(o, "annotations", ann);
	}
	return o;
}

/* "Get gadget info": the engine's DataSources and params of this gadget. */
static int gadget_info(const struct sonde_gadget_image *img, json_t *doc)
{
	sonde_register_builtin_operators();
	struct sonde_gadget_ctx *ctx = sonde_gadget_ctx_new(img);
	if (!ctx)
		return -ENOMEM;
	int err = sonde_gadget_instantiate(ctx);
	if (err) { /* instantiate said why */
		sonde_gadget_ctx_free(ctx);
		return err;
	}
	json_t *dss = json_array();
	for (size_t i = 0; i < sonde_gadget_nds(ctx); i++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, i);
		json_t *fields = json_array();
		for (size_t j = 0; j < sonde_ds_nfields(ds); j++)
			json_array_append_new(fields, field_json(sonde_ds_field_at(ds, j)));
		json_array_append_new(dss, json_pack("{s:s, s:s, s:o}", "name", sonde_ds_name(ds), "type",
		                                     sonde_ds_type(ds) == SONDE_DS_ARRAY ? "array" : "single",
		                                     "fields", fields));
	}
	json_object_set_new(doc, "dataSources", dss);
	json_t *params = json_array();
	struct sonde_params *ps = sonde_gadget_params(ctx);
	for (size_t i = 0; i < sonde_params_count(ps); i++) {
		const struct sonde_param *p = sonde_params_at(ps, i);
		const struct sonde_param_desc *d = sonde_param_desc(p);
		json_t *o =
		    json_pack("{s:s, s:s, s:s, s:s, s:s}", "key", d->key, "fullName",
		              sonde_param_full_name(p), "description", d->description ? d->description : "",
		              "defaultValue", d->default_value ? d->default_value : "", "typeHint",
		              d->type_hint ? d->type_hint : "string");
		if (o && d->possible_values) {
			json_t *pv = json_array();
			for (size_t j = 0; d->possible_values[j]; j++)
				json_array_append_new(pv, json_string(d->possible_values[j]));
			json_object_set_new(o, "possibleValues", pv);
		}
		json_array_append_new(params, o);
	}
	json_object_set_new(doc, "params", params);
	sonde_gadget_ctx_free(ctx);
	return 0;
}

int sonde_image_inspect(struct sonde_image_store *store, const char *ref, char **json_out)
{
	struct oci_store *s = oci_store_of(store);
	struct sonde_image_ref r;
	char full[1024], repo[800];
	struct sonde_loaded_gadget *g = NULL;
	struct oci_descriptor top = {0};
	char *manifest = NULL, created[64] = "";
	json_t *doc = NULL;
	*json_out = NULL;
	int err = sonde_image_ref_parse(ref, &r);
	if (err || (err = sonde_image_ref_format(&r, full, sizeof(full))))
		return err;
	sonde_image_ref_repository(&r, repo, sizeof(repo));
	if ((err = image_load_from_store(s, full, NULL, &g, &manifest, &top)))
		return err;
	const struct sonde_gadget_image *img = sonde_loaded_gadget_image(g);
	doc = json_object();
	json_t *mj = json_loads(manifest, 0, NULL);
	const char *c =
	    json_string_value(json_object_get(json_object_get(mj, "annotations"), OCI_ANN_CREATED));
	snprintf(created, sizeof(created), "%s", c ? c : "");
	json_object_set_new(doc, "oci.manifest", mj ? mj : json_null());
	json_object_set_new(
	    doc, "oci.metadata",
	    json_stringn(img->config_yaml ? img->config_yaml : "", img->config_yaml ? img->config_len : 0));
	json_object_set_new(doc, "oci.repository", json_string(repo));
	json_object_set_new(doc, "oci.tag", json_string(r.tag));
	json_object_set_new(doc, "oci.digest", json_string(top.digest));
	json_object_set_new(doc, "oci.created", json_string(created));
	json_t *maps, *progs = ebpf_info(img, &maps);
	if (progs) {
		json_object_set_new(doc, "ebpf.programs", progs);
		json_object_set_new(doc, "ebpf.maps", maps);
	}
	if ((err = gadget_info(img, doc)))
		goto out;
	*json_out = json_dumps(doc, JSON_COMPACT);
	if (!*json_out)
		err = -ENOMEM;
out:
	json_decref(doc);
	free(manifest);
	oci_descriptor_clear(&top);
	sonde_loaded_gadget_free(g);
	return err;
}
