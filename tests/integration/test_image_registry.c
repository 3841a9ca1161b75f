/* sonde image pull/push/login/logout against Debian's docker-registry
 * (plain, and TLS with htpasswd basic auth, certificates made here), skopeo
 * in both directions, and fake registries that stall or fail. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cosign_sign.h"
#include "image/oci.h"
#include "registry.h"
#include "testlib.h"

static char tmp[] = "/tmp/sonde-test-registry.XXXXXX";
static struct test_registry plain;

/* Builds a gadget image (trace_open's object and gadget.yaml, an index with
 * one amd64 manifest, as upstream's build makes) in the store at dir, tagged
 * ref; its index digest in digest. pad > 0 adds a wasm-typed layer of that
 * many pseudo-random bytes (a big blob for chunked uploads). */
static int make_image(const char *dir, const char *ref, size_t pad, char digest[OCI_DIGEST_LEN])
{
	struct oci_store *s = NULL;
	char obj_path[512], yaml_path[512], cfg_d[OCI_DIGEST_LEN], obj_d[OCI_DIGEST_LEN],
	    pad_d[OCI_DIGEST_LEN];
	char man_d[OCI_DIGEST_LEN];
	char *obj = NULL, *yaml = NULL, *man_txt = NULL, *idx_txt = NULL, *padding = NULL;
	size_t obj_len = 0, yaml_len = 0, man_len = 0, idx_len = 0;
	json_t *man = NULL, *idx = NULL, *layers;
	struct oci_descriptor d;
	int r = -1;

	snprintf(obj_path, sizeof(obj_path), "%s/gadgets/trace_open.bpf.o", SONDE_TEST_BUILD_DIR);
	snprintf(yaml_path, sizeof(yaml_path), "%s/gadgets/trace_open/gadget.yaml", SONDE_SOURCE_DIR);
	obj = test_read_file(obj_path, &obj_len);
	yaml = test_read_file(yaml_path, &yaml_len);
	if (!obj || !yaml || oci_store_open(dir, 0, &s))
		goto out;
	if (oci_blob_put(s, obj, obj_len, obj_d) || oci_blob_put(s, yaml, yaml_len, cfg_d))
		goto out;
	layers = json_pack("[{s:s,s:s,s:I}]", "mediaType", GADGET_MT_EBPF, "digest", obj_d, "size",
	                   (json_int_t)obj_len);
	if (pad) {
		padding = malloc(pad);
		if (!padding)
			goto out;
		for (size_t i = 0; i < pad; i++)
			padding[i] = (char)((i * 2654435761u) >> 13);
		if (oci_blob_put(s, padding, pad, pad_d))
			goto out;
		json_array_append_new(layers, json_pack("{s:s,s:s,s:I}", "mediaType", GADGET_MT_WASM,
		                                        "digest", pad_d, "size", (json_int_t)pad));
	}
	man = json_pack("{s:i,s:s,s:s,s:{s:s,s:s,s:I},s:o,s:{s:s}}", "schemaVersion", 2, "mediaType",
	                OCI_MT_MANIFEST, "artifactType", GADGET_ARTIFACT_TYPE, "config", "mediaType",
	                GADGET_MT_CONFIG, "digest", cfg_d, "size", (json_int_t)yaml_len, "layers", layers,
	                "annotations", OCI_ANN_CREATED, "2026-12-07T00:00:00Z");
	man_txt = oci_json_dump(man, &man_len);
	if (!man_txt || oci_blob_put(s, man_txt, man_len, man_d))
		goto out;
	idx = json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:{s:s,s:s}}],s:{s:s}}", "schemaVersion", 2, "mediaType",
	                OCI_MT_INDEX, "manifests", "mediaType", OCI_MT_MANIFEST, "digest", man_d, "size",
	                (json_int_t)man_len, "platform", "architecture", "amd64", "os", "linux",
	                "annotations", OCI_ANN_CREATED, "2026-12-07T00:00:00Z");
	idx_txt = oci_json_dump(idx, &idx_len);
	if (!idx_txt || oci_blob_put(s, idx_txt, idx_len, digest))
		goto out;
	memset(&d, 0, sizeof(d));
	snprintf(d.media_type, sizeof(d.media_type), "%s", OCI_MT_INDEX);
	snprintf(d.digest, sizeof(d.digest), "%s", digest);
	d.size = (int64_t)idx_len;
	r = oci_store_tag(s, ref, &d);
out:
	if (r)
		fprintf(stderr, "could not make the test image %s in %s\n", ref, dir);
	json_decref(man);
	json_decref(idx);
	free(obj);
	free(yaml);
	free(man_txt);
	free(idx_txt);
	free(padding);
	oci_store_close(s);
	return r;
}

/* Stores a cosign-like signature manifest (one simple-signing layer, the
 * signature in its annotation); with out->artifact_type set, an OCI 1.1
 * referrer of subject (out->size: the subject's size). Signed with
 * keydir/key.pem as cosign signs, or a placeholder signature without
 * keydir. Its descriptor in *out. */
static int put_signature_signed(struct oci_store *s, const char *subject, const char *keydir,
                                struct oci_descriptor *out)
{
	char *payload = test_cosign_payload("x", subject, NULL), *sig = NULL, key[700];
	bool referrer = out->artifact_type[0] != '\0';
	int r = -1;

	if (!payload)
		return -1;
	if (keydir) {
		snprintf(key, sizeof(key), "%s/key.pem", keydir);
		sig = test_cosign_sign_payload(payload, key, false);
	} else {
		sig = strdup("MEUCIQDtest");
	}
	if (sig)
		r = test_cosign_put_manifest(s, payload, sig, referrer ? subject : NULL, out->size, out);
	free(sig);
	free(payload);
	return r;
}

