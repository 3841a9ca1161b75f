/* sonde_image_load: from what the user named (a built-in, a directory, an
 * eBPF object, a reference in the store) to the engine's gadget image. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/log.h>

#include "image/loaded.h"
#include "image/log_capture.h"
#include "image/oci.h"
#include "image/source.h"
#include "util/file.h"

struct sonde_loaded_gadget {
	struct sonde_gadget_image image;
	const struct sonde_gadget_image *builtin; /* not owned */
	char *name, *origin;
	void *config;
	struct sonde_layer *layers;
	size_t nlayers;
};

struct sonde_loaded_gadget *loaded_gadget_new(const char *name, const char *origin)
{
	struct sonde_loaded_gadget *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->name = strdup(name);
	g->origin = strdup(origin);
	if (!g->name || !g->origin) {
		sonde_loaded_gadget_free(g);
		return NULL;
	}
	g->image.name = g->name;
	return g;
}

int loaded_gadget_set_config(struct sonde_loaded_gadget *g, void *data, size_t len)
{
	free(g->config);
	g->config = data;
	g->image.config_yaml = data;
	g->image.config_len = data ? len : 0;
	return 0;
}

int loaded_gadget_add_layer(struct sonde_loaded_gadget *g, const char *media_type, void *data, size_t len)
{
	char *mt = strdup(media_type);
	struct sonde_layer *l = realloc(g->layers, (g->nlayers + 1) * sizeof(*l));
	if (!mt || !l) {
		free(mt);
		free(data);
		if (l)
			g->layers = l;
		return -ENOMEM;
	}
	g->layers = l;
	g->layers[g->nlayers++] = (struct sonde_layer){mt, data, len};
	g->image.layers = g->layers;
	g->image.nlayers = g->nlayers;
	return 0;
}

const struct sonde_gadget_image *sonde_loaded_gadget_image(const struct sonde_loaded_gadget *g)
{
	return g->builtin ? g->builtin : &g->image;
}

const char *sonde_loaded_gadget_origin(const struct sonde_loaded_gadget *g)
{
	return g->origin;
}

void sonde_loaded_gadget_free(struct sonde_loaded_gadget *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nlayers; i++) {
		free((void *)g->layers[i].media_type);
		free((void *)g->layers[i].data);
	}
	free(g->layers);
	free(g->config);
	free(g->name);
	free(g->origin);
	free(g);
}

/* ---- a bare eBPF object ---- */

#define EM_BPF_MACHINE 247

static bool is_bpf_elf(const unsigned char *d, size_t len)
{
	if (len < 20 || memcmp(d, "\177ELF", 4) != 0)
		return false;
	unsigned machine = d[5] == 2 ? (unsigned)d[18] << 8 | d[19] : (unsigned)d[19] << 8 | d[18];
	return machine == EM_BPF_MACHINE;
}

/* "dir/trace_open.bpf.o" → "trace_open" */
static void name_of_file(const char *path, char *buf, size_t n)
{
	const char *base = strrchr(path, '/');
	snprintf(buf, n, "%s", base ? base + 1 : path);
	static const char *const exts[] = {".bpf.o", ".o"};
	for (size_t i = 0; i < 2; i++) {
		size_t l = strlen(buf), e = strlen(exts[i]);
		if (l > e && !strcmp(buf + l - e, exts[i])) {
			buf[l - e] = '\0';
			break;
		}
	}
}

