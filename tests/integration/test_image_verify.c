/* `sonde run` of a signed image from the local store, offline: the
 * built trace_open object put into a temporary store as a gadget image,
 * signed in the test with the openssl tool as cosign signs (EC P-256, the
 * simple-signing payload, base64 in the layer annotation), under the legacy
 * .sig tag or as an OCI 1.1 referrer. The right key runs it; a wrong key, a
 * payload for another image, no signature or an image outside
 * --allowed-gadgets is refused with one clear error; --verify-image=false
 * runs it with one warning. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <sonde/image.h>

#include "cosign_sign.h"
#include "image/oci.h"
#include "testlib.h"

#define TMP_PREFIX "/tmp/sonde-imgverify-"
#define OBJ        SONDE_TEST_BUILD_DIR "/gadgets/trace_open.bpf.o"
#define YAML       SONDE_SOURCE_DIR "/gadgets/trace_open/gadget.yaml"
#define REPO       "localhost:5000/signed/trace_open"
#define REF        REPO ":v1"

static char tmp[64], store[128], key_a[128], pub_a[128], pub_b[128];
static char index_digest[OCI_DIGEST_LEN];

static struct oci_store *open_store(void)
{
	struct oci_store *s;

	if (oci_store_open(store, 0, &s))
		abort();
	return s;
}

/* The image as `ig image build` lays it out: index → manifest → gadget.yaml
 * + eBPF layer. v0.28's builder wrote manifests without mediaType nor
 * artifactType (and no builder version); `yaml` NULL: the built-in's. */
static void put_gadget_as(const char *ref, const char *yaml_text, bool v028, char digest[OCI_DIGEST_LEN])
{
	struct oci_store *s = open_store();
	char cfg[OCI_DIGEST_LEN], layer[OCI_DIGEST_LEN], man[OCI_DIGEST_LEN];
	size_t olen, ylen = 0;
	void *obj = test_read_file_or_abort(OBJ, &olen),
	     *yaml = yaml_text ? strdup(yaml_text) : test_read_file_or_abort(YAML, &ylen);
	int64_t msize, isize;
	json_t *m;

	if (yaml_text)
		ylen = strlen(yaml_text);
	if (oci_blob_put(s, yaml, ylen, cfg) || oci_blob_put(s, obj, olen, layer))
		abort();
	m = json_pack("{s:i}", "schemaVersion", 2);
	if (!v028) {
		json_object_set_new(m, "mediaType", json_string(OCI_MT_MANIFEST));
		json_object_set_new(m, "artifactType", json_string(GADGET_ARTIFACT_TYPE));
	}
	json_object_set_new(m, "config",
	                    json_pack("{s:s,s:s,s:I,s:{s:s}}", "mediaType", GADGET_MT_CONFIG, "digest", cfg,
	                              "size", (json_int_t)ylen, "annotations", OCI_ANN_TITLE, "trace open"));
	json_object_set_new(m, "layers",
	                    json_pack("[{s:s,s:s,s:I}]", "mediaType", GADGET_MT_EBPF, "digest", layer, "size",
	                              (json_int_t)olen));
	json_object_set_new(m, "annotations", json_pack("{s:s}", OCI_ANN_TITLE, "trace open"));
	test_oci_put_json(s, m, man, &msize);
	test_oci_put_json(s,
	                  json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:{s:s,s:s}}]}", "schemaVersion", 2,
	                            "mediaType", OCI_MT_INDEX, "manifests", "mediaType", OCI_MT_MANIFEST,
	                            "digest", man, "size", (json_int_t)msize, "platform", "architecture",
	                            oci_host_arch(), "os", "linux"),
	                  digest, &isize);
	test_oci_tag(s, ref, OCI_MT_INDEX, digest, isize, NULL);
	free(obj);
	free(yaml);
	oci_store_close(s);
}

static void put_gadget(void)
{
	put_gadget_as(REF, NULL, false, index_digest);
}