static int put_signature(struct oci_store *s, const char *subject, struct oci_descriptor *out)
{
	return put_signature_signed(s, subject, NULL, out);
}

/* The digest the store at dir has for ref, "" if none. */
static void store_digest(const char *dir, const char *ref, char out[OCI_DIGEST_LEN])
{
	struct oci_store *s = NULL;
	struct oci_descriptor d;

	char index[700];

	out[0] = 0;
	memset(&d, 0, sizeof(d));
	snprintf(index, sizeof(index), "%s/index.json", dir);
	if (access(index, F_OK) || oci_store_open(dir, OCI_STORE_READ_ONLY, &s))
		return;
	if (!oci_store_resolve(s, ref, &d))
		snprintf(out, OCI_DIGEST_LEN, "%s", d.digest);
	oci_descriptor_clear(&d);
	oci_store_close(s);
}

static int run_sonde(const char *const *argv, char **out, char **err)
{
	int st = sonde_run_cmd(argv, out, err, 60000);

	if (st != 0)
		fprintf(stderr, "sonde exited %d: %s", st, err && *err ? *err : "");
	return st;
}

/* `sonde image push|pull ref --store store --insecure-registries <plain
 * registry>`: its exit status; its stdout and stderr in *out and *err (to
 * free), or dropped where those are NULL. */
static int image_xfer(const char *verb, const char *ref, const char *store, char **out, char **err)
{
	const char *argv[] = {"image",    verb, ref, "--store", store, "--insecure-registries",
	                      plain.host, NULL};
	char *o = NULL, *e = NULL;
	int st = run_sonde(argv, &o, &e);

	if (out)
		*out = o;
	else
		free(o);
	if (err)
		*err = e;
	else
		free(e);
	return st;
}

static void path_in_tmp(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmp, name);
}

static void test_push_pull_roundtrip(void)
{
	char a[600], b[600], ref[200], d_made[OCI_DIGEST_LEN], d_pulled[OCI_DIGEST_LEN], want[400];
	char *out = NULL, *err = NULL;

	path_in_tmp(a, sizeof(a), "store-a");
	path_in_tmp(b, sizeof(b), "store-b");
	snprintf(ref, sizeof(ref), "%s/gadgets/trace_open:v1", plain.host);
	REQUIRE(make_image(a, ref, 0, d_made) == 0);
	REQUIRE(image_xfer("push", ref, a, &out, &err) == 0);
	snprintf(want, sizeof(want), "Successfully pushed %s@%s", ref, d_made);
	CHECK(out && strstr(out, want));
	CHECK_STR(err, ""); /* not a terminal: no progress, no chatter */
	free(out);
	free(err);
	/* into an empty store */
	REQUIRE(image_xfer("pull", ref, b, &out, NULL) == 0);
	snprintf(want, sizeof(want), "Successfully pulled %s@%s", ref, d_made);
	CHECK(out && strstr(out, want));
	free(out);
	store_digest(b, ref, d_pulled);
	CHECK_STR(d_pulled, d_made);
	{
		/* removed from the first store (untag + gc), pulled again */
		struct oci_store *s = NULL;

		REQUIRE(oci_store_open(a, 0, &s) == 0);
		CHECK_INT(oci_store_untag(s, ref), 0);
		CHECK_INT(oci_store_gc(s, NULL), 0);
		CHECK(!oci_blob_exists(s, d_made));
		oci_store_close(s);
		REQUIRE(image_xfer("pull", ref, a, NULL, NULL) == 0);
		store_digest(a, ref, d_pulled);
		CHECK_STR(d_pulled, d_made);
	}
	{
		/* by digest: the content named, and only that */
		char c[600], byd[300];
		const char *argv[] = {"image",    "pull", byd, "--store", c, "--insecure-registries",
		                      plain.host, NULL};

		path_in_tmp(c, sizeof(c), "store-by-digest");
		snprintf(byd, sizeof(byd), "%s/gadgets/trace_open@%s", plain.host, d_made);
		REQUIRE(run_sonde(argv, &out, &err) == 0);
		snprintf(want, sizeof(want), "Successfully pulled %s\n", byd);
		CHECK_STR(out, want);
		free(out);
		free(err);
		store_digest(c, byd, d_pulled);
		CHECK_STR(d_pulled, d_made);
		byd[strlen(byd) - 1] = byd[strlen(byd) - 1] == '0' ? '1' : '0';
		sonde_expect_error(argv, "MANIFEST_UNKNOWN");
	}
	{
		/* the pulled store runs the gadget (image load from the store) */
		/* the test's images are unsigned: signatures are img-verify's tests */
		const char *argv[] = {
		    "run",       ref, "--store", b, "--pull", "never", "--verify-image=false",
		    "--timeout", "1", NULL};
		int st = sonde_run_cmd(argv, &out, &err, 30000);

		if (!test_is_root() || (err && strstr(err, "unknown flag"))) {
			fprintf(stderr, "note: sonde run --store not available in this build: %s",
			        err ? err : "");
		} else {
			CHECK_INT(st, 0);
			if (st)
				fprintf(stderr, "sonde run: %s", err ? err : "");
		}
		free(out);
		free(err);
	}
}