static int load_file(const char *path, const struct sonde_image_source_opts *opts,
                     struct sonde_loaded_gadget **out)
{
	char *data = NULL, *cfg = NULL, name[256];
	size_t len = 0, cfg_len = 0;
	int err = util_read_file(path, OCI_MAX_BLOB, &data, &len);
	if (err) {
		sonde_err("cannot read %s: %s", path, strerror(-err));
		return err;
	}
	if (!is_bpf_elf((const unsigned char *)data, len)) {
		sonde_err("%s is neither a gadget image nor an eBPF object (an ELF file for machine BPF, as "
		          "clang -target bpf writes)",
		          path);
		free(data);
		return -EINVAL;
	}
	if (opts && opts->config_path) {
		err = util_read_file(opts->config_path, OCI_MAX_DOCUMENT, &cfg, &cfg_len);
		if (err) {
			sonde_err("cannot read the gadget.yaml %s: %s", opts->config_path, strerror(-err));
			free(data);
			return err;
		}
	}
	name_of_file(path, name, sizeof(name));
	struct sonde_loaded_gadget *g = loaded_gadget_new(name, path);
	if (!g) {
		free(data);
		free(cfg);
		return -ENOMEM;
	}
	loaded_gadget_set_config(g, cfg, cfg_len);
	if ((err = loaded_gadget_add_layer(g, GADGET_MT_EBPF, data, len))) {
		sonde_loaded_gadget_free(g);
		return err;
	}
	*out = g;
	return 0;
}

/* ---- an image of the store ---- */

static bool mt_is_index(const char *mt)
{
	return !strcmp(mt, OCI_MT_INDEX) || !strcmp(mt, OCI_MT_DOCKER_LIST);
}

static bool mt_is_manifest(const char *mt)
{
	return !strcmp(mt, OCI_MT_MANIFEST) || !strcmp(mt, OCI_MT_DOCKER_MANIF);
}

/* A blob whose length must also match its descriptor. */
static int read_desc(struct oci_store *s, const struct oci_descriptor *d, size_t max, void **data,
                     size_t *len)
{
	if (d->size > (int64_t)max) {
		sonde_err("blob %s (%s) of %lld bytes exceeds the %zu byte limit", d->digest, d->media_type,
		          (long long)d->size, max);
		return -EFBIG;
	}
	int err = oci_blob_read(s, d->digest, max, data, len);
	if (!err && (int64_t)*len != d->size) {
		sonde_err("blob %s is %zu bytes but its descriptor says %lld", d->digest, *len,
		          (long long)d->size);
		free(*data);
		*data = NULL;
		return -EBADMSG;
	}
	return err;
}

static void repo_name(const char *ref, char *buf, size_t n)
{
	struct sonde_image_ref r;
	const char *p = ref;
	if (!sonde_image_ref_parse(ref, &r)) {
		const char *slash = strrchr(r.path, '/');
		snprintf(buf, n, "%s", slash ? slash + 1 : r.path);
		return;
	}
	snprintf(buf, n, "%s", p);
}

static int pick_manifest(struct oci_store *s, const char *ref, const struct oci_descriptor *top,
                         const char *arch, struct oci_descriptor *out)
{
	void *data;
	size_t len;
	int err = read_desc(s, top, OCI_MAX_DOCUMENT, &data, &len);
	if (err)
		return err;
	struct oci_index idx;
	struct oci_log_capture cap;
	oci_log_capture_begin(&cap);
	err = oci_index_parse(data, len, &idx);
	oci_log_capture_end(&cap);
	free(data);
	if (err) {
		sonde_err("%s: its image index %s is invalid: %s", ref, top->digest, cap.msg);
		return -EBADMSG;
	}
	const struct oci_descriptor *m = oci_index_for_arch(&idx, arch);
	if (!m) {
		char has[512] = "";
		size_t used = 0;
		for (size_t i = 0; i < idx.nmanifests && used < sizeof(has) - 1; i++)
			used += (size_t)snprintf(has + used, sizeof(has) - used, "%s%s", i ? ", " : "",
			                         idx.manifests[i].arch[0] ? idx.manifests[i].arch
			                                                  : "(no platform)");
		sonde_err("no manifest for architecture %s in %s (has: %s)", arch, ref,
		          idx.nmanifests ? has : "none");
		err = -ENOENT;
	} else if (!mt_is_manifest(m->media_type)) {
		sonde_err("%s: the %s entry of its index is a %s, not an image manifest", ref, arch,
		          m->media_type);
		err = -EINVAL;
	} else {
		err = oci_descriptor_copy(out, m);
	}
	oci_index_clear(&idx);
	return err;
}

