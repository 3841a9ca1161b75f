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
