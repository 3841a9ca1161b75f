/* cosign's signature check with OpenSSL: PKIX public keys from PEM, SHA-256,
 * and the simple-signing payload that binds a signature to an image digest. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <sonde/log.h>

#include "image/cosign.h"

#define COSIGN_MAX_KEY_FILE (1u << 20)
#define COSIGN_MAX_PAYLOAD  (1u << 20)

struct cosign_keys {
	EVP_PKEY **keys;
	size_t n, cap;
};

struct cosign_keys *cosign_keys_new(void)
{
	struct cosign_keys *k = calloc(1, sizeof(*k));

	if (!k)
		sonde_err("cosign: out of memory");
	return k;
}

void cosign_keys_free(struct cosign_keys *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		EVP_PKEY_free(k->keys[i]);
	free(k->keys);
	free(k);
}

size_t cosign_keys_count(const struct cosign_keys *k)
{
	return k ? k->n : 0;
}

static int keys_push(struct cosign_keys *k, EVP_PKEY *key)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 4;
		EVP_PKEY **p = realloc(k->keys, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		k->keys = p;
		k->cap = cap;
	}
	k->keys[k->n++] = key;
	return 0;
}

/* cosign signs with ECDSA, RSA (PKCS#1 v1.5) or ed25519; anything else
 * (DSA, DH, X25519) is a key no cosign signature can match. */
static bool key_type_supported(const EVP_PKEY *key)
{
	return EVP_PKEY_is_a(key, "EC") || EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "ED25519");
}

#define PEM_BEGIN     "-----BEGIN "
#define PEM_BEGIN_KEY "-----BEGIN PUBLIC KEY-----"

/* Each block is parsed on its own: OpenSSL's error queue after a read
 * loop does not tell "end of text" from "a block that did not parse". */
int cosign_keys_add_pem(struct cosign_keys *k, const char *pem, size_t len, const char *what)
{
	const char *p = pem, *end = pem + len;
	size_t before = k->n;
	int r = 0;

	if (len > COSIGN_MAX_KEY_FILE) {
		sonde_err("public key %s: larger than %u bytes", what, COSIGN_MAX_KEY_FILE);
		return -EFBIG;
	}
	while (!r && (p = memmem(p, (size_t)(end - p), PEM_BEGIN, strlen(PEM_BEGIN)))) {
		size_t rest = (size_t)(end - p);
		EVP_PKEY *key = NULL;
		BIO *bio;

		if (rest < strlen(PEM_BEGIN_KEY) || memcmp(p, PEM_BEGIN_KEY, strlen(PEM_BEGIN_KEY))) {
			const char *name = p + strlen(PEM_BEGIN);
			int n = 0;
			while (name + n < end && n < 40 && name[n] != '-' && name[n] != '\n')
				n++;
			sonde_err(
			    "public key %s: holds a \"%.*s\" block; --public-keys takes PUBLIC KEY blocks",
			    what, n, name);
			r = -EINVAL;
			break;
		}
		bio = BIO_new_mem_buf(p, (int)rest);
		if (!bio) {
			r = -ENOMEM;
			break;
		}
		key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		ERR_clear_error();
		if (!key) {
			sonde_err("public key %s: a PUBLIC KEY block that is not a valid PKIX public key",
			          what);
			r = -EINVAL;
		} else if (!key_type_supported(key)) {
			sonde_err("public key %s: a %s key; cosign keys are ECDSA, RSA or ed25519", what,
			          EVP_PKEY_get0_type_name(key));
			r = -EINVAL;
		} else if (keys_push(k, key)) {
			sonde_err("cosign: out of memory");
			r = -ENOMEM;
		} else {
			key = NULL;
		}
		EVP_PKEY_free(key);
		p += strlen(PEM_BEGIN_KEY);
	}
	if (!r && k->n == before) {
		sonde_err("public key %s: no \"%s\" block in it", what, PEM_BEGIN_KEY);
		r = -EINVAL;
	}
	return r;
}