bool image_ref_same(const char *stored, const char *full)
{
	struct sonde_image_ref r;
	struct oci_log_capture cap;
	char norm[1024];
	if (!strcmp(stored, full))
		return true;
	oci_log_capture_begin(&cap);
	bool same = !sonde_image_ref_parse(stored, &r) && !sonde_image_ref_format(&r, norm, sizeof(norm)) &&
	            !strcmp(norm, full);
	oci_log_capture_end(&cap);
	return same;
}

/* Other tools (skopeo copy to oci:DIR:name) tag with the name as given:
 * "trace_open:v1" is ghcr.io/inspektor-gadget/gadget/trace_open:v1 too. */
static int resolve_unnormalised(struct oci_store *s, const char *full, struct oci_descriptor *out)
{
	struct oci_descriptor *tags;
	size_t n;
	int err = oci_store_tags(s, &tags, &n);
	if (err)
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < n && err == -ENOENT; i++)
		if (image_ref_same(oci_descriptor_annotation(&tags[i], OCI_ANN_REF_NAME), full))
			err = oci_descriptor_copy(out, &tags[i]);
	oci_store_tags_free(tags, n);
	return err;
}

int image_store_resolve(struct oci_store *s, const char *ref, struct oci_descriptor *out)
{
	struct sonde_image_ref r;
	struct oci_log_capture cap;
	memset(out, 0, sizeof(*out));
	oci_log_capture_begin(&cap);
	int err = sonde_image_ref_parse(ref, &r);
	oci_log_capture_end(&cap);
	if (err || !r.digest[0]) {
		err = oci_store_resolve(s, ref, out);
		return err == -ENOENT ? resolve_unnormalised(s, ref, out) : err;
	}
	/* name@digest: the content itself, whatever tags point at it. */
	if (!oci_blob_exists(s, r.digest))
		return -ENOENT;
	void *data;
	size_t len;
	if ((err = oci_blob_read(s, r.digest, OCI_MAX_DOCUMENT, &data, &len)))
		return err;
	json_t *doc = json_loadb(data, len, 0, NULL);
	free(data);
	const char *mt = json_string_value(json_object_get(doc, "mediaType"));
	if (!mt)
		mt = json_object_get(doc, "manifests") ? OCI_MT_INDEX
		     : json_object_get(doc, "config")  ? OCI_MT_MANIFEST
		                                       : NULL;
	if (!mt || strlen(mt) >= sizeof(out->media_type)) {
		sonde_err("%s: %s is not an image index nor a manifest", ref, r.digest);
		json_decref(doc);
		return -EINVAL;
	}
	strcpy(out->media_type, mt);
	strcpy(out->digest, r.digest);
	out->size = (int64_t)len;
	json_decref(doc);
	return 0;
}

