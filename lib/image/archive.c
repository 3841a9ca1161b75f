/* sonde image export/import: OCI image layouts in a tar (see
 * sonde/image_archive.h). The archive is written straight from the store
 * (no temp layout on disk) and read straight into it (blobs streamed through
 * the store's verifying writer), so nothing from an archive is ever
 * extracted to a path it names. */
#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sonde/gadget.h>
#include <sonde/image.h>
#include <sonde/image_archive.h>
#include <sonde/log.h>

#include "image/archive.h"
#include "image/build.h"
#include "image/oci.h"
#include "image/tar.h"
#include "util/array.h"

#define LAYOUT_FILE     "{\"imageLayoutVersion\":\"1.0.0\"}"
#define GRAPH_MAX_DEPTH 4

/* Documents whose blobs name more blobs (Docker's types too: images other
 * tools pulled may use them). */
static bool is_index(const struct oci_descriptor *d)
{
	return !strcmp(d->media_type, OCI_MT_INDEX) || !strcmp(d->media_type, OCI_MT_DOCKER_LIST);
}

static bool is_manifest(const struct oci_descriptor *d)
{
	return !strcmp(d->media_type, OCI_MT_MANIFEST) || !strcmp(d->media_type, OCI_MT_DOCKER_MANIF);
}

/* ---- export ---- */

struct export_blob {
	char digest[OCI_DIGEST_LEN];
	const struct build_image *img; /* in memory (a built-in), or NULL: the store's */
};

struct export
{
	struct oci_store *store; /* opened when a reference needs it */
	const char *store_dir;
	struct export_blob *blobs;
	size_t nblobs;
	struct oci_descriptor *tags; /* index.json entries, ref.name set */
	size_t ntags;
	struct build_image *builtins; /* one per exported built-in */
	size_t nbuiltins;
	int64_t mtime;
};

static int export_add_blob(struct export *e, const char *digest, const struct build_image *img)
{
	struct export_blob b = {.img = img};

	for (size_t i = 0; i < e->nblobs; i++)
		if (!strcmp(e->blobs[i].digest, digest))
			return 0;
	snprintf(b.digest, sizeof(b.digest), "%s", digest);
	return append_array(&e->blobs, &e->nblobs, &b, sizeof(b));
}

static int export_add_tag(struct export *e, const char *ref, const struct oci_descriptor *desc)
{
	struct oci_descriptor d = {0};
	const char *created = oci_descriptor_annotation(desc, OCI_ANN_CREATED);
	int err;

	if (created) {
		struct tm tm = {0};
		const char *end = strptime(created, "%Y-%m-%dT%H:%M:%S", &tm);

		if (end) {
			int64_t t = (int64_t)timegm(&tm);

			if (t > e->mtime)
				e->mtime = t;
		}
	}
	for (size_t i = 0; i < e->ntags; i++)
		if (!strcmp(oci_descriptor_annotation(&e->tags[i], OCI_ANN_REF_NAME), ref))
			return 0; /* named twice */
	err = oci_descriptor_copy(&d, desc);
	if (!err)
		err = oci_descriptor_set_annotation(&d, OCI_ANN_REF_NAME, ref);
	if (!err)
		err = append_array(&e->tags, &e->ntags, &d, sizeof(d));
	if (err < 0)
		oci_descriptor_clear(&d);
	return err;
}

/* Reads a blob of the image being exported. */
static int export_read(struct export *e, const struct export_blob *b, void **data, size_t *len)
{
	if (b->img) {
		const struct build_blob *bb = build_image_blob(b->img, b->digest);

		*data = bb->data;
		*len = bb->len;
		return 0;
	}
	return oci_blob_read(e->store, b->digest, OCI_MAX_BLOB, data, len);
}

/* Collects desc and every blob below it. */
static int export_graph(struct export *e, const struct oci_descriptor *desc, const struct build_image *img,
                        int depth)
{
	struct export_blob b = {.img = img};
	void *data = NULL;
	size_t len;
	int err;

	if (depth > GRAPH_MAX_DEPTH) {
		sonde_err("%s: image graph nested too deep", desc->digest);
		return -ELOOP;
	}
	err = export_add_blob(e, desc->digest, img);
	if (err < 0)
		return err;
	if (!is_index(desc) && !is_manifest(desc))
		return 0;
	memcpy(b.digest, desc->digest, sizeof(b.digest));
	err = export_read(e, &b, &data, &len);
	if (err < 0)
		return err;
	if (is_index(desc)) {
		struct oci_index idx;

		err = oci_index_parse(data, len, &idx);
		for (size_t i = 0; !err && i < idx.nmanifests; i++)
			err = export_graph(e, &idx.manifests[i], img, depth + 1);
		oci_index_clear(&idx);
	} else {
		struct oci_manifest m;

		err = oci_manifest_parse(data, len, &m);
		if (!err)
			err = export_add_blob(e, m.config.digest, img);
		for (size_t i = 0; !err && i < m.nlayers; i++)
			err = export_add_blob(e, m.layers[i].digest, img);
		oci_manifest_clear(&m);
	}
	if (!img)
		free(data);
	return err;
}

