/* The image graph the builder assembles (lib/image/assemble.c) and
 * build.yaml (build_yaml.c): media types, order, annotations, determinism. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/sonde.h>

#include "image/build.h"
#include "image/oci.h"
#include "testlib.h"

static const char obj_amd64[] = "\177ELF amd64 object";
static const char obj_arm64[] = "\177ELF arm64 object";

static json_t *blob_json(const struct build_image *img, const char *digest)
{
	const struct build_blob *b = build_image_blob(img, digest);

	return b ? json_loadb(b->data, b->len, 0, NULL) : NULL;
}

static void test_graph(void)
{
	const char *yaml = "name: my gadget\ndescription: does things\nhomepageURL: https://h\n"
	                   "documentationURL: https://d\nsourceURL: https://s\n"
	                   "annotations:\n  org.opencontainers.image.title: overridden\n  z.last: 1\n";
	/* given arm64 first: manifests come sorted by arch */
	struct build_object objs[] = {{"arm64", obj_arm64, sizeof(obj_arm64)},
	                              {"amd64", obj_amd64, sizeof(obj_amd64)}};
	struct build_inputs in = {.config = yaml,
	                          .config_len = strlen(yaml),
	                          .wasm = "\0asm",
	                          .wasm_len = 4,
	                          .objects = objs,
	                          .nobjects = 2,
	                          .created = "2024-01-02T03:04:05Z"};
	struct build_image img;
	json_t *idx, *man, *ann;
	const char *k, *prev = "";
	json_t *v;

	REQUIRE(build_image_assemble(&in, &img) == 0);
	/* index + 2 manifests + config + 2 objects + wasm (once) */
	CHECK_INT(img.nblobs, 7);
	CHECK_STR(img.index.media_type, OCI_MT_INDEX);
	idx = blob_json(&img, img.index.digest);
	REQUIRE(idx);
	CHECK_INT(json_integer_value(json_object_get(idx, "schemaVersion")), 2);
	CHECK_STR(
	    test_json_str(json_array_get(json_object_get(idx, "manifests"), 0), "platform.architecture"),
	    "amd64");
	CHECK_STR(
	    test_json_str(json_array_get(json_object_get(idx, "manifests"), 1), "platform.architecture"),
	    "arm64");
	CHECK_STR(test_json_str(json_array_get(json_object_get(idx, "manifests"), 1), "platform.os"),
	          "linux");
	ann = json_object_get(idx, "annotations");
	CHECK_STR(json_string_value(json_object_get(ann, OCI_ANN_TITLE)), "overridden");
	CHECK_STR(json_string_value(json_object_get(ann, OCI_ANN_DESCRIPTION)), "does things");
	CHECK_STR(json_string_value(json_object_get(ann, OCI_ANN_URL)), "https://h");
	CHECK_STR(json_string_value(json_object_get(ann, OCI_ANN_DOCS)), "https://d");
	CHECK_STR(json_string_value(json_object_get(ann, OCI_ANN_SOURCE)), "https://s");
	CHECK_STR(json_string_value(json_object_get(ann, OCI_ANN_CREATED)), "2024-01-02T03:04:05Z");
	CHECK_STR(json_string_value(json_object_get(ann, GADGET_ANN_BUILDER)), "sonde " SONDE_VERSION);
	CHECK_STR(json_string_value(json_object_get(ann, "z.last")), "1");
	/* keys sorted, as Go writes a map */
	json_object_foreach(ann, k, v)
	{
		CHECK(strcmp(prev, k) < 0);
		prev = k;
	}

	man = blob_json(&img, test_json_str(json_array_get(json_object_get(idx, "manifests"), 1), "digest"));
	REQUIRE(man);
	CHECK_STR(test_json_str(man, "mediaType"), OCI_MT_MANIFEST);
	CHECK_STR(test_json_str(man, "artifactType"), GADGET_ARTIFACT_TYPE);
	CHECK_STR(test_json_str(man, "config.mediaType"), GADGET_MT_CONFIG);
	CHECK(json_equal(json_object_get(json_object_get(man, "config"), "annotations"), ann));
	CHECK_INT(json_array_size(json_object_get(man, "layers")), 2);
	CHECK_STR(test_json_str(json_array_get(json_object_get(man, "layers"), 0), "mediaType"),
	          GADGET_MT_EBPF);
	CHECK_INT(test_json_int(json_array_get(json_object_get(man, "layers"), 0), "size", 0),
	          sizeof(obj_arm64));
	CHECK_STR(test_json_str(json_array_get(json_object_get(man, "layers"), 1), "mediaType"),
	          GADGET_MT_WASM);
	CHECK(json_equal(json_object_get(man, "annotations"), ann));
	json_decref(man);
	json_decref(idx);
	build_image_clear(&img);
}

