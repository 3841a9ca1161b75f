/* The OCI building blocks and the local store: digests, documents, blobs,
 * tags, garbage collection, a corrupt index.json, and the writer lock held
 * by another process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/log.h>

#include "image/oci.h"
#include "testlib.h"

static char last_log[1024];
static void capture(enum sonde_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == SONDE_LOG_ERROR)
		snprintf(last_log, sizeof(last_log), "%s", msg);
}

static char tmpl[] = "/tmp/sonde-ocistore-XXXXXX";

static struct oci_store *new_store(char *dir, size_t n)
{
	snprintf(dir, n, "%s", tmpl);
	if (!mkdtemp(dir))
		return NULL;
	char sub[4096];
	snprintf(sub, sizeof(sub), "%s/store", dir);
	struct oci_store *s = NULL;
	if (oci_store_open(sub, 0, &s))
		return NULL;
	return s;
}

static void drop_store(struct oci_store *s, const char *dir)
{
	oci_store_close(s);
	test_rm_tree(dir, "/tmp/sonde-ocistore-");
}

static size_t count_dir(const char *path)
{
	DIR *d = opendir(path);
	size_t n = 0;
	struct dirent *e;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_digest(void)
{
	char d[OCI_DIGEST_LEN];
	oci_digest_of("{}", 2, d);
	CHECK_STR(d, OCI_EMPTY_DIGEST);
	CHECK(oci_digest_valid(d));
	struct oci_hasher *h = oci_hasher_new();
	REQUIRE(h);
	oci_hasher_update(h, "{", 1);
	oci_hasher_update(h, "}", 1);
	char d2[OCI_DIGEST_LEN];
	oci_hasher_finish(h, d2);
	CHECK_STR(d2, d);
	oci_digest_of("", 0, d);
	CHECK_STR(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK(!oci_digest_valid("sha256:E3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK(!oci_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85"));
	CHECK(!oci_digest_valid("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555"));
	CHECK(!oci_digest_valid("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK(!oci_digest_valid(NULL));
}

/* A manifest as Go's ig writes it: field order, sorted annotations, compact. */
static const char manifest_text[] =
    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
    "\"artifactType\":\"application/vnd.gadget.v1+binary\","
    "\"config\":{\"mediaType\":\"application/vnd.gadget.config.v1+yaml\","
    "\"digest\":\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2,"
    "\"annotations\":{\"a\":\"x \\u0026 \\u003cy\\u003e\",\"org.opencontainers.image.title\":\"t\"}},"
    "\"layers\":[{\"mediaType\":\"application/vnd.gadget.ebpf.program.v1+binary\","
    "\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":0}],"
    "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\"}}";

static void test_documents(void)
{
	struct oci_manifest m;
	REQUIRE(oci_manifest_parse(manifest_text, strlen(manifest_text), &m) == 0);
	CHECK_STR(m.artifact_type, GADGET_ARTIFACT_TYPE);
	CHECK_STR(m.config.media_type, GADGET_MT_CONFIG);
	CHECK_INT(m.nlayers, 1);
	CHECK_STR(oci_descriptor_annotation(&m.config, "a"), "x & <y>");
	json_t *j = oci_manifest_to_json(&m);
	size_t len;
	char *text = oci_json_dump(j, &len);
	CHECK_STR(text, manifest_text);
	CHECK_INT(len, strlen(manifest_text));
	free(text);
	json_decref(j);
	oci_manifest_clear(&m);

	static const char *const bad[] = {
	    "[]",
	    "{\"schemaVersion\":1,\"config\":{\"mediaType\":\"a\",\"digest\":\"" OCI_EMPTY_DIGEST
	    "\",\"size\":2},\"layers\":[]}",
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"config\":{"
	    "\"mediaType\":\"a\",\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":2},\"layers\":[]}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"sha256:12\",\"size\":2}}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" OCI_EMPTY_DIGEST
	    "\",\"size\":-1}}",
	    "{\"schemaVersion\":2,\"config\":{\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":2}}",
	    "{\"schemaVersion\":2}",
	    "{\"schemaVersion\":2,\"schemaVersion\":2,\"config\":{}}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" OCI_EMPTY_DIGEST
	    "\",\"size\":2},\"layers\":{}}",
	    "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\",\"digest\":\"" OCI_EMPTY_DIGEST
	    "\",\"size\":2,\"annotations\":{\"k\":1}}}",
	    "{\"schemaVersion\":2,",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = oci_manifest_parse(bad[i], strlen(bad[i]), &m);
		if (err != -EINVAL && err != -EBADMSG) {
			fprintf(stderr, "bad manifest %zu accepted (%d)\n", i, err);
			test_failures++;
		}
	}

	const char idx_text[] =
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
	    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"" OCI_EMPTY_DIGEST
	    "\",\"size\":2,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}},"
	    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":0,"
	    "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}";
	struct oci_index idx;
	REQUIRE(oci_index_parse(idx_text, strlen(idx_text), &idx) == 0);
	CHECK_INT(idx.nmanifests, 2);
	const struct oci_descriptor *d = oci_index_for_arch(&idx, "amd64");
	REQUIRE(d);
	CHECK_INT(d->size, 0);
	CHECK(oci_index_for_arch(&idx, "riscv64") == NULL);
	j = oci_index_to_json(&idx);
	text = oci_json_dump(j, NULL);
	CHECK_STR(text, idx_text);
	free(text);
	json_decref(j);
	oci_index_clear(&idx);
	const char wrong_mt[] =
	    "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_MANIFEST "\",\"manifests\":[]}";
	CHECK_INT(oci_index_parse(wrong_mt, strlen(wrong_mt), &idx), -EINVAL);
	CHECK(strcmp(oci_host_arch(), "unknown") != 0);
}