/* Cosign's legacy signature tag of an exported image goes along with it. */
static int export_signatures(struct export *e, const char *repo, const char *digest)
{
	struct oci_descriptor sig;
	char ref[1100];
	int err;

	if ((size_t)snprintf(ref, sizeof(ref), "%s:sha256-%s.sig", repo, digest + 7) >= sizeof(ref))
		return 0; /* no such tag can exist */
	err = oci_store_resolve(e->store, ref, &sig);
	if (err == -ENOENT)
		return 0;
	if (err < 0)
		return err;
	err = export_graph(e, &sig, NULL, 0);
	if (!err)
		err = export_add_tag(e, ref, &sig);
	oci_descriptor_clear(&sig);
	return err;
}

static int export_ref(struct export *e, const char *what)
{
	struct sonde_image_ref r;
	struct oci_descriptor desc;
	char ref[1024], repo[1024], created[64];
	int err;

	err = sonde_image_ref_parse(what, &r);
	if (err < 0)
		return err;
	if ((err = sonde_image_ref_format(&r, ref, sizeof(ref))) < 0 ||
	    (err = sonde_image_ref_repository(&r, repo, sizeof(repo))) < 0)
		return err;
	if (sonde_builtin_gadget(what)) {
		/* e->builtins holds one per ref: pointers into it stay valid */
		struct build_image *img = &e->builtins[e->nbuiltins];

		if ((err = build_created_now(created)) < 0 ||
		    (err = build_image_builtin(what, created, img)) < 0)
			return err;
		e->nbuiltins++;
		err = export_graph(e, &img->index, img, 0);
		return err < 0 ? err : export_add_tag(e, ref, &img->index);
	}
	if (!e->store) {
		char dir[PATH_MAX];

		if (e->store_dir)
			snprintf(dir, sizeof(dir), "%s", e->store_dir);
		else if ((err = sonde_image_store_default_dir(dir, sizeof(dir))) < 0)
			return err;
		err = oci_store_open(dir, OCI_STORE_READ_ONLY, &e->store);
		if (err < 0)
			return err;
	}
	err = oci_store_resolve(e->store, ref, &desc);
	if (err == -ENOENT) {
		sonde_err("image %s not found in the store %s", ref, oci_store_dir(e->store));
		return err;
	}
	if (err < 0)
		return err;
	err = export_graph(e, &desc, NULL, 0);
	if (!err)
		err = export_add_tag(e, ref, &desc);
	if (!err)
		err = export_signatures(e, repo, desc.digest);
	oci_descriptor_clear(&desc);
	return err;
}

static int cmp_blob(const void *a, const void *b)
{
	return strcmp(((const struct export_blob *)a)->digest, ((const struct export_blob *)b)->digest);
}

static int cmp_tag(const void *a, const void *b)
{
	const struct oci_descriptor *x = a, *y = b;
	int c = strcmp(x->digest, y->digest);

	return c ? c
	         : strcmp(oci_descriptor_annotation(x, OCI_ANN_REF_NAME),
	                  oci_descriptor_annotation(y, OCI_ANN_REF_NAME));
}

static int export_write(struct export *e, FILE *f)
{
	struct tar_writer w;
	struct oci_index idx = {0};
	json_t *doc;
	char *text;
	size_t len;
	int err = 0;

	tar_writer_init(&w, f, e->mtime);
	qsort(e->blobs, e->nblobs, sizeof(*e->blobs), cmp_blob);
	/* in the order a walk of the layout gives: blobs, index.json, oci-layout */
	for (size_t i = 0; !err && i < e->nblobs; i++) {
		char name[128];
		void *data;

		err = export_read(e, &e->blobs[i], &data, &len);
		if (err < 0)
			break;
		snprintf(name, sizeof(name), "blobs/sha256/%s", e->blobs[i].digest + 7);
		err = tar_write_file(&w, name, data, len);
		if (!e->blobs[i].img)
			free(data);
	}
	if (err < 0)
		return err;
	qsort(e->tags, e->ntags, sizeof(*e->tags), cmp_tag);
	idx.schema_version = 2;
	snprintf(idx.media_type, sizeof(idx.media_type), "%s", OCI_MT_INDEX);
	idx.manifests = e->tags;
	idx.nmanifests = e->ntags;
	doc = oci_index_to_json(&idx);
	text = doc ? oci_json_dump(doc, &len) : NULL;
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	err = tar_write_file(&w, "index.json", text, len);
	free(text);
	if (!err)
		err = tar_write_file(&w, "oci-layout", LAYOUT_FILE, strlen(LAYOUT_FILE));
	if (!err)
		err = tar_writer_finish(&w);
	return err;
}

