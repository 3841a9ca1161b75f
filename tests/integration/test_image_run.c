/* Gadget images from the local store through the sonde command: an image
 * written into a temporary store with the store API (index → manifest →
 * config + layer, as `ig image build` lays them out) runs like the built-in;
 * a bare eBPF object runs with --config; list, tag, remove and inspect show
 * and change the store; bad images give one clear error and leave the store
 * as it was. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sonde/image.h>

#include "image/oci.h"
#include "testlib.h"

#define TMP_PREFIX "/tmp/sonde-imgrun-"
#define OBJ        SONDE_TEST_BUILD_DIR "/gadgets/trace_open.bpf.o"
#define YAML       SONDE_SOURCE_DIR "/gadgets/trace_open/gadget.yaml"
#define REF        "localhost:5000/test/trace_open:v1"

static char tmp[64], store[128];

/* Puts obj + yaml into the store as a one-arch gadget image tagged ref;
 * returns the index digest. `created_ago` seconds before now. */
static void put_gadget(const char *ref, const char *arch, long created_ago, char index_digest[OCI_DIGEST_LEN])
{
	struct oci_store *s;
	if (oci_store_open(store, 0, &s))
		abort();
	size_t olen, ylen;
	void *obj = test_read_file_or_abort(OBJ, &olen), *yaml = test_read_file_or_abort(YAML, &ylen);
	char created[64];
	time_t t = time(NULL) - created_ago;
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));

	struct oci_manifest m = {.schema_version = 2};
	strcpy(m.media_type, OCI_MT_MANIFEST);
	strcpy(m.artifact_type, GADGET_ARTIFACT_TYPE);
	strcpy(m.config.media_type, GADGET_MT_CONFIG);
	m.config.size = (int64_t)ylen;
	struct oci_descriptor layer = {.size = (int64_t)olen};
	strcpy(layer.media_type, GADGET_MT_EBPF);
	m.layers = &layer;
	m.nlayers = 1;
	m.annotations = json_pack("{s:s, s:s}", OCI_ANN_CREATED, created, OCI_ANN_TITLE, "trace open");
	if (oci_blob_put(s, yaml, ylen, m.config.digest) || oci_blob_put(s, obj, olen, layer.digest))
		abort();
	json_t *j = oci_manifest_to_json(&m);
	size_t mlen;
	char *mtext = oci_json_dump(j, &mlen);
	struct oci_descriptor md = {.size = (int64_t)mlen};
	strcpy(md.media_type, OCI_MT_MANIFEST);
	strcpy(md.arch, arch);
	strcpy(md.os, "linux");
	md.annotations = json_deep_copy(m.annotations);
	if (oci_blob_put(s, mtext, mlen, md.digest))
		abort();
	struct oci_index idx = {.schema_version = 2, .manifests = &md, .nmanifests = 1};
	strcpy(idx.media_type, OCI_MT_INDEX);
	idx.annotations = m.annotations;
	json_t *ij = oci_index_to_json(&idx);
	size_t ilen;
	char *itext = oci_json_dump(ij, &ilen);
	struct oci_descriptor id = {.size = (int64_t)ilen};
	strcpy(id.media_type, OCI_MT_INDEX);
	struct sonde_image_ref r;
	char full[1024];
	if (sonde_image_ref_parse(ref, &r) || sonde_image_ref_format(&r, full, sizeof(full)))
		abort();
	if (oci_blob_put(s, itext, ilen, id.digest) || oci_store_tag(s, full, &id))
		abort();
	strcpy(index_digest, id.digest);
	free(itext);
	json_decref(ij);
	free(mtext);
	json_decref(j);
	json_decref(md.annotations);
	json_decref(m.annotations);
	free(obj);
	free(yaml);
	oci_store_close(s);
}

static size_t count_blobs(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/blobs/sha256", store);
	DIR *d = opendir(path);
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static char *index_json(void)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/index.json", store);
	return test_read_file(path, NULL);
}

static void setup(void)
{
	test_require_root();
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "XXXXXX");
	if (!mkdtemp(tmp))
		abort();
	snprintf(store, sizeof(store), "%s/store", tmp);
	srandom((unsigned)getpid());
}

static void teardown(void)
{
	test_rm_tree(tmp, TMP_PREFIX);
}

/* Runs `sonde run what …extra` around a child opening a file of its own;
 * whether its event came out. */
static bool traced(const char *what, const char *const *extra)
{
	const char *argv[20] = {"run", what, "--host", "-o", "json", "-v"};
	size_t n = 6;

	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	return test_sonde_sees_open(argv, "sonde_it_img");
}

static void test_run_from_store(void)
{
	setup();
	char d[OCI_DIGEST_LEN];
	put_gadget(REF, oci_host_arch(), 60, d);
	/* Unsigned: verification (on by default) is test_image_verify's. */
	const char *extra[] = {"--store", store, "--pull", "never", "--verify-image=false", NULL};
	CHECK(traced(REF, extra));
	/* A short name lives under ghcr.io/inspektor-gadget/gadget/; a name
	 * that is not a built-in resolves in the store. */
	put_gadget("my_open", oci_host_arch(), 60, d);
	const char *extra2[] = {"--store", store, "--verify-image=false", NULL};
	CHECK(traced("my_open", extra2));
	teardown();
}

