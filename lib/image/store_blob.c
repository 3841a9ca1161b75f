/* Blobs of the store: content-addressed files under blobs/sha256, written to
 * ingest/ first and renamed into place only once their digest matched, so a
 * blob in the store is always whole and what its name says. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/log.h>

#include "image/store_internal.h"

int oci_blob_path(const struct oci_store *s, const char *digest, char *buf, size_t n)
{
	if (!oci_digest_valid(digest)) {
		sonde_err("invalid blob digest \"%s\"", digest ? digest : "");
		return -EINVAL;
	}
	if ((size_t)snprintf(buf, n, "%s/blobs/sha256/%s", s->dir, digest + 7) >= n)
		return -ENAMETOOLONG;
	return 0;
}

bool oci_blob_exists(struct oci_store *s, const char *digest)
{
	char path[4096];
	if (!oci_digest_valid(digest) || oci_blob_path(s, digest, path, sizeof(path)))
		return false;
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

struct oci_blob_writer {
	struct oci_store *s;
	char digest[OCI_DIGEST_LEN];
	int64_t expected;
	int64_t written;
	struct oci_hasher *h;
	int fd;
	bool failed;
	char tmp[4096];
};

int oci_blob_writer_open(struct oci_store *s, const char *digest, int64_t expected_size,
                         struct oci_blob_writer **out)
{
	*out = NULL;
	int err = oci_store_check_writable(s, "write a blob");
	if (err)
		return err;
	if (!oci_digest_valid(digest)) {
		sonde_err("invalid blob digest \"%s\"", digest ? digest : "");
		return -EINVAL;
	}
	if (expected_size > (int64_t)OCI_MAX_BLOB) {
		sonde_err("blob %s of %lld bytes exceeds the %llu byte limit", digest,
		          (long long)expected_size, OCI_MAX_BLOB);
		return -EFBIG;
	}
	struct oci_blob_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->h = oci_hasher_new())) {
		free(w);
		return -ENOMEM;
	}
	w->s = s;
	w->expected = expected_size;
	strcpy(w->digest, digest);
	snprintf(w->tmp, sizeof(w->tmp), "%s/ingest/%.19s-XXXXXX", s->dir, digest + 7);
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		err = -errno;
		sonde_err("cannot create a temporary blob in %s/ingest: %s", s->dir, strerror(errno));
		oci_hasher_free(w->h);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

int oci_blob_writer_write(struct oci_blob_writer *w, const void *data, size_t len)
{
	if (w->failed)
		return -EIO;
	if ((w->expected >= 0 && w->written + (int64_t)len > w->expected) ||
	    w->written + (int64_t)len > (int64_t)OCI_MAX_BLOB) {
		sonde_err("blob %s is larger than %lld bytes", w->digest,
		          (long long)(w->expected >= 0 ? w->expected : (int64_t)OCI_MAX_BLOB));
		w->failed = true;
		return -EFBIG;
	}
	const char *p = data;
	size_t left = len;
	while (left) {
		ssize_t n = write(w->fd, p, left);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int err = -errno;
			sonde_err("cannot write %s: %s", w->tmp, strerror(errno));
			w->failed = true;
			return err;
		}
		p += n;
		left -= (size_t)n;
	}
	oci_hasher_update(w->h, data, len);
	w->written += (int64_t)len;
	return 0;
}

void oci_blob_writer_abort(struct oci_blob_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	unlink(w->tmp);
	oci_hasher_free(w->h);
	free(w);
}

int oci_blob_writer_commit(struct oci_blob_writer *w)
{
	int err = w->failed ? -EIO : 0;
	char got[OCI_DIGEST_LEN];
	oci_hasher_finish(w->h, got);
	w->h = NULL;
	if (!err && w->expected >= 0 && w->written != w->expected) {
		sonde_err("blob %s is truncated: %lld of %lld bytes", w->digest, (long long)w->written,
		          (long long)w->expected);
		err = -EBADMSG;
	}
	if (!err && strcmp(got, w->digest) != 0) {
		sonde_err("blob %s does not match its digest (its content hashes to %s); not stored",
		          w->digest, got);
		err = -EBADMSG;
	}
	if (!err && fsync(w->fd) != 0) {
		err = -errno;
		sonde_err("cannot write %s: %s", w->tmp, strerror(errno));
	}
	close(w->fd);
	w->fd = -1;
	char path[4096];
	if (!err && !(err = oci_blob_path(w->s, w->digest, path, sizeof(path)))) {
		/* A blob already there has the same content by definition. */
		if (access(path, F_OK) != 0 && rename(w->tmp, path) != 0) {
			err = -errno;
			sonde_err("cannot store blob %s: %s", w->digest, strerror(errno));
		}
	}
	unlink(w->tmp);
	free(w);
	return err;
}

int oci_blob_put_verified(struct oci_store *s, const char *digest, const void *data, size_t len)
{
	if (oci_blob_exists(s, digest)) {
		char got[OCI_DIGEST_LEN];
		oci_digest_of(data, len, got);
		if (strcmp(got, digest) != 0) {
			sonde_err("blob %s does not match its digest (its content hashes to %s); not stored",
			          digest, got);
			return -EBADMSG;
		}
		return 0;
	}
	struct oci_blob_writer *w;
	int err = oci_blob_writer_open(s, digest, (int64_t)len, &w);
	if (err)
		return err;
	if ((err = oci_blob_writer_write(w, data, len))) {
		oci_blob_writer_abort(w);
		return err;
	}
	return oci_blob_writer_commit(w);
}

int oci_blob_put(struct oci_store *s, const void *data, size_t len, char digest_out[OCI_DIGEST_LEN])
{
	char d[OCI_DIGEST_LEN];
	oci_digest_of(data, len, d);
	if (digest_out)
		strcpy(digest_out, d);
	return oci_blob_put_verified(s, d, data, len);
}

int oci_blob_read(struct oci_store *s, const char *digest, size_t max, void **data, size_t *len)
{
	*data = NULL;
	if (len)
		*len = 0;
	char path[4096];
	int err = oci_blob_path(s, digest, path, sizeof(path));
	if (err)
		return err;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (errno == ENOENT)
			sonde_err("blob %s is missing from the image store %s", digest, s->dir);
		else
			sonde_err("cannot open %s: %s", path, strerror(errno));
		return err;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		sonde_err("blob %s of the image store %s is not a regular file", digest, s->dir);
		close(fd);
		return -EBADMSG;
	}
	if ((uint64_t)st.st_size > max) {
		sonde_err("blob %s is %lld bytes, more than the %zu allowed", digest, (long long)st.st_size,
		          max);
		close(fd);
		return -EFBIG;
	}
	size_t n = (size_t)st.st_size, got = 0;
	char *buf = malloc(n + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	char d[OCI_DIGEST_LEN];
	oci_digest_of(buf, got, d);
	if (got != n || strcmp(d, digest) != 0) {
		sonde_err("blob %s of the image store %s is damaged (its content hashes to %s)", digest,
		          s->dir, d);
		free(buf);
		return -EBADMSG;
	}
	*data = buf;
	if (len)
		*len = got;
	return 0;
}
