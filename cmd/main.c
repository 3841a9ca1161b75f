/* Entry point of the sonde command: dispatches to sub-commands. */
#include <stdio.h>
#include <string.h>

#include <sonde/sonde.h>

#include "cmd.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: sonde COMMAND [ARGS]\n\n"
	             "Commands:\n"
	             "  run GADGET [flags]   run a gadget (sonde run GADGET --help lists its flags)\n"
	             "  image COMMAND        build, store, pull, push and verify gadget images\n"
	             "  list-containers      list the containers (sonde list-containers --help)\n"
	             "  version              print the version\n"
	             "  completion SHELL     print a completion script for bash, zsh or fish\n\n"
	             "Built-in gadgets:");
	for (size_t i = 0; i < sonde_builtin_gadget_count(); i++)
		fprintf(out, " %s", sonde_builtin_gadget_at(i)->name);
	fprintf(out, "\n");
}

int main(int argc, char **argv)
{
	cli_log_init();
	/* exit status: 0 success, 1 any error (usage or runtime), as ig's; the README says so */
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list-containers"))
		return cmd_list_containers(argc - 1, argv + 1);
	if (!strcmp(argv[1], "image"))
		return cmd_image(argc - 1, argv + 1);
	if (!strcmp(argv[1], "completion"))
		return cmd_completion(argc - 1, argv + 1);
	if (!strcmp(argv[1], "__complete"))
		return cmd_complete(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version"))
		return cmd_version(argc - 1, argv + 1);
	if (!strcmp(argv[1], "help") && argc > 2) {
		/* `sonde help run [GADGET]` is `sonde run [GADGET] --help` */
		char *help_argv[] = {argv[2], argc > 3 ? argv[3] : "--help", "--help", NULL};

		if (!strcmp(argv[2], "run"))
			return cmd_run(argc > 3 ? 3 : 2, help_argv);
		if (!strcmp(argv[2], "list-containers"))
			return cmd_list_containers(2, help_argv);
		if (!strcmp(argv[2], "image"))
			return cmd_image(argc > 3 ? 3 : 2, help_argv);
		if (!strcmp(argv[2], "version"))
			return cmd_version(1, help_argv);
		if (!strcmp(argv[2], "completion")) {
			printf("Usage: sonde completion bash|zsh|fish\n\n"
			       "  bash: source <(sonde completion bash)\n"
			       "  zsh:  source <(sonde completion zsh)\n"
			       "  fish: sonde completion fish | source\n");
			return 0;
		}
		cli_error("unknown command \"%s\" (try: sonde help)", argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	cli_error("unknown command \"%s\" (try: sonde help)", argv[1]);
	return 1;
}
