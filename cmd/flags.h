/* Command-line flags read as getopt and pflag users expect: `--name value`,
 * `--name=value`, `-o json`, `-ojson`, `-o=json`, grouped bool shorthands
 * (`-vh`), and `--` ending the flags. What a flag is comes from the caller. */
#ifndef SONDE_CMD_FLAGS_H
#define SONDE_CMD_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct flag {
	const char *name; /* long name, without dashes */
	bool takes_value; /* false: a bool flag, set by its presence */
	void *id;         /* the caller's handle for it */
};

enum flag_lookup {
	FLAG_UNKNOWN = 0,
	FLAG_KNOWN = 1,
	FLAG_AMBIGUOUS = 2,
};

/* Finds a flag by long name (short == 0) or by its one-letter shorthand. */
typedef enum flag_lookup (*flag_lookup_fn)(void *arg, const char *name, char shorthand, struct flag *out);

struct flag_parser {
	int argc;
	char **argv;
	int next;              /* index of the next argument */
	const char *shorts;    /* rest of a group of shorthands (`-vh`) */
	const char *group;     /* the whole group, for messages */
	bool only_positionals; /* after `--` */
	flag_lookup_fn lookup;
	void *lookup_arg;
	const char *help_hint; /* appended to "unknown flag" errors, e.g. "see sonde run --help" */
};

enum flag_result {
	FLAGS_END = 0,
	FLAGS_FLAG = 1,       /* *flag and *value are set (value is NULL for bool flags) */
	FLAGS_POSITIONAL = 2, /* *value is the argument */
};

/* A flag of a command's own fixed table. A command that keeps more per flag
 * puts this first in its own struct and passes that struct's size as stride. */
struct flag_desc {
	const char *name;
	char shorthand;    /* 0: none */
	const char *value; /* what the value is (help), NULL for a bool flag */
	const char *description;
};

/* Looks name (or, when name is NULL, shorthand) up in n entries stride bytes
 * apart; out->id points at the entry found. */
enum flag_lookup flags_find(const struct flag_desc *table, size_t n, size_t stride, const char *name,
                            char shorthand, struct flag *out);
/* The flag as help shows it: "-t, --timeout SECONDS" or "    --param KEY=VALUE". */
void flags_format(const struct flag_desc *d, char *buf, size_t len);
/* The help's flag list: a line a flag of the table (as flags_find reads
 * it), "  <flag padded to width> <description>". */
void flags_print_table(FILE *out, const struct flag_desc *table, size_t n, size_t stride, int width);

void flags_init(struct flag_parser *p, int argc, char **argv, int first, flag_lookup_fn lookup, void *arg);
/* The next flag or positional argument; -EINVAL after printing one error line. */
int flags_next(struct flag_parser *p, struct flag *flag, const char **value);

#endif