static char *payload_for(const char *digest)
{
	char *p = test_cosign_payload(REPO, digest, NULL);

	if (!p)
		abort();
	return p;
}

enum format { LEGACY, REFERRER };

static void store_signature(const char *payload, enum format fmt)
{
	struct oci_store *s = open_store();
	struct oci_descriptor man = {0}, idx = {0};
	char ref[300];
	char *sig = test_cosign_sign_payload(payload, key_a, false);

	if (!sig || test_cosign_put_manifest(s, payload, sig, fmt == REFERRER ? index_digest : NULL, 1, &man))
		abort();
	if (fmt == LEGACY) {
		snprintf(ref, sizeof(ref), REPO ":sha256-%s.sig", index_digest + 7);
		test_oci_tag(s, ref, OCI_MT_MANIFEST, man.digest, man.size, NULL);
	} else {
		if (test_cosign_put_referrers(s, &man, &idx))
			abort();
		snprintf(ref, sizeof(ref), REPO ":sha256-%s", index_digest + 7);
		test_oci_tag(s, ref, OCI_MT_INDEX, idx.digest, idx.size, NULL);
	}
	free(sig);
	oci_store_close(s);
}

static void drop_signatures(void)
{
	struct oci_store *s = open_store();
	char ref[300];

	snprintf(ref, sizeof(ref), REPO ":sha256-%s.sig", index_digest + 7);
	test_cosign_drop_tag(s, ref);
	snprintf(ref, sizeof(ref), REPO ":sha256-%s", index_digest + 7);
	test_cosign_drop_tag(s, ref);
	oci_store_close(s);
}

static void setup(void)
{
	char cmd[600];

	test_require_root();
	if (test_run_quiet((const char *const[]){"openssl", "version", NULL}) != 0)
		test_skip_dep("the openssl tool signs the test images");
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "XXXXXX");
	if (!mkdtemp(tmp))
		abort();
	snprintf(store, sizeof(store), "%s/store", tmp);
	snprintf(key_a, sizeof(key_a), "%s/a.key", tmp);
	snprintf(pub_a, sizeof(pub_a), "%s/a.pub", tmp);
	snprintf(pub_b, sizeof(pub_b), "%s/b.pub", tmp);
	snprintf(cmd, sizeof(cmd),
	         "set -e; cd %s; (openssl ecparam -name prime256v1 -genkey -noout -out a.key; "
	         "openssl ec -in a.key -pubout -out a.pub; openssl ecparam -name prime256v1 -genkey -noout "
	         "-out b.key; "
	         "openssl ec -in b.key -pubout -out b.pub) 2>/dev/null",
	         tmp);
	if (system(cmd) != 0)
		abort();
	put_gadget();
	srandom((unsigned)getpid());
}

static void teardown(void)
{
	test_rm_tree(tmp, TMP_PREFIX);
}

/* Runs `sonde run REF --store … extra` around a child opening a file of
 * its own; whether its event came out. */
static bool traced(const char *const *extra)
{
	const char *argv[24] = {"run", REF,       "--host", "-o",     "json",
	                        "-v",  "--store", store,    "--pull", "never"};
	size_t n = 10;

	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	return test_sonde_sees_open(argv, "sonde_it_sig");
}

/* `sonde run REF … extra` must fail with one error line containing needle. */
static void refused(const char *const *extra, const char *needle)
{
	const char *argv[24] = {"run", REF, "--host", "--store", store, "--pull", "never", "--timeout", "1"};
	size_t n = 9;

	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	sonde_expect_error(argv, needle);
}

