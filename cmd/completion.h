/* Shell completion: `sonde completion bash|zsh|fish` prints a script that asks
 * `sonde __complete WORD...` for the candidates of the last (partial) word,
 * so that gadget names and each gadget's flags come from the binary itself. */
#ifndef SONDE_CMD_COMPLETION_H
#define SONDE_CMD_COMPLETION_H

/* Prints `candidate` on its own line if it starts with `prefix`. */
void complete_word(const char *prefix, const char *candidate);
/* Prints --name (and -s) if it completes `prefix`. */
void complete_flag(const char *prefix, char shorthand, const char *name);

/* The candidates for the last of words[0..n-1], words[0] being the command. */
void run_complete(int n, char **words);
void list_containers_complete_flags(const char *prefix);
/* The same for words[0] == "image". */
void image_complete(int n, char **words);
/* The images of the store at dir (NULL: the default) that complete partial,
 * as `sonde image list` names them; reads index.json only. */
void complete_store_tags(const char *partial, const char *dir);

#endif
