/* sonde_image_load without the kernel: built-ins, bare eBPF objects, and
 * images of a temp store (arch selection, a lone gadget manifest, layers of
 * unknown media types, the empty config), plus the list view of a store
 * with signature tags. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/log.h>

#include "image/oci.h"
#include "testlib.h"

#define TMP_PREFIX "/tmp/sonde-imgload-"
#define OBJ        SONDE_TEST_BUILD_DIR "/gadgets/trace_open.bpf.o"

static char tmp[64], store[128], last_err[1024], last_warn[1024];

static void capture(enum sonde_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == SONDE_LOG_ERROR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
	else if (level == SONDE_LOG_WARN)
		snprintf(last_warn, sizeof(last_warn), "%s", msg);
}

static void setup(void)
{
	sonde_log_set_sink(capture, NULL);
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "XXXXXX");
	if (!mkdtemp(tmp))
		abort();
	snprintf(store, sizeof(store), "%s/store", tmp);
	last_err[0] = last_warn[0] = '\0';
}

static void teardown(void)
{
	test_rm_tree(tmp, TMP_PREFIX);
}

static void put(struct oci_store *s, const char *text, struct oci_descriptor *d, const char *mt)
{
	memset(d, 0, sizeof(*d));
	if (oci_blob_put(s, text, strlen(text), d->digest))
		abort();
	d->size = (int64_t)strlen(text);
	strcpy(d->media_type, mt);
}

/* A manifest with the given config and layers (media type, content). */
static void put_manifest(struct oci_store *s, const char *artifact, const char *cfg_mt, const char *cfg,
                         const char *const *layers, struct oci_descriptor *out)
{
	struct oci_manifest m = {.schema_version = 2};
	struct oci_descriptor l[4];
	strcpy(m.media_type, OCI_MT_MANIFEST);
	strcpy(m.artifact_type, artifact);
	put(s, cfg, &m.config, cfg_mt);
	for (m.nlayers = 0; layers && layers[2 * m.nlayers]; m.nlayers++)
		put(s, layers[2 * m.nlayers + 1], &l[m.nlayers], layers[2 * m.nlayers]);
	m.layers = l;
	json_t *j = oci_manifest_to_json(&m);
	char *text = oci_json_dump(j, NULL);
	put(s, text, out, OCI_MT_MANIFEST);
	free(text);
	json_decref(j);
	oci_descriptor_clear(&m.config);
}

static void put_index(struct oci_store *s, struct oci_descriptor *ms, size_t n, struct oci_descriptor *out)
{
	struct oci_index idx = {.schema_version = 2, .manifests = ms, .nmanifests = n};
	strcpy(idx.media_type, OCI_MT_INDEX);
	json_t *j = oci_index_to_json(&idx);
	char *text = oci_json_dump(j, NULL);
	put(s, text, out, OCI_MT_INDEX);
	free(text);
	json_decref(j);
}

static void test_builtin_and_files(void)
{
	setup();
	struct sonde_loaded_gadget *g;
	struct sonde_image_source_opts o = {.sz = sizeof(o), .store_dir = store, .pull = SONDE_PULL_NEVER};
	REQUIRE(sonde_image_load("trace_open", &o, &g) == 0);
	CHECK(sonde_loaded_gadget_image(g) == sonde_builtin_gadget("trace_open"));
	CHECK_STR(sonde_loaded_gadget_origin(g), "built-in");
	sonde_loaded_gadget_free(g);
	CHECK(access(store, F_OK) != 0); /* a built-in never touches the store */

	char cfg[256];
	snprintf(cfg, sizeof(cfg), "%s/g.yaml", tmp);
	test_write_file_or_abort(cfg, "name: mine\n");
	o.config_path = cfg;
	REQUIRE(sonde_image_load(OBJ, &o, &g) == 0);
	const struct sonde_gadget_image *img = sonde_loaded_gadget_image(g);
	CHECK_STR(img->name, "trace_open");
	CHECK_STR(img->config_yaml, "name: mine\n");
	REQUIRE(img->nlayers == 1);
	CHECK_STR(img->layers[0].media_type, GADGET_MT_EBPF);
	CHECK(img->layers[0].len > 1000);
	CHECK_STR(sonde_loaded_gadget_origin(g), OBJ);
	sonde_loaded_gadget_free(g);

	CHECK_INT(sonde_image_load(cfg, &o, &g), -EINVAL);
	CHECK(strstr(last_err, "is neither a gadget image nor an eBPF object") != NULL);
	CHECK(g == NULL);
	CHECK_INT(sonde_image_load("./missing.bpf.o", &o, &g), -ENOENT);
	CHECK_INT(sonde_image_load("no_such_gadget", &o, &g), -ENOENT);
	CHECK(strstr(last_err,
	             "unknown gadget \"no_such_gadget\": image "
	             "ghcr.io/inspektor-gadget/gadget/no_such_gadget:latest not found in the store") != NULL);
	CHECK_INT(sonde_image_load("Bad Name", &o, &g), -EINVAL);
	CHECK(access(store, F_OK) != 0); /* nor does looking for what is not there */
	teardown();
}

