/* Signature verification from the local store (spec §1.8): an image made in
 * a temporary store with oci.h calls, signed here with the openssl tool in
 * both of cosign's formats, verified offline with OpenSSL; wrong keys,
 * tampered or misdirected payloads and unsigned images are refused, and
 * --allowed-gadgets admits exactly what upstream admits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <sonde/image.h>
#include <sonde/image_verify.h>
#include <sonde/log.h>

#include "cosign_sign.h"
#include "image/oci.h"
#include "image/verify.h"
#include "testlib.h"

#define REPO "localhost:5000/gadgets/trace_thing"
#define REF  REPO ":v1"

static char dir[256];       /* the test's temporary directory */
static char store_dir[300]; /* the store in it */
static char index_digest[OCI_DIGEST_LEN];
static char key_a[300], pub_a[300], pub_b[300], pub_ed[300], pub_rsa[300], key_ed[300], key_rsa[300];

/* ---- log capture ---- */
static char logbuf[16384];

static void capture(enum sonde_log_level level, const char *msg, void *arg)
{
	size_t n = strlen(logbuf);

	(void)arg;
	if (level <= SONDE_LOG_WARN)
		snprintf(logbuf + n, sizeof(logbuf) - n, "%s: %s\n",
		         level == SONDE_LOG_WARN ? "warn" : "error", msg);
}

#define CHECK_LOG(needle)                                                                                    \
	do {                                                                                                 \
		if (!strstr(logbuf, needle)) {                                                               \
			fprintf(stderr, "%s:%d: no log line has \"%s\"; got:\n%s", __FILE__, __LINE__,       \
			        needle, logbuf);                                                             \
			test_failures++;                                                                     \
		}                                                                                            \
	} while (0)

/* ---- making images and signatures ---- */

static struct oci_store *open_store(void)
{
	struct oci_store *s = NULL;

	if (oci_store_open(store_dir, 0, &s))
		abort();
	return s;
}

static json_t *empty_config(struct oci_store *s)
{
	if (oci_blob_put(s, "{}", 2, NULL))
		abort();
	return json_pack("{s:s,s:s,s:i}", "mediaType", OCI_MT_EMPTY, "digest", OCI_EMPTY_DIGEST, "size", 2);
}

/* A one-arch gadget image tagged ref; its index digest in out. */
static void make_image(const char *ref, const char *yaml, char out[OCI_DIGEST_LEN])
{
	struct oci_store *s = open_store();
	char cfg[OCI_DIGEST_LEN], layer[OCI_DIGEST_LEN], man[OCI_DIGEST_LEN];
	static const char obj[] = "\177ELF not really an object";
	int64_t msize, isize;

	if (oci_blob_put(s, yaml, strlen(yaml), cfg) || oci_blob_put(s, obj, sizeof(obj), layer))
		abort();
	test_oci_put_json(s,
	                  json_pack("{s:i,s:s,s:s,s:{s:s,s:s,s:i},s:[{s:s,s:s,s:i}]}", "schemaVersion", 2,
	                            "mediaType", OCI_MT_MANIFEST, "artifactType", GADGET_ARTIFACT_TYPE,
	                            "config", "mediaType", GADGET_MT_CONFIG, "digest", cfg, "size",
	                            (json_int_t)strlen(yaml), "layers", "mediaType", GADGET_MT_EBPF, "digest",
	                            layer, "size", (json_int_t)sizeof(obj)),
	                  man, &msize);
	test_oci_put_json(s,
	                  json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:{s:s,s:s}}]}", "schemaVersion", 2,
	                            "mediaType", OCI_MT_INDEX, "manifests", "mediaType", OCI_MT_MANIFEST,
	                            "digest", man, "size", (json_int_t)msize, "platform", "architecture",
	                            oci_host_arch(), "os", "linux"),
	                  out, &isize);
	test_oci_tag(s, ref, OCI_MT_INDEX, out, isize, NULL);
	oci_store_close(s);
}

