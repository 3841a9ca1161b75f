/* sonde image export/import as users run them: round trips keep digests and
 * bytes, built-ins export, skopeo reads the archive, and hostile archives
 * are refused with one clear error and the store left as it was. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/oci.h"
#include "image/tar.h"
#include "testlib.h"

#define TMP_PREFIX  "/tmp/sonde-test-imgarc."
#define BUILTIN_REF "ghcr.io/inspektor-gadget/gadget/trace_open:latest"

static char tmp[] = TMP_PREFIX "XXXXXX";

static void path_in_tmp(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmp, name);
}

static int sonde_ok(const char *const *argv, char **out)
{
	char *err = NULL;
	int rc = sonde_run_cmd(argv, out, &err, 60000);

	if (rc != 0)
		fprintf(stderr, "sonde %s %s: exit %d\n%s\n", argv[0], argv[1], rc, err ? err : "");
	free(err);
	return rc;
}

static void export_builtin(const char *file)
{
	const char *argv[] = {"image", "export", "trace_open", file, NULL};

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	CHECK_INT(sonde_ok(argv, NULL), 0);
}

static void import_into(const char *store, const char *file, char **out)
{
	const char *argv[] = {"image", "import", file, "--store", store, NULL};

	CHECK_INT(sonde_ok(argv, out), 0);
}

/* The index digest tagged ref in store's index.json ("" if none). */
static void tagged_digest(const char *store, const char *ref, char out[80])
{
	char path[PATH_MAX + 16], *text;
	json_t *doc, *m;
	size_t i;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/index.json", store);
	text = test_read_file(path, NULL);
	doc = text ? json_loads(text, 0, NULL) : NULL;
	json_array_foreach(json_object_get(doc, "manifests"), i, m)
	{
		const char *name = json_string_value(
		    json_object_get(json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));

		if (name && !strcmp(name, ref))
			snprintf(out, 80, "%s", json_string_value(json_object_get(m, "digest")));
	}
	json_decref(doc);
	free(text);
}

static void test_builtin_round_trip(void)
{
	char a[PATH_MAX], b[PATH_MAX], s1[PATH_MAX], s2[PATH_MAX], d1[80], d2[80], *out = NULL, *x, *y;
	size_t lx, ly;

	path_in_tmp(a, sizeof(a), "a.tar");
	path_in_tmp(b, sizeof(b), "b.tar");
	path_in_tmp(s1, sizeof(s1), "s1");
	path_in_tmp(s2, sizeof(s2), "s2");
	export_builtin(a);
	import_into(s1, a, &out);
	/* the imported tags are printed */
	CHECK(out && strstr(out, BUILTIN_REF));
	free(out);
	tagged_digest(s1, BUILTIN_REF, d1);
	CHECK(!strncmp(d1, "sha256:", 7));

	/* store → archive → another store: same digest; the two archives are
	 * the same bytes (sorted members, fixed mtimes) */
	{
		const char *argv[] = {"image", "export", "trace_open:latest", b, "--store", s1, NULL};

		/* with a tag, the reference resolves in the store (not the built-in) */
		unsetenv("SOURCE_DATE_EPOCH");
		CHECK_INT(sonde_ok(argv, NULL), 0);
	}
	import_into(s2, b, NULL);
	tagged_digest(s2, BUILTIN_REF, d2);
	CHECK_STR(d2, d1);
	x = test_read_file(a, &lx);
	y = test_read_file(b, &ly);
	CHECK(x && y && lx == ly && !memcmp(x, y, lx));
	free(x);
	free(y);
}

/* The archive is what upstream's import reads: a plain OCI layout tar
 * (skopeo's oci-archive transport reads the same thing). */
static void test_archive_layout(void)
{
	char a[PATH_MAX], cmd[PATH_MAX * 3], list[PATH_MAX];
	char *text;

	path_in_tmp(a, sizeof(a), "layout.tar");
	path_in_tmp(list, sizeof(list), "list.txt");
	export_builtin(a);
	snprintf(cmd, sizeof(cmd), "tar -tvf %s > %s", a, list);
	REQUIRE(system(cmd) == 0);
	text = test_read_file(list, NULL);
	REQUIRE(text);
	CHECK(strstr(text, " index.json\n"));
	CHECK(strstr(text, " oci-layout\n"));
	CHECK(strstr(text, " blobs/sha256/"));
	/* every mtime is the image's created time: 2023-11-14 22:13:20 UTC */
	CHECK(strstr(text, "2023-11-14"));
	free(text);
	if (!test_have("skopeo"))
		test_skip_dep("skopeo");
	snprintf(cmd, sizeof(cmd), "skopeo inspect --raw oci-archive:%s:%s > %s 2>&1", a, BUILTIN_REF, list);
	CHECK_INT(system(cmd), 0);
	text = test_read_file(list, NULL);
	CHECK(text && strstr(text, "\"application/vnd.oci.image.index.v1+json\""));
	free(text);
}