static void test_layout(void)
{
	char dir[64], path[4096];
	struct oci_store *s = new_store(dir, sizeof(dir));
	REQUIRE(s);
	struct stat st;
	snprintf(path, sizeof(path), "%s/store", dir);
	REQUIRE(stat(path, &st) == 0);
	CHECK_INT(st.st_mode & 0777, 0700);
	CHECK_STR(oci_store_dir(s), path);
	snprintf(path, sizeof(path), "%s/store/oci-layout", dir);
	char *t = test_read_file(path, NULL);
	CHECK_STR(t, "{\"imageLayoutVersion\":\"1.0.0\"}");
	free(t);
	snprintf(path, sizeof(path), "%s/store/index.json", dir);
	t = test_read_file(path, NULL);
	CHECK_STR(t, "{\"schemaVersion\":2,\"manifests\":[]}");
	free(t);
	snprintf(path, sizeof(path), "%s/store/blobs/sha256", dir);
	CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));

	/* Re-opening keeps what is there. */
	char d[OCI_DIGEST_LEN];
	REQUIRE(oci_blob_put(s, "{}", 2, d) == 0);
	struct oci_descriptor desc = {.media_type = OCI_MT_EMPTY, .size = 2};
	strcpy(desc.digest, d);
	REQUIRE(oci_store_tag(s, "ghcr.io/x/y:1", &desc) == 0);
	struct oci_store *s2;
	snprintf(path, sizeof(path), "%s/store/", dir);
	REQUIRE(oci_store_open(path, 0, &s2) == 0);
	struct oci_descriptor got;
	CHECK_INT(oci_store_resolve(s2, "ghcr.io/x/y:1", &got), 0);
	oci_descriptor_clear(&got);
	oci_store_close(s2);

	/* A directory holding something else is not turned into a store. */
	snprintf(path, sizeof(path), "%s/other", dir);
	REQUIRE(mkdir(path, 0700) == 0);
	char file[4200];
	snprintf(file, sizeof(file), "%s/notes.txt", path);
	test_write_file_or_abort(file, "mine");
	CHECK_INT(oci_store_open(path, 0, &s2), -ENOTEMPTY);
	snprintf(file, sizeof(file), "%s/blobs", path);
	CHECK(access(file, F_OK) != 0);

	/* Read-only: never creates, never writes. */
	snprintf(path, sizeof(path), "%s/nostore", dir);
	CHECK(oci_store_open(path, OCI_STORE_READ_ONLY, &s2) < 0);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/store", dir);
	REQUIRE(oci_store_open(path, OCI_STORE_READ_ONLY, &s2) == 0);
	CHECK_INT(oci_store_resolve(s2, "ghcr.io/x/y:1", &got), 0);
	oci_descriptor_clear(&got);
	CHECK_INT(oci_store_untag(s2, "ghcr.io/x/y:1"), -EROFS);
	CHECK_INT(oci_blob_put(s2, "x", 1, NULL), -EROFS);
	oci_store_close(s2);
	drop_store(s, dir);
}

