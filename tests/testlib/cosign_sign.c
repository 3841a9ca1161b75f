/* cosign's legacy signature layout, made with oci.h and the openssl tool. */
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

/* base64 of the DER ECDSA signature of payload's sha256: cosign's annotation. */
static char *sign_payload(const char *payload, const char *key_pem)
{
	char dir[] = "/tmp/sonde-test-cosign.XXXXXX", path[64], cmd[1024], *b64;

	if (!mkdtemp(dir))
		return NULL;
	snprintf(path, sizeof(path), "%s/payload", dir);
	if (test_write_file(path, payload))
		return NULL;
	snprintf(cmd, sizeof(cmd),
	         "openssl dgst -sha256 -sign '%s' -out %s.sig %s && base64 -w0 %s.sig > %s.sig.b64", key_pem,
	         path, path, path, path);
	b64 = system(cmd) == 0
	          ? (snprintf(path, sizeof(path), "%s/payload.sig.b64", dir), test_read_file(path, NULL))
	          : NULL;
	test_rm_tree(dir, "/tmp/sonde-test-cosign.");
	return b64;
}

int test_cosign_sign(const char *store_dir, const char *repo, const char *digest, const char *key_pem)
{
	char *payload = NULL, *sig = NULL, *text = NULL, ref[1200], pd[OCI_DIGEST_LEN];
	struct oci_descriptor man = {0};
	struct oci_store *s = NULL;
	json_t *m = NULL;
	size_t len;
	int r = -1;

	if (asprintf(&payload,
	             "{\"critical\":{\"identity\":{\"docker-reference\":\"%s\"},\"image\":{\"docker-manifest-"
	             "digest\":\"%s\"},\"type\":\"cosign container image signature\"},\"optional\":null}",
	             repo, digest) < 0)
		return -1;
	if (!(sig = sign_payload(payload, key_pem))) {
		fprintf(stderr, "test_cosign_sign: openssl could not sign with %s\n", key_pem);
		goto out;
	}
	if (oci_store_open(store_dir, 0, &s) || oci_blob_put(s, payload, strlen(payload), pd) ||
	    oci_blob_put(s, "{}", 2, NULL))
		goto out;
	m = json_pack("{s:i,s:s,s:{s:s,s:s,s:i},s:[{s:s,s:s,s:I,s:{s:s}}]}", "schemaVersion", 2, "mediaType",
	              OCI_MT_MANIFEST, "config", "mediaType", OCI_MT_EMPTY, "digest", OCI_EMPTY_DIGEST,
	              "size", 2, "layers", "mediaType", COSIGN_MT_SIMPLESIGN, "digest", pd, "size",
	              (json_int_t)strlen(payload), "annotations", COSIGN_ANN_SIGNATURE, sig);
	if (!m || !(text = oci_json_dump(m, &len)) || oci_blob_put(s, text, len, man.digest))
		goto out;
	snprintf(man.media_type, sizeof(man.media_type), "%s", OCI_MT_MANIFEST);
	man.size = (int64_t)len;
	snprintf(ref, sizeof(ref), "%s:sha256-%s.sig", repo, digest + strlen("sha256:"));
	r = oci_store_tag(s, ref, &man) ? -1 : 0;
out:
	json_decref(m);
	free(text);
	free(sig);
	free(payload);
	oci_store_close(s);
	return r;
}