static char *simple_signing_payload(const char *digest, const char *type)
{
	char *p = test_cosign_payload(REPO, digest, type);

	if (!p)
		abort();
	return p;
}

static char *sign(const char *key, const char *payload, bool ed25519)
{
	char *b64 = test_cosign_sign_payload(payload, key, ed25519);

	if (!b64)
		abort();
	return b64;
}

/* LEGACY and REFERRER as Sonde's registry client tags them (under the
 * image's repository); the BARE_ forms as ig's own store and archives have
 * them ("sha256-<hex>[.sig]"); TAGGED_REFERRER: a referrer manifest under
 * some tag of its own, found by its subject. */
enum format { LEGACY, REFERRER, BARE_LEGACY, BARE_REFERRER, TAGGED_REFERRER };

static void store_signature(const char *repo, const char *image_digest, const char *payload,
                            const char *sig_b64, enum format fmt)
{
	struct oci_store *s = open_store();
	struct oci_descriptor man = {0}, idx = {0};
	char ref[600];
	bool bare = fmt == BARE_LEGACY || fmt == BARE_REFERRER;
	bool legacy = fmt == LEGACY || fmt == BARE_LEGACY;

	if (test_cosign_put_manifest(s, payload, sig_b64, legacy ? NULL : image_digest, 1, &man))
		abort();
	if (legacy) {
		if (verify_legacy_tag(repo, image_digest, ref, sizeof(ref)))
			abort();
		test_oci_tag(s, bare ? ref + strlen(repo) + 1 : ref, OCI_MT_MANIFEST, man.digest, man.size,
		             NULL);
	} else if (fmt == TAGGED_REFERRER) {
		test_oci_tag(s, REPO ":some-referrer", OCI_MT_MANIFEST, man.digest, man.size,
		             COSIGN_ARTIFACT_SIG);
	} else {
		if (test_cosign_put_referrers(s, &man, &idx) ||
		    verify_referrers_tag(repo, image_digest, ref, sizeof(ref)))
			abort();
		test_oci_tag(s, bare ? ref + strlen(repo) + 1 : ref, OCI_MT_INDEX, idx.digest, idx.size,
		             NULL);
	}
	oci_store_close(s);
}

static void drop_signatures(void)
{
	struct oci_store *s = open_store();
	char ref[600];

	verify_legacy_tag(REPO, index_digest, ref, sizeof(ref));
	test_cosign_drop_tag(s, ref);
	test_cosign_drop_tag(s, ref + strlen(REPO) + 1);
	verify_referrers_tag(REPO, index_digest, ref, sizeof(ref));
	test_cosign_drop_tag(s, ref);
	test_cosign_drop_tag(s, ref + strlen(REPO) + 1);
	test_cosign_drop_tag(s, REPO ":some-referrer");
	oci_store_close(s);
}

static int verify_with(const char *const *keys)
{
	struct sonde_image_store *st = NULL;
	char digest[72] = "";
	int r;

	logbuf[0] = 0;
	if (sonde_image_store_open(store_dir, true, &st))
		abort();
	r = sonde_image_verify(st, REF, keys, digest);
	if (!r && strcmp(digest, index_digest)) {
		fprintf(stderr, "  verified digest %s, want %s\n", digest, index_digest);
		test_failures++;
	}
	sonde_image_store_close(st);
	return r;
}