int sonde_image_export(const char *store_dir, const char *const *refs, size_t nrefs, const char *file)
{
	struct export e = {.store_dir = store_dir};
	char tmp[PATH_MAX];
	FILE *f = NULL;
	int err = 0, fd;

	if (!nrefs) {
		sonde_err("nothing to export");
		return -EINVAL;
	}
	e.builtins = calloc(nrefs, sizeof(*e.builtins));
	if (!e.builtins)
		return -ENOMEM;
	for (size_t i = 0; !err && i < nrefs; i++)
		err = export_ref(&e, refs[i]);
	if (err < 0)
		goto out;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", file) >= sizeof(tmp)) {
		err = -ENAMETOOLONG;
		sonde_err("%s: path too long", file);
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		err = -errno;
		sonde_err("creating %s: %s", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	fchmod(fd, 0644);
	err = export_write(&e, f);
	if (!err && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		err = -errno;
	if (fclose(f) != 0 && !err)
		err = -errno;
	if (!err && rename(tmp, file) < 0)
		err = -errno;
	if (err < 0) {
		sonde_err("writing %s: %s", file, strerror(-err));
		unlink(tmp);
	}
out:
	for (size_t i = 0; i < e.ntags; i++)
		oci_descriptor_clear(&e.tags[i]);
	free(e.tags);
	free(e.blobs);
	for (size_t i = 0; i < e.nbuiltins; i++)
		build_image_clear(&e.builtins[i]);
	free(e.builtins);
	oci_store_close(e.store);
	return err;
}

/* ---- import ---- */

struct import {
	struct oci_store *store;
	const char *file;
	char (*added)[OCI_DIGEST_LEN]; /* blobs this import put into the store */
	size_t nadded;
	char *index_json, *layout;
	size_t index_len;
};

/* Reads the current member whole (a document of the layout). */
static int read_member(struct tar_reader *r, const struct tar_member *m, size_t max, char **out, size_t *len)
{
	char *buf;
	ssize_t got;

	if (*out) {
		sonde_err("%s: \"%s\" appears twice", r->what, m->name);
		return -EINVAL;
	}
	if (m->size > max) {
		sonde_err("%s: \"%s\" is %" PRIu64 " bytes, over the limit of %zu", r->what, m->name, m->size,
		          max);
		return -EFBIG;
	}
	buf = malloc((size_t)m->size + 1);
	if (!buf)
		return -ENOMEM;
	got = m->size ? tar_read(r, buf, (size_t)m->size) : 0;
	if (got < 0 || (uint64_t)got != m->size) {
		free(buf);
		return got < 0 ? (int)got : -EIO;
	}
	buf[m->size] = '\0';
	*out = buf;
	*len = (size_t)m->size;
	return 0;
}

static bool is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

/* A blob member streamed into the store; an existing blob is hashed all the
 * same, so an archive that lies about a digest is refused either way. */
static int import_blob(struct import *im, struct tar_reader *r, const struct tar_member *m,
                       const char *digest)
{
	enum { CHUNK = 1 << 16 };
	struct oci_blob_writer *w = NULL;
	char *buf = malloc(CHUNK);
	struct oci_hasher *h = NULL;
	char got_digest[OCI_DIGEST_LEN];
	bool exists = oci_blob_exists(im->store, digest);
	ssize_t n;
	int err;

	if (!buf)
		return -ENOMEM;
	if (exists) {
		h = oci_hasher_new();
		err = h ? 0 : -ENOMEM;
	} else {
		err = oci_blob_writer_open(im->store, digest, (int64_t)m->size, &w);
	}
	n = 0;
	while (!err && (n = tar_read(r, buf, CHUNK)) > 0) {
		if (h)
			oci_hasher_update(h, buf, (size_t)n);
		else
			err = oci_blob_writer_write(w, buf, (size_t)n);
	}
	free(buf);
	if (err < 0 || n < 0) {
		oci_blob_writer_abort(w);
		oci_hasher_free(h);
		return err < 0 ? err : (int)n;
	}
	if (h) {
		oci_hasher_finish(h, got_digest);
		if (strcmp(got_digest, digest)) {
			sonde_err("%s: %s does not match its digest (it hashes to %s)", r->what, m->name,
			          got_digest);
			return -EBADMSG;
		}
		return 0;
	}
	err = oci_blob_writer_commit(w); /* logs a mismatch itself */
	if (err < 0)
		return err;
	return append_array(&im->added, &im->nadded, digest, OCI_DIGEST_LEN);
}

static int import_member(struct import *im, struct tar_reader *r, const struct tar_member *m)
{
	size_t len;

	if (m->type == TAR_DIR) {
		if (!m->name[0] || !strcmp(m->name, "blobs") || !strcmp(m->name, "blobs/sha256") ||
		    !strcmp(m->name, "ingest"))
			return 0;
	} else if (!strcmp(m->name, "index.json")) {
		return read_member(r, m, OCI_MAX_DOCUMENT, &im->index_json, &im->index_len);
	} else if (!strcmp(m->name, "oci-layout")) {
		return read_member(r, m, 4096, &im->layout, &len);
	} else if (!strncmp(m->name, "blobs/sha256/", 13) && is_hex64(m->name + 13)) {
		char digest[OCI_DIGEST_LEN];

		snprintf(digest, sizeof(digest), "sha256:%s", m->name + 13);
		return import_blob(im, r, m, digest);
	}
	sonde_err("%s: \"%s\" is not part of an OCI image layout", r->what, m->name);
	return -EINVAL;
}

/* Every blob below desc is in the store with the size its descriptor says. */
static int import_check_graph(struct import *im, const struct oci_descriptor *desc, const char *tag,
                              int depth)
{
	char path[PATH_MAX];
	struct stat st;
	void *data = NULL;
	size_t len;
	int err;

	if (depth > GRAPH_MAX_DEPTH) {
		sonde_err("%s: %s: image graph nested too deep", im->file, tag);
		return -ELOOP;
	}
	if (oci_blob_path(im->store, desc->digest, path, sizeof(path)) < 0 || stat(path, &st) < 0) {
		sonde_err("%s: %s: blob %s is missing", im->file, tag, desc->digest);
		return -EBADMSG;
	}
	if (st.st_size != desc->size) {
		sonde_err("%s: %s: blob %s is %lld bytes, its descriptor says %" PRId64, im->file, tag,
		          desc->digest, (long long)st.st_size, desc->size);
		return -EBADMSG;
	}
	if (!is_index(desc) && !is_manifest(desc))
		return 0;
	err = oci_blob_read(im->store, desc->digest, OCI_MAX_DOCUMENT, &data, &len);
	if (err < 0)
		return err;
	if (is_index(desc)) {
		struct oci_index idx;

		err = oci_index_parse(data, len, &idx);
		if (!err) {
			for (size_t i = 0; !err && i < idx.nmanifests; i++)
				err = import_check_graph(im, &idx.manifests[i], tag, depth + 1);
			oci_index_clear(&idx);
		}
	} else {
		struct oci_manifest m;

		err = oci_manifest_parse(data, len, &m);
		if (!err) {
			err = import_check_graph(im, &m.config, tag, depth + 1);
			for (size_t i = 0; !err && i < m.nlayers; i++)
				err = import_check_graph(im, &m.layers[i], tag, depth + 1);
			oci_manifest_clear(&m);
		}
	}
	free(data);
	if (err == -EINVAL)
		sonde_err("%s: %s: %s is not a valid %s", im->file, tag, desc->digest, desc->media_type);
	return err;
}

static bool is_sig_tag(const char *ref)
{
	size_t n = strlen(ref);

	return n > 4 && !strcmp(ref + n - 4, ".sig");
}

void sonde_image_import_tags_free(char **tags, size_t ntags)
{
	for (size_t i = 0; i < ntags; i++)
		free(tags[i]);
	free(tags);
}

int archive_import(const char *store_dir, FILE *f, const char *file, char ***tags_out, size_t *ntags_out)
{
	static const struct tar_limits lim = {
	    .max_member = OCI_MAX_BLOB,
	    .max_total = SONDE_ARCHIVE_MAX_TOTAL,
	    .max_members = SONDE_ARCHIVE_MAX_MEMBERS,
	};
	struct import im = {.file = file};
	struct oci_index idx = {0};
	struct tar_reader r;
	struct tar_member m;
	char dir[PATH_MAX], **refs = NULL, **shown = NULL;
	size_t nrefs = 0, nshown = 0;
	bool locked = false, parsed = false;
	int err;

	if (tags_out)
		*tags_out = NULL;
	if (ntags_out)
		*ntags_out = 0;
	if (store_dir)
		snprintf(dir, sizeof(dir), "%s", store_dir);
	else if ((err = sonde_image_store_default_dir(dir, sizeof(dir))) < 0)
		goto out;
	if ((err = oci_store_open(dir, 0, &im.store)) < 0)
		goto out;
	/* one writer from the first blob to the last tag: gc cannot take a blob
	 * this import has put but not tagged yet, and a failure can remove them */
	if ((err = oci_store_lock(im.store, OCI_STORE_LOCK_TIMEOUT_MS)) < 0)
		goto out;
	locked = true;
	tar_reader_init_file(&r, f, &lim, file);
	while ((err = tar_next(&r, &m)) == 1) {
		err = import_member(&im, &r, &m);
		if (err < 0)
			goto out;
	}
	if (err < 0)
		goto out;
	if (!im.layout || !im.index_json) {
		sonde_err("%s: not an OCI image layout archive (no %s)", file,
		          !im.layout ? "oci-layout" : "index.json");
		err = -EINVAL;
		goto out;
	}
	{
		json_t *lay = oci_json_load(im.layout, strlen(im.layout), "oci-layout");
		const char *v = json_string_value(json_object_get(lay, "imageLayoutVersion"));

		err = v && !strcmp(v, "1.0.0") ? 0 : -EINVAL;
		json_decref(lay);
		if (err < 0) {
			sonde_err("%s: oci-layout is not imageLayoutVersion 1.0.0", file);
			goto out;
		}
	}
	err = oci_index_parse(im.index_json, im.index_len, &idx);
	if (err < 0) {
		sonde_err("%s: index.json is not a valid image index", file);
		goto out;
	}
	parsed = true;
	refs = calloc(idx.nmanifests + 1, sizeof(*refs));
	if (!refs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < idx.nmanifests; i++) {
		const char *name = oci_descriptor_annotation(&idx.manifests[i], OCI_ANN_REF_NAME);
		struct sonde_image_ref ref;
		char full[1024];

		if (!name)
			continue; /* untagged: nothing to name it by in the store */
		if ((err = sonde_image_ref_parse(name, &ref)) < 0 ||
		    (err = sonde_image_ref_format(&ref, full, sizeof(full))) < 0) {
			sonde_err("%s: tag \"%s\" is not a valid reference", file, name);
			goto out;
		}
		err = import_check_graph(&im, &idx.manifests[i], full, 0);
		if (err < 0)
			goto out;
		refs[nrefs] = strdup(full);
		if (!refs[nrefs++]) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (!nrefs) {
		sonde_err("%s: no tagged image in the archive", file);
		err = -EINVAL;
		goto out;
	}
	for (size_t i = 0, j = 0; i < idx.nmanifests; i++) {
		if (!oci_descriptor_annotation(&idx.manifests[i], OCI_ANN_REF_NAME))
			continue;
		err = oci_descriptor_set_annotation(&idx.manifests[i], SONDE_ANN_BUILT_HERE, NULL);
		if (!err)
			err = oci_store_tag(im.store, refs[j++], &idx.manifests[i]);
		if (err < 0)
			goto out;
		/* from here on a tag may point at the new blobs: they stay */
		im.nadded = 0;
	}
	/* what the user imported: the signatures went along unnamed */
	shown = refs;
	for (size_t i = 0; i < nrefs; i++)
		if (is_sig_tag(refs[i]))
			free(refs[i]);
		else
			shown[nshown++] = refs[i];
	refs = NULL;
	nrefs = 0;
out:
	if (err < 0 && im.store)
		for (size_t i = 0; i < im.nadded; i++) {
			char path[PATH_MAX];

			if (!oci_blob_path(im.store, im.added[i], path, sizeof(path)))
				unlink(path);
		}
	if (locked)
		oci_store_unlock(im.store);
	oci_store_close(im.store);
	if (parsed)
		oci_index_clear(&idx);
	sonde_image_import_tags_free(refs, nrefs);
	free(im.added);
	free(im.index_json);
	free(im.layout);
	if (err < 0) {
		sonde_image_import_tags_free(shown, nshown);
		return err;
	}
	if (tags_out) {
		*tags_out = shown;
		*ntags_out = nshown;
	} else {
		sonde_image_import_tags_free(shown, nshown);
	}
	return 0;
}

int sonde_image_import(const char *store_dir, const char *file, char ***tags, size_t *ntags)
{
	FILE *f = fopen(file, "r");
	int err;

	if (!f) {
		err = -errno;
		sonde_err("opening %s: %s", file, strerror(errno));
		return err;
	}
	err = archive_import(store_dir, f, file, tags, ntags);
	fclose(f);
	return err;
}