static void test_skopeo_both_ways(void)
{
	char a[600], layout[600], ref[200], d_made[OCI_DIGEST_LEN], src[700], dst[700], got[OCI_DIGEST_LEN];

	if (!test_have("skopeo"))
		test_skip_dep("skopeo is not installed");
	path_in_tmp(a, sizeof(a), "store-skopeo");
	snprintf(ref, sizeof(ref), "%s/skopeo/from-sonde:v1", plain.host);
	REQUIRE(make_image(a, ref, 0, d_made) == 0);
	REQUIRE(image_xfer("push", ref, a, NULL, NULL) == 0);
	/* what Sonde pushed, copied back by skopeo into an OCI layout */
	path_in_tmp(layout, sizeof(layout), "skopeo-layout");
	snprintf(src, sizeof(src), "docker://%s", ref);
	snprintf(dst, sizeof(dst), "oci:%s:v1", layout);
	{
		const char *argv[] = {
		    "skopeo", "copy", "-q", "--all", "--preserve-digests", "--src-tls-verify=false",
		    src,      dst,    NULL};

		REQUIRE(test_run_quiet(argv) == 0);
	}
	store_digest(layout, "v1", got);
	CHECK_STR(got, d_made);

	/* what skopeo pushed (from that layout, to another repository) Sonde pulls */
	snprintf(ref, sizeof(ref), "%s/skopeo/from-skopeo:v2", plain.host);
	snprintf(src, sizeof(src), "docker://%s", ref);
	{
		const char *argv[] = {
		    "skopeo", "copy", "-q", "--all", "--preserve-digests", "--dest-tls-verify=false",
		    dst,      src,    NULL};

		REQUIRE(test_run_quiet(argv) == 0);
	}
	path_in_tmp(a, sizeof(a), "store-from-skopeo");
	REQUIRE(image_xfer("pull", ref, a, NULL, NULL) == 0);
	store_digest(a, ref, got);
	CHECK_STR(got, d_made);
}

static void test_chunked_and_mount(void)
{
	char a[600], ref[200], ref2[200], d_made[OCI_DIGEST_LEN], got[OCI_DIGEST_LEN], b[600];
	char *out = NULL, *err = NULL;
	struct oci_store *s = NULL;
	struct oci_descriptor d;

	path_in_tmp(a, sizeof(a), "store-chunked");
	snprintf(ref, sizeof(ref), "%s/big/gadget:v1", plain.host);
	REQUIRE(make_image(a, ref, 3 << 20, d_made) == 0);
	{
		/* 3 MiB in 1 MiB chunks: four PATCH requests (the object too) */
		const char *argv[] = {
		    "image", "push",         ref,       "--store", a, "--insecure-registries", plain.host,
		    "-v",    "--chunk-size", "1048576", NULL};

		REQUIRE(run_sonde(argv, &out, &err) == 0);
		CHECK(err && strstr(err, "PATCH"));
		CHECK(err && strstr(err, "3 blobs uploaded, 0 mounted"));
		free(out);
		free(err);
	}
	/* the same image under another repository of the registry: mounted */
	snprintf(ref2, sizeof(ref2), "%s/big/other:v1", plain.host);
	REQUIRE(oci_store_open(a, 0, &s) == 0);
	memset(&d, 0, sizeof(d));
	REQUIRE(oci_store_resolve(s, ref, &d) == 0);
	CHECK_INT(oci_store_tag(s, ref2, &d), 0);
	oci_descriptor_clear(&d);
	oci_store_close(s);
	{
		const char *argv[] = {"image",    "push", ref2, "--store", a, "--insecure-registries",
		                      plain.host, "-v",   NULL};

		REQUIRE(run_sonde(argv, &out, &err) == 0);
		CHECK(err && strstr(err, "0 blobs uploaded, 3 mounted"));
		free(out);
		free(err);
	}
	path_in_tmp(b, sizeof(b), "store-chunked-back");
	REQUIRE(image_xfer("pull", ref2, b, NULL, NULL) == 0);
	store_digest(b, ref2, got);
	CHECK_STR(got, d_made);
	/* pushing again: every blob is already there */
	{
		const char *argv[] = {"image",    "push", ref, "--store", a, "--insecure-registries",
		                      plain.host, "-v",   NULL};

		REQUIRE(run_sonde(argv, &out, &err) == 0);
		CHECK(err && strstr(err, "0 blobs uploaded, 0 mounted, 3 already there"));
		free(out);
		free(err);
	}
}