int image_load_from_store(struct oci_store *s, const char *ref, const char *arch,
                          struct sonde_loaded_gadget **out, char **manifest_out,
                          struct oci_descriptor *index_out)
{
	struct oci_descriptor top = {0}, mdesc = {0};
	struct oci_manifest m = {0};
	struct sonde_loaded_gadget *g = NULL;
	void *data = NULL;
	size_t len = 0;
	char name[512], origin[1200];
	*out = NULL;
	if (manifest_out)
		*manifest_out = NULL;
	if (!arch)
		arch = oci_host_arch();
	int err = image_store_resolve(s, ref, &top);
	if (err == -ENOENT)
		sonde_err("image %s not found in the store %s", ref, oci_store_dir(s));
	if (err)
		goto out;
	if (mt_is_index(top.media_type)) {
		err = pick_manifest(s, ref, &top, arch, &mdesc);
	} else if (mt_is_manifest(top.media_type)) {
		err = oci_descriptor_copy(&mdesc, &top);
	} else {
		sonde_err("%s is a %s, not a gadget image", ref, top.media_type);
		err = -EINVAL;
	}
	if (err)
		goto out;
	if ((err = read_desc(s, &mdesc, OCI_MAX_DOCUMENT, &data, &len)))
		goto out;
	struct oci_log_capture cap;
	oci_log_capture_begin(&cap);
	err = oci_manifest_parse(data, len, &m);
	oci_log_capture_end(&cap);
	if (err) {
		sonde_err("%s: its manifest %s is invalid: %s", ref, mdesc.digest, cap.msg);
		goto out;
	}
	/* A lone manifest is a gadget only if it says so. */
	if (!mt_is_index(top.media_type) && strcmp(m.artifact_type, GADGET_ARTIFACT_TYPE) != 0 &&
	    strcmp(m.config.media_type, GADGET_MT_CONFIG) != 0) {
		sonde_err("%s is an image manifest of artifact type \"%s\", not a gadget", ref,
		          m.artifact_type);
		err = -EINVAL;
		goto out;
	}
	repo_name(ref, name, sizeof(name));
	if (strchr(ref, '@'))
		snprintf(origin, sizeof(origin), "%s", ref);
	else
		snprintf(origin, sizeof(origin), "%s@%s", ref, top.digest);
	if (!(g = loaded_gadget_new(name, origin))) {
		err = -ENOMEM;
		goto out;
	}
	if (!strcmp(m.config.media_type, GADGET_MT_CONFIG)) {
		void *cfg;
		size_t cfg_len;
		if ((err = read_desc(s, &m.config, OCI_MAX_DOCUMENT, &cfg, &cfg_len)))
			goto out;
		loaded_gadget_set_config(g, cfg, cfg_len);
	} else if (strcmp(m.config.media_type, OCI_MT_EMPTY) != 0) {
		sonde_warn("%s: config of unknown media type %s ignored", ref, m.config.media_type);
	}
	for (size_t i = 0; i < m.nlayers; i++) {
		const struct oci_descriptor *l = &m.layers[i];
		void *ld;
		size_t ll;
		if (strcmp(l->media_type, GADGET_MT_EBPF) != 0 &&
		    strcmp(l->media_type, GADGET_MT_WASM) != 0 &&
		    strcmp(l->media_type, GADGET_MT_BTFGEN) != 0) {
			sonde_warn("%s: layer %s of unknown media type %s skipped", ref, l->digest,
			           l->media_type);
			continue;
		}
		if ((err = read_desc(s, l, OCI_MAX_BLOB, &ld, &ll)) ||
		    (err = loaded_gadget_add_layer(g, l->media_type, ld, ll)))
			goto out;
	}
	if (manifest_out) {
		*manifest_out = data;
		data = NULL;
	}
	if (index_out && (err = oci_descriptor_copy(index_out, &top)))
		goto out;
	*out = g;
	g = NULL;
out:
	sonde_loaded_gadget_free(g);
	if (err && manifest_out) {
		free(*manifest_out);
		*manifest_out = NULL;
	}
	free(data);
	oci_manifest_clear(&m);
	oci_descriptor_clear(&mdesc);
	oci_descriptor_clear(&top);
	return err;
}

/* Opens the store for reading: NULL without error when it does not exist
 * yet (nothing was ever pulled or built). */
static int open_store_read(const char *dir, struct sonde_image_store **out)
{
	char path[4096];
	*out = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/index.json", dir) >= sizeof(path)) {
		sonde_err("image store path too long: %s", dir);
		return -ENAMETOOLONG;
	}
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	return sonde_image_store_open(dir, true, out);
}

/* Whether ref is in the store; a damaged index.json is an error, not "no". */
static int resolve(struct sonde_image_store *store, const char *ref, bool *present)
{
	struct oci_descriptor d;
	int err = image_store_resolve(oci_store_of(store), ref, &d);
	oci_descriptor_clear(&d);
	*present = !err;
	return err == -ENOENT ? 0 : err;
}

