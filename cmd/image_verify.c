/* sonde image verify REF [--public-keys KEYS] [--store DIR]: checks the
 * cosign signature of an image in the local store, offline. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/sonde.h>
#include <sonde/image_verify.h>

#include "cmd.h"
#include "flags.h"

enum iv_target { IV_KEYS, IV_STORE, IV_HELP };

static const struct iv_flag {
	struct flag_desc flag; /* first: the flag reader's view */
	enum iv_target target;
} iv_flags[] = {
    {{"public-keys", 0, "KEYS",
      "PEM public key files or PEM text, comma-separated or repeated (default: Inspektor Gadget's key)"},
     IV_KEYS},
    {{"store", 0, "DIR", "the local OCI store (default /var/lib/sonde/oci-store for root)"}, IV_STORE},
    {{"help", 'h', NULL, "this help"}, IV_HELP},
};
#define NIV_FLAGS (sizeof(iv_flags) / sizeof(iv_flags[0]))

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: sonde image verify IMAGE [flags]\n\n"
	        "Verifies IMAGE's cosign signature (legacy .sig tag or OCI 1.1 referrer) from the local\n"
	        "store, without the network.\n\nFlags:\n");
	flags_print_table(out, &iv_flags[0].flag, NIV_FLAGS, sizeof(iv_flags[0]), 28);
}

static enum flag_lookup lookup_iv_flag(void *arg, const char *name, char shorthand, struct flag *out)
{
	return flags_find(&iv_flags[0].flag, NIV_FLAGS, sizeof(iv_flags[0]), name, shorthand, out);
}

struct keylist {
	char **v; /* NULL-terminated */
	size_t n;
	bool given; /* --public-keys seen: an empty value means "no key" */
};

static int keylist_push(struct keylist *l, const char *s, size_t len)
{
	char **v = realloc(l->v, (l->n + 2) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	l->v = v;
	v[l->n] = strndup(s, len);
	if (!v[l->n])
		return -ENOMEM;
	v[++l->n] = NULL;
	return 0;
}

/* PEM text is one key list item (it has no commas); file names are split. */
static int keylist_add(struct keylist *l, const char *value)
{
	l->given = true;
	if (!strncmp(value, "-----BEGIN", 10))
		return keylist_push(l, value, strlen(value));
	while (*value) {
		size_t len = strcspn(value, ",");
		if (len && keylist_push(l, value, len))
			return -ENOMEM;
		value += len + (value[len] == ',');
	}
	if (!l->v)
		return keylist_push(l, "", 0) ? -ENOMEM : 0; /* "--public-keys=": the empty list */
	return 0;
}

static void keylist_free(struct keylist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

int cmd_image_verify(int argc, char **argv)
{
	struct sonde_image_store *store = NULL;
	struct keylist keys = {0};
	struct flag_parser parser;
	const char *value, *image = NULL, *store_dir = NULL;
	char digest[72];
	struct flag flag;
	int r;

	flags_init(&parser, argc, argv, 1, lookup_iv_flag, NULL);
	parser.help_hint = " (see sonde image verify --help)";
	while ((r = flags_next(&parser, &flag, &value)) > 0) {
		const struct iv_flag *f = flag.id;

		if (r == FLAGS_POSITIONAL) {
			if (image) {
				cli_error("one image at a time: unexpected \"%s\"", value);
				r = -EINVAL;
				break;
			}
			image = value;
			continue;
		}
		switch (f->target) {
		case IV_HELP:
			usage(stdout);
			keylist_free(&keys);
			return 0;
		case IV_STORE:
			store_dir = value;
			break;
		case IV_KEYS:
			if (keylist_add(&keys, value)) {
				cli_error("out of memory");
				r = -ENOMEM;
			}
			break;
		}
		if (r < 0)
			break;
	}
	if (r >= 0 && !image) {
		cli_error("which image? usage: sonde image verify IMAGE [--public-keys KEYS]");
		r = -EINVAL;
	}
	if (r >= 0)
		r = sonde_image_store_open(store_dir, true, &store);
	if (r >= 0)
		r = sonde_image_verify(store, image, keys.given ? (const char *const *)keys.v : NULL, digest);
	if (r >= 0)
		printf("Verified signature of %s (%s)\n", image, digest);
	else if (!cli_errors_logged())
		cli_error("cannot verify %s: %s", image ? image : "the image", strerror(-r));
	sonde_image_store_close(store);
	keylist_free(&keys);
	return r < 0 ? 1 : 0;
}
