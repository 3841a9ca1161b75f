/* sonde image export REF… FILE.tar and sonde image import FILE.tar: OCI
 * archives upstream's `ig image import`/`export` read and write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/image_archive.h>

#include "cmd.h"
#include "flags.h"

enum archive_target { A_STORE, A_HELP };

static const struct archive_flag {
	struct flag_desc flag; /* first: the flag reader's view */
	enum archive_target target;
} archive_flags[] = {
    {{"store", 0, "DIR", "OCI store (default /var/lib/sonde/oci-store for root)"}, A_STORE},
    {{"help", 'h', NULL, "this help"}, A_HELP},
};
#define NARCHIVE_FLAGS (sizeof(archive_flags) / sizeof(archive_flags[0]))

static enum flag_lookup lookup(void *arg, const char *name, char shorthand, struct flag *out)
{
	return flags_find(&archive_flags[0].flag, NARCHIVE_FLAGS, sizeof(archive_flags[0]), name, shorthand,
	                  out);
}

static void usage(FILE *out, const char *cmd, const char *args, const char *what)
{
	fprintf(out, "Usage: sonde image %s %s\n\n%s\n\nFlags:\n", cmd, args, what);
	flags_print_table(out, &archive_flags[0].flag, NARCHIVE_FLAGS, sizeof(archive_flags[0]), 18);
}

/* Positionals into args (argc entries at most); 1: help printed, -EINVAL. */
static int parse(int argc, char **argv, const char *cmd, const char *uargs, const char *what,
                 const char **store, const char **args, size_t *nargs)
{
	struct flag_parser parser;
	struct flag flag;
	const char *value;
	char hint[64];
	int r;

	snprintf(hint, sizeof(hint), " (see sonde image %s --help)", cmd);
	flags_init(&parser, argc, argv, 1, lookup, NULL);
	parser.help_hint = hint;
	*nargs = 0;
	while ((r = flags_next(&parser, &flag, &value)) > 0) {
		const struct archive_flag *f = flag.id;

		if (r == FLAGS_POSITIONAL) {
			args[(*nargs)++] = value;
			continue;
		}
		if (f->target == A_HELP) {
			usage(stdout, cmd, uargs, what);
			return 1;
		}
		*store = value;
	}
	return r < 0 ? -EINVAL : 0;
}

int cmd_image_export(int argc, char **argv)
{
	const char *store = NULL, **args = calloc((size_t)argc + 1, sizeof(*args));
	size_t n;
	int r;

	if (!args)
		return 1;
	r = parse(argc, argv, "export", "REF... FILE.tar",
	          "Writes the images (built-in gadget names too) to an OCI archive.", &store, args, &n);
	if (r) {
		free(args);
		return r > 0 ? 0 : 1;
	}
	if (n < 2) {
		cli_error(
		    "sonde image export needs at least one image and a file (see sonde image export --help)");
		free(args);
		return 1;
	}
	r = sonde_image_export(store, args, n - 1, args[n - 1]);
	if (r < 0) {
		if (!cli_errors_logged())
			cli_error("exporting to %s: %s", args[n - 1], strerror(-r));
		free(args);
		return 1;
	}
	printf("Successfully exported images to %s\n", args[n - 1]);
	free(args);
	return 0;
}

int cmd_image_import(int argc, char **argv)
{
	const char *store = NULL, **args = calloc((size_t)argc + 1, sizeof(*args));
	char **tags;
	size_t n, ntags;
	int r;

	if (!args)
		return 1;
	r = parse(argc, argv, "import", "FILE.tar",
	          "Imports every tagged image of an OCI archive into the store.", &store, args, &n);
	if (r) {
		free(args);
		return r > 0 ? 0 : 1;
	}
	if (n != 1) {
		cli_error("sonde image import needs one archive (see sonde image import --help)");
		free(args);
		return 1;
	}
	r = sonde_image_import(store, args[0], &tags, &ntags);
	if (r < 0) {
		if (!cli_errors_logged())
			cli_error("importing %s: %s", args[0], strerror(-r));
		free(args);
		return 1;
	}
	printf("Successfully imported images:\n");
	for (size_t i = 0; i < ntags; i++)
		printf("  %s\n", tags[i]);
	sonde_image_import_tags_free(tags, ntags);
	free(args);
	return 0;
}