static int load_ref(const char *what, const struct sonde_image_source_opts *opts,
                    struct sonde_loaded_gadget **out)
{
	struct sonde_image_ref r;
	char ref[1024], dir[4096];
	struct sonde_image_store *store = NULL;
	struct oci_descriptor d = {0};
	if (sonde_image_ref_parse(what, &r))
		return -EINVAL;
	int err = sonde_image_ref_format(&r, ref, sizeof(ref));
	if (err)
		return err;
	if (opts->store_dir)
		snprintf(dir, sizeof(dir), "%s", opts->store_dir);
	else if ((err = sonde_image_store_default_dir(dir, sizeof(dir))))
		return err;
	if ((err = open_store_read(dir, &store)))
		return err;
	bool present = false;
	if (store && (err = resolve(store, ref, &present)))
		goto out;
	/* Pull per policy (source_pull.c). */
	if (opts->pull == SONDE_PULL_ALWAYS || (!present && opts->pull == SONDE_PULL_MISSING)) {
		/* A bare name the store lacks is most often a mistyped
		 * built-in: one line says so, with why the pull failed. */
		bool bare_missing = !present && !strpbrk(what, "/:@");
		struct oci_log_capture cap;

		if (bare_missing)
			oci_log_capture_begin(&cap);
		err = image_source_pull(dir, ref, opts);
		if (bare_missing) {
			oci_log_capture_end(&cap);
			if (err && err != -ENOTSUP) {
				sonde_err("unknown gadget \"%s\": not built in, and pulling %s failed: %s",
				          what, ref, cap.msg[0] ? cap.msg : strerror(-err));
				err = -ENOENT;
				goto out;
			}
		}
		if (err && err != -ENOTSUP)
			goto out;
		if (!err && !store && (err = open_store_read(dir, &store)))
			goto out;
		if (store && (err = resolve(store, ref, &present)))
			goto out;
	}
	if (!present && opts->pull == SONDE_PULL_NEVER && strpbrk(what, "/:@")) {
		sonde_err("image %s not found in the store %s, and --pull never forbids pulling it", ref, dir);
		err = -ENOENT;
		goto out;
	}
	if (!present) {
		/* A bare name may be a mistyped built-in: say so first. */
		bool bare = !strpbrk(what, "/:@");
		sonde_err("%s%s%simage %s not found in the store %s (sonde image pull %s)",
		          bare ? "unknown gadget \"" : "", bare ? what : "", bare ? "\": " : "", ref, dir,
		          what);
		err = -ENOENT;
		goto out;
	}
	struct oci_store *s = oci_store_of(store);
	if ((err = image_load_from_store(s, ref, opts->arch, out, NULL, &d)))
		goto out;
	/* HOOK (img-verify): allowed-gadgets and signature. */
	if ((err = image_source_verify(s, ref, &d, opts))) {
		sonde_loaded_gadget_free(*out);
		*out = NULL;
	}
out:
	oci_descriptor_clear(&d);
	sonde_image_store_close(store);
	return err;
}

int sonde_image_load(const char *what, const struct sonde_image_source_opts *opts,
                     struct sonde_loaded_gadget **out)
{
	static const struct sonde_image_source_opts defaults = {.sz = sizeof(defaults)};
	struct sonde_image_source_opts o = defaults;
	*out = NULL;
	if (!what || !*what) {
		sonde_err("no gadget given");
		return -EINVAL;
	}
	/* Callers built against an older, smaller struct get defaults for the rest. */
	if (opts)
		memcpy(&o, opts, opts->sz && opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	o.sz = sizeof(o);
	const struct sonde_gadget_image *b = sonde_builtin_gadget(what);
	if (b) {
		struct sonde_loaded_gadget *g = loaded_gadget_new(b->name, "built-in");
		if (!g)
			return -ENOMEM;
		g->builtin = b;
		*out = g;
		return 0;
	}
	struct stat st;
	if (stat(what, &st) == 0) {
		int err = image_source_local_allowed(what, &o); /* HOOK (img-verify) */
		if (err)
			return err;
		if (S_ISDIR(st.st_mode))
			return image_source_build_dir(what, &o, out); /* HOOK (img-build) */
		if (S_ISREG(st.st_mode))
			return load_file(what, &o, out);
		sonde_err("%s is neither a gadget image, a directory nor an eBPF object", what);
		return -EINVAL;
	}
	/* A path that does not exist is a typo, not an image reference. */
	if (strchr(what, '/') && (what[0] == '.' || what[0] == '/')) {
		sonde_err("%s: no such file or directory", what);
		return -ENOENT;
	}
	return load_ref(what, &o, out);
}
