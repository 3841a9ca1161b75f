/* The local store: an OCI image layout (oci-layout, index.json,
 * blobs/sha256/) whose index.json entries, annotated with
 * org.opencontainers.image.ref.name, are the tags. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/log.h>

#include "image/log_capture.h"
#include "image/store_internal.h"
#include "util/file.h"

#define LAYOUT_TEXT "{\"imageLayoutVersion\":\"1.0.0\"}"
#define EMPTY_INDEX "{\"schemaVersion\":2,\"manifests\":[]}"

int oci_store_check_writable(const struct oci_store *s, const char *op)
{
	if (s->flags & OCI_STORE_READ_ONLY) {
		sonde_err("the image store %s is open read-only (cannot %s)", s->dir, op);
		return -EROFS;
	}
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int oci_write_file_atomic(const char *dir, const char *name, const void *data, size_t len, bool replace)
{
	char tmp[4096], dst[4096];
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-XXXXXX", dir, name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		int err = -errno;
		sonde_err("cannot create a temporary file in %s: %s", dir, strerror(errno));
		return err;
	}
	int err = 0;
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t n = write(fd, p, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		p += n;
		left -= (size_t)n;
	}
	if (!err && fchmod(fd, 0644) != 0)
		err = -errno;
	if (!err && fsync(fd) != 0)
		err = -errno;
	if (close(fd) != 0 && !err)
		err = -errno;
	if (!err) {
		if (replace) {
			if (rename(tmp, dst) != 0)
				err = -errno;
		} else if (link(tmp, dst) != 0 && errno != EEXIST) {
			err = -errno;
		}
	}
	if (err) {
		sonde_err("cannot write %s: %s", dst, strerror(-err));
		unlink(tmp);
		return err;
	}
	if (!replace)
		unlink(tmp);
	/* The rename is durable only once the directory is. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

/* A --store pointing at a directory full of something else (a typo, $HOME)
 * must not get blobs/, ingest/ and an index.json sprinkled into it. */
static int refuse_foreign_dir(const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/oci-layout", dir);
	if (access(path, F_OK) == 0)
		return 0;
	snprintf(path, sizeof(path), "%s/index.json", dir);
	if (access(path, F_OK) == 0)
		return 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0; /* absent: created below; unreadable: said below */
	struct dirent *e;
	bool empty = true;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	if (empty)
		return 0;
	sonde_err("%s is not an image store (no oci-layout nor index.json) and not empty: not using it", dir);
	return -ENOTEMPTY;
}

int oci_store_open(const char *dir, unsigned flags, struct oci_store **out)
{
	*out = NULL;
	if (!dir || !*dir) {
		sonde_err("no image store directory given");
		return -EINVAL;
	}
	struct oci_store *s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		return -ENOMEM;
	}
	/* "dir/" and "dir" are the same store; messages show it one way. */
	for (size_t l = strlen(s->dir); l > 1 && s->dir[l - 1] == '/'; l--)
		s->dir[l - 1] = '\0';
	s->flags = flags;
	s->lock_fd = -1;
	char path[4096];
	int err = 0;
	if (flags & OCI_STORE_READ_ONLY) {
		snprintf(path, sizeof(path), "%s/index.json", s->dir);
		if (access(path, R_OK) != 0) {
			err = -errno;
			sonde_err("%s is not an image store (no readable index.json: %s)", s->dir,
			          strerror(errno));
			goto fail;
		}
		*out = s;
		return 0;
	}
	if ((err = refuse_foreign_dir(s->dir)))
		goto fail;
	snprintf(path, sizeof(path), "%s/blobs/sha256", s->dir);
	if ((err = mkdir_p(s->dir, 0700)) || (err = mkdir_p(path, 0700))) {
		sonde_err("cannot create the image store %s: %s", s->dir, strerror(-err));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/ingest", s->dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		err = -errno;
		sonde_err("cannot create %s: %s", path, strerror(errno));
		goto fail;
	}
	/* link() instead of rename(): two processes creating the same store at
	 * once must not replace an index.json the other already wrote tags to. */
	snprintf(path, sizeof(path), "%s/oci-layout", s->dir);
	if (access(path, F_OK) != 0 &&
	    (err = oci_write_file_atomic(s->dir, "oci-layout", LAYOUT_TEXT, strlen(LAYOUT_TEXT), false)))
		goto fail;
	snprintf(path, sizeof(path), "%s/index.json", s->dir);
	if (access(path, F_OK) != 0 &&
	    (err = oci_write_file_atomic(s->dir, "index.json", EMPTY_INDEX, strlen(EMPTY_INDEX), false)))
		goto fail;
	*out = s;
	return 0;
fail:
	free(s->dir);
	free(s);
	return err;
}

void oci_store_close(struct oci_store *s)
{
	if (!s)
		return;
	while (s->lock_depth > 0)
		oci_store_unlock(s);
	free(s->dir);
	free(s);
}

const char *oci_store_dir(const struct oci_store *s)
{
	return s->dir;
}