static void setup(void)
{
	static bool done;
	char cmd[2000];

	if (test_run_quiet((const char *const[]){"openssl", "version", NULL}) != 0)
		test_skip_dep("the openssl tool signs the test images");
	if (done)
		return;
	done = true;
	sonde_log_set_sink(capture, NULL);
	snprintf(dir, sizeof(dir), "/tmp/sonde-verify.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(store_dir, sizeof(store_dir), "%s/store", dir);
	snprintf(key_a, sizeof(key_a), "%s/a.key", dir);
	snprintf(pub_a, sizeof(pub_a), "%s/a.pub", dir);
	snprintf(pub_b, sizeof(pub_b), "%s/b.pub", dir);
	snprintf(key_ed, sizeof(key_ed), "%s/ed.key", dir);
	snprintf(pub_ed, sizeof(pub_ed), "%s/ed.pub", dir);
	snprintf(key_rsa, sizeof(key_rsa), "%s/rsa.key", dir);
	snprintf(pub_rsa, sizeof(pub_rsa), "%s/rsa.pub", dir);
	snprintf(
	    cmd, sizeof(cmd),
	    "set -e; cd %s; ("
	    "openssl ecparam -name prime256v1 -genkey -noout -out a.key; openssl ec -in a.key -pubout -out "
	    "a.pub; "
	    "openssl ecparam -name prime256v1 -genkey -noout -out b.key; openssl ec -in b.key -pubout -out "
	    "b.pub; "
	    "openssl genpkey -algorithm ed25519 -out ed.key; openssl pkey -in ed.key -pubout -out ed.pub; "
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key; "
	    "openssl pkey -in rsa.key -pubout -out rsa.pub) 2>/dev/null",
	    dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot make keys with openssl\n");
		abort();
	}
	make_image(REF, "name: trace thing\n", index_digest);
}

/* ---- cases ---- */

static void test_legacy_signature(void)
{
	char *payload, *sig;

	setup();
	payload = simple_signing_payload(index_digest, "cosign container image signature");
	sig = sign(key_a, payload, false);
	store_signature(REPO, index_digest, payload, sig, LEGACY);
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), 0);
	/* any of several keys verifies */
	CHECK_INT(verify_with((const char *const[]){pub_b, pub_a, NULL}), 0);
	/* the key as PEM text, as upstream's --public-keys takes it */
	{
		size_t pemlen;
		char *pem = test_read_file(pub_a, &pemlen);
		CHECK_INT(verify_with((const char *const[]){pem, NULL}), 0);
		free(pem);
	}
	/* wrong key */
	CHECK_INT(verify_with((const char *const[]){pub_b, NULL}), -EKEYREJECTED);
	CHECK_LOG("none made by the given public key");
	/* the default key (upstream's) did not sign it either */
	CHECK_INT(verify_with(NULL), -EKEYREJECTED);
	/* a private key by mistake, a file that is no key */
	CHECK_INT(verify_with((const char *const[]){key_rsa, NULL}), -EINVAL);
	CHECK_LOG("holds a \"PRIVATE KEY\" block");
	CHECK_INT(verify_with((const char *const[]){store_dir, NULL}), -EISDIR);
	/* no key at all */
	CHECK_INT(verify_with((const char *const[]){NULL}), -ENOKEY);
	CHECK_LOG("--public-keys");
	CHECK_LOG("--verify-image=false");
	free(payload);
	free(sig);
	drop_signatures();
}

static void test_referrer_signature(void)
{
	char *payload, *sig;

	setup();
	payload = simple_signing_payload(index_digest, "cosign container image signature");
	sig = sign(key_ed, payload, true);
	store_signature(REPO, index_digest, payload, sig, REFERRER);
	CHECK_INT(verify_with((const char *const[]){pub_ed, NULL}), 0);
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), -EKEYREJECTED);
	free(sig);
	/* RSA beside it: a second referrer in the same index is not needed,
	 * a legacy signature made with RSA verifies too */
	sig = sign(key_rsa, payload, false);
	store_signature(REPO, index_digest, payload, sig, LEGACY);
	CHECK_INT(verify_with((const char *const[]){pub_rsa, NULL}), 0);
	CHECK_INT(verify_with((const char *const[]){pub_ed, NULL}), 0); /* legacy fails, referrer verifies */
	free(payload);
	free(sig);
	drop_signatures();
}