static void test_signatures_travel(void)
{
	char a[600], b[600], ref[300], repo[200], sig_ref[300], refs_ref[300], d_made[OCI_DIGEST_LEN];
	char d_sig[OCI_DIGEST_LEN], d_refs[OCI_DIGEST_LEN], got[OCI_DIGEST_LEN], *err = NULL;
	struct oci_store *s = NULL;
	struct oci_descriptor sig, referrer, idx_d;
	int64_t idx_size;

	path_in_tmp(a, sizeof(a), "store-signed");
	snprintf(repo, sizeof(repo), "%s/signed/gadget", plain.host);
	snprintf(ref, sizeof(ref), "%s:v1", repo);
	REQUIRE(make_image(a, ref, 0, d_made) == 0);
	REQUIRE(oci_store_open(a, 0, &s) == 0);
	memset(&idx_d, 0, sizeof(idx_d));
	REQUIRE(oci_store_resolve(s, ref, &idx_d) == 0);
	idx_size = idx_d.size;
	oci_descriptor_clear(&idx_d);
	/* the legacy cosign tag sha256-<hex>.sig */
	memset(&sig, 0, sizeof(sig));
	REQUIRE(put_signature(s, d_made, &sig) == 0);
	snprintf(sig_ref, sizeof(sig_ref), "%s:sha256-%.64s.sig", repo, d_made + 7);
	CHECK_INT(oci_store_tag(s, sig_ref, &sig), 0);
	snprintf(d_sig, sizeof(d_sig), "%s", sig.digest);
	/* an OCI 1.1 referrer, under the referrers tag schema sha256-<hex> */
	memset(&referrer, 0, sizeof(referrer));
	snprintf(referrer.artifact_type, sizeof(referrer.artifact_type), "%s", COSIGN_ARTIFACT_SIG);
	referrer.size = idx_size;
	REQUIRE(put_signature(s, d_made, &referrer) == 0);
	memset(&idx_d, 0, sizeof(idx_d));
	CHECK_INT(test_cosign_put_referrers(s, &referrer, &idx_d), 0);
	snprintf(refs_ref, sizeof(refs_ref), "%s:sha256-%.64s", repo, d_made + 7);
	CHECK_INT(oci_store_tag(s, refs_ref, &idx_d), 0);
	snprintf(d_refs, sizeof(d_refs), "%s", idx_d.digest);
	oci_store_close(s);

	/* push takes the signature tags along; pull brings them back */
	REQUIRE(image_xfer("push", ref, a, NULL, NULL) == 0);
	path_in_tmp(b, sizeof(b), "store-signed-back");
	REQUIRE(image_xfer("pull", ref, b, NULL, &err) == 0);
	CHECK_STR(err, ""); /* no warning: both were there */
	free(err);
	store_digest(b, ref, got);
	CHECK_STR(got, d_made);
	store_digest(b, sig_ref, got);
	CHECK_STR(got, d_sig);
	store_digest(b, refs_ref, got);
	CHECK_STR(got, d_refs);

	/* an unsigned image: no signature tags, no warning */
	snprintf(ref, sizeof(ref), "%s/unsigned/gadget:v1", plain.host);
	path_in_tmp(a, sizeof(a), "store-unsigned");
	REQUIRE(make_image(a, ref, 0, d_made) == 0);
	REQUIRE(image_xfer("push", ref, a, NULL, NULL) == 0);
	REQUIRE(image_xfer("pull", ref, b, NULL, &err) == 0);
	CHECK_STR(err, "");
	free(err);
}

static void test_run_pull_policy(void)
{
	char a[600], b[600], ref[300], d_made[OCI_DIGEST_LEN], got[OCI_DIGEST_LEN];
	char *out = NULL, *err = NULL;

	/* (unsigned images: --verify-image=false where one runs) */
	test_require_root();
	path_in_tmp(a, sizeof(a), "store-policy-src");
	path_in_tmp(b, sizeof(b), "store-policy-run");
	snprintf(ref, sizeof(ref), "%s/policy/trace_open:v1", plain.host);
	REQUIRE(make_image(a, ref, 0, d_made) == 0);
	REQUIRE(image_xfer("push", ref, a, NULL, NULL) == 0);
	{
		/* never, and the store lacks it: a clear error, nothing pulled */
		const char *argv[] = {
		    "run",      ref,         "--store", b,   "--pull", "never", "--insecure-registries",
		    plain.host, "--timeout", "1",       NULL};

		sonde_expect_error(argv, "--pull never forbids pulling it");
		store_digest(b, ref, got);
		CHECK_STR(got, "");
	}
	{
		/* missing (the default): pulled, then run */
		const char *argv[] = {"run",
		                      ref,
		                      "--store",
		                      b,
		                      "--insecure-registries",
		                      plain.host,
		                      "--timeout",
		                      "1",
		                      "--verify-image=false",
		                      NULL};

		CHECK_INT(run_sonde(argv, &out, &err), 0);
		free(out);
		free(err);
		store_digest(b, ref, got);
		CHECK_STR(got, d_made);
	}
	{
		/* always: asks the registry even though the store has it (a
		 * stalled one fails the run), never does not */
		struct test_registry st;
		char ref2[300];
		struct oci_store *s = NULL;
		struct oci_descriptor d;

		REQUIRE(test_registry_start_stalling(&st) == 0);
		snprintf(ref2, sizeof(ref2), "%s/policy/trace_open:v1", st.host);
		REQUIRE(oci_store_open(b, 0, &s) == 0);
		memset(&d, 0, sizeof(d));
		REQUIRE(oci_store_resolve(s, ref, &d) == 0);
		CHECK_INT(oci_store_tag(s, ref2, &d), 0);
		oci_descriptor_clear(&d);
		oci_store_close(s);
		const char *never[] = {
		    "run",       ref2, "--store", b, "--pull", "never", "--verify-image=false",
		    "--timeout", "1",  NULL};

		CHECK_INT(run_sonde(never, &out, &err), 0);
		free(out);
		free(err);
		/* the run has no registry timeout flag: the environment's */
		const char *always[] = {
		    "run",   ref2,        "--store", b,   "--pull", "always", "--insecure-registries",
		    st.host, "--timeout", "1",       NULL};

		int64_t t0 = test_now_ms();

		setenv("SONDE_REGISTRY_TIMEOUT", "2", 1);
		sonde_expect_error(always, "timed out");
		unsetenv("SONDE_REGISTRY_TIMEOUT");
		CHECK(test_now_ms() - t0 < 8000);
		test_registry_stop(&st);
	}
}

/* A JSON document's canonical bytes and digest (caller frees *txt). */
static char *doc_of(json_t *doc, size_t *len, char digest[OCI_DIGEST_LEN])
{
	char *txt = oci_json_dump(doc, len);

	json_decref(doc);
	if (txt)
		oci_digest_of(txt, *len, digest);
	return txt;
}