static void test_blobs(void)
{
	char dir[64], path[4096];
	struct oci_store *s = new_store(dir, sizeof(dir));
	REQUIRE(s);
	char d[OCI_DIGEST_LEN];
	REQUIRE(oci_blob_put(s, "hello", 5, d) == 0);
	CHECK(oci_blob_exists(s, d));
	void *data;
	size_t len;
	REQUIRE(oci_blob_read(s, d, 100, &data, &len) == 0);
	CHECK_INT(len, 5);
	CHECK_STR(data, "hello");
	free(data);
	CHECK_INT(oci_blob_read(s, d, 4, &data, &len), -EFBIG);

	/* Mismatch: refused, nothing enters blobs/, nothing stays in ingest/. */
	snprintf(path, sizeof(path), "%s/store/blobs/sha256", dir);
	size_t before = count_dir(path);
	CHECK_INT(oci_blob_put_verified(s, OCI_EMPTY_DIGEST, "{ }", 3), -EBADMSG);
	CHECK(!oci_blob_exists(s, OCI_EMPTY_DIGEST));
	CHECK_INT(count_dir(path), before);
	struct oci_blob_writer *w;
	REQUIRE(oci_blob_writer_open(s, OCI_EMPTY_DIGEST, 2, &w) == 0);
	CHECK_INT(oci_blob_writer_write(w, "{", 1), 0);
	CHECK_INT(oci_blob_writer_commit(w), -EBADMSG); /* truncated */
	REQUIRE(oci_blob_writer_open(s, OCI_EMPTY_DIGEST, 2, &w) == 0);
	CHECK_INT(oci_blob_writer_write(w, "{}x", 3), -EFBIG); /* longer than announced */
	CHECK_INT(oci_blob_writer_commit(w), -EIO);
	REQUIRE(oci_blob_writer_open(s, OCI_EMPTY_DIGEST, -1, &w) == 0);
	oci_blob_writer_abort(w);
	CHECK(!oci_blob_exists(s, OCI_EMPTY_DIGEST));
	CHECK_INT(count_dir(path), before);
	snprintf(path, sizeof(path), "%s/store/ingest", dir);
	CHECK_INT(count_dir(path), 0);

	/* Streaming, size unknown. */
	REQUIRE(oci_blob_writer_open(s, OCI_EMPTY_DIGEST, -1, &w) == 0);
	CHECK_INT(oci_blob_writer_write(w, "{", 1), 0);
	CHECK_INT(oci_blob_writer_write(w, "}", 1), 0);
	CHECK_INT(oci_blob_writer_commit(w), 0);
	CHECK(oci_blob_exists(s, OCI_EMPTY_DIGEST));

	/* A blob damaged on disk is reported, not returned. */
	REQUIRE(oci_blob_path(s, d, path, sizeof(path)) == 0);
	chmod(path, 0644);
	test_write_file_or_abort(path, "hellO");
	CHECK_INT(oci_blob_read(s, d, 100, &data, &len), -EBADMSG);
	CHECK(data == NULL);
	CHECK_INT(oci_blob_read(s, "sha256:0000000000000000000000000000000000000000000000000000000000000000",
	                        100, &data, &len),
	          -ENOENT);
	drop_store(s, dir);
}

/* Puts a gadget-like graph in the store: index → manifest → config + layer. */
static void put_image(struct oci_store *s, const char *layer_text, struct oci_descriptor *index_desc)
{
	char cfg[OCI_DIGEST_LEN], layer[OCI_DIGEST_LEN], man[OCI_DIGEST_LEN], idx[OCI_DIGEST_LEN];
	const char *yaml = "name: test\n";
	oci_blob_put(s, yaml, strlen(yaml), cfg);
	oci_blob_put(s, layer_text, strlen(layer_text), layer);
	char text[2048];
	snprintf(
	    text, sizeof(text),
	    "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"artifactType\":\"%s\",\"config\":{\"mediaType\":"
	    "\"%s\",\"digest\":\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"%s\","
	    "\"size\":%zu}]}",
	    OCI_MT_MANIFEST, GADGET_ARTIFACT_TYPE, GADGET_MT_CONFIG, cfg, strlen(yaml), GADGET_MT_EBPF, layer,
	    strlen(layer_text));
	oci_blob_put(s, text, strlen(text), man);
	size_t mlen = strlen(text);
	snprintf(text, sizeof(text),
	         "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":\"%s\",\"digest\":"
	         "\"%s\","
	         "\"size\":%zu,\"platform\":{\"architecture\":\"%s\",\"os\":\"linux\"}}]}",
	         OCI_MT_INDEX, OCI_MT_MANIFEST, man, mlen, oci_host_arch());
	oci_blob_put(s, text, strlen(text), idx);
	memset(index_desc, 0, sizeof(*index_desc));
	strcpy(index_desc->media_type, OCI_MT_INDEX);
	strcpy(index_desc->digest, idx);
	index_desc->size = (int64_t)strlen(text);
}