static void test_run_object_file(void)
{
	setup();
	const char *extra[] = {"--config", YAML, NULL};
	CHECK(traced(OBJ, extra));
	/* Something that exists but is no eBPF object. */
	const char *bad[] = {"run", YAML, NULL};
	sonde_expect_error(bad, "is neither a gadget image nor an eBPF object");
	const char *missing_cfg[] = {"run", OBJ, "--config", "/nonexistent/gadget.yaml", NULL};
	sonde_expect_error(missing_cfg, "cannot read the gadget.yaml /nonexistent/gadget.yaml");
	teardown();
}

static char *run_ok(const char *const *argv)
{
	char *out = NULL, *err = NULL;
	int st = sonde_run_cmd(argv, &out, &err, 30000);
	if (st != 0) {
		fprintf(stderr, "sonde %s %s: exit %d\n%s", argv[0], argv[1], st, err ? err : "");
		test_failures++;
	}
	free(err);
	return out ? out : strdup("");
}

static void test_list_tag_remove(void)
{
	setup();
	char d1[OCI_DIGEST_LEN], d2[OCI_DIGEST_LEN], want[256];
	put_gadget(REF, oci_host_arch(), 5 * 60 + 10, d1);
	put_gadget("trace_open2:v2", oci_host_arch(), 3 * 3600, d2);
	/* trace_open2:v2 is stored under its full name. */
	const char *list[] = {"image", "list", "--store", store, NULL};
	char *out = run_ok(list);
	CHECK(!strncmp(out, "REPOSITORY", 10));
	snprintf(want, sizeof(want), "localhost:5000/test/trace_open v1  %.12s 5 minutes ago\n", d1 + 7);
	CHECK(strstr(out, want) != NULL);
	snprintf(want, sizeof(want), "\ntrace_open2                    v2  %.12s 3 hours ago\n", d2 + 7);
	if (!strstr(out, want)) {
		fprintf(stderr, "list lacks \"%s\":\n%s", want + 1, out);
		test_failures++;
	}
	free(out);

	const char *list_json[] = {"image", "list", "--store", store, "-o", "json", "--no-trunc", NULL};
	out = run_ok(list_json);
	json_t *arr = json_loads(out, 0, NULL);
	REQUIRE(json_is_array(arr) && json_array_size(arr) == 2);
	json_t *e = test_json_find(arr, "Repository", "trace_open2");
	REQUIRE(e);
	CHECK_STR(test_json_str(e, "Tag"), "v2");
	CHECK_STR(test_json_str(e, "Digest"), d2 + 7);
	json_decref(arr);
	free(out);

	/* Completion offers the store's images, as list names them. */
	const char *comp[] = {"__complete", "run", "--store", store, "trace_o", NULL};
	out = run_ok(comp);
	CHECK_STR(out, "trace_open\ntrace_open2:v2\n");
	free(out);
	const char *comp2[] = {"__complete", "image", "inspect", "--store", store, "local", NULL};
	out = run_ok(comp2);
	CHECK_STR(out, "localhost:5000/test/trace_open:v1\n");
	free(out);

	/* tag: a second name, same digest, no new blob. */
	size_t blobs = count_blobs();
	const char *tag[] = {"image", "tag", "--store", store, REF, "localhost:5000/test/other:v9", NULL};
	free(run_ok(tag));
	CHECK_INT(count_blobs(), blobs);
	out = run_ok(list_json);
	arr = json_loads(out, 0, NULL);
	e = test_json_find(arr, "Repository", "localhost:5000/test/other");
	REQUIRE(e);
	CHECK_STR(test_json_str(e, "Digest"), d1 + 7);
	json_decref(arr);
	free(out);

	/* remove: untag only while another tag shares the digest, then gc. */
	const char *rm1[] = {"image", "remove", "--store", store, REF, NULL};
	free(run_ok(rm1));
	CHECK_INT(count_blobs(), blobs);
	const char *rm2[] = {"image", "remove", "--store", store, "localhost:5000/test/other:v9", NULL};
	free(run_ok(rm2));
	/* Both images share the config and the layer: only index and manifest go. */
	CHECK_INT(count_blobs(), blobs - 2);
	const char *rm3[] = {"image", "remove", "--store", store, "trace_open2:v2", NULL};
	free(run_ok(rm3));
	CHECK_INT(count_blobs(), 0);
	const char *rm4[] = {"image", "remove", "--store", store, "trace_open2:v2", NULL};
	sonde_expect_error(rm4,
	                   "image ghcr.io/inspektor-gadget/gadget/trace_open2:v2 not found in the store");
	out = run_ok(list);
	CHECK_STR(out, "REPOSITORY TAG DIGEST CREATED\n");
	free(out);
	teardown();
}

