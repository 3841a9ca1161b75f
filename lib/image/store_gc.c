/* Garbage collection: every blob not reachable from index.json goes. A root
 * that cannot be read stops the collection before anything is deleted: a
 * damaged store must not lose what could still be repaired. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sonde/log.h>

#include "image/store_internal.h"

struct digest_set {
	char (*d)[OCI_DIGEST_LEN];
	size_t n, cap;
};

static bool set_has(const struct digest_set *set, const char *d)
{
	for (size_t i = 0; i < set->n; i++)
		if (!strcmp(set->d[i], d))
			return true;
	return false;
}

static int set_add(struct digest_set *set, const char *d)
{
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		void *p = realloc(set->d, cap * sizeof(*set->d));
		if (!p)
			return -ENOMEM;
		set->d = p;
		set->cap = cap;
	}
	strcpy(set->d[set->n++], d);
	return 0;
}

static bool is_index(const char *mt)
{
	return !strcmp(mt, OCI_MT_INDEX) || !strcmp(mt, OCI_MT_DOCKER_LIST);
}

static bool is_manifest(const char *mt)
{
	return !strcmp(mt, OCI_MT_MANIFEST) || !strcmp(mt, OCI_MT_DOCKER_MANIF);
}

static int mark(struct oci_store *s, struct digest_set *set, const struct oci_descriptor *d, int depth)
{
	if (set_has(set, d->digest))
		return 0;
	int err = set_add(set, d->digest);
	if (err)
		return err;
	if (depth > 8) {
		sonde_err("image store %s: documents nested too deeply at %s", s->dir, d->digest);
		return -ELOOP;
	}
	if (!is_index(d->media_type) && !is_manifest(d->media_type))
		return 0;
	/* An absent child is not an error: nothing of it can be collected. */
	if (!oci_blob_exists(s, d->digest))
		return 0;
	void *data;
	size_t len;
	if ((err = oci_blob_read(s, d->digest, OCI_MAX_DOCUMENT, &data, &len)))
		return err;
	if (is_index(d->media_type)) {
		struct oci_index idx;
		err = oci_index_parse(data, len, &idx);
		for (size_t i = 0; !err && i < idx.nmanifests; i++)
			err = mark(s, set, &idx.manifests[i], depth + 1);
		oci_index_clear(&idx);
	} else {
		struct oci_manifest m;
		err = oci_manifest_parse(data, len, &m);
		if (!err)
			err = mark(s, set, &m.config, depth + 1);
		for (size_t i = 0; !err && i < m.nlayers; i++)
			err = mark(s, set, &m.layers[i], depth + 1);
		if (!err && m.subject)
			err = mark(s, set, m.subject, depth + 1);
		oci_manifest_clear(&m);
	}
	free(data);
	return err;
}

/* Temp files older than this were left by a process that died mid-write. */
#define INGEST_STALE_S (24 * 3600)

static void clean_ingest(struct oci_store *s)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/ingest", s->dir);
	DIR *dir = opendir(path);
	if (!dir)
		return;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(dir))) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(dirfd(dir), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode) && now - st.st_mtime > INGEST_STALE_S)
			unlinkat(dirfd(dir), e->d_name, 0);
	}
	closedir(dir);
}

int oci_store_gc(struct oci_store *s, size_t *freed)
{
	if (freed)
		*freed = 0;
	int err = oci_store_lock(s, OCI_STORE_LOCK_TIMEOUT_MS);
	if (err)
		return err;
	struct digest_set set = {0};
	struct oci_index idx;
	if ((err = oci_store_read_index(s, &idx)))
		goto out;
	for (size_t i = 0; !err && i < idx.nmanifests; i++)
		err = mark(s, &set, &idx.manifests[i], 0);
	oci_index_clear(&idx);
	if (err) {
		sonde_err("garbage collection of the image store %s stopped; nothing was deleted", s->dir);
		goto out;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/blobs/sha256", s->dir);
	DIR *dir = opendir(path);
	if (!dir) {
		err = -errno;
		sonde_err("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	struct dirent *e;
	char d[OCI_DIGEST_LEN];
	while ((e = readdir(dir))) {
		/* Only files named like blobs: anything else is not ours to delete. */
		if (strlen(e->d_name) != 64)
			continue;
		memcpy(d, "sha256:", 7);
		memcpy(d + 7, e->d_name, 65);
		if (!oci_digest_valid(d) || set_has(&set, d))
			continue;
		if (unlinkat(dirfd(dir), e->d_name, 0) == 0) {
			if (freed)
				(*freed)++;
		} else {
			sonde_warn("cannot delete blob %s: %s", d, strerror(errno));
		}
	}
	closedir(dir);
	clean_ingest(s);
out:
	free(set.d);
	oci_store_unlock(s);
	return err;
}