int oci_store_read_index(struct oci_store *s, struct oci_index *idx)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/index.json", s->dir);
	char *data = NULL;
	size_t len = 0;
	int err = util_read_file(path, OCI_MAX_DOCUMENT, &data, &len);
	if (err) {
		memset(idx, 0, sizeof(*idx));
		sonde_err("cannot read %s: %s", path, strerror(-err));
		return err;
	}
	struct oci_log_capture cap;
	oci_log_capture_begin(&cap);
	err = oci_index_parse(data, len, idx);
	oci_log_capture_end(&cap);
	free(data);
	if (err) {
		sonde_err("the image store's %s is corrupt (%s); it was left as it is: repair or remove it",
		          path, cap.msg[0] ? cap.msg : "invalid");
		return -EBADMSG;
	}
	return 0;
}

int oci_store_write_index(struct oci_store *s, const struct oci_index *idx)
{
	json_t *doc = oci_index_to_json(idx);
	if (!doc)
		return -ENOMEM;
	size_t len;
	char *text = oci_json_dump(doc, &len);
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	int err = oci_write_file_atomic(s->dir, "index.json", text, len, true);
	free(text);
	return err;
}

static const char *ref_of(const struct oci_descriptor *d)
{
	return oci_descriptor_annotation(d, OCI_ANN_REF_NAME);
}

int oci_store_resolve(struct oci_store *s, const char *ref, struct oci_descriptor *out)
{
	struct oci_index idx;
	memset(out, 0, sizeof(*out));
	int err = oci_store_read_index(s, &idx);
	if (err)
		return err;
	err = -ENOENT;
	for (size_t i = 0; i < idx.nmanifests; i++) {
		const char *r = ref_of(&idx.manifests[i]);
		if (r && !strcmp(r, ref)) {
			err = oci_descriptor_copy(out, &idx.manifests[i]);
			break;
		}
	}
	oci_index_clear(&idx);
	return err;
}

int oci_store_tag(struct oci_store *s, const char *ref, const struct oci_descriptor *desc)
{
	if (!ref || !*ref) {
		sonde_err("cannot tag an image with an empty reference");
		return -EINVAL;
	}
	if (!oci_digest_valid(desc->digest)) {
		sonde_err("cannot tag %s: invalid digest \"%s\"", ref, desc->digest);
		return -EINVAL;
	}
	int err = oci_store_lock(s, OCI_STORE_LOCK_TIMEOUT_MS);
	if (err)
		return err;
	struct oci_index idx;
	struct oci_descriptor d = {0};
	if ((err = oci_store_read_index(s, &idx)))
		goto out;
	/* A tag pointing at nothing would break every later reader. */
	if (!oci_blob_exists(s, desc->digest)) {
		sonde_err("cannot tag %s: %s is not in the store %s", ref, desc->digest, s->dir);
		err = -ENOENT;
		goto out;
	}
	if ((err = oci_descriptor_copy(&d, desc)) ||
	    (err = oci_descriptor_set_annotation(&d, OCI_ANN_REF_NAME, ref)))
		goto out;
	size_t i;
	for (i = 0; i < idx.nmanifests; i++) {
		const char *r = ref_of(&idx.manifests[i]);
		if (r && !strcmp(r, ref))
			break;
	}
	if (i < idx.nmanifests) {
		oci_descriptor_clear(&idx.manifests[i]);
		idx.manifests[i] = d;
	} else {
		struct oci_descriptor *m = realloc(idx.manifests, (idx.nmanifests + 1) * sizeof(*m));
		if (!m) {
			err = -ENOMEM;
			goto out;
		}
		idx.manifests = m;
		idx.manifests[idx.nmanifests++] = d;
	}
	memset(&d, 0, sizeof(d));
	err = oci_store_write_index(s, &idx);
out:
	oci_descriptor_clear(&d);
	oci_index_clear(&idx);
	oci_store_unlock(s);
	return err;
}

int oci_store_untag(struct oci_store *s, const char *ref)
{
	int err = oci_store_lock(s, OCI_STORE_LOCK_TIMEOUT_MS);
	if (err)
		return err;
	struct oci_index idx;
	if ((err = oci_store_read_index(s, &idx)))
		goto out;
	err = -ENOENT;
	for (size_t i = 0; i < idx.nmanifests; i++) {
		const char *r = ref_of(&idx.manifests[i]);
		if (r && !strcmp(r, ref)) {
			oci_descriptor_clear(&idx.manifests[i]);
			memmove(&idx.manifests[i], &idx.manifests[i + 1],
			        (idx.nmanifests - i - 1) * sizeof(idx.manifests[0]));
			idx.nmanifests--;
			err = oci_store_write_index(s, &idx);
			break;
		}
	}
	if (err == -ENOENT)
		sonde_err("%s is not in the image store %s", ref, s->dir);
out:
	oci_index_clear(&idx);
	oci_store_unlock(s);
	return err;
}

int oci_store_tags(struct oci_store *s, struct oci_descriptor **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct oci_index idx;
	int err = oci_store_read_index(s, &idx);
	if (err)
		return err;
	size_t k = 0;
	for (size_t i = 0; i < idx.nmanifests; i++) {
		if (ref_of(&idx.manifests[i]))
			idx.manifests[k++] = idx.manifests[i];
		else
			oci_descriptor_clear(&idx.manifests[i]);
	}
	if (k) {
		*out = idx.manifests;
		idx.manifests = NULL;
	}
	*n = k;
	idx.nmanifests = 0;
	oci_index_clear(&idx);
	return 0;
}

void oci_store_tags_free(struct oci_descriptor *tags, size_t n)
{
	for (size_t i = 0; i < n; i++)
		oci_descriptor_clear(&tags[i]);
	free(tags);
}