static void test_referrers_api_and_bad_content(void)
{
	static const char layer[] = "not really an eBPF object", cfg[] = "name: fake\n",
	                  payload[] = "{\"x\":1}";
	char d_layer[OCI_DIGEST_LEN], d_cfg[OCI_DIGEST_LEN], d_pay[OCI_DIGEST_LEN], d_empty[OCI_DIGEST_LEN];
	char d_man[OCI_DIGEST_LEN], d_idx[OCI_DIGEST_LEN], d_ref[OCI_DIGEST_LEN], d_refs[OCI_DIGEST_LEN];
	char p[16][300], hdr[200], a[600], ref[200], tag_ref[300], got[OCI_DIGEST_LEN], *out = NULL,
	                                                                                *err = NULL;
	char *man, *idx, *refm, *refs;
	size_t man_len, idx_len, refm_len, refs_len;
	struct test_registry f;

	oci_digest_of(layer, strlen(layer), d_layer);
	oci_digest_of(cfg, strlen(cfg), d_cfg);
	oci_digest_of(payload, strlen(payload), d_pay);
	oci_digest_of("{}", 2, d_empty);
	man = doc_of(json_pack("{s:i,s:s,s:{s:s,s:s,s:I},s:[{s:s,s:s,s:I}]}", "schemaVersion", 2, "mediaType",
	                       OCI_MT_MANIFEST, "config", "mediaType", GADGET_MT_CONFIG, "digest", d_cfg,
	                       "size", (json_int_t)strlen(cfg), "layers", "mediaType", GADGET_MT_EBPF,
	                       "digest", d_layer, "size", (json_int_t)strlen(layer)),
	             &man_len, d_man);
	REQUIRE(man);
	idx =
	    doc_of(json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:{s:s,s:s}}]}", "schemaVersion", 2, "mediaType",
	                     OCI_MT_INDEX, "manifests", "mediaType", OCI_MT_MANIFEST, "digest", d_man, "size",
	                     (json_int_t)man_len, "platform", "architecture", "amd64", "os", "linux"),
	           &idx_len, d_idx);
	REQUIRE(idx);
	refm = doc_of(json_pack("{s:i,s:s,s:s,s:{s:s,s:s,s:i},s:[{s:s,s:s,s:I}],s:{s:s,s:s,s:I}}",
	                        "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST, "artifactType",
	                        COSIGN_ARTIFACT_SIG, "config", "mediaType", OCI_MT_EMPTY, "digest", d_empty,
	                        "size", 2, "layers", "mediaType", COSIGN_MT_SIMPLESIGN, "digest", d_pay,
	                        "size", (json_int_t)strlen(payload), "subject", "mediaType", OCI_MT_INDEX,
	                        "digest", d_idx, "size", (json_int_t)idx_len),
	              &refm_len, d_ref);
	REQUIRE(refm);
	refs = doc_of(json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:s}]}", "schemaVersion", 2, "mediaType",
	                        OCI_MT_INDEX, "manifests", "mediaType", OCI_MT_MANIFEST, "digest", d_ref,
	                        "size", (json_int_t)refm_len, "artifactType", COSIGN_ARTIFACT_SIG),
	              &refs_len, d_refs);
	REQUIRE(refs);
	snprintf(p[0], sizeof(p[0]), "/v2/r/img/manifests/v1");
	snprintf(p[1], sizeof(p[1]), "/v2/r/img/manifests/%s", d_man);
	snprintf(p[2], sizeof(p[2]), "/v2/r/img/blobs/%s", d_cfg);
	snprintf(p[3], sizeof(p[3]), "/v2/r/img/blobs/%s", d_layer);
	snprintf(p[4], sizeof(p[4]), "/v2/r/img/manifests/sha256-%.64s.sig", d_idx + 7);
	snprintf(p[5], sizeof(p[5]), "/v2/r/img/referrers/%s", d_idx);
	snprintf(p[6], sizeof(p[6]), "/v2/r/img/manifests/%s", d_ref);
	snprintf(p[7], sizeof(p[7]), "/v2/r/img/blobs/%s", d_pay);
	snprintf(p[8], sizeof(p[8]), "/v2/r/img/blobs/%s", d_empty);
	snprintf(hdr, sizeof(hdr), "Docker-Content-Digest: %s", d_man);
	/* bad content: a tag whose answer is another document than its
	 * Docker-Content-Digest says; a layer whose bytes are not its digest */
	snprintf(p[9], sizeof(p[9]), "/v2/r/lying/manifests/v1");
	snprintf(p[10], sizeof(p[10]), "/v2/r/badblob/manifests/v1");
	snprintf(p[11], sizeof(p[11]), "/v2/r/badblob/manifests/%s", d_man);
	snprintf(p[12], sizeof(p[12]), "/v2/r/badblob/blobs/%s", d_cfg);
	snprintf(p[13], sizeof(p[13]), "/v2/r/badblob/blobs/%s", d_layer);
	const struct test_route routes[] = {
	    {"GET", p[0], 200, OCI_MT_INDEX, idx, idx_len, NULL},
	    {"GET", p[1], 200, OCI_MT_MANIFEST, man, man_len, NULL},
	    {"GET", p[2], 200, "application/octet-stream", cfg, 0, NULL},
	    {"GET", p[3], 200, "application/octet-stream", layer, 0, NULL},
	    {"GET", p[4], 500, NULL, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"sig store down\"}]}",
	     0, NULL},
	    {"GET", p[5], 200, OCI_MT_INDEX, refs, refs_len, NULL},
	    {"GET", p[6], 200, OCI_MT_MANIFEST, refm, refm_len, NULL},
	    {"GET", p[7], 200, "application/octet-stream", payload, 0, NULL},
	    {"GET", p[8], 200, "application/octet-stream", "{}", 0, NULL},
	    {"GET", p[9], 200, OCI_MT_INDEX, idx, idx_len, hdr},
	    {"GET", p[10], 200, OCI_MT_INDEX, idx, idx_len, NULL},
	    {"GET", p[11], 200, OCI_MT_MANIFEST, man, man_len, NULL},
	    {"GET", p[12], 200, "application/octet-stream", cfg, 0, NULL},
	    {"GET", p[13], 200, "application/octet-stream", "not really an eBPF objecT", 0, NULL},
	};

	REQUIRE(test_registry_start_static(&f, routes, sizeof(routes) / sizeof(routes[0])) == 0);
	path_in_tmp(a, sizeof(a), "store-referrers");
	snprintf(ref, sizeof(ref), "%s/r/img:v1", f.host);
	{
		const char *argv[] = {"image", "pull", ref, "--store", a, "--insecure-registries",
		                      f.host,  NULL};

		/* the .sig tag's 500 is a warning; the referrers API's index is stored */
		CHECK_INT(run_sonde(argv, &out, &err), 0);
		CHECK(err && strstr(err, "sonde: warning: signatures: registry"));
		CHECK(err && strstr(err, "sig store down"));
		CHECK(err && !strstr(err, "sonde: error"));
		free(out);
		free(err);
	}
	store_digest(a, ref, got);
	CHECK_STR(got, d_idx);
	snprintf(tag_ref, sizeof(tag_ref), "%s/r/img:sha256-%.64s", f.host, d_idx + 7);
	store_digest(a, tag_ref, got);
	CHECK_STR(got, d_refs);
	snprintf(tag_ref, sizeof(tag_ref), "%s/r/img:sha256-%.64s.sig", f.host, d_idx + 7);
	store_digest(a, tag_ref, got);
	CHECK_STR(got, "");

	path_in_tmp(a, sizeof(a), "store-bad-content");
	snprintf(ref, sizeof(ref), "%s/r/lying:v1", f.host);
	{
		const char *argv[] = {"image", "pull", ref, "--store", a, "--insecure-registries",
		                      f.host,  NULL};

		sonde_expect_error(argv, "Docker-Content-Digest");
		store_digest(a, ref, got);
		CHECK_STR(got, "");
	}
	snprintf(ref, sizeof(ref), "%s/r/badblob:v1", f.host);
	{
		const char *argv[] = {"image", "pull", ref, "--store", a, "--insecure-registries",
		                      f.host,  NULL};
		char blob[800];

		sonde_expect_error(argv, d_layer);
		store_digest(a, ref, got);
		CHECK_STR(got, "");
		snprintf(blob, sizeof(blob), "%s/blobs/sha256/%.64s", a, d_layer + 7);
		CHECK(access(blob, F_OK) != 0);
	}
	test_registry_stop(&f);
	free(man);
	free(idx);
	free(refm);
	free(refs);
}

