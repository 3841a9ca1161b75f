/* sonde completion SHELL and sonde __complete (see completion.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/log.h>

#include "cmd.h"
#include "completion.h"

static const char *const commands[] = {"run", "list-containers", "version", "help", "completion", NULL};
static const char *const shells[] = {"bash", "zsh", "fish", NULL};

/* Each script hands the words before the cursor and the partial word to
 * `sonde __complete` and offers one candidate a line. */
static const char bash_script[] =
    "# sonde completion for bash: source <(sonde completion bash)\n"
    "_sonde() {\n"
    "\tlocal IFS=$'\\n'\n"
    "\tCOMPREPLY=($(\"${COMP_WORDS[0]}\" __complete \"${COMP_WORDS[@]:1:COMP_CWORD}\" 2>/dev/null))\n"
    "}\n"
    "complete -o default -F _sonde sonde\n";

static const char zsh_script[] =
    "#compdef sonde\n"
    "# sonde completion for zsh: source <(sonde completion zsh)\n"
    "_sonde() {\n"
    "\tlocal -a candidates\n"
    "\tcandidates=(\"${(@f)$(\"${words[1]}\" __complete \"${(@)words[2,CURRENT]}\" 2>/dev/null)}\")\n"
    "\tcompadd -a candidates\n"
    "}\n"
    "compdef _sonde sonde\n";

static const char fish_script[] =
    "# sonde completion for fish: sonde completion fish | source\n"
    "complete -c sonde -f -a '(sonde __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'\n";

void complete_word(const char *prefix, const char *candidate)
{
	if (!strncmp(candidate, prefix, strlen(prefix)))
		printf("%s\n", candidate);
}

void complete_flag(const char *prefix, char shorthand, const char *name)
{
	char flag[160];

	snprintf(flag, sizeof(flag), "--%s", name);
	complete_word(prefix, flag);
	if (shorthand && prefix[0] == '-' && prefix[1] == shorthand && !prefix[2])
		printf("-%c\n", shorthand);
}

static void complete_silent(enum sonde_log_level level, const char *msg, void *arg)
{
}

void complete_store_tags(const char *partial, const char *store_dir)
{
	struct sonde_image_store *s = NULL;
	struct sonde_image_info *infos = NULL;
	char dir[4096], path[4200], word[1200];
	size_t n = 0;

	if (store_dir)
		snprintf(dir, sizeof(dir), "%s", store_dir);
	else if (sonde_image_store_default_dir(dir, sizeof(dir)))
		return;
	snprintf(path, sizeof(path), "%s/index.json", dir);
	if (access(path, R_OK) != 0)
		return;
	sonde_log_set_sink(complete_silent, NULL);
	if (!sonde_image_store_open(dir, true, &s) && !sonde_image_list(s, &infos, &n))
		for (size_t i = 0; i < n; i++) {
			snprintf(word, sizeof(word), "%s:%s", infos[i].repository, infos[i].tag);
			complete_word(partial, word);
		}
	free(infos);
	sonde_image_store_close(s);
}

int cmd_completion(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "bash"))
		fputs(bash_script, stdout);
	else if (argc == 2 && !strcmp(argv[1], "zsh"))
		fputs(zsh_script, stdout);
	else if (argc == 2 && !strcmp(argv[1], "fish"))
		fputs(fish_script, stdout);
	else {
		cli_error("usage: sonde completion bash|zsh|fish");
		return 1;
	}
	return 0;
}

/* argv[1..argc-1]: the words after "sonde", the last one being completed. */
int cmd_complete(int argc, char **argv)
{
	const char *partial = argc > 1 ? argv[argc - 1] : "";

	if (argc <= 2) {
		for (size_t i = 0; commands[i]; i++)
			complete_word(partial, commands[i]);
		return 0;
	}
	if (!strcmp(argv[1], "run"))
		run_complete(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "image"))
		image_complete(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "list-containers") && partial[0] == '-')
		list_containers_complete_flags(partial);
	else if (!strcmp(argv[1], "help") && argc == 3)
		for (size_t i = 0; commands[i]; i++)
			complete_word(partial, commands[i]);
	else if (!strcmp(argv[1], "completion") && argc == 3)
		for (size_t i = 0; shells[i]; i++)
			complete_word(partial, shells[i]);
	return 0;
}