static void test_inspect(void)
{
	setup();
	char d[OCI_DIGEST_LEN];
	put_gadget(REF, oci_host_arch(), 60, d);
	const char *argv[] = {"image", "inspect", "--store", store, REF, "-o", "json", NULL};
	char *out = run_ok(argv);
	json_t *doc = json_loads(out, 0, NULL);
	REQUIRE(json_is_object(doc));
	CHECK_STR(test_json_str(json_object_get(doc, "oci.manifest"), "artifactType"), GADGET_ARTIFACT_TYPE);
	CHECK_STR(json_string_value(json_object_get(doc, "oci.repository")),
	          "localhost:5000/test/trace_open");
	CHECK_STR(json_string_value(json_object_get(doc, "oci.tag")), "v1");
	CHECK_STR(json_string_value(json_object_get(doc, "oci.digest")), d);
	CHECK(strlen(json_string_value(json_object_get(doc, "oci.created")) ?: "") == 20);
	size_t ylen;
	char *yaml = test_read_file_or_abort(YAML, &ylen);
	CHECK_STR(json_string_value(json_object_get(doc, "oci.metadata")), yaml);
	free(yaml);
	json_t *progs = json_object_get(doc, "ebpf.programs"), *p;
	size_t i;
	bool tp = false;
	json_array_foreach(progs, i, p) tp |= !strncmp(test_json_str(p, "section") ?: "", "tracepoint/", 11);
	CHECK(tp);
	CHECK(json_array_size(json_object_get(doc, "ebpf.maps")) > 0);
	json_t *ds = test_json_find(json_object_get(doc, "dataSources"), "name", "open");
	REQUIRE(ds);
	CHECK(test_json_find(json_object_get(ds, "fields"), "name", "fname") != NULL);
	CHECK(test_json_find(json_object_get(doc, "params"), "key", "failed") != NULL);
	json_decref(doc);
	free(out);
	const char *missing[] = {"image", "inspect", "--store", store, "nope:v1", NULL};
	sonde_expect_error(missing, "image ghcr.io/inspektor-gadget/gadget/nope:v1 not found in the store");
	teardown();
}

static void test_bad_images(void)
{
	setup();
	char d[OCI_DIGEST_LEN], msg[256];
	const char *other = strcmp(oci_host_arch(), "arm64") ? "arm64" : "amd64";
	put_gadget("localhost:5000/test/foreign:v1", other, 60, d);
	char *before = index_json();
	size_t blobs = count_blobs();
	const char *run1[] = {"run", "localhost:5000/test/foreign:v1", "--store", store, "--pull", "never",
	                      NULL};
	snprintf(msg, sizeof(msg),
	         "no manifest for architecture %s in localhost:5000/test/foreign:v1 (has: %s)",
	         oci_host_arch(), other);
	sonde_expect_error(run1, msg);
	char *after = index_json();
	CHECK_STR(after, before);
	CHECK_INT(count_blobs(), blobs);
	free(after);

	/* A truncated layer: refused on its digest. */
	put_gadget(REF, oci_host_arch(), 60, d);
	free(before);
	before = index_json();
	struct oci_store *s;
	REQUIRE(oci_store_open(store, OCI_STORE_READ_ONLY, &s) == 0);
	size_t olen;
	char *obj = test_read_file_or_abort(OBJ, &olen), layer[OCI_DIGEST_LEN], path[512];
	oci_digest_of(obj, olen, layer);
	REQUIRE(oci_blob_path(s, layer, path, sizeof(path)) == 0);
	oci_store_close(s);
	int fd = open(path, O_WRONLY | O_TRUNC);
	REQUIRE(fd >= 0);
	CHECK_INT(write(fd, obj, olen / 2), (long)(olen / 2));
	close(fd);
	free(obj);
	const char *run2[] = {"run", REF, "--store", store, NULL};
	snprintf(msg, sizeof(msg), "blob %.20s", layer);
	sonde_expect_error(run2, msg);
	const char *insp[] = {"image", "inspect", "--store", store, REF, NULL};
	sonde_expect_error(insp, "is damaged");
	after = index_json();
	CHECK_STR(after, before);
	free(after);
	free(before);

	/* Not in the store and pulling not allowed. */
	const char *run3[] = {"run", "localhost:5000/test/absent:v1", "--store", store, "--pull", "never",
	                      NULL};
	sonde_expect_error(run3, "image localhost:5000/test/absent:v1 not found in the store");
	/* A corrupt index.json is reported, and stays as it was. */
	snprintf(path, sizeof(path), "%s/index.json", store);
	test_write_file_or_abort(path, "{\"schemaVersion\":2,\"manifests\":[");
	sonde_expect_error(run2, "index.json is corrupt");
	const char *tag[] = {"image", "tag", "--store", store, REF, "x:y", NULL};
	sonde_expect_error(tag, "index.json is corrupt");
	after = index_json();
	CHECK_STR(after, "{\"schemaVersion\":2,\"manifests\":[");
	free(after);
	teardown();
}

TEST_MAIN(TEST(test_run_from_store), TEST(test_run_object_file), TEST(test_list_tag_remove),
          TEST(test_inspect), TEST(test_bad_images))