/* A signed image pushed, pulled into another store, verified there offline
 * (when this build has img-verify's `sonde image verify`). */
static void test_signed_roundtrip_verifies(void)
{
	char a[600], b[600], keys[600], ref[300], sig_ref[300], d_made[OCI_DIGEST_LEN], cmd[1200], pub[700],
	    other[700];
	char *out = NULL, *err = NULL;
	struct oci_store *s = NULL;
	struct oci_descriptor sig;
	const char *help[] = {"image", "verify", "--help", NULL};

	path_in_tmp(keys, sizeof(keys), "keys");
	REQUIRE(mkdir(keys, 0700) == 0);
	snprintf(cmd, sizeof(cmd),
	         "cd '%s' && openssl ecparam -name prime256v1 -genkey -noout -out key.pem && "
	         "openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null && "
	         "openssl ecparam -name prime256v1 -genkey -noout -out k2.pem && "
	         "openssl ec -in k2.pem -pubout -out other.pem 2>/dev/null",
	         keys);
	REQUIRE(system(cmd) == 0);
	snprintf(pub, sizeof(pub), "%s/pub.pem", keys);
	snprintf(other, sizeof(other), "%s/other.pem", keys);
	path_in_tmp(a, sizeof(a), "store-cosigned");
	snprintf(ref, sizeof(ref), "%s/cosigned/gadget:v1", plain.host);
	REQUIRE(make_image(a, ref, 0, d_made) == 0);
	REQUIRE(oci_store_open(a, 0, &s) == 0);
	memset(&sig, 0, sizeof(sig));
	REQUIRE(put_signature_signed(s, d_made, keys, &sig) == 0);
	snprintf(sig_ref, sizeof(sig_ref), "%s/cosigned/gadget:sha256-%.64s.sig", plain.host, d_made + 7);
	CHECK_INT(oci_store_tag(s, sig_ref, &sig), 0);
	oci_store_close(s);
	REQUIRE(image_xfer("push", ref, a, NULL, NULL) == 0);
	path_in_tmp(b, sizeof(b), "store-cosigned-back");
	REQUIRE(image_xfer("pull", ref, b, NULL, NULL) == 0);
	if (sonde_run_cmd(help, &out, &err, 10000) != 0) {
		fprintf(stderr,
		        "note: no sonde image verify in this build; the signature's pull was checked only\n");
		free(out);
		free(err);
		char got[OCI_DIGEST_LEN];

		store_digest(b, sig_ref, got);
		CHECK_STR(got, sig.digest);
		return;
	}
	free(out);
	free(err);
	{
		/* offline: the registry is not named, the store has all */
		const char *argv[] = {"image", "verify", ref, "--store", b, "--public-keys", pub, NULL};
		const char *wrong[] = {"image", "verify", ref, "--store", b, "--public-keys", other, NULL};

		CHECK_INT(run_sonde(argv, &out, &err), 0);
		free(out);
		free(err);
		CHECK(sonde_run_cmd(wrong, &out, &err, 30000) != 0);
		free(out);
		free(err);
	}
}