static void test_tags_and_gc(void)
{
	char dir[64], path[4096];
	struct oci_store *s = new_store(dir, sizeof(dir));
	REQUIRE(s);
	struct oci_descriptor a, b, got;
	put_image(s, "layer A", &a);
	put_image(s, "layer B", &b);
	snprintf(path, sizeof(path), "%s/store/blobs/sha256", dir);
	CHECK_INT(count_dir(path), 7); /* shared config */

	CHECK_INT(oci_store_resolve(s, "r/a:1", &got), -ENOENT);
	REQUIRE(oci_store_tag(s, "r/a:1", &a) == 0);
	REQUIRE(oci_store_tag(s, "r/a:2", &a) == 0);
	REQUIRE(oci_store_tag(s, "r/b:1", &b) == 0);
	REQUIRE(oci_store_resolve(s, "r/a:2", &got) == 0);
	CHECK_STR(got.digest, a.digest);
	CHECK_STR(oci_descriptor_annotation(&got, OCI_ANN_REF_NAME), "r/a:2");
	oci_descriptor_clear(&got);
	/* Re-tagging replaces, in place. */
	REQUIRE(oci_store_tag(s, "r/a:1", &b) == 0);
	struct oci_descriptor *tags;
	size_t n;
	REQUIRE(oci_store_tags(s, &tags, &n) == 0);
	REQUIRE(n == 3);
	CHECK_STR(oci_descriptor_annotation(&tags[0], OCI_ANN_REF_NAME), "r/a:1");
	CHECK_STR(tags[0].digest, b.digest);
	CHECK_STR(oci_descriptor_annotation(&tags[2], OCI_ANN_REF_NAME), "r/b:1");
	oci_store_tags_free(tags, n);
	/* Tagging a digest the store lacks is refused. */
	struct oci_descriptor ghost = b;
	ghost.digest[10] = ghost.digest[10] == '0' ? '1' : '0';
	CHECK_INT(oci_store_tag(s, "r/ghost:1", &ghost), -ENOENT);

	size_t freed = 99;
	CHECK_INT(oci_store_gc(s, &freed), 0);
	CHECK_INT(freed, 0);
	CHECK_INT(oci_store_untag(s, "r/a:2"), 0);
	CHECK_INT(oci_store_untag(s, "r/a:2"), -ENOENT);
	CHECK_INT(oci_store_gc(s, &freed), 0);
	CHECK_INT(freed, 3); /* a's index, manifest, layer; not the shared config */
	CHECK(!oci_blob_exists(s, a.digest));
	CHECK(oci_blob_exists(s, b.digest));
	/* Files that are not blobs are not ours to delete. */
	snprintf(path, sizeof(path), "%s/store/blobs/sha256/README", dir);
	test_write_file_or_abort(path, "x");
	CHECK_INT(oci_store_untag(s, "r/a:1"), 0);
	CHECK_INT(oci_store_untag(s, "r/b:1"), 0);
	CHECK_INT(oci_store_gc(s, &freed), 0);
	CHECK_INT(freed, 4);
	snprintf(path, sizeof(path), "%s/store/blobs/sha256", dir);
	CHECK_INT(count_dir(path), 1);
	drop_store(s, dir);
}

static void test_corrupt_index(void)
{
	char dir[64], path[4096];
	struct oci_store *s = new_store(dir, sizeof(dir));
	REQUIRE(s);
	struct oci_descriptor a, got;
	put_image(s, "layer A", &a);
	snprintf(path, sizeof(path), "%s/store/index.json", dir);
	const char *bad = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":";
	test_write_file_or_abort(path, bad);
	last_log[0] = '\0';
	CHECK_INT(oci_store_tag(s, "r/a:1", &a), -EBADMSG);
	CHECK(strstr(last_log, "index.json is corrupt") != NULL);
	CHECK_INT(oci_store_resolve(s, "r/a:1", &got), -EBADMSG);
	CHECK_INT(oci_store_untag(s, "r/a:1"), -EBADMSG);
	size_t freed = 0;
	CHECK_INT(oci_store_gc(s, &freed), -EBADMSG);
	CHECK_INT(freed, 0);
	CHECK(oci_blob_exists(s, a.digest));
	/* Re-opening does not "repair" it either. */
	struct oci_store *s2;
	snprintf(path, sizeof(path), "%s/store", dir);
	REQUIRE(oci_store_open(path, 0, &s2) == 0);
	oci_store_close(s2);
	snprintf(path, sizeof(path), "%s/store/index.json", dir);
	char *t = test_read_file(path, NULL);
	CHECK_STR(t, bad);
	free(t);
	/* Valid JSON, wrong shape: the same. */
	test_write_file_or_abort(path, "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"x\"}]}");
	CHECK_INT(oci_store_tag(s, "r/a:1", &a), -EBADMSG);
	drop_store(s, dir);
}