static void test_store_images(void)
{
	setup();
	struct oci_store *s;
	REQUIRE(oci_store_open(store, 0, &s) == 0);
	const char *host = oci_host_arch(), *other = strcmp(host, "arm64") ? "arm64" : "amd64";
	const char *layers_host[] = {
	    GADGET_MT_EBPF, "host object", "application/x-unknown", "junk", GADGET_MT_WASM, "wasm", NULL};
	const char *layers_other[] = {GADGET_MT_EBPF, "other object", NULL};
	struct oci_descriptor ms[2], idx, lone, notgadget;
	put_manifest(s, GADGET_ARTIFACT_TYPE, GADGET_MT_CONFIG, "name: multi\n", layers_other, &ms[0]);
	put_manifest(s, GADGET_ARTIFACT_TYPE, OCI_MT_EMPTY, "{}", layers_host, &ms[1]);
	strcpy(ms[0].arch, other);
	strcpy(ms[1].arch, host);
	strcpy(ms[0].os, "linux");
	strcpy(ms[1].os, "linux");
	put_index(s, ms, 2, &idx);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/multi:v1", &idx) == 0);
	put_index(s, ms, 1, &idx);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/foreign:v1", &idx) == 0);
	put_manifest(s, GADGET_ARTIFACT_TYPE, GADGET_MT_CONFIG, "name: lone\n", layers_other, &lone);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/lone:v1", &lone) == 0);
	put_manifest(s, "application/vnd.example+type", OCI_MT_EMPTY, "{}", NULL, &notgadget);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/other:v1", &notgadget) == 0);
	/* Signature tags next to the images (cosign's legacy format, and the
	 * referrers fallback tag, an index): not images to list. */
	REQUIRE(oci_store_tag(s, "localhost:5000/g/multi:sha256-0123.sig", &notgadget) == 0);
	REQUIRE(oci_store_tag(s, "localhost:5000/g/multi:sha256-0123", &idx) == 0);

	struct sonde_loaded_gadget *g;
	struct sonde_image_source_opts o = {.sz = sizeof(o), .store_dir = store, .pull = SONDE_PULL_NEVER};
	REQUIRE(sonde_image_load("localhost:5000/g/multi:v1", &o, &g) == 0);
	const struct sonde_gadget_image *img = sonde_loaded_gadget_image(g);
	CHECK_STR(img->name, "multi");
	CHECK(img->config_yaml == NULL); /* the empty config */
	REQUIRE(img->nlayers == 2);      /* the unknown layer skipped, with a warning */
	CHECK_STR(img->layers[0].media_type, GADGET_MT_EBPF);
	CHECK(img->layers[0].len == strlen("host object") && !memcmp(img->layers[0].data, "host object", 11));
	CHECK_STR(img->layers[1].media_type, GADGET_MT_WASM);
	CHECK(strstr(last_warn, "application/x-unknown") != NULL);
	CHECK(strncmp(sonde_loaded_gadget_origin(g), "localhost:5000/g/multi:v1@sha256:", 33) == 0);
	sonde_loaded_gadget_free(g);

	/* By digest, with or without a tag pointing at it. */
	struct oci_descriptor multi;
	REQUIRE(oci_store_resolve(s, "localhost:5000/g/multi:v1", &multi) == 0);
	char byd[256];
	snprintf(byd, sizeof(byd), "localhost:5000/g/anything@%s", multi.digest);
	REQUIRE(sonde_image_load(byd, &o, &g) == 0);
	CHECK_INT(sonde_loaded_gadget_image(g)->nlayers, 2);
	sonde_loaded_gadget_free(g);
	oci_descriptor_clear(&multi);
	snprintf(byd, sizeof(byd), "localhost:5000/g/lone@%s", lone.digest);
	REQUIRE(sonde_image_load(byd, &o, &g) == 0);
	sonde_loaded_gadget_free(g);
	CHECK_INT(sonde_image_load(
	              "x@sha256:0000000000000000000000000000000000000000000000000000000000000000", &o, &g),
	          -ENOENT);

	/* A tag another tool wrote unnormalised (skopeo copy … oci:DIR:short:v1). */
	REQUIRE(oci_store_tag(s, "short:v1", &lone) == 0);
	REQUIRE(sonde_image_load("ghcr.io/inspektor-gadget/gadget/short:v1", &o, &g) == 0);
	sonde_loaded_gadget_free(g);
	REQUIRE(oci_store_untag(s, "short:v1") == 0);

	/* Another architecture, asked for. */
	o.arch = other;
	REQUIRE(sonde_image_load("localhost:5000/g/multi:v1", &o, &g) == 0);
	img = sonde_loaded_gadget_image(g);
	CHECK_STR(img->config_yaml, "name: multi\n");
	CHECK(img->nlayers == 1 && !memcmp(img->layers[0].data, "other object", 12));
	sonde_loaded_gadget_free(g);
	o.arch = NULL;

	char want[256];
	snprintf(want, sizeof(want),
	         "no manifest for architecture %s in localhost:5000/g/foreign:v1 (has: %s)", host, other);
	CHECK_INT(sonde_image_load("localhost:5000/g/foreign:v1", &o, &g), -ENOENT);
	CHECK_STR(last_err, want);

	REQUIRE(sonde_image_load("localhost:5000/g/lone:v1", &o, &g) == 0);
	CHECK_STR(sonde_loaded_gadget_image(g)->config_yaml, "name: lone\n");
	sonde_loaded_gadget_free(g);
	CHECK_INT(sonde_image_load("localhost:5000/g/other:v1", &o, &g), -EINVAL);
	CHECK(strstr(last_err, "not a gadget") != NULL);

	/* The list shows images only, sorted. */
	struct sonde_image_store *is;
	struct sonde_image_info *infos;
	size_t n;
	REQUIRE(sonde_image_store_open(store, true, &is) == 0);
	REQUIRE(sonde_image_list(is, &infos, &n) == 0);
	REQUIRE(n == 3);
	CHECK_STR(infos[0].repository, "localhost:5000/g/foreign");
	CHECK_STR(infos[1].repository, "localhost:5000/g/lone");
	CHECK_STR(infos[2].repository, "localhost:5000/g/multi");
	CHECK_STR(infos[2].tag, "v1");
	free(infos);
	/* Read-only handles refuse to change anything. */
	CHECK_INT(sonde_image_tag(is, "localhost:5000/g/lone:v1", "x:y"), -EROFS);
	sonde_image_store_close(is);

	/* remove: the lone manifest's blobs go, what others share stays. */
	REQUIRE(sonde_image_store_open(store, false, &is) == 0);
	CHECK_INT(sonde_image_remove(is, "localhost:5000/g/lone:v1"), 0);
	CHECK(!oci_blob_exists(s, lone.digest));
	CHECK(oci_blob_exists(s, ms[0].digest));
	CHECK_INT(sonde_image_remove(is, "localhost:5000/g/lone:v1"), -ENOENT);
	sonde_image_store_close(is);
	oci_store_close(s);
	teardown();
}

TEST_MAIN(TEST(test_builtin_and_files), TEST(test_store_images))