/* ig's store names signatures by digest alone; a referrer may sit under
 * any tag: all are found. */
static void test_store_layouts(void)
{
	const enum format formats[] = {BARE_LEGACY, BARE_REFERRER, TAGGED_REFERRER};
	char *payload, *sig;

	setup();
	payload = simple_signing_payload(index_digest, "cosign container image signature");
	sig = sign(key_a, payload, false);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		drop_signatures();
		CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), -ENOENT);
		store_signature(REPO, index_digest, payload, sig, formats[i]);
		CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), 0);
		CHECK_INT(verify_with((const char *const[]){pub_b, NULL}), -EKEYREJECTED);
	}
	drop_signatures();
	free(payload);
	free(sig);
}

/* cosign's sigstore bundle: a referrer whose layer is a bundle holding a
 * DSSE envelope; the signature covers PAE(payloadType, statement). */
static void store_bundle(const char *statement_digest, int nsigs, const char *key)
{
	struct oci_store *s = open_store();
	char *statement, *pae, *sig, *stmt_b64, *bundle, ref[600];
	char bd[OCI_DIGEST_LEN], man[OCI_DIGEST_LEN], idx[OCI_DIGEST_LEN];
	int64_t msize, isize;
	json_t *m, *sigs;
	size_t n;

	if (asprintf(&statement,
	             "{\"_type\":\"https://in-toto.io/Statement/"
	             "v1\",\"subject\":[{\"digest\":{\"sha256\":\"%s\"}}],"
	             "\"predicateType\":\"https://sigstore.dev/cosign/sign/v1\"}",
	             statement_digest + 7) < 0 ||
	    asprintf(&pae, "DSSEv1 28 application/vnd.in-toto+json %zu %s", strlen(statement), statement) < 0)
		abort();
	sig = sign(key, pae, false);
	/* the statement in base64, as protobuf JSON writes bytes */
	{
		char path[400], cmd[1000];
		FILE *f;
		snprintf(path, sizeof(path), "%s/statement", dir);
		test_write_file_or_abort(path, statement);
		snprintf(cmd, sizeof(cmd), "base64 -w0 %s", path);
		f = popen(cmd, "r");
		stmt_b64 = calloc(1, 4096);
		n = fread(stmt_b64, 1, 4095, f);
		if (pclose(f) != 0 || !n)
			abort();
	}
	sigs = json_array();
	for (int i = 0; i < nsigs; i++)
		json_array_append_new(sigs, json_pack("{s:s,s:s}", "sig", sig, "keyid", ""));
	{
		json_t *doc = json_pack("{s:s,s:{},s:{s:s,s:s,s:o}}", "mediaType",
		                        "application/vnd.dev.sigstore.bundle.v0.3+json",
		                        "verificationMaterial", "dsseEnvelope", "payload", stmt_b64,
		                        "payloadType", "application/vnd.in-toto+json", "signatures", sigs);
		bundle = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
	}
	if (oci_blob_put(s, bundle, strlen(bundle), bd))
		abort();
	m = json_pack("{s:i,s:s}", "schemaVersion", 2, "mediaType", OCI_MT_MANIFEST);
	json_object_set_new(m, "config", empty_config(s));
	json_object_set_new(m, "layers",
	                    json_pack("[{s:s,s:I,s:s}]", "mediaType",
	                              "application/vnd.dev.sigstore.bundle.v0.3+json", "size",
	                              (json_int_t)strlen(bundle), "digest", bd));
	json_object_set_new(
	    m, "subject",
	    json_pack("{s:s,s:s,s:i}", "mediaType", OCI_MT_INDEX, "digest", index_digest, "size", 1));
	test_oci_put_json(s, m, man, &msize);
	/* as cosign lists it: artifactType from the empty config */
	test_oci_put_json(s,
	                  json_pack("{s:i,s:s,s:[{s:s,s:s,s:I,s:s}]}", "schemaVersion", 2, "mediaType",
	                            OCI_MT_INDEX, "manifests", "mediaType", OCI_MT_MANIFEST, "digest", man,
	                            "size", (json_int_t)msize, "artifactType", OCI_MT_EMPTY),
	                  idx, &isize);
	if (verify_referrers_tag(REPO, index_digest, ref, sizeof(ref)))
		abort();
	test_oci_tag(s, ref, OCI_MT_INDEX, idx, isize, NULL);
	oci_store_close(s);
	free(statement);
	free(pae);
	free(sig);
	free(stmt_b64);
	free(bundle);
}

