/* sonde image SUBCOMMAND: dispatches to one file per group of sub-commands
 * (image_store.c, image_build.c, image_archive.c, image_registry.c,
 * image_verify.c). */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "completion.h"

struct image_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct image_cmd image_cmds[] = {
    {"list", cmd_image_list, "list the images of the local store"},
    {"tag", cmd_image_tag, "give an image another name"},
    {"remove", cmd_image_remove, "remove images from the local store"},
    {"inspect", cmd_image_inspect, "show what an image holds, without loading it"},
    {"verify", cmd_image_verify, "verify an image's signature from the local store"},
    {"build", cmd_image_build, "build an image from a gadget directory"},
    {"export", cmd_image_export, "write images to an OCI archive (tar)"},
    {"import", cmd_image_import, "read the images of an OCI archive into the store"},
    {"pull", cmd_image_pull, "pull an image and its signatures from a registry"},
    {"push", cmd_image_push, "push an image and its signatures to a registry"},
    {"login", cmd_image_login, "store a registry's credentials"},
    {"logout", cmd_image_logout, "remove a registry's credentials"},
    {0},
};

static void image_usage(FILE *out)
{
	fprintf(out, "Usage: sonde image COMMAND [ARGS]\n\nCommands:\n");
	for (const struct image_cmd *c = image_cmds; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nsonde image COMMAND --help shows a command's flags.\n");
}

int cmd_image(int argc, char **argv)
{
	if (argc < 2) {
		image_usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		image_usage(stdout);
		return 0;
	}
	for (const struct image_cmd *c = image_cmds; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	cli_error("unknown command \"image %s\" (try: sonde image --help)", argv[1]);
	return 1;
}

/* words[0] is "image": its sub-commands, then what they take (flags;
 * for the store's commands, the store's images). */
void image_complete(int n, char **words)
{
	const char *partial = words[n - 1];

	if (n == 2) {
		for (const struct image_cmd *c = image_cmds; c->name; c++)
			complete_word(partial, c->name);
		return;
	}
	if (partial[0] == '-') {
		complete_flag(partial, 0, "store");
		complete_flag(partial, 'h', "help");
		if (!strcmp(words[1], "list") || !strcmp(words[1], "inspect"))
			complete_flag(partial, 'o', "output");
		if (!strcmp(words[1], "list"))
			complete_flag(partial, 0, "no-trunc");
		if (!strcmp(words[1], "build")) {
			complete_flag(partial, 't', "tag");
			complete_flag(partial, 'f', "file");
			complete_flag(partial, 0, "arch");
			complete_flag(partial, 'o', "output");
			complete_flag(partial, 0, "clang");
			complete_flag(partial, 0, "include-dir");
		}
		return;
	}
	if (!strcmp(words[1], "inspect") || !strcmp(words[1], "remove") || !strcmp(words[1], "tag") ||
	    !strcmp(words[1], "push") || !strcmp(words[1], "export")) {
		const char *store = NULL;
		for (int i = 2; i + 1 < n - 1; i++)
			if (!strcmp(words[i], "--store"))
				store = words[i + 1];
		complete_store_tags(partial, store);
	}
}