static void test_deterministic(void)
{
	const char *y1 = "name: g\nannotations:\n  b: 2\n  a: 1\n";
	const char *y2 = "annotations:\n  a: 1\n  b: 2\nname: g\n"; /* another order, another config blob */
	struct build_object o = {"amd64", obj_amd64, sizeof(obj_amd64)};
	struct build_inputs in = {.config = y1,
	                          .config_len = strlen(y1),
	                          .objects = &o,
	                          .nobjects = 1,
	                          .created = "2024-01-02T03:04:05Z"};
	struct build_image a, b;
	const struct build_blob *ba, *bb;

	REQUIRE(build_image_assemble(&in, &a) == 0);
	REQUIRE(build_image_assemble(&in, &b) == 0);
	CHECK_STR(a.index.digest, b.index.digest);
	build_image_clear(&b);
	/* the annotations do not depend on the order gadget.yaml lists them in:
	 * the manifests differ only by the config blob's digest */
	in.config = y2;
	in.config_len = strlen(y2);
	REQUIRE(build_image_assemble(&in, &b) == 0);
	CHECK(strcmp(a.index.digest, b.index.digest) != 0);
	CHECK(json_equal(a.index.annotations, b.index.annotations));
	build_image_clear(&b);
	/* the date is part of the image */
	in.config = y1;
	in.config_len = strlen(y1);
	in.created = "2024-01-02T03:04:06Z";
	REQUIRE(build_image_assemble(&in, &b) == 0);
	CHECK(strcmp(a.index.digest, b.index.digest) != 0);
	ba = build_image_blob(&a, a.index.digest);
	bb = build_image_blob(&b, b.index.digest);
	CHECK(ba && bb && ba->len == bb->len);
	build_image_clear(&a);
	build_image_clear(&b);
}

static void test_no_config(void)
{
	struct build_object o = {"amd64", NULL, 0};
	struct build_inputs in = {
	    .wasm = "\0asm", .wasm_len = 4, .objects = &o, .nobjects = 1, .created = "2024-01-02T03:04:05Z"};
	struct build_image img;
	json_t *idx, *man;

	REQUIRE(build_image_assemble(&in, &img) == 0);
	idx = blob_json(&img, img.index.digest);
	REQUIRE(idx);
	/* without gadget.yaml only "created" is set */
	CHECK_INT(json_object_size(json_object_get(idx, "annotations")), 1);
	man = blob_json(&img, test_json_str(json_array_get(json_object_get(idx, "manifests"), 0), "digest"));
	REQUIRE(man);
	CHECK_STR(test_json_str(man, "config.mediaType"), OCI_MT_EMPTY);
	CHECK_STR(test_json_str(man, "config.digest"), OCI_EMPTY_DIGEST);
	CHECK(build_image_blob(&img, OCI_EMPTY_DIGEST));
	CHECK_INT(json_array_size(json_object_get(man, "layers")), 1);
	json_decref(man);
	json_decref(idx);
	build_image_clear(&img);
}

static void test_bad_inputs(void)
{
	struct build_object two[] = {{"amd64", obj_amd64, 3}, {"amd64", obj_amd64, 3}};
	struct build_inputs in = {.objects = two, .nobjects = 2, .created = "2024-01-02T03:04:05Z"};
	struct build_image img;

	CHECK_INT(build_image_assemble(&in, &img), -EINVAL); /* an arch twice */
	in.nobjects = 0;
	CHECK_INT(build_image_assemble(&in, &img), -EINVAL);
	in.nobjects = 1;
	in.config = "name: [unclosed";
	in.config_len = strlen(in.config);
	CHECK_INT(build_image_assemble(&in, &img), -EINVAL);
	in.config = "annotations:\n  a: [1, 2]\n";
	in.config_len = strlen(in.config);
	CHECK_INT(build_image_assemble(&in, &img), -EINVAL);
}

static void test_created(void)
{
	char buf[64];

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	CHECK_INT(build_created_now(buf), 0);
	CHECK_STR(buf, "2023-11-14T22:13:20Z");
	setenv("SOURCE_DATE_EPOCH", "12abc", 1);
	CHECK_INT(build_created_now(buf), -EINVAL);
	setenv("SOURCE_DATE_EPOCH", "-5", 1);
	CHECK_INT(build_created_now(buf), -EINVAL);
	unsetenv("SOURCE_DATE_EPOCH");
	CHECK_INT(build_created_now(buf), 0);
	CHECK_INT(strlen(buf), 20);
}

static void test_build_file(void)
{
	char path[] = "/tmp/sonde-test-buildyaml.XXXXXX";
	struct build_file bf;
	int fd = mkstemp(path);

	REQUIRE(fd >= 0);
	close(fd);
	CHECK_INT(build_file_read(NULL, true, &bf), 0);
	CHECK_STR(bf.ebpfsource, "program.bpf.c");
	CHECK_STR(bf.metadata, "gadget.yaml");
	CHECK_STR(bf.wasm, "");
	test_write_file_or_abort(path, "ebpfsource: other.bpf.c\nmetadata: meta.yaml\nwasm: mod.wasm\n");
	CHECK_INT(build_file_read(path, false, &bf), 0);
	CHECK_STR(bf.ebpfsource, "other.bpf.c");
	CHECK_STR(bf.metadata, "meta.yaml");
	CHECK_STR(bf.wasm, "mod.wasm");
	test_write_file_or_abort(path, "ebpfsource: [a, b]\n");
	CHECK_INT(build_file_read(path, false, &bf), -EINVAL);
	test_write_file_or_abort(path, "- a\n- b\n");
	CHECK_INT(build_file_read(path, false, &bf), -EINVAL);
	test_write_file_or_abort(path, "");
	CHECK_INT(build_file_read(path, false, &bf), 0);
	CHECK_STR(bf.ebpfsource, "program.bpf.c");
	unlink(path);
	CHECK_INT(build_file_read(path, true, &bf), 0);
	CHECK_INT(build_file_read(path, false, &bf), -ENOENT);
}

TEST_MAIN(TEST(test_graph), TEST(test_deterministic), TEST(test_no_config), TEST(test_bad_inputs),
          TEST(test_created), TEST(test_build_file))
