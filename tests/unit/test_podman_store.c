/* podman's storage files (containers/storage): container name and image from
 * containers.json, digest from images.json. The samples in data/podman/ were
 * captured from podman 4.3.1 on the project machine. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/containers.h>

#include "containers/internal.h"
#include "testlib.h"

#define DATA        SONDE_SOURCE_DIR "/tests/unit/data/podman"
#define SAMPLE_ID   "4bce00372f4f60833ad632ae4d3776e279e002f04dbe716a1cb573bb614242aa"
#define SAMPLE_IMG  "cb261f8f6fe08b0959741781b73e5a536c13fd95bed4fff418ed15d68476bdc0"
#define SAMPLE_DGST "sha256:04416ea034cda05ab25107387f5dfde245e954e894002e99456127518f4293b5"

static int find_text(const char *text, const char *id, struct podman_meta *m)
{
	return podman_containers_json_find(text, strlen(text), id, m);
}

static void test_captured_containers_json(void)
{
	size_t len;
	char *text = test_read_file(DATA "/containers.json", &len);
	struct podman_meta m = {0};

	REQUIRE(text);
	CHECK_INT(podman_containers_json_find(text, len, SAMPLE_ID, &m), 0);
	CHECK_STR(m.name, "sonde-try2");
	CHECK_STR(m.image_name, "localhost/sonde-podtest:latest");
	CHECK_STR(m.image_id, SAMPLE_IMG);
	CHECK(m.image_digest == NULL);
	podman_meta_clear(&m);
	/* a prefix of the id is another container */
	CHECK_INT(podman_containers_json_find(text, len, "4bce00372f4f", &m), -ENOENT);
	CHECK(m.name == NULL);
	free(text);
}

static void test_captured_images_json(void)
{
	size_t len;
	char *text = test_read_file(DATA "/images.json", &len);
	struct podman_meta m = {0};

	REQUIRE(text);
	CHECK_INT(podman_images_json_find(text, len, SAMPLE_IMG, &m), 0);
	CHECK_STR(m.image_digest, SAMPLE_DGST);
	CHECK_STR(m.image_name, "localhost/sonde-podtest:latest");
	podman_meta_clear(&m);
	CHECK_INT(podman_images_json_find(text, len, "deadbeef", &m), -ENOENT);
	CHECK(m.image_digest == NULL);
	free(text);
}

/* Members already known are kept: the container's image name wins over the image's first name. */
static void test_fills_only_unknown(void)
{
	size_t len;
	char *text = test_read_file(DATA "/images.json", &len);
	struct podman_meta m = {.image_name = strdup("from-container:1")};

	REQUIRE(text);
	CHECK_INT(podman_images_json_find(text, len, SAMPLE_IMG, &m), 0);
	CHECK_STR(m.image_name, "from-container:1");
	CHECK_STR(m.image_digest, SAMPLE_DGST);
	podman_meta_clear(&m);
	free(text);
}

static void test_garbage(void)
{
	struct podman_meta m = {0};

	CHECK_INT(podman_containers_json_find("", 0, "x", &m), -EINVAL);
	CHECK_INT(podman_containers_json_find(NULL, 5, "x", &m), -EINVAL);
	CHECK_INT(find_text("{\"id\":\"x\"}", "x", &m), -EINVAL);
	CHECK_INT(find_text("[{\"id\":\"x\",\"names\":[\"a\"]", "x", &m), -EINVAL); /* half-written */
	CHECK_INT(podman_images_json_find("null", 4, "x", &m), -EINVAL);
	/* foreign entries are skipped, not trusted */
	CHECK_INT(find_text("[1, \"x\", null, {\"id\": 7}, {\"names\": [\"x\"]}]", "x", &m), -ENOENT);
	CHECK(m.name == NULL && m.image_id == NULL);
	/* wrong types inside the entry: found, but nothing usable */
	CHECK_INT(find_text("[{\"id\":\"x\",\"names\":\"a\",\"image\":5,\"metadata\":{}}]", "x", &m), 0);
	CHECK(m.name == NULL && m.image_id == NULL && m.image_name == NULL);
	podman_meta_clear(&m);
}

