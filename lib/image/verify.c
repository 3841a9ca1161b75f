/* Signature verification from the local store and the allowed-gadgets list
 * (spec §1.8). Only the store is read: upstream fetched signatures from the
 * registry on every run, Sonde's registry client stores them at pull time so
 * a run verifies offline. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/image_verify.h>
#include <sonde/log.h>

#include "image/loaded.h"
#include "image/verify.h"

/* Inspektor Gadget's official cosign key (pkg/resources/inspektor-gadget.pub
 * upstream), the default of upstream's --public-keys: the images published
 * under ghcr.io/inspektor-gadget/gadget/ are signed with it, so they verify
 * with no flag, as with ig. */
const char sonde_image_upstream_public_key[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEoDOC0gYSxZTopenGmX3ZFvQ1DSfh\n"
    "Ir4EKRt5jC+mXaJ7c7J+oREskYMn/SfZdRHNSOjLTZUMDm60zpXGhkFecg==\n"
    "-----END PUBLIC KEY-----\n";

static int signature_tag(const char *repo, const char *digest, const char *suffix, char *buf, size_t n)
{
	int len;

	if (!oci_digest_valid(digest))
		return -EINVAL;
	len = snprintf(buf, n, "%s:sha256-%s%s", repo, digest + 7, suffix);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int verify_legacy_tag(const char *repo, const char *digest, char *buf, size_t n)
{
	return signature_tag(repo, digest, ".sig", buf, n);
}

int verify_referrers_tag(const char *repo, const char *digest, char *buf, size_t n)
{
	return signature_tag(repo, digest, "", buf, n);
}

int verify_load_keys(const char *const *specs, struct cosign_keys **out)
{
	struct cosign_keys *k = cosign_keys_new();
	int r = 0;

	if (!k)
		return -ENOMEM;
	if (!specs)
		r = cosign_keys_add_pem(k, sonde_image_upstream_public_key,
		                        strlen(sonde_image_upstream_public_key),
		                        "(Inspektor Gadget's official key)");
	for (size_t i = 0; specs && specs[i] && !r; i++)
		if (specs[i][0])
			r = cosign_keys_add(k, specs[i]);
	if (r) {
		cosign_keys_free(k);
		return r;
	}
	*out = k;
	return 0;
}

/* What the candidates gave so far: the strongest failure is reported. */
struct verdict {
	size_t found;    /* signature artifacts seen */
	size_t rejected; /* signatures no key verified */
	int err;         /* 0: verified; else the worst failure */
	char reason[384];
};

static void fail(struct verdict *v, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(struct verdict *v, int err, const char *fmt, ...)
{
	va_list ap;

	/* A signature that verified but names another image (or a broken
	 * artifact) says more than "wrong key": keep the first such reason. */
	if (v->err == -EBADMSG)
		return;
	v->err = err;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
	sonde_debug("verify: %s", v->reason);
}

/* A cosign simple-signing layer: the signature in its annotation, the
 * payload its blob. */
static void check_simple_signing(struct oci_store *s, const char *mdigest, const struct oci_descriptor *layer,
                                 const char *image_digest, const struct cosign_keys *keys, struct verdict *v)
{
	void *payload = NULL;
	unsigned char *sig = NULL;
	size_t plen, siglen;
	const char *sig_b64 = oci_descriptor_annotation(layer, COSIGN_ANN_SIGNATURE);
	char why[256];

	if (!sig_b64 || cosign_base64_decode(sig_b64, &sig, &siglen)) {
		fail(v, -EBADMSG, "signature manifest %.19s… has no base64 %s annotation", mdigest,
		     COSIGN_ANN_SIGNATURE);
		return;
	}
	if (layer->size < 0 || (uint64_t)layer->size > OCI_MAX_DOCUMENT ||
	    oci_blob_read(s, layer->digest, OCI_MAX_DOCUMENT, &payload, &plen)) {
		fail(v, -EBADMSG, "the payload of signature manifest %.19s… is missing or damaged", mdigest);
	} else if (cosign_verify_signature(keys, payload, plen, sig, siglen)) {
		v->rejected++;
		fail(v, -EKEYREJECTED, "signature %.19s… was not made by any of the %zu public key(s)",
		     mdigest, cosign_keys_count(keys));
	} else if (cosign_payload_check(payload, plen, image_digest, why, sizeof(why))) {
		/* parsed only now: until the signature verified, the payload
		 * was attacker-controlled */
		fail(v, -EBADMSG, "signed payload %.19s… rejected: %s", layer->digest, why);
	} else {
		v->err = 0;
	}
	free(sig);
	free(payload);
}

/* A sigstore bundle layer: a DSSE envelope over an in-toto statement. */
static void check_bundle(struct oci_store *s, const char *mdigest, const struct oci_descriptor *layer,
                         const char *image_digest, const struct cosign_keys *keys, struct verdict *v)
{
	struct cosign_dsse dsse = {0};
	void *data = NULL;
	size_t len;
	char why[256];

	if (layer->size < 0 || (uint64_t)layer->size > OCI_MAX_DOCUMENT ||
	    oci_blob_read(s, layer->digest, OCI_MAX_DOCUMENT, &data, &len)) {
		fail(v, -EBADMSG, "the bundle of signature manifest %.19s… is missing or damaged", mdigest);
	} else if (cosign_bundle_parse(data, len, &dsse, why, sizeof(why))) {
		fail(v, -EBADMSG, "bundle %.19s… is malformed: %s", layer->digest, why);
	} else if (cosign_verify_signature(keys, dsse.signed_data, dsse.signed_len, dsse.sig, dsse.siglen)) {
		v->rejected++;
		fail(v, -EKEYREJECTED, "bundle %.19s… was not signed by any of the %zu public key(s)",
		     layer->digest, cosign_keys_count(keys));
	} else if (cosign_statement_check(dsse.payload, dsse.plen, image_digest, why, sizeof(why))) {
		fail(v, -EBADMSG, "signed bundle %.19s… rejected: %s", layer->digest, why);
	} else {
		v->err = 0;
	}
	cosign_dsse_clear(&dsse);
	free(data);
}

/* One signature manifest: exactly one simple-signing layer (cosign's
 * legacy and OCI 1.1 formats) or a sigstore bundle layer. A manifest that
 * is neither is an error where a signature must be (`strict`: the legacy
 * tag) and skipped among referrers (SBOMs, attestations, notation). */
static void check_signature_manifest(struct oci_store *s, const char *mdigest, const char *image_digest,
                                     const struct cosign_keys *keys, struct verdict *v, bool strict)
{
	struct oci_manifest m = {0};
	const struct oci_descriptor *bundle = NULL;
	void *doc = NULL;
	size_t doclen;

	if (oci_blob_read(s, mdigest, OCI_MAX_DOCUMENT, &doc, &doclen) ||
	    oci_manifest_parse(doc, doclen, &m)) {
		free(doc);
		if (strict) {
			v->found++;
			fail(v, -EBADMSG, "signature manifest %.19s… is missing or not an OCI manifest",
			     mdigest);
		}
		return;
	}
	free(doc);
	for (size_t i = 0; i < m.nlayers; i++)
		if (!strcmp(m.layers[i].media_type, COSIGN_MT_BUNDLE))
			bundle = &m.layers[i];
	if (m.nlayers == 1 && !strcmp(m.layers[0].media_type, COSIGN_MT_SIMPLESIGN)) {
		v->found++;
		check_simple_signing(s, mdigest, &m.layers[0], image_digest, keys, v);
	} else if (bundle && !strict) {
		v->found++;
		check_bundle(s, mdigest, bundle, image_digest, keys, v);
	} else if (strict) {
		v->found++;
		fail(v, -EBADMSG, "signature manifest %.19s… must have one layer of type %s", mdigest,
		     COSIGN_MT_SIMPLESIGN);
	}
	oci_manifest_clear(&m);
}

static const struct oci_descriptor *find_tag(const struct oci_descriptor *tags, size_t n, const char *ref)
{
	for (size_t i = 0; i < n; i++) {
		const char *name = oci_descriptor_annotation(&tags[i], OCI_ANN_REF_NAME);
		if (name && !strcmp(name, ref))
			return &tags[i];
	}
	return NULL;
}

/* Signature manifests already tried (a store may name one several ways). */
struct seen {
	char digests[32][OCI_DIGEST_LEN];
	size_t n;
};

static bool seen_before(struct seen *seen, const char *digest)
{
	for (size_t i = 0; i < seen->n; i++)
		if (!strcmp(seen->digests[i], digest))
			return true;
	if (seen->n < sizeof(seen->digests) / sizeof(seen->digests[0]))
		snprintf(seen->digests[seen->n++], OCI_DIGEST_LEN, "%s", digest);
	return false;
}

static void check_manifest_once(struct oci_store *s, struct seen *seen, const char *mdigest,
                                const char *digest, const struct cosign_keys *keys, struct verdict *v,
                                bool strict)
{
	if (v->err && !seen_before(seen, mdigest))
		check_signature_manifest(s, mdigest, digest, keys, v, strict);
}

/* The OCI 1.1 tag schema: an index listing the referrers of the image
 * (cosign signatures, bundles, and whatever else refers to it). */
static void check_referrers(struct oci_store *s, struct seen *seen, const struct oci_descriptor *d,
                            const char *image_digest, const struct cosign_keys *keys, struct verdict *v)
{
	struct oci_index idx = {0};
	void *doc = NULL;
	size_t len;

	if (oci_blob_read(s, d->digest, OCI_MAX_DOCUMENT, &doc, &len) || oci_index_parse(doc, len, &idx)) {
		v->found++;
		fail(v, -EBADMSG, "referrers index %.19s… is missing or not an OCI index", d->digest);
		free(doc);
		return;
	}
	free(doc);
	for (size_t i = 0; i < idx.nmanifests && v->err; i++)
		if (!strcmp(idx.manifests[i].media_type, OCI_MT_MANIFEST))
			check_manifest_once(s, seen, idx.manifests[i].digest, image_digest, keys, v, false);
	oci_index_clear(&idx);
}

/* A tagged manifest whose subject is the image: what a registry's
 * referrers API would list. */
static bool is_referrer_of(struct oci_store *s, const struct oci_descriptor *d, const char *digest)
{
	struct oci_manifest m = {0};
	void *doc = NULL;
	size_t len;
	bool yes;

	if (strcmp(d->media_type, OCI_MT_MANIFEST) ||
	    oci_blob_read(s, d->digest, OCI_MAX_DOCUMENT, &doc, &len))
		return false;
	yes = !oci_manifest_parse(doc, len, &m) && m.subject && !strcmp(m.subject->digest, digest);
	oci_manifest_clear(&m);
	free(doc);
	return yes;
}

int verify_image_signature(struct oci_store *s, const char *repo, const char *digest,
                           const struct cosign_keys *keys, const char *what)
{
	char legacy[1200], referrers[1200];
	struct oci_descriptor *tags = NULL;
	const struct oci_descriptor *d;
	struct verdict v = {.err = -ENOENT};
	struct seen seen = {.n = 0};
	size_t ntags = 0;
	int r;

	if (!cosign_keys_count(keys)) {
		sonde_err("%s: no public key to verify its signature with; pass --public-keys FILE, "
		          "or --verify-image=false to run it unverified",
		          what);
		return -ENOKEY;
	}
	if (verify_legacy_tag(repo, digest, legacy, sizeof(legacy)) ||
	    verify_referrers_tag(repo, digest, referrers, sizeof(referrers))) {
		sonde_err("%s: cannot name its signature tags (digest %s)", what, digest);
		return -EINVAL;
	}
	r = oci_store_tags(s, &tags, &ntags);
	if (r)
		return r;
	/* Sonde tags signatures under the image's repository; ig's store
	 * (and archives it exports) has the bare tags "sha256-<hex>[.sig]":
	 * the digest alone names the image, so both are the same signature. */
	const char *legacy_tags[] = {legacy, legacy + strlen(repo) + 1};
	const char *referrers_tags[] = {referrers, referrers + strlen(repo) + 1};
	for (size_t i = 0; i < 2; i++) {
		d = find_tag(tags, ntags, legacy_tags[i]);
		if (d)
			check_manifest_once(s, &seen, d->digest, digest, keys, &v, true);
	}
	for (size_t i = 0; i < 2 && v.err; i++) {
		d = find_tag(tags, ntags, referrers_tags[i]);
		if (d && !seen_before(&seen, d->digest))
			check_referrers(s, &seen, d, digest, keys, &v);
	}
	for (size_t i = 0; i < ntags && v.err; i++)
		if (is_referrer_of(s, &tags[i], digest))
			check_manifest_once(s, &seen, tags[i].digest, digest, keys, &v, false);
	oci_store_tags_free(tags, ntags);

	if (!v.err) {
		sonde_debug("%s: signature verified (%s)", what, digest);
		return 0;
	}
	if (!v.found)
		sonde_err(
		    "%s is not signed: the store has no cosign signature of %.19s… (tag %s:sha256-…[.sig]); "
		    "pull it with its signature, or pass --verify-image=false to run it unverified",
		    what, digest, repo);
	else if (v.err == -EKEYREJECTED)
		sonde_err("%s: signature verification failed: %zu signature(s) found, none made by the given "
		          "public key(s) (--public-keys)",
		          what, v.rejected);
	else
		sonde_err("%s: signature verification failed: %s", what, v.reason);
	return v.err;
}

int verify_allowed(const char *ref, const char *repo, const char *digest, const char *const *allowed)
{
	char pinned[1200];
	char list[512];
	size_t used = 0;

	if (!allowed || !allowed[0])
		return 0;
	snprintf(pinned, sizeof(pinned), "%s@%s", repo, digest);
	for (size_t i = 0; allowed[i]; i++) {
		const char *a = allowed[i];
		size_t n = strlen(a);
		if (!n)
			continue;
		if (!strcmp(a, ref) || !strcmp(a, pinned))
			return 0;
		if (a[n - 1] == '*' && !strncmp(ref, a, n - 1))
			return 0;
	}
	list[0] = 0;
	for (size_t i = 0; allowed[i] && used + 1 < sizeof(list); i++) {
		int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", allowed[i]);
		if (w < 0)
			break;
		used += (size_t)w;
	}
	sonde_err("%s is not part of the allowed gadgets (--allowed-gadgets: %s)", ref, list);
	return -EPERM;
}

int verify_admit(struct oci_store *s, const char *ref, const char *repo, const char *digest,
                 const struct sonde_image_source_opts *opts)
{
	struct cosign_keys *keys = NULL;
	int r;

	r = verify_allowed(ref, repo, digest, opts ? opts->allowed_gadgets : NULL);
	if (r)
		return r;
	if (opts && opts->skip_verify) {
		sonde_warn("%s: signature verification is disabled (--verify-image=false)", ref);
		return 0;
	}
	r = verify_load_keys(opts ? opts->public_keys : NULL, &keys);
	if (!r)
		r = verify_image_signature(s, repo, digest, keys, ref);
	cosign_keys_free(keys);
	return r;
}

/* ---- public API ---- */

struct named_ref {
	char ref[1100], repo[800];
};

static int name_ref(const char *what, struct named_ref *out)
{
	struct sonde_image_ref r;
	int err = sonde_image_ref_parse(what, &r);

	if (!err)
		err = sonde_image_ref_format(&r, out->ref, sizeof(out->ref));
	if (!err)
		err = sonde_image_ref_repository(&r, out->repo, sizeof(out->repo));
	return err;
}

int sonde_image_verify(struct sonde_image_store *store, const char *what, const char *const *public_keys,
                       char digest_out[72])
{
	struct cosign_keys *keys = NULL;
	struct oci_descriptor d = {0};
	struct named_ref n;
	int r;

	r = name_ref(what, &n);
	if (r)
		return r;
	/* tags, name@digest and tags other tools wrote unnormalised, as a run
	 * resolves them */
	r = image_store_resolve(oci_store_of(store), n.ref, &d);
	if (r == -ENOENT)
		sonde_err("%s: not in the store %s (pull it first)", n.ref, sonde_image_store_dir(store));
	if (!r)
		r = verify_load_keys(public_keys, &keys);
	if (!r)
		r = verify_image_signature(oci_store_of(store), n.repo, d.digest, keys, n.ref);
	if (!r && digest_out)
		snprintf(digest_out, 72, "%s", d.digest);
	cosign_keys_free(keys);
	oci_descriptor_clear(&d);
	return r;
}

int sonde_image_check_allowed(const char *what, const char *digest, const char *const *allowed)
{
	struct named_ref n;
	int r = name_ref(what, &n);

	return r ? r : verify_allowed(n.ref, n.repo, digest ? digest : "", allowed);
}