static void test_lock_held_elsewhere(void)
{
	char dir[64];
	struct oci_store *s = new_store(dir, sizeof(dir));
	REQUIRE(s);
	struct oci_descriptor a;
	put_image(s, "layer A", &a);
	int ready[2], go[2];
	REQUIRE(pipe(ready) == 0 && pipe(go) == 0);
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		char c = 0;
		int rc = oci_store_lock(s, 1000) == 0 ? 0 : 1;
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		usleep(300 * 1000);
		oci_store_unlock(s);
		_exit(rc);
	}
	char c;
	REQUIRE(read(ready[0], &c, 1) == 1);
	last_log[0] = '\0';
	int64_t t0 = test_now_ms();
	CHECK_INT(oci_store_lock(s, 300), -EWOULDBLOCK);
	int64_t waited = test_now_ms() - t0;
	CHECK(waited >= 280 && waited < 2000);
	char want[64];
	snprintf(want, sizeof(want), "locked by process %d", (int)child);
	if (!strstr(last_log, want)) {
		fprintf(stderr, "message \"%s\" lacks \"%s\"\n", last_log, want);
		test_failures++;
	}
	/* The holder lets go after 300 ms: a writer waiting longer gets in. */
	REQUIRE(write(go[1], &c, 1) == 1);
	t0 = test_now_ms();
	CHECK_INT(oci_store_tag(s, "r/a:1", &a), 0);
	CHECK(test_now_ms() - t0 >= 200);
	CHECK_INT(test_wait_status(child), 0);
	/* Nested locks are counted; the file is free again after the last unlock. */
	CHECK_INT(oci_store_lock(s, 100), 0);
	CHECK_INT(oci_store_lock(s, 100), 0);
	CHECK_INT(oci_store_untag(s, "r/a:1"), 0);
	oci_store_unlock(s);
	oci_store_unlock(s);
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	drop_store(s, dir);
}

/* Writers in several processes at once: every tag survives (the lock and
 * the rename), and index.json is valid all along for readers. */
static void test_concurrent_writers(void)
{
	char dir[64];
	struct oci_store *s = new_store(dir, sizeof(dir));
	REQUIRE(s);
	struct oci_descriptor a;
	put_image(s, "layer A", &a);
	enum { WRITERS = 4, TAGS = 25 };
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		REQUIRE(pids[w] >= 0);
		if (pids[w] == 0) {
			struct oci_store *own;
			char sub[128], ref[64];
			snprintf(sub, sizeof(sub), "%s/store", dir);
			if (oci_store_open(sub, 0, &own))
				_exit(1);
			for (int i = 0; i < TAGS; i++) {
				snprintf(ref, sizeof(ref), "r/w%d:t%d", w, i);
				if (oci_store_tag(own, ref, &a))
					_exit(2);
				struct oci_descriptor *tags;
				size_t n;
				if (oci_store_tags(own, &tags, &n)) /* a reader never sees a torn file */
					_exit(3);
				oci_store_tags_free(tags, n);
			}
			oci_store_close(own);
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++)
		CHECK_INT(test_wait_status(pids[w]), 0);
	struct oci_descriptor *tags;
	size_t n;
	REQUIRE(oci_store_tags(s, &tags, &n) == 0);
	CHECK_INT(n, WRITERS * TAGS);
	oci_store_tags_free(tags, n);
	drop_store(s, dir);
}

static void setup(void) __attribute__((constructor));
static void setup(void)
{
	sonde_log_set_sink(capture, NULL);
}

TEST_MAIN(TEST(test_digest), TEST(test_documents), TEST(test_layout), TEST(test_blobs),
          TEST(test_tags_and_gc), TEST(test_corrupt_index), TEST(test_lock_held_elsewhere),
          TEST(test_concurrent_writers))
