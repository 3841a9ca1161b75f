/* sonde image import of an archive (a tar with an OCI image layout, which
 * whoever sent the file controls) into a store. The input is the archive.
 *
 * Oracle: a refused archive leaves the store as it was (index.json byte
 * for byte, the same blobs); an accepted one left every tag it reported
 * resolvable. The store lives in a temp dir for the whole process, so seeds
 * that import (the real exports in seeds/tar_import) give later inputs a
 * store with images and tags in it. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/image_archive.h>

#include "fuzz_input.h"
#include "image/archive.h"
#include "image/oci.h"

static char store_dir[] = "/tmp/sonde-fuzz-tar-import.XXXXXX";

static size_t count_blobs(void)
{
	char path[sizeof(store_dir) + 32];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/blobs/sha256", store_dir);
	d = opendir(path);
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static char *read_index(size_t *len)
{
	char path[sizeof(store_dir) + 16], *buf = NULL;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/index.json", store_dir);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static void cleanup(void)
{
	char cmd[sizeof(store_dir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", store_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", store_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static int ready;
	char *before, *after, **tags = NULL;
	size_t blen = 0, alen = 0, nblobs, ntags = 0;
	FILE *f;
	int err;

	fuzz_init_once();
	if (!ready) {
		struct oci_store *s;

		FUZZ_CHECK(mkdtemp(store_dir));
		FUZZ_CHECK(oci_store_open(store_dir, 0, &s) == 0);
		oci_store_close(s);
		atexit(cleanup);
		ready = 1;
	}
	static char empty[1];

	/* fmemopen needs a size: an empty input is a stream read to its end */
	f = len ? fmemopen((void *)data, len, "r") : fmemopen(empty, 1, "r");
	if (!f)
		return 0;
	if (!len)
		fgetc(f);
	before = read_index(&blen);
	nblobs = count_blobs();
	err = archive_import(store_dir, f, "fuzz archive", &tags, &ntags);
	fclose(f);
	after = read_index(&alen);
	if (err < 0) {
		FUZZ_CHECK(before && after && blen == alen && !memcmp(before, after, blen));
		FUZZ_CHECK(count_blobs() == nblobs);
	} else {
		struct oci_store *s;

		FUZZ_CHECK(oci_store_open(store_dir, OCI_STORE_READ_ONLY, &s) == 0);
		for (size_t i = 0; i < ntags; i++) {
			struct oci_descriptor d;

			FUZZ_CHECK(oci_store_resolve(s, tags[i], &d) == 0);
			FUZZ_CHECK(oci_blob_exists(s, d.digest));
			oci_descriptor_clear(&d);
		}
		oci_store_close(s);
	}
	sonde_image_import_tags_free(tags, ntags);
	free(before);
	free(after);
	return 0;
}