static void test_signed_runs(void)
{
	char *payload;

	setup();
	payload = payload_for(index_digest);
	store_signature(payload, LEGACY);
	CHECK(traced((const char *const[]){"--public-keys", pub_a, NULL}));
	/* any of the keys given */
	CHECK(traced((const char *const[]){"--public-keys", pub_b, "--public-keys", pub_a, NULL}));
	refused((const char *const[]){"--public-keys", pub_b, NULL}, "none made by the given public key");
	/* without --public-keys: upstream's key, which did not sign it */
	refused(NULL, "none made by the given public key");

	/* sonde image verify: the same check, without running */
	{
		const char *ok[] = {"image", "verify", REF, "--store", store, "--public-keys", pub_a, NULL};
		const char *bad[] = {"image", "verify", REF, "--store", store, "--public-keys", pub_b, NULL};
		const char *none[] = {"image", "verify", REF, "--store", store, "--public-keys=", NULL};
		char *out = NULL, *err = NULL;
		CHECK_INT(sonde_run_cmd(ok, &out, &err, 20000), 0);
		CHECK(out && strstr(out, "Verified signature of " REF " (") && strstr(out, index_digest));
		free(out);
		free(err);
		sonde_expect_error(bad, "none made by the given public key");
		sonde_expect_error(none, "no public key to verify its signature with");
	}

	/* the OCI 1.1 referrer alone */
	drop_signatures();
	store_signature(payload, REFERRER);
	CHECK(traced((const char *const[]){"--public-keys", pub_a, NULL}));
	refused((const char *const[]){"--public-keys", pub_b, NULL}, "none made by the given public key");
	drop_signatures();
	free(payload);
	teardown();
}

static void test_refused(void)
{
	char *payload;
	char *out = NULL, *err = NULL;
	int status;

	setup();
	/* unsigned */
	refused((const char *const[]){"--public-keys", pub_a, NULL}, "is not signed");
	refused(NULL, "--verify-image=false");
	/* a good signature of a payload for another image */
	payload = payload_for("sha256:4444444444444444444444444444444444444444444444444444444444444444");
	store_signature(payload, LEGACY);
	refused((const char *const[]){"--public-keys", pub_a, NULL}, "not this image");
	drop_signatures();
	free(payload);

	/* --verify-image=false: runs, one warning */
	CHECK(traced((const char *const[]){"--verify-image=false", NULL}));
	status = sonde_run_cmd((const char *const[]){"run", REF, "--host", "--store", store, "--pull",
	                                             "never", "--timeout", "1", "--verify-image=false", NULL},
	                       &out, &err, 20000);
	CHECK_INT(status, 0);
	CHECK(err && strstr(err, "signature verification is disabled"));
	CHECK(err && !strstr(strstr(err, "disabled") + 1, "signature verification is disabled"));
	free(out);
	free(err);
	teardown();
}

static void test_allowed_gadgets(void)
{
	char *payload;

	setup();
	payload = payload_for(index_digest);
	store_signature(payload, LEGACY);
	refused((const char *const[]){"--public-keys", pub_a, "--allowed-gadgets",
	                              "ghcr.io/inspektor-gadget/gadget/*", NULL},
	        "not part of the allowed gadgets");
	/* denied even unverified: the list is checked first */
	refused((const char *const[]){"--verify-image=false", "--allowed-gadgets", REPO ":v2", NULL},
	        "not part of the allowed gadgets");
	CHECK(traced((const char *const[]){"--public-keys", pub_a, "--allowed-gadgets",
	                                   "localhost:5000/signed/*", NULL}));
	{
		char pinned[200];
		snprintf(pinned, sizeof(pinned), REPO "@%s", index_digest);
		CHECK(
		    traced((const char *const[]){"--public-keys", pub_a, "--allowed-gadgets", pinned, NULL}));
	}
	/* a local object has no reference a list could admit */
	{
		const char *argv[] = {
		    "run", OBJ, "--config", YAML, "--host", "--allowed-gadgets", "localhost:5000/*", NULL};
		sonde_expect_error(argv, "--allowed-gadgets admits only images from the store");
	}
	/* built-ins are never verified nor listed */
	{
		const char *argv[] = {"run", "trace_open",    "--host", "--timeout",
		                      "1",   "--public-keys", pub_b,    NULL};
		char *out = NULL, *err = NULL;
		CHECK_INT(sonde_run_cmd(argv, &out, &err, 20000), 0);
		free(out);
		free(err);
	}
	drop_signatures();
	free(payload);
	teardown();
}