int cosign_keys_add(struct cosign_keys *k, const char *spec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	if (!strncmp(spec, "-----BEGIN", 10))
		return cosign_keys_add_pem(k, spec, strlen(spec), "given as text");
	f = fopen(spec, "re");
	if (!f) {
		r = -errno;
		sonde_err("public key %s: %s", spec, strerror(-r));
		return r;
	}
	buf = malloc(COSIGN_MAX_KEY_FILE + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	errno = 0;
	len = fread(buf, 1, COSIGN_MAX_KEY_FILE + 1, f);
	buf[len < COSIGN_MAX_KEY_FILE ? len : COSIGN_MAX_KEY_FILE] = 0;
	if (ferror(f)) {
		r = errno ? -errno : -EIO;
		sonde_err("public key %s: %s", spec, strerror(-r));
	} else {
		r = cosign_keys_add_pem(k, buf, len, spec);
	}
	fclose(f);
	free(buf);
	return r;
}

int cosign_base64_decode(const char *text, unsigned char **out, size_t *len)
{
	size_t n = strlen(text);
	EVP_ENCODE_CTX *ctx;
	unsigned char *buf;
	int l1 = 0, l2 = 0, r = 0;

	*out = NULL;
	*len = 0;
	if (n > INT32_MAX / 2)
		return -EINVAL;
	buf = malloc(n / 4 * 3 + 4);
	ctx = EVP_ENCODE_CTX_new();
	if (!buf || !ctx) {
		free(buf);
		EVP_ENCODE_CTX_free(ctx);
		return -ENOMEM;
	}
	EVP_DecodeInit(ctx);
	if (EVP_DecodeUpdate(ctx, buf, &l1, (const unsigned char *)text, (int)n) < 0 ||
	    EVP_DecodeFinal(ctx, buf + l1, &l2) < 0)
		r = -EINVAL;
	EVP_ENCODE_CTX_free(ctx);
	if (r || l1 + l2 == 0) {
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	*len = (size_t)(l1 + l2);
	return 0;
}

static bool verify_one(EVP_PKEY *key, const void *payload, size_t plen, const unsigned char *sig,
                       size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	/* ed25519 is "pure": it hashes internally and takes no digest. */
	const EVP_MD *alg = EVP_PKEY_is_a(key, "ED25519") ? NULL : EVP_sha256();
	bool ok = false;

	if (!md)
		return false;
	if (EVP_DigestVerifyInit(md, NULL, alg, NULL, key) == 1)
		ok = EVP_DigestVerify(md, sig, siglen, payload, plen) == 1;
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return ok;
}

int cosign_verify_signature(const struct cosign_keys *k, const void *payload, size_t plen,
                            const unsigned char *sig, size_t siglen)
{
	for (size_t i = 0; k && i < k->n; i++)
		if (verify_one(k->keys[i], payload, plen, sig, siglen))
			return 0;
	return -EKEYREJECTED;
}

int cosign_payload_check(const void *payload, size_t len, const char *digest, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc, *critical;
	const char *type, *signed_digest;
	int r = -EBADMSG;

	if (len > COSIGN_MAX_PAYLOAD) {
		snprintf(err, errlen, "payload larger than %u bytes", COSIGN_MAX_PAYLOAD);
		return -EBADMSG;
	}
	doc = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		snprintf(err, errlen, "payload is not JSON: %s", jerr.text);
		return -EBADMSG;
	}
	critical = json_object_get(doc, "critical");
	type = json_string_value(json_object_get(critical, "type"));
	signed_digest =
	    json_string_value(json_object_get(json_object_get(critical, "image"), "docker-manifest-digest"));
	if (!json_is_object(critical))
		snprintf(err, errlen, "payload has no \"critical\" object");
	else if (!type || strcmp(type, COSIGN_PAYLOAD_TYPE))
		snprintf(err, errlen, "payload type is \"%s\", not \"%s\"", type ? type : "(none)",
		         COSIGN_PAYLOAD_TYPE);
	else if (!signed_digest)
		snprintf(err, errlen, "payload has no critical.image.docker-manifest-digest");
	else if (strcmp(signed_digest, digest))
		snprintf(err, errlen, "payload signs %.80s, not this image (%s)", signed_digest, digest);
	else
		r = 0;
	json_decref(doc);
	return r;
}

/* ---- sigstore bundles ---- */

void cosign_dsse_clear(struct cosign_dsse *d)
{
	free(d->sig);
	free(d->signed_data);
	free(d->payload);
	memset(d, 0, sizeof(*d));
}

/* protobuf JSON accepts both the JSON and the proto field name. */
static json_t *pb_get(const json_t *o, const char *json_name, const char *proto_name)
{
	json_t *v = json_object_get(o, json_name);

	return v ? v : json_object_get(o, proto_name);
}

/* DSSE's pre-authentication encoding: "DSSEv1 <len> <type> <len> <body>". */
static int dsse_pae(const char *type, const unsigned char *body, size_t blen, unsigned char **out,
                    size_t *len)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ", strlen(type), type, blen);

	if (n < 0 || (size_t)n >= sizeof(head))
		return -EBADMSG;
	*out = malloc((size_t)n + blen + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, head, (size_t)n);
	memcpy(*out + n, body, blen);
	*len = (size_t)n + blen;
	return 0;
}

