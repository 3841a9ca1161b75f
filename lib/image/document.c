/* OCI image indexes and manifests: parsing with validation, and the
 * canonical bytes Go tools would write for the same document. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "image/oci.h"

json_t *oci_json_load(const void *data, size_t len, const char *what)
{
	if (len > OCI_MAX_DOCUMENT) {
		sonde_err("%s: document of %zu bytes exceeds the %u byte limit", what, len, OCI_MAX_DOCUMENT);
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		sonde_err("%s: invalid JSON at line %d column %d: %s", what, jerr.line, jerr.column,
		          jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		sonde_err("%s: not a JSON object", what);
		json_decref(doc);
		return NULL;
	}
	return doc;
}

char *oci_json_dump(const json_t *doc, size_t *len)
{
	char *s = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_COMPACT);
	if (!s)
		return NULL;
	/* Go's encoding/json escapes <, > and & (and U+2028/9) inside strings;
	 * those bytes only ever occur inside strings in JSON, so a plain
	 * replacement gives Go's bytes and therefore Go's digests. */
	size_t n = strlen(s), extra = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '<' || c == '>' || c == '&')
			extra += 5;
		else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
		         ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9))
			extra += 3;
	}
	if (extra) {
		char *o = malloc(n + extra + 1), *p = o;
		if (!o) {
			free(s);
			return NULL;
		}
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			if (c == '<' || c == '>' || c == '&') {
				p += sprintf(p, "\\u%04x", c);
			} else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
			           ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
				p += sprintf(p, "\\u%04x", 0x2000 + ((unsigned char)s[i + 2] - 0x80));
				i += 2;
			} else {
				*p++ = (char)c;
			}
		}
		*p = '\0';
		free(s);
		s = o;
		n = (size_t)(p - o);
	}
	if (len)
		*len = n;
	return s;
}

static int get_schema(const json_t *doc, const char *what, int64_t *out)
{
	const json_t *v = json_object_get(doc, "schemaVersion");
	if (!json_is_integer(v) || json_integer_value(v) != 2) {
		sonde_err("%s: schemaVersion must be 2", what);
		return -EINVAL;
	}
	*out = 2;
	return 0;
}

static int get_opt_str(const json_t *doc, const char *key, const char *what, char *dst, size_t n)
{
	const json_t *v = json_object_get(doc, key);
	dst[0] = '\0';
	if (!v)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) >= n) {
		sonde_err("%s: \"%s\" is not a string of at most %zu bytes", what, key, n - 1);
		return -EINVAL;
	}
	strcpy(dst, json_string_value(v));
	return 0;
}

static int get_annotations(const json_t *doc, const char *what, json_t **out)
{
	const json_t *v = json_object_get(doc, "annotations");
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		sonde_err("%s: annotations are not an object", what);
		return -EINVAL;
	}
	const char *k;
	const json_t *x;
	json_object_foreach((json_t *)v, k, x)
	{
		if (!json_is_string(x)) {
			sonde_err("%s: annotation \"%s\" is not a string", what, k);
			return -EINVAL;
		}
	}
	*out = json_deep_copy(v);
	return *out ? 0 : -ENOMEM;
}

static int get_descriptors(const json_t *doc, const char *key, const char *what, bool required,
                           struct oci_descriptor **out, size_t *n)
{
	const json_t *arr = json_object_get(doc, key);
	*out = NULL;
	*n = 0;
	if (!arr || json_is_null(arr)) {
		if (!required)
			return 0;
		sonde_err("%s: \"%s\" is missing", what, key);
		return -EINVAL;
	}
	if (!json_is_array(arr)) {
		sonde_err("%s: \"%s\" is not an array", what, key);
		return -EINVAL;
	}
	size_t cnt = json_array_size(arr);
	if (!cnt)
		return 0;
	struct oci_descriptor *d = calloc(cnt, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		char w[160];
		snprintf(w, sizeof(w), "%s: %s[%zu]", what, key, i);
		int err = oci_descriptor_from_json(json_array_get(arr, i), w, &d[i]);
		if (err) {
			for (size_t j = 0; j < i; j++)
				oci_descriptor_clear(&d[j]);
			free(d);
			return err;
		}
	}
	*out = d;
	*n = cnt;
	return 0;
}

/* The fields an index and a manifest both start with: schemaVersion,
 * mediaType (absent, or the OCI or the Docker type of the document) and
 * artifactType. The buffers are those of struct oci_index and
 * struct oci_manifest (same size, checked below). */
#define OCI_DOC_FIELD 128
_Static_assert(sizeof(((struct oci_index *)0)->media_type) == OCI_DOC_FIELD &&
                   sizeof(((struct oci_index *)0)->artifact_type) == OCI_DOC_FIELD &&
                   sizeof(((struct oci_manifest *)0)->media_type) == OCI_DOC_FIELD &&
                   sizeof(((struct oci_manifest *)0)->artifact_type) == OCI_DOC_FIELD,
               "get_doc_head's buffers");
static int get_doc_head(const json_t *doc, const char *what, const char *oci_type, const char *docker_type,
                        int64_t *schema, char *media_type, char *artifact_type)
{
	int err = get_schema(doc, what, schema);
	if (!err)
		err = get_opt_str(doc, "mediaType", what, media_type, OCI_DOC_FIELD);
	if (!err && media_type[0] && strcmp(media_type, oci_type) != 0 &&
	    strcmp(media_type, docker_type) != 0) {
		sonde_err("%s: media type \"%s\" is not an %s", what, media_type, what);
		err = -EINVAL;
	}
	if (!err)
		err = get_opt_str(doc, "artifactType", what, artifact_type, OCI_DOC_FIELD);
	return err;
}