static void test_bundle(void)
{
	setup();
	drop_signatures();
	store_bundle(index_digest, 1, key_a);
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), 0);
	CHECK_INT(verify_with((const char *const[]){pub_b, NULL}), -EKEYREJECTED);
	drop_signatures();
	store_bundle("sha256:5555555555555555555555555555555555555555555555555555555555555555", 1, key_a);
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), -EBADMSG);
	CHECK_LOG("subject is not this image");
	drop_signatures();
	store_bundle(index_digest, 2, key_a);
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), -EBADMSG);
	CHECK_LOG("2 signatures, not one");
	drop_signatures();
}

static void test_tampered_payload(void)
{
	char *payload, *sig, *other;

	setup();
	payload = simple_signing_payload(index_digest, "cosign container image signature");
	sig = sign(key_a, payload, false);
	/* the signature of one payload on another (the digest changed after signing) */
	other =
	    simple_signing_payload("sha256:1111111111111111111111111111111111111111111111111111111111111111",
	                           "cosign container image signature");
	store_signature(REPO, index_digest, other, sig, LEGACY);
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), -EKEYREJECTED);
	drop_signatures();
	free(sig);

	/* a good signature of a payload for another image */
	sig = sign(key_a, other, false);
	store_signature(REPO, index_digest, other, sig, REFERRER);
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), -EBADMSG);
	CHECK_LOG("not this image");
	drop_signatures();
	free(sig);
	free(other);

	/* signed, right digest, but not a cosign image signature */
	other = simple_signing_payload(index_digest, "atomic container signature");
	sig = sign(key_a, other, false);
	store_signature(REPO, index_digest, other, sig, LEGACY);
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), -EBADMSG);
	CHECK_LOG("payload type");
	drop_signatures();
	free(sig);
	free(other);

	/* not base64 */
	store_signature(REPO, index_digest, payload, "!!not base64!!", LEGACY);
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), -EBADMSG);
	drop_signatures();
	free(payload);
}

static void test_unsigned(void)
{
	setup();
	drop_signatures();
	CHECK_INT(verify_with((const char *const[]){pub_a, NULL}), -ENOENT);
	CHECK_LOG("is not signed");
	CHECK_LOG(":sha256-");
	CHECK_LOG("--verify-image=false");
	/* not in the store at all */
	{
		struct sonde_image_store *st = NULL;
		REQUIRE(sonde_image_store_open(store_dir, true, &st) == 0);
		logbuf[0] = 0;
		CHECK_INT(sonde_image_verify(st, REPO ":nope", (const char *const[]){pub_a, NULL}, NULL),
		          -ENOENT);
		CHECK_LOG("not in the store");
		sonde_image_store_close(st);
	}
}

/* load.c's verification point: allowed-gadgets first, then the signature
 * or the single warning of --verify-image=false. */