int cosign_bundle_parse(const void *data, size_t len, struct cosign_dsse *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc, *env, *sigs;
	const char *payload, *type, *sig;
	int r = -EBADMSG;

	memset(out, 0, sizeof(*out));
	if (len > COSIGN_MAX_PAYLOAD) {
		snprintf(err, errlen, "bundle larger than %u bytes", COSIGN_MAX_PAYLOAD);
		return -EBADMSG;
	}
	doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		snprintf(err, errlen, "bundle is not JSON: %s", jerr.text);
		return -EBADMSG;
	}
	env = pb_get(doc, "dsseEnvelope", "dsse_envelope");
	sigs = json_object_get(env, "signatures");
	payload = json_string_value(json_object_get(env, "payload"));
	type = json_string_value(pb_get(env, "payloadType", "payload_type"));
	sig = json_string_value(json_object_get(json_array_get(sigs, 0), "sig"));
	if (!json_is_object(env))
		snprintf(err, errlen, "bundle has no DSSE envelope");
	else if (json_array_size(sigs) != 1)
		snprintf(err, errlen, "DSSE envelope has %zu signatures, not one", json_array_size(sigs));
	else if (!payload || !type || !sig)
		snprintf(err, errlen, "DSSE envelope lacks its payload, payloadType or sig");
	else if (cosign_base64_decode(payload, &out->payload, &out->plen) ||
	         cosign_base64_decode(sig, &out->sig, &out->siglen))
		snprintf(err, errlen, "DSSE payload or signature is not base64");
	else if ((r = dsse_pae(type, out->payload, out->plen, &out->signed_data, &out->signed_len)))
		snprintf(err, errlen, "DSSE payloadType too long");
	json_decref(doc);
	if (r) {
		cosign_dsse_clear(out);
		return r == -ENOMEM ? r : -EBADMSG;
	}
	return 0;
}

int cosign_statement_check(const void *payload, size_t len, const char *digest, char *err, size_t errlen)
{
	const char *colon = strchr(digest, ':');
	json_t *doc, *subject, *digests, *v;
	const char *alg;
	int r = -EBADMSG;

	doc = json_loadb(payload, len, JSON_REJECT_DUPLICATES, NULL);
	if (!doc) {
		snprintf(err, errlen, "statement is not JSON");
		return -EBADMSG;
	}
	subject = json_array_get(json_object_get(doc, "subject"), 0);
	digests = json_object_get(subject, "digest");
	if (!json_is_object(digests)) {
		snprintf(err, errlen, "statement has no subject digest");
	} else {
		json_object_foreach(digests, alg, v)
		{
			const char *value = json_string_value(v);
			if (colon && value && strlen(alg) == (size_t)(colon - digest) &&
			    !strncmp(alg, digest, (size_t)(colon - digest)) && !strcmp(value, colon + 1))
				r = 0;
		}
		if (r)
			snprintf(err, errlen, "statement's subject is not this image (%s)", digest);
	}
	json_decref(doc);
	return r;
}