int oci_index_parse(const void *data, size_t len, struct oci_index *out)
{
	const char *what = "image index";
	memset(out, 0, sizeof(*out));
	json_t *doc = oci_json_load(data, len, what);
	if (!doc)
		return -EBADMSG;
	int err = get_doc_head(doc, what, OCI_MT_INDEX, OCI_MT_DOCKER_LIST, &out->schema_version,
	                       out->media_type, out->artifact_type);
	if (!err)
		err = get_descriptors(doc, "manifests", what, true, &out->manifests, &out->nmanifests);
	if (!err)
		err = get_annotations(doc, what, &out->annotations);
	json_decref(doc);
	if (err)
		oci_index_clear(out);
	return err;
}

int oci_manifest_parse(const void *data, size_t len, struct oci_manifest *out)
{
	const char *what = "image manifest";
	memset(out, 0, sizeof(*out));
	json_t *doc = oci_json_load(data, len, what);
	if (!doc)
		return -EBADMSG;
	int err = get_doc_head(doc, what, OCI_MT_MANIFEST, OCI_MT_DOCKER_MANIF, &out->schema_version,
	                       out->media_type, out->artifact_type);
	if (!err) {
		const json_t *c = json_object_get(doc, "config");
		if (!c) {
			sonde_err("%s: \"config\" is missing", what);
			err = -EINVAL;
		} else {
			err = oci_descriptor_from_json(c, "image manifest: config", &out->config);
		}
	}
	if (!err)
		err = get_descriptors(doc, "layers", what, false, &out->layers, &out->nlayers);
	if (!err && json_object_get(doc, "subject")) {
		out->subject = calloc(1, sizeof(*out->subject));
		err = out->subject ? oci_descriptor_from_json(json_object_get(doc, "subject"),
		                                              "image manifest: subject", out->subject)
		                   : -ENOMEM;
	}
	if (!err)
		err = get_annotations(doc, what, &out->annotations);
	json_decref(doc);
	if (err)
		oci_manifest_clear(out);
	return err;
}

static int set_descriptors(json_t *o, const char *key, const struct oci_descriptor *d, size_t n)
{
	json_t *arr = json_array();
	if (!arr)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(arr, oci_descriptor_to_json(&d[i]))) {
			json_decref(arr);
			return -1;
		}
	return json_object_set_new(o, key, arr);
}

/* Field order of Go's ocispec.Index and ocispec.Manifest: these three
 * first, the annotations last (doc_json_end). Sets *err on failure. */
static json_t *doc_json_start(const char *media_type, const char *artifact_type, int *err)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	*err = json_object_set_new(o, "schemaVersion", json_integer(2));
	if (media_type[0])
		*err |= json_object_set_new(o, "mediaType", json_string(media_type));
	if (artifact_type[0])
		*err |= json_object_set_new(o, "artifactType", json_string(artifact_type));
	return o;
}

/* Adds the annotations (sorted, when any); NULL when anything failed. */
static json_t *doc_json_end(json_t *o, const json_t *annotations, int err)
{
	if (annotations && json_object_size(annotations))
		err |= json_object_set_new(o, "annotations", oci_annotations_sorted(annotations));
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *oci_index_to_json(const struct oci_index *idx)
{
	int err = 0;
	json_t *o = doc_json_start(idx->media_type, idx->artifact_type, &err);
	if (!o)
		return NULL;
	err |= set_descriptors(o, "manifests", idx->manifests, idx->nmanifests);
	return doc_json_end(o, idx->annotations, err);
}

json_t *oci_manifest_to_json(const struct oci_manifest *m)
{
	int err = 0;
	json_t *o = doc_json_start(m->media_type, m->artifact_type, &err);
	if (!o)
		return NULL;
	err |= json_object_set_new(o, "config", oci_descriptor_to_json(&m->config));
	err |= set_descriptors(o, "layers", m->layers, m->nlayers);
	if (m->subject)
		err |= json_object_set_new(o, "subject", oci_descriptor_to_json(m->subject));
	return doc_json_end(o, m->annotations, err);
}

void oci_index_clear(struct oci_index *idx)
{
	if (!idx)
		return;
	for (size_t i = 0; i < idx->nmanifests; i++)
		oci_descriptor_clear(&idx->manifests[i]);
	free(idx->manifests);
	json_decref(idx->annotations);
	memset(idx, 0, sizeof(*idx));
}

void oci_manifest_clear(struct oci_manifest *m)
{
	if (!m)
		return;
	oci_descriptor_clear(&m->config);
	for (size_t i = 0; i < m->nlayers; i++)
		oci_descriptor_clear(&m->layers[i]);
	free(m->layers);
	if (m->subject) {
		oci_descriptor_clear(m->subject);
		free(m->subject);
	}
	json_decref(m->annotations);
	memset(m, 0, sizeof(*m));
}

const struct oci_descriptor *oci_index_for_arch(const struct oci_index *idx, const char *arch)
{
	for (size_t i = 0; i < idx->nmanifests; i++) {
		const struct oci_descriptor *d = &idx->manifests[i];
		if (!strcmp(d->arch, arch) && (!d->os[0] || !strcmp(d->os, "linux")))
			return d;
	}
	return NULL;
}

const char *oci_host_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#elif defined(__i386__)
	return "386";
#elif defined(__arm__)
	return "arm";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "ppc64le";
#elif defined(__s390x__)
	return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}
