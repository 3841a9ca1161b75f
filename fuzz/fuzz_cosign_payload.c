/* What a signature artifact carries (spec §1.8), all attacker-controlled
 * until a signature verifies: the simple-signing payload (parsed only after
 * verification, but a key holder may still sign garbage), the base64
 * signature annotation and PEM public keys given on the command line.
 *
 * Input: the payload, checked against a fixed digest and against the digest
 * it names itself; the same bytes as a sigstore bundle (DSSE envelope) and
 * in-toto statement, as a base64 signature and as PEM text.
 * Oracle: an accepted payload names exactly the digest it was checked
 * against, with cosign's payload type. */
#include <errno.h>

#include <jansson.h>

#include "fuzz_input.h"
#include "image/cosign.h"

static const char fixed[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void check_accepted(const uint8_t *data, size_t len, const char *digest)
{
	json_t *doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *critical = json_object_get(doc, "critical");
	const char *type = json_string_value(json_object_get(critical, "type"));
	const char *named =
	    json_string_value(json_object_get(json_object_get(critical, "image"), "docker-manifest-digest"));

	FUZZ_CHECK(doc && type && named);
	FUZZ_CHECK(!strcmp(named, digest));
	FUZZ_CHECK(!strcmp(type, COSIGN_PAYLOAD_TYPE));
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char err[256], *text;
	unsigned char *raw = NULL;
	size_t rawlen;
	struct cosign_keys *keys;
	json_t *doc;

	fuzz_init_once();
	if (!cosign_payload_check(data, len, fixed, err, sizeof(err)))
		check_accepted(data, len, fixed);
	else
		FUZZ_CHECK(err[0]);

	/* the digest the payload names itself, when it names one */
	doc = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, NULL);
	if (doc) {
		const char *named = json_string_value(json_object_get(
		    json_object_get(json_object_get(doc, "critical"), "image"), "docker-manifest-digest"));
		char *copy = named ? strdup(named) : NULL;
		if (copy && !cosign_payload_check(data, len, copy, err, sizeof(err)))
			check_accepted(data, len, copy);
		free(copy);
		json_decref(doc);
	}

	/* the same bytes as a sigstore bundle and as its in-toto statement */
	{
		struct cosign_dsse dsse;
		if (!cosign_bundle_parse(data, len, &dsse, err, sizeof(err))) {
			FUZZ_CHECK(dsse.sig && dsse.signed_data && dsse.signed_len > dsse.plen);
			FUZZ_CHECK(
			    !memcmp(dsse.signed_data + dsse.signed_len - dsse.plen, dsse.payload, dsse.plen));
			if (!cosign_statement_check(dsse.payload, dsse.plen, fixed, err, sizeof(err)))
				FUZZ_CHECK(memmem(dsse.payload, dsse.plen, fixed + 7, 64));
			cosign_dsse_clear(&dsse);
		}
		if (!cosign_statement_check(data, len, fixed, err, sizeof(err)))
			FUZZ_CHECK(memmem(data, len, fixed + 7, 64));
	}

	text = fuzz_cstring(data, len);
	if (!text)
		return 0;
	if (!cosign_base64_decode(text, &raw, &rawlen))
		FUZZ_CHECK(raw && rawlen > 0 && rawlen <= len);
	/* OpenSSL's decoders are slow: only text that may hold a key is parsed */
	keys = strstr(text, "-----BEGIN") ? cosign_keys_new() : NULL;
	if (keys) {
		int r = cosign_keys_add_pem(keys, text, len, "fuzz");
		FUZZ_CHECK(r ? cosign_keys_count(keys) == 0 || r == -EINVAL : cosign_keys_count(keys) > 0);
		/* whatever keys parsed must reject a random signature cleanly */
		if (cosign_keys_count(keys))
			cosign_verify_signature(keys, data, len, raw ? raw : (const unsigned char *)"",
			                        raw ? rawlen : 0);
		cosign_keys_free(keys);
	}
	free(raw);
	free(text);
	return 0;
}