/* An image as upstream's v0.28 built and signed it: legacy gadget.yaml
 * (tracers, structs with attributes, ebpfParams), manifest without media
 * nor artifact type, cosign's legacy .sig tag. It runs unchanged, and its
 * legacy metadata means what it meant. */
static const char v028_yaml[] = "name: trace open\n"
                                "description: trace open files\n"
                                "tracers:\n"
                                "  open:\n"
                                "    mapName: events\n"
                                "    structName: event\n"
                                "structs:\n"
                                "  event:\n"
                                "    fields:\n"
                                "    - name: fname\n"
                                "      description: File name as given\n"
                                "      attributes:\n"
                                "        width: 40\n"
                                "        minWidth: 24\n"
                                "        ellipsis: start\n"
                                "    - name: fd\n"
                                "      attributes:\n"
                                "        hidden: true\n"
                                "ebpfParams:\n"
                                "  targ_failed:\n"
                                "    key: failed\n"
                                "    defaultValue: \"false\"\n"
                                "    description: Show only failed events\n";

/* An annotation of an inspected field (keys have dots: no path lookup). */
static const char *ann(json_t *field, const char *key)
{
	const char *v = json_string_value(json_object_get(json_object_get(field, "annotations"), key));

	return v ? v : "";
}

static void test_v028_image(void)
{
	const char *insp[] = {"image",   "inspect", "localhost:5000/v028/trace_open:v0.28.0",
	                      "--store", store,     "-o",
	                      "json",    NULL};
	char *payload, *out = NULL, *err = NULL;
	json_t *doc, *ds, *field, *param;
	size_t i;

	setup();
	/* the same REF, another image: index_digest now names it */
	put_gadget_as(REF, v028_yaml, true, index_digest);
	payload = payload_for(index_digest);
	store_signature(payload, LEGACY);
	CHECK(traced((const char *const[]){"--public-keys", pub_a, NULL}));

	/* what the legacy keys mean, as the engine sees it */
	put_gadget_as("localhost:5000/v028/trace_open:v0.28.0", v028_yaml, true, (char[OCI_DIGEST_LEN]){0});
	REQUIRE(sonde_run_cmd(insp, &out, &err, 20000) == 0);
	doc = json_loads(out, 0, NULL);
	REQUIRE(doc);
	field = NULL;
	json_array_foreach(json_object_get(doc, "dataSources"), i, ds)
	{
		json_t *f;
		size_t j;
		if (strcmp(json_string_value(json_object_get(ds, "name")), "open"))
			continue;
		json_array_foreach(json_object_get(ds, "fields"), j, f)
		{
			const char *name = json_string_value(json_object_get(f, "fullName"));
			if (!strcmp(name, "fname"))
				field = f;
			if (!strcmp(name, "fd"))
				CHECK(json_is_true(json_object_get(f, "hidden")));
		}
	}
	REQUIRE(field);
	CHECK_STR(ann(field, "columns.width"), "40");
	CHECK_STR(ann(field, "columns.minwidth"), "24");
	CHECK_STR(ann(field, "columns.ellipsis"), "start");
	CHECK_STR(ann(field, "description"), "File name as given");
	param = NULL;
	json_array_foreach(json_object_get(doc, "params"), i, field)
	{
		const char *key = json_string_value(json_object_get(field, "key"));
		if (key && !strcmp(key, "failed"))
			param = field;
	}
	CHECK(param &&
	      !strcmp(json_string_value(json_object_get(param, "description")), "Show only failed events"));
	json_decref(doc);
	free(out);
	free(err);
	free(payload);
	teardown();
}

TEST_MAIN(TEST(test_signed_runs), TEST(test_refused), TEST(test_allowed_gadgets), TEST(test_v028_image))