static void test_missing_tag(void)
{
	char a[600], ref[200];

	path_in_tmp(a, sizeof(a), "store-missing");
	snprintf(ref, sizeof(ref), "%s/gadgets/trace_open:no-such-tag", plain.host);
	const char *argv[] = {"image", "pull", ref, "--store", a, "--insecure-registries", plain.host, NULL};

	sonde_expect_error(argv, "HTTP 404 (not found): \"MANIFEST_UNKNOWN: manifest unknown\"");
	/* pushing what the store does not have */
	const char *push[] = {"image", "push", ref, "--store", a, "--insecure-registries", plain.host, NULL};

	sonde_expect_error(push, "not in the store");
	/* a plain HTTP registry not declared insecure: TLS fails, clearly */
	const char *argv2[] = {"image", "pull", ref, "--store", a, "--timeout", "5", NULL};

	sonde_expect_error(argv2, "--insecure-registries");
}

static void test_stalling_registry(void)
{
	struct test_registry st;
	char a[600], ref[200];
	int64_t t0;

	REQUIRE(test_registry_start_stalling(&st) == 0);
	path_in_tmp(a, sizeof(a), "store-stall");
	snprintf(ref, sizeof(ref), "%s/x/y:v1", st.host);
	const char *argv[] = {"image", "pull",      ref, "--store", a, "--insecure-registries",
	                      st.host, "--timeout", "2", NULL};

	t0 = test_now_ms();
	sonde_expect_error(argv, "timed out");
	CHECK(test_now_ms() - t0 < 8000);
	test_registry_stop(&st);
}