/* A cosign legacy signature tag (sha256-<hex>.sig) of an exported image
 * goes along into the archive and is imported, but not listed. */
static void test_signature_goes_along(void)
{
	char a[PATH_MAX], s1[PATH_MAX], s2[PATH_MAX], d[80], sig_ref[256], payload_digest[OCI_DIGEST_LEN],
	    man_digest[OCI_DIGEST_LEN], *out = NULL, *text;
	struct oci_store *s;
	struct oci_descriptor desc = {0};
	const char *payload = "{\"critical\":{}}";
	json_t *man;
	size_t len;

	path_in_tmp(a, sizeof(a), "sig.tar");
	path_in_tmp(s1, sizeof(s1), "sig-src");
	path_in_tmp(s2, sizeof(s2), "sig-dst");
	export_builtin(a);
	import_into(s1, a, NULL);
	tagged_digest(s1, BUILTIN_REF, d);
	REQUIRE(d[0]);

	/* the signature manifest: empty config, one simple-signing layer */
	REQUIRE(oci_store_open(s1, 0, &s) == 0);
	CHECK_INT(oci_blob_put(s, payload, strlen(payload), payload_digest), 0);
	CHECK_INT(oci_blob_put(s, "{}", 2, NULL), 0);
	man =
	    json_pack("{s:i,s:s,s:{s:s,s:s,s:i},s:[{s:s,s:s,s:i,s:{s:s}}]}", "schemaVersion", 2, "mediaType",
	              OCI_MT_MANIFEST, "config", "mediaType", OCI_MT_EMPTY, "digest", OCI_EMPTY_DIGEST,
	              "size", 2, "layers", "mediaType", COSIGN_MT_SIMPLESIGN, "digest", payload_digest,
	              "size", (int)strlen(payload), "annotations", COSIGN_ANN_SIGNATURE, "c2lnbmF0dXJl");
	REQUIRE(man);
	text = oci_json_dump(man, &len);
	json_decref(man);
	REQUIRE(text);
	CHECK_INT(oci_blob_put(s, text, len, man_digest), 0);
	snprintf(desc.media_type, sizeof(desc.media_type), "%s", OCI_MT_MANIFEST);
	snprintf(desc.digest, sizeof(desc.digest), "%s", man_digest);
	desc.size = (int64_t)len;
	free(text);
	snprintf(sig_ref, sizeof(sig_ref), "ghcr.io/inspektor-gadget/gadget/trace_open:sha256-%s.sig", d + 7);
	CHECK_INT(oci_store_tag(s, sig_ref, &desc), 0);
	oci_store_close(s);

	{
		const char *argv[] = {"image", "export", "trace_open:latest", a, "--store", s1, NULL};

		CHECK_INT(sonde_ok(argv, NULL), 0);
	}
	import_into(s2, a, &out);
	CHECK(out && strstr(out, BUILTIN_REF));
	CHECK(out && !strstr(out, ".sig"));
	tagged_digest(s2, sig_ref, d);
	CHECK_STR(d, man_digest);
	free(out);
}

/* ---- hostile archives ---- */

static char good_store[PATH_MAX];
static char *store_index;
static size_t store_blobs;

static size_t count_blobs(const char *store)
{
	char path[PATH_MAX + 32];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/blobs/sha256", store);
	d = opendir(path);
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void snapshot_store(void)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/index.json", good_store);
	free(store_index);
	store_index = test_read_file(path, NULL);
	store_blobs = count_blobs(good_store);
}

static void expect_store_unchanged(const char *what)
{
	char path[PATH_MAX + 16], *now;

	snprintf(path, sizeof(path), "%s/index.json", good_store);
	now = test_read_file(path, NULL);
	if (!now || !store_index || strcmp(now, store_index) || count_blobs(good_store) != store_blobs) {
		fprintf(stderr, "%s: the store changed\n", what);
		test_failures++;
	}
	free(now);
}

/* Writes an archive of one member `name` holding data, with its type byte
 * then set to `type` (0: a regular file). */