/* metadata is JSON inside a string: a bad one loses only what it alone holds */
static void test_metadata_fallbacks(void)
{
	struct podman_meta m = {0};

	CHECK_INT(
	    find_text("[{\"id\":\"x\",\"names\":[\"web\"],\"image\":\"i1\",\"metadata\":\"{not json\"}]", "x",
	              &m),
	    0);
	CHECK_STR(m.name, "web");
	CHECK_STR(m.image_id, "i1");
	CHECK(m.image_name == NULL);
	podman_meta_clear(&m);
	/* no names[]: metadata's name and image-id */
	CHECK_INT(
	    find_text(
	        "[{\"id\":\"x\",\"names\":[],\"metadata\":"
	        "\"{\\\"name\\\":\\\"n2\\\",\\\"image-id\\\":\\\"i2\\\",\\\"image-name\\\":\\\"img\\\"}\"}]",
	        "x", &m),
	    0);
	CHECK_STR(m.name, "n2");
	CHECK_STR(m.image_id, "i2");
	CHECK_STR(m.image_name, "img");
	podman_meta_clear(&m);
	/* empty strings are unknown, not names */
	CHECK_INT(find_text("[{\"id\":\"x\",\"names\":[\"\"],\"image\":\"\"}]", "x", &m), 0);
	CHECK(m.name == NULL && m.image_id == NULL);
	podman_meta_clear(&m);
}

static char store[128];

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *text = test_read_file(from, &len);
	FILE *f = fopen(to, "w");

	REQUIRE(text && f);
	fwrite(text, 1, len, f);
	fclose(f);
	free(text);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A store laid out as podman does, under a graphroot of its own. */
static void make_store(void)
{
	char path[512];

	snprintf(store, sizeof(store), "/tmp/sonde-podman-store-XXXXXX");
	REQUIRE(mkdtemp(store));
	snprintf(path, sizeof(path), "%s/overlay-containers", store);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/overlay-images", store);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/overlay-containers/" SAMPLE_ID, store);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/overlay-containers/" SAMPLE_ID "/userdata", store);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/overlay-containers/containers.json", store);
	copy_file(DATA "/containers.json", path);
	snprintf(path, sizeof(path), "%s/overlay-images/images.json", store);
	copy_file(DATA "/images.json", path);
}

static void test_lookup_next_to_bundle(void)
{
	char bundle[512];
	struct podman_meta m = {0};

	make_store();
	snprintf(bundle, sizeof(bundle), "%s/overlay-containers/" SAMPLE_ID "/userdata/", store);
	CHECK_INT(podman_lookup(bundle, SAMPLE_ID, &m), 0);
	CHECK_STR(m.name, "sonde-try2");
	CHECK_STR(m.image_name, "localhost/sonde-podtest:latest");
	CHECK_STR(m.image_digest, SAMPLE_DGST);
	podman_meta_clear(&m);

	/* images.json missing: the name still comes through */
	snprintf(bundle, sizeof(bundle), "%s/overlay-images/images.json", store);
	unlink(bundle);
	snprintf(bundle, sizeof(bundle), "%s/overlay-containers/" SAMPLE_ID "/userdata", store);
	CHECK_INT(podman_lookup(bundle, SAMPLE_ID, &m), 0);
	CHECK_STR(m.name, "sonde-try2");
	CHECK(m.image_digest == NULL);
	podman_meta_clear(&m);

	/* a bundle of another container id is not this store's entry */
	CHECK(podman_lookup(bundle, "0123456789abcdef", &m) < 0);
	CHECK(m.name == NULL);
	nftw(store, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_enrich_container(void)
{
	struct sonde_container *c = sonde_container_new(SAMPLE_ID, "runc");
	char bundle[512];

	REQUIRE(c);
	make_store();
	snprintf(bundle, sizeof(bundle), "%s/overlay-containers/" SAMPLE_ID "/userdata", store);
	sonde_container_set_str(&c->bundle, bundle);
	sonde_container_set_annotation(c, "io.container.manager", "libpod");
	sonde_container_apply_annotations(c);
	CHECK_STR(c->runtime, "podman");
	CHECK_STR(c->name, SAMPLE_ID); /* OCI annotations carry no name */
	podman_enrich(c);
	CHECK_STR(c->name, "sonde-try2");
	CHECK_STR(c->image_name, "localhost/sonde-podtest:latest");
	CHECK_STR(c->image_digest, SAMPLE_DGST);
	sonde_container_free(c);

	/* not in the store: unchanged, id as name */
	c = sonde_container_new("feedface", "podman");
	REQUIRE(c);
	sonde_container_set_str(&c->bundle, bundle);
	podman_enrich(c);
	CHECK_STR(c->name, "feedface");
	CHECK_STR(c->image_name, "");
	CHECK_STR(c->image_digest, "");
	sonde_container_free(c);
	nftw(store, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TEST_MAIN(TEST(test_captured_containers_json), TEST(test_captured_images_json), TEST(test_fills_only_unknown),
          TEST(test_garbage), TEST(test_metadata_fallbacks), TEST(test_lookup_next_to_bundle),
          TEST(test_enrich_container))
