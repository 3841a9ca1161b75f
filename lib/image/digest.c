/* sha256 digests in OCI's "sha256:<hex>" form, with OpenSSL's EVP API. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "image/oci.h"

#define SHA256_PREFIX "sha256:"

bool oci_digest_valid(const char *s)
{
	if (!s || strncmp(s, SHA256_PREFIX, 7) != 0)
		return false;
	s += 7;
	for (int i = 0; i < 64; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return s[64] == '\0';
}

static void hex_digest(const unsigned char md[32], char out[OCI_DIGEST_LEN])
{
	static const char hex[] = "0123456789abcdef";
	memcpy(out, SHA256_PREFIX, 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[71] = '\0';
}

void oci_digest_of(const void *data, size_t len, char out[OCI_DIGEST_LEN])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	/* EVP_Digest cannot fail for sha256 short of an allocation failure;
	 * a zeroed digest then simply matches nothing. */
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		memset(md, 0, sizeof(md));
	hex_digest(md, out);
}

struct oci_hasher {
	EVP_MD_CTX *ctx;
	bool failed;
};

struct oci_hasher *oci_hasher_new(void)
{
	struct oci_hasher *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

void oci_hasher_update(struct oci_hasher *h, const void *data, size_t len)
{
	if (h && !h->failed && !EVP_DigestUpdate(h->ctx, data, len))
		h->failed = true;
}

void oci_hasher_finish(struct oci_hasher *h, char out[OCI_DIGEST_LEN])
{
	unsigned char md[32] = {0};
	unsigned int mdlen = 0;
	if (!h || h->failed || !EVP_DigestFinal_ex(h->ctx, md, &mdlen))
		memset(md, 0, sizeof(md));
	hex_digest(md, out);
	oci_hasher_free(h);
}

void oci_hasher_free(struct oci_hasher *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}
