/* OCI image indexes, manifests and image references as the store and the
 * registry read them (a registry, a tar or another tool controls the bytes).
 * The first byte picks the parser. Oracles: what parses re-emits to bytes
 * that parse again to the same bytes, and a reference re-formats stably. */
#include "fuzz_input.h"
#include "image/oci.h"

#include <sonde/image.h>

static void index_roundtrip(const uint8_t *data, size_t len)
{
	struct oci_index a, b;
	if (oci_index_parse(data, len, &a))
		return;
	json_t *j = oci_index_to_json(&a);
	size_t n1, n2;
	char *t1 = j ? oci_json_dump(j, &n1) : NULL;
	json_decref(j);
	if (t1) {
		FUZZ_CHECK(oci_index_parse(t1, n1, &b) == 0);
		FUZZ_CHECK(b.nmanifests == a.nmanifests);
		j = oci_index_to_json(&b);
		char *t2 = j ? oci_json_dump(j, &n2) : NULL;
		FUZZ_CHECK(!t2 || (n1 == n2 && !memcmp(t1, t2, n1)));
		free(t2);
		json_decref(j);
		oci_index_clear(&b);
		const struct oci_descriptor *d = oci_index_for_arch(&a, "amd64");
		FUZZ_CHECK(!d || !strcmp(d->arch, "amd64"));
	}
	free(t1);
	oci_index_clear(&a);
}

static void manifest_roundtrip(const uint8_t *data, size_t len)
{
	struct oci_manifest a, b;
	if (oci_manifest_parse(data, len, &a))
		return;
	FUZZ_CHECK(oci_digest_valid(a.config.digest));
	json_t *j = oci_manifest_to_json(&a);
	size_t n1, n2;
	char *t1 = j ? oci_json_dump(j, &n1) : NULL;
	json_decref(j);
	if (t1) {
		FUZZ_CHECK(oci_manifest_parse(t1, n1, &b) == 0);
		FUZZ_CHECK(b.nlayers == a.nlayers && !b.subject == !a.subject);
		j = oci_manifest_to_json(&b);
		char *t2 = j ? oci_json_dump(j, &n2) : NULL;
		FUZZ_CHECK(!t2 || (n1 == n2 && !memcmp(t1, t2, n1)));
		free(t2);
		json_decref(j);
		oci_manifest_clear(&b);
	}
	free(t1);
	oci_manifest_clear(&a);
}

static void ref_roundtrip(const uint8_t *data, size_t len)
{
	char *s = fuzz_cstring(data, len);
	struct sonde_image_ref r, r2;
	char f1[1024], f2[1024];
	if (s && !sonde_image_ref_parse(s, &r) && !sonde_image_ref_format(&r, f1, sizeof(f1))) {
		FUZZ_CHECK(sonde_image_ref_parse(f1, &r2) == 0);
		FUZZ_CHECK(sonde_image_ref_format(&r2, f2, sizeof(f2)) == 0);
		FUZZ_CHECK(!strcmp(f1, f2));
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	fuzz_init_once();
	if (!len)
		return 0;
	switch (data[0] % 3) {
	case 0:
		index_roundtrip(data + 1, len - 1);
		break;
	case 1:
		manifest_roundtrip(data + 1, len - 1);
		break;
	default:
		ref_roundtrip(data + 1, len - 1);
	}
	return 0;
}