static void test_admit(void)
{
	struct sonde_image_source_opts o = {.sz = sizeof(o)};
	const char *const keys[] = {pub_a, NULL};
	struct oci_store *s;
	char *payload, *sig;

	setup();
	s = open_store();
	logbuf[0] = 0;
	o.public_keys = keys;
	CHECK_INT(verify_admit(s, REF, REPO, index_digest, &o), -ENOENT);
	o.skip_verify = true;
	logbuf[0] = 0;
	CHECK_INT(verify_admit(s, REF, REPO, index_digest, &o), 0);
	CHECK_LOG("warn: " REF ": signature verification is disabled");
	o.skip_verify = false;

	payload = simple_signing_payload(index_digest, "cosign container image signature");
	sig = sign(key_a, payload, false);
	store_signature(REPO, index_digest, payload, sig, LEGACY);
	logbuf[0] = 0;
	CHECK_INT(verify_admit(s, REF, REPO, index_digest, &o), 0);
	CHECK_STR(logbuf, "");

	/* allowed-gadgets: denied before the signature is even looked at */
	o.allowed_gadgets = (const char *const[]){"ghcr.io/inspektor-gadget/gadget/*", NULL};
	logbuf[0] = 0;
	CHECK_INT(verify_admit(s, REF, REPO, index_digest, &o), -EPERM);
	CHECK_LOG("not part of the allowed gadgets");
	o.allowed_gadgets = (const char *const[]){"localhost:5000/gadgets/*", NULL};
	CHECK_INT(verify_admit(s, REF, REPO, index_digest, &o), 0);
	oci_store_close(s);
	drop_signatures();
	free(payload);
	free(sig);
}

static void test_allowed_gadgets(void)
{
	const char *d = "sha256:2222222222222222222222222222222222222222222222222222222222222222";
	const char *other = "sha256:3333333333333333333333333333333333333333333333333333333333333333";

	sonde_log_set_sink(capture, NULL);
	/* no list: everything */
	CHECK_INT(sonde_image_check_allowed("trace_open", d, NULL), 0);
	CHECK_INT(sonde_image_check_allowed("trace_open", d, (const char *const[]){NULL}), 0);
	/* the normalised ref, also when the user wrote the short name */
	CHECK_INT(sonde_image_check_allowed(
	              "trace_open", d,
	              (const char *const[]){"ghcr.io/inspektor-gadget/gadget/trace_open:latest", NULL}),
	          0);
	CHECK_INT(sonde_image_check_allowed(
	              "trace_open", d,
	              (const char *const[]){"ghcr.io/inspektor-gadget/gadget/trace_open:v1", NULL}),
	          -EPERM);
	/* name@digest pins a content */
	char pinned[200];
	snprintf(pinned, sizeof(pinned), "ghcr.io/inspektor-gadget/gadget/trace_open@%s", d);
	CHECK_INT(sonde_image_check_allowed("trace_open:v9", d, (const char *const[]){pinned, NULL}), 0);
	CHECK_INT(sonde_image_check_allowed("trace_open:v9", other, (const char *const[]){pinned, NULL}),
	          -EPERM);
	/* prefixes end in '*'; without it an entry is an exact name */
	CHECK_INT(sonde_image_check_allowed("trace_exec", d,
	                                    (const char *const[]){"ghcr.io/inspektor-gadget/*", NULL}),
	          0);
	CHECK_INT(sonde_image_check_allowed("trace_exec", d,
	                                    (const char *const[]){"ghcr.io/inspektor-gadget/", NULL}),
	          -EPERM);
	CHECK_INT(sonde_image_check_allowed("evil.io/inspektor-gadget/gadget/trace_exec", d,
	                                    (const char *const[]){"ghcr.io/*", NULL}),
	          -EPERM);
	CHECK_INT(sonde_image_check_allowed("localhost:5000/x:1", d,
	                                    (const char *const[]){"ghcr.io/*", "localhost:5000/x:*", NULL}),
	          0);
}

static void test_cleanup(void)
{
	if (dir[0])
		test_rm_tree(dir, "/tmp/sonde-verify.");
}

TEST_MAIN(TEST(test_legacy_signature), TEST(test_referrer_signature), TEST(test_store_layouts),
          TEST(test_bundle), TEST(test_tampered_payload), TEST(test_unsigned), TEST(test_admit),
          TEST(test_allowed_gadgets), TEST(test_cleanup))