static void test_failing_registry(void)
{
	static const struct {
		int status;
		const char *body, *needle;
	} cases[] = {
	    {429, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down, sonde\"}]}",
	     "HTTP 429 (too many requests): \"TOOMANYREQUESTS: slow down, sonde\""},
	    {500, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"storage exploded\"}]}",
	     "HTTP 500 (internal server error): \"UNKNOWN: storage exploded\""},
	    {403,
	     "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is "
	     "denied\"}]}",
	     "HTTP 403 (forbidden): \"DENIED: requested access"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct test_registry f;
		char a[600], ref[200];

		REQUIRE(test_registry_start_failing(&f, cases[i].status, cases[i].body) == 0);
		path_in_tmp(a, sizeof(a), "store-fail");
		snprintf(ref, sizeof(ref), "%s/x/y:v1", f.host);
		const char *argv[] = {"image", "pull", ref, "--store", a, "--insecure-registries",
		                      f.host,  NULL};

		sonde_expect_error(argv, cases[i].needle);
		test_registry_stop(&f);
	}
}

static void test_bearer_token(void)
{
	struct test_registry t;
	char a[600], ref[200], authfile[700], text[512], want[600];

	REQUIRE(test_registry_start_token(&t, "tokuser", "tokpass", 404) == 0);
	path_in_tmp(a, sizeof(a), "store-token");
	path_in_tmp(authfile, sizeof(authfile), "token-auth.json");
	snprintf(ref, sizeof(ref), "%s/x/y:v1", t.host);
	const char *argv[] = {"image", "pull",       ref,      "--store", a, "--insecure-registries",
	                      t.host,  "--authfile", authfile, NULL};

	/* no credentials: the token server refuses, the message says why */
	sonde_expect_error(argv, "token request (not logged in: sonde image login): HTTP 401");
	/* wrong ones */
	snprintf(text, sizeof(text), "{\"auths\":{\"%s\":{\"auth\":\"dG9rdXNlcjpub3Bl\"}}}", t.host);
	test_write_file_or_abort(authfile, text);
	sonde_expect_error(
	    argv,
	    "token request: credentials rejected: HTTP 401 (unauthorized): \"UNAUTHORIZED: bad creds\"");
	/* right ones (tokuser:tokpass): the token is used, and it was asked
	 * for the service and the pull scope of the repository */
	snprintf(text, sizeof(text), "{\"auths\":{\"%s\":{\"auth\":\"dG9rdXNlcjp0b2twYXNz\"}}}", t.host);
	test_write_file_or_abort(authfile, text);
	snprintf(want, sizeof(want),
	         "HTTP 404 (not found): \"FAKE: token query "
	         "service=fake-registry&scope=repository%%3Ax%%2Fy%%3Apull\"");
	sonde_expect_error(argv, want);
	/* a push asks for pull and push */
	{
		char d[OCI_DIGEST_LEN];
		const char *push[] = {"image", "push",       ref,      "--store", a, "--insecure-registries",
		                      t.host,  "--authfile", authfile, NULL};

		REQUIRE(make_image(a, ref, 0, d) == 0);
		sonde_expect_error(
		    push, "FAKE: token query service=fake-registry&scope=repository%3Ax%2Fy%3Apull%2Cpush\"");
	}
	test_registry_stop(&t);
}

static void test_tls_and_basic_auth(void)
{
	struct test_registry tls;
	char certs[600], rdir[600], htpasswd[700], cert[700], key[700], ca[700], authfile[700], a[600],
	    ref[200];
	char cmd[1024], d_made[OCI_DIGEST_LEN], got[OCI_DIGEST_LEN], *text, *out = NULL, *err = NULL;
	struct stat stt;

	if (!test_have("openssl") && access("/usr/bin/openssl", X_OK))
		test_skip_dep("openssl is not installed");
	if (access("/usr/bin/htpasswd", X_OK))
		test_skip_dep("htpasswd (apache2-utils) is not installed");
	path_in_tmp(certs, sizeof(certs), "certs");
	REQUIRE(mkdir(certs, 0700) == 0);
	REQUIRE(test_make_tls_certs(certs) == 0);
	snprintf(htpasswd, sizeof(htpasswd), "%s/htpasswd", certs);
	snprintf(cmd, sizeof(cmd), "htpasswd -Bbn tester 'right pass' > '%s'", htpasswd);
	REQUIRE(system(cmd) == 0);
	snprintf(cert, sizeof(cert), "%s/server.crt", certs);
	snprintf(key, sizeof(key), "%s/server.key", certs);
	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	path_in_tmp(rdir, sizeof(rdir), "registry-tls");
	REQUIRE(test_registry_start(&tls, rdir, cert, key, htpasswd) == 0);
	path_in_tmp(authfile, sizeof(authfile), "auth/config.json");

	/* wrong password: 401, nothing written */
	{
		const char *argv[] = {"image", "login",    tls.host, "-u",         "tester", "-p",
		                      "wrong", "--tls-ca", ca,       "--authfile", authfile, NULL};

		sonde_expect_error(argv, "HTTP 401");
		CHECK(access(authfile, F_OK) != 0);
	}
	/* without the test CA the server is not trusted */
	{
		const char *argv[] = {"image", "login",      tls.host,     "-u",     "tester",
		                      "-p",    "right pass", "--authfile", authfile, NULL};

		sonde_expect_error(argv, "TLS failed");
		CHECK(access(authfile, F_OK) != 0);
	}
	/* the right one: checked, then written 0600 */
	{
		const char *argv[] = {
		    "image",    "login", tls.host,     "-u",     "tester", "--password-stdin",
		    "--tls-ca", ca,      "--authfile", authfile, NULL};
		char sh[2048];

		snprintf(sh, sizeof(sh),
		         "echo 'right pass' | %s image login %s -u tester --password-stdin --tls-ca %s "
		         "--authfile %s >/dev/null",
		         sonde_bin, tls.host, ca, authfile);
		(void)argv;
		CHECK_INT(system(sh), 0);
		REQUIRE(stat(authfile, &stt) == 0);
		CHECK_INT(stt.st_mode & 0777, 0600);
		text = test_read_file(authfile, NULL);
		CHECK(text && strstr(text, tls.host));
		free(text);
	}
	/* push and pull with those credentials over TLS */
	path_in_tmp(a, sizeof(a), "store-tls");
	snprintf(ref, sizeof(ref), "%s/private/gadget:v1", tls.host);
	REQUIRE(make_image(a, ref, 0, d_made) == 0);
	{
		const char *argv[] = {"image",    "push", ref,          "--store", a,
		                      "--tls-ca", ca,     "--authfile", authfile,  NULL};

		CHECK_INT(run_sonde(argv, &out, &err), 0);
		free(out);
		free(err);
	}
	path_in_tmp(a, sizeof(a), "store-tls-back");
	{
		/* SSL_CERT_FILE works as --tls-ca does */
		const char *argv[] = {"image", "pull", ref, "--store", a, "--authfile", authfile, NULL};

		setenv("SSL_CERT_FILE", ca, 1);
		CHECK_INT(run_sonde(argv, &out, &err), 0);
		unsetenv("SSL_CERT_FILE");
		free(out);
		free(err);
		store_digest(a, ref, got);
		CHECK_STR(got, d_made);
	}
	/* logout removes the entry; then the registry refuses */
	{
		const char *argv[] = {"image", "logout", tls.host, "--authfile", authfile, NULL};

		CHECK_INT(run_sonde(argv, &out, &err), 0);
		free(out);
		free(err);
		text = test_read_file(authfile, NULL);
		CHECK(text && !strstr(text, tls.host));
		free(text);
		sonde_expect_error(argv, "not logged in");
	}
	{
		/* logout -a empties the file of every registry's entry, and keeps the file */
		char sh[2048];
		const char *all[] = {"image", "logout", "-a", "--authfile", authfile, NULL};

		snprintf(sh, sizeof(sh),
		         "echo 'right pass' | %s image login %s -u tester --password-stdin --tls-ca %s "
		         "--authfile %s >/dev/null",
		         sonde_bin, tls.host, ca, authfile);
		CHECK_INT(system(sh), 0);
		CHECK_INT(run_sonde(all, &out, &err), 0);
		free(out);
		free(err);
		text = test_read_file(authfile, NULL);
		CHECK(text && !strstr(text, tls.host) && strstr(text, "\"auths\""));
		free(text);
	}
	{
		const char *argv[] = {"image",    "pull", ref,          "--store", a,
		                      "--tls-ca", ca,     "--authfile", authfile,  NULL};

		sonde_expect_error(argv, "HTTP 401");
	}
	test_registry_stop(&tls);
}

static void setup(void)
{
	char dir[600];

	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		exit(1);
	}
	if (!test_have("docker-registry") &&
	    access("/usr/bin/docker-registry", X_OK)) /* it has no --version that exits 0 */
		test_skip_dep("docker-registry is not installed");
	path_in_tmp(dir, sizeof(dir), "registry");
	if (test_registry_start(&plain, dir, NULL, NULL, NULL)) {
		fprintf(stderr, "cannot start the test registry\n");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_push_pull_roundtrip),
	    TEST(test_skopeo_both_ways),
	    TEST(test_chunked_and_mount),
	    TEST(test_signatures_travel),
	    TEST(test_run_pull_policy),
	    TEST(test_referrers_api_and_bad_content),
	    TEST(test_signed_roundtrip_verifies),
	    TEST(test_missing_tag),
	    TEST(test_stalling_registry),
	    TEST(test_failing_registry),
	    TEST(test_bearer_token),
	    TEST(test_tls_and_basic_auth),
	};
	int r;

	setup();
	/* the tests name their own auth files; the machine's must not leak in */
	setenv("REGISTRY_AUTH_FILE", "/nonexistent/sonde-test-auth.json", 1);
	r = test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
	test_registry_stop(&plain);
	test_rm_tree(tmp, "/tmp/sonde-test-registry.");
	return r;
}
