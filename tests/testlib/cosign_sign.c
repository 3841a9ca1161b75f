/* cosign's signature layouts, made with oci.h and the openssl tool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cosign_sign.h"
#include "image/oci.h"
#include "testlib.h"

int test_cosign_make_key(const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd),
	         "cd '%s' && openssl ecparam -name prime256v1 -genkey -noout -out key.pem 2>/dev/null && "
	         "openssl ec -in key.pem -pubout -out pub.pem 2>/dev/null",
	         dir);
	return system(cmd) == 0 ? 0 : -1;
}

char *test_cosign_payload(const char *repo, const char *digest, const char *type)
{
	char *p = NULL;

	if (asprintf(&p,
	             "{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},\"image\":{\"docker-manifest-"
	             "digest\":\"%s\"},\"type\":\"%s\"},\"optional\":null}",
	             repo, digest, type ? type : "cosign container image signature") < 0)
		return NULL;
	return p;
}

char *test_cosign_sign_payload(const char *payload, const char *key_pem, bool ed25519)
{
	char dir[] = "/tmp/sonde-test-cosign.XXXXXX", path[64], cmd[1400], *b64;

	if (!mkdtemp(dir)) {
		fprintf(stderr, "test_cosign_sign_payload: cannot make a temporary directory\n");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/payload", dir);
	if (test_write_file(path, payload)) {
		test_rm_tree(dir, "/tmp/sonde-test-cosign.");
		return NULL;
	}
	if (ed25519)
		snprintf(cmd, sizeof(cmd),
		         "openssl pkeyutl -sign -rawin -inkey '%s' -in %s -out %s.sig && base64 -w0 %s.sig > "
		         "%s.sig.b64",
		         key_pem, path, path, path, path);
	else
		snprintf(cmd, sizeof(cmd),
		         "openssl dgst -sha256 -sign '%s' -out %s.sig %s && base64 -w0 %s.sig > %s.sig.b64",
		         key_pem, path, path, path, path);
	b64 = system(cmd) == 0
	          ? (snprintf(path, sizeof(path), "%s/payload.sig.b64", dir), test_read_file(path, NULL))
	          : NULL;
	test_rm_tree(dir, "/tmp/sonde-test-cosign.");
	if (!b64 || !*b64) {
		fprintf(stderr, "test_cosign_sign_payload: openssl could not sign with %s\n", key_pem);
		free(b64);
		return NULL;
	}
	return b64;
}

/* Stores doc (and drops it); *out gets media type mt, its digest and size. */
static int put_doc(struct oci_store *s, json_t *doc, const char *mt, struct oci_descriptor *out)
{
	size_t len = 0;
	char *text = doc ? oci_json_dump(doc, &len) : NULL;
	int r = text ? oci_blob_put(s, text, len, out->digest) : -1;

	free(text);
	json_decref(doc);
	if (r)
		return -1;
	snprintf(out->media_type, sizeof(out->media_type), "%s", mt);
	out->size = (int64_t)len;
	return 0;
}

void test_oci_put_json(struct oci_store *s, json_t *doc, char digest[72], int64_t *size)
{
	struct oci_descriptor d = {0};

	if (put_doc(s, doc, "", &d))
		abort();
	memcpy(digest, d.digest, OCI_DIGEST_LEN);
	*size = d.size;
}

void test_oci_tag(struct oci_store *s, const char *ref, const char *mt, const char *digest, int64_t size,
                  const char *artifact_type)
{
	struct oci_descriptor d = {.size = size};

	snprintf(d.media_type, sizeof(d.media_type), "%s", mt);
	snprintf(d.digest, sizeof(d.digest), "%s", digest);
	snprintf(d.artifact_type, sizeof(d.artifact_type), "%s", artifact_type ? artifact_type : "");
	if (oci_store_tag(s, ref, &d))
		abort();
}

int test_cosign_put_manifest(struct oci_store *s, const char *payload, const char *sig_b64,
                             const char *subject, int64_t subject_size, struct oci_descriptor *out)
{
	char pd[OCI_DIGEST_LEN];
	json_t *m;

	if (oci_blob_put(s, payload, strlen(payload), pd) || oci_blob_put(s, "{}", 2, NULL))
		return -1;
	/* field order of Go's ocispec.Manifest, as cosign writes it */
	m = json_pack("{s:i,s:s}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST);
	if (m && subject)
		json_object_set_new(m, "artifactType", json_string(COSIGN_ARTIFACT_SIG));
	if (m)
		json_object_set_new(m, "config",
		                    json_pack("{s:s,s:s,s:i}", "mediaType", OCI_MT_EMPTY, "digest",
		                              OCI_EMPTY_DIGEST, "size", 2));
	if (m)
		json_object_set_new(m, "layers",
		                    json_pack("[{s:s,s:s,s:I,s:{s:s}}]", "mediaType", COSIGN_MT_SIMPLESIGN,
		                              "digest", pd, "size", (json_int_t)strlen(payload),
		                              "annotations", COSIGN_ANN_SIGNATURE, sig_b64));
	if (m && subject)
		json_object_set_new(m, "subject",
		                    json_pack("{s:s,s:s,s:I}", "mediaType", OCI_MT_INDEX, "digest", subject,
		                              "size", (json_int_t)subject_size));
	if (put_doc(s, m, OCI_MT_MANIFEST, out))
		return -1;
	snprintf(out->artifact_type, sizeof(out->artifact_type), "%s", subject ? COSIGN_ARTIFACT_SIG : "");
	return 0;
}

int test_cosign_put_referrers(struct oci_store *s, const struct oci_descriptor *man,
                              struct oci_descriptor *out)
{
	return put_doc(s,
	               json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:s}]}", "schemaVersion", 2, "mediaType",
	                         OCI_MT_INDEX, "manifests", "mediaType", OCI_MT_MANIFEST, "digest",
	                         man->digest, "size", (json_int_t)man->size, "artifactType",
	                         COSIGN_ARTIFACT_SIG),
	               OCI_MT_INDEX, out);
}

void test_cosign_drop_tag(struct oci_store *s, const char *ref)
{
	struct oci_descriptor d = {0};

	if (!oci_store_resolve(s, ref, &d))
		oci_store_untag(s, ref);
	oci_descriptor_clear(&d);
}

int test_cosign_sign(const char *store_dir, const char *repo, const char *digest, const char *key_pem)
{
	char *payload = test_cosign_payload(repo, digest, NULL), *sig = NULL, ref[1200];
	struct oci_descriptor man = {0};
	struct oci_store *s = NULL;
	int r = -1;

	if (!payload || !(sig = test_cosign_sign_payload(payload, key_pem, false)))
		goto out;
	if (oci_store_open(store_dir, 0, &s) || test_cosign_put_manifest(s, payload, sig, NULL, 0, &man))
		goto out;
	snprintf(ref, sizeof(ref), "%s:sha256-%s.sig", repo, digest + strlen("sha256:"));
	r = oci_store_tag(s, ref, &man) ? -1 : 0;
out:
	free(sig);
	free(payload);
	oci_store_close(s);
	return r;
}