static void write_one_member(const char *file, const char *name, const char *data, char type)
{
	FILE *f = fopen(file, "w+");
	struct tar_writer w;
	unsigned char h[512];
	unsigned sum = 0;

	if (!f)
		abort();
	tar_writer_init(&w, f, 0);
	tar_write_file(&w, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	tar_write_file(&w, name, data, strlen(data));
	tar_writer_finish(&w);
	if (type) {
		/* the second member's header: patch type, recompute the checksum */
		fseek(f, 1024, SEEK_SET);
		if (fread(h, 1, 512, f) != 512)
			abort();
		h[156] = (unsigned char)type;
		memset(h + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
		fseek(f, 1024, SEEK_SET);
		fwrite(h, 1, 512, f);
	}
	fclose(f);
}

static void expect_import_refused(const char *file, const char *needle)
{
	const char *argv[] = {"image", "import", file, "--store", good_store, NULL};

	sonde_expect_error(argv, needle);
	expect_store_unchanged(needle);
}

static void test_bad_archives(void)
{
	char good[PATH_MAX], bad[PATH_MAX], *data;
	size_t len;
	FILE *f;

	path_in_tmp(good_store, sizeof(good_store), "victim");
	path_in_tmp(good, sizeof(good), "good.tar");
	path_in_tmp(bad, sizeof(bad), "bad.tar");
	export_builtin(good);
	import_into(good_store, good, NULL);
	snapshot_store();
	REQUIRE(store_index && store_blobs >= 4);

	write_one_member(bad, "../escape", "x", 0);
	expect_import_refused(bad, "\"..\" component");
	write_one_member(bad, "/etc/evil", "x", 0);
	expect_import_refused(bad, "absolute path");
	write_one_member(bad, "blobs/sha256/link", "", '2');
	expect_import_refused(bad, "symbolic link");
	write_one_member(bad, "blobs/sha256/hard", "", '1');
	expect_import_refused(bad, "hard link");
	write_one_member(bad, "dev", "", '3');
	expect_import_refused(bad, "device");
	write_one_member(bad, "somewhere/else", "x", 0);
	expect_import_refused(bad, "not part of an OCI image layout");

	data = test_read_file(good, &len);
	REQUIRE(data && len > 4096);
	/* truncated in the middle of a blob */
	f = fopen(bad, "w");
	REQUIRE(f);
	fwrite(data, 1, 512 + 100, f);
	fclose(f);
	expect_import_refused(bad, "truncated");
	/* a member larger than any blob may be (the header lies: no data follows) */
	{
		char *copy = malloc(len);
		unsigned sum = 0;

		REQUIRE(copy);
		memcpy(copy, data, len);
		snprintf(copy + 124, 12, "%011o", 0x7fffffffu); /* 2 GiB, over OCI_MAX_BLOB */
		memset(copy + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += (unsigned char)copy[i];
		snprintf(copy + 148, 8, "%06o", sum);
		f = fopen(bad, "w");
		REQUIRE(f);
		fwrite(copy, 1, len, f);
		fclose(f);
		free(copy);
		expect_import_refused(bad, "over the limit");
	}
	/* a blob whose bytes do not hash to its name: the first blob's first data byte flipped */
	{
		char *copy = malloc(len);

		REQUIRE(copy);
		memcpy(copy, data, len);
		copy[512] ^= 1;
		f = fopen(bad, "w");
		REQUIRE(f);
		fwrite(copy, 1, len, f);
		fclose(f);
		free(copy);
		expect_import_refused(bad, "does not match its digest");
		/* into a store without these blobs: refused by the store's verifying writer */
		{
			char other[PATH_MAX];
			const char *argv[] = {"image", "export", "trace_exec", other, NULL};

			path_in_tmp(other, sizeof(other), "exec.tar");
			CHECK_INT(sonde_ok(argv, NULL), 0);
			path_in_tmp(good_store, sizeof(good_store), "victim2");
			import_into(good_store, other, NULL);
			snapshot_store();
			expect_import_refused(bad, "sha256:");
			path_in_tmp(good_store, sizeof(good_store), "victim");
			snapshot_store();
		}
	}
	/* a valid new blob (the empty one), then no index.json: the blob is
	 * taken out again */
	write_one_member(bad, "blobs/sha256/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	                 "", 0);
	expect_import_refused(bad, "no index.json");
	free(data);
}

/* A blob an index.json names but the archive lacks: refused before any tag. */
static void test_incomplete_graph(void)
{
	char bad[PATH_MAX], victim[PATH_MAX];
	FILE *f = NULL;
	struct tar_writer w;
	const char *index =
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
	    "\"digest\":\"sha256:1111111111111111111111111111111111111111111111111111111111111111\","
	    "\"size\":10,\"annotations\":{\"org.opencontainers.image.ref.name\":\"x:y\"}}]}";

	path_in_tmp(bad, sizeof(bad), "incomplete.tar");
	path_in_tmp(victim, sizeof(victim), "victim");
	f = fopen(bad, "w");
	REQUIRE(f);
	tar_writer_init(&w, f, 0);
	tar_write_file(&w, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	tar_write_file(&w, "index.json", index, strlen(index));
	tar_writer_finish(&w);
	fclose(f);
	snprintf(good_store, sizeof(good_store), "%s", victim);
	snapshot_store();
	expect_import_refused(bad, "is missing");
}

static void test_cleanup(void)
{
	free(store_index);
	test_rm_tree(tmp, TMP_PREFIX);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_builtin_round_trip), TEST(test_archive_layout),   TEST(test_signature_goes_along),
	    TEST(test_bad_archives),       TEST(test_incomplete_graph), TEST(test_cleanup),
	};

	test_require_root();
	if (!mkdtemp(tmp))
		abort();
	return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
