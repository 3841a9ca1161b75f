/* A pflag-compatible reader of command-line flags (see flags.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "flags.h"

void flags_init(struct flag_parser *p, int argc, char **argv, int first, flag_lookup_fn lookup, void *arg)
{
	*p = (struct flag_parser){
	    .argc = argc, .argv = argv, .next = first, .lookup = lookup, .lookup_arg = arg};
}

enum flag_lookup flags_find(const struct flag_desc *table, size_t n, size_t stride, const char *name,
                            char shorthand, struct flag *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct flag_desc *d = (const void *)((const char *)table + i * stride);

		if (name ? strcmp(name, d->name) : shorthand != d->shorthand)
			continue;
		*out = (struct flag){.name = d->name, .takes_value = d->value != NULL, .id = (void *)d};
		return FLAG_KNOWN;
	}
	return FLAG_UNKNOWN;
}

void flags_format(const struct flag_desc *d, char *buf, size_t len)
{
	snprintf(buf, len, "%c%c%c --%s%s%s", d->shorthand ? '-' : ' ', d->shorthand ? d->shorthand : ' ',
	         d->shorthand ? ',' : ' ', d->name, d->value ? " " : "", d->value ? d->value : "");
}

void flags_print_table(FILE *out, const struct flag_desc *table, size_t n, size_t stride, int width)
{
	for (size_t i = 0; i < n; i++) {
		const struct flag_desc *d = (const void *)((const char *)table + i * stride);
		char flag[64];

		flags_format(d, flag, sizeof(flag));
		fprintf(out, "  %-*s %s\n", width, flag, d->description);
	}
}

static const char *hint(const struct flag_parser *p)
{
	return p->help_hint ? p->help_hint : "";
}

/* Whether `arg` would be read as a flag this parser knows: `--pid -t 1` must
 * not take `-t` for the pid, while `--offset -5` and `--sort -pid` keep their
 * values (only a lone known shorthand counts). */
static bool is_known_flag(const struct flag_parser *p, const char *arg)
{
	struct flag f;
	char name[128];
	size_t n;

	if (arg[0] != '-' || !arg[1])
		return false;
	if (arg[1] != '-')
		return !arg[2] && p->lookup(p->lookup_arg, NULL, arg[1], &f) != FLAG_UNKNOWN;
	n = strcspn(arg + 2, "=");
	if (n == 0 || n >= sizeof(name))
		return false;
	memcpy(name, arg + 2, n);
	name[n] = 0;
	return p->lookup(p->lookup_arg, name, 0, &f) != FLAG_UNKNOWN;
}

/* The value of a flag given without one attached: the next argument. */
static int separate_value(struct flag_parser *p, const char *typed, const char **value)
{
	if (p->next >= p->argc) {
		cli_error("flag %s needs a value", typed);
		return -EINVAL;
	}
	if (is_known_flag(p, p->argv[p->next])) {
		cli_error("flag %s needs a value, got the flag %s", typed, p->argv[p->next]);
		return -EINVAL;
	}
	*value = p->argv[p->next++];
	return 0;
}

static int long_flag(struct flag_parser *p, const char *arg, struct flag *flag, const char **value)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	char name[128], typed[132];

	if (n == 0 || n >= sizeof(name)) {
		cli_error("invalid flag \"--%s\"", arg);
		return -EINVAL;
	}
	memcpy(name, arg, n);
	name[n] = 0;
	snprintf(typed, sizeof(typed), "--%s", name);
	switch (p->lookup(p->lookup_arg, name, 0, flag)) {
	case FLAG_UNKNOWN:
		cli_error("unknown flag --%s%s", name, hint(p));
		return -EINVAL;
	case FLAG_AMBIGUOUS:
		cli_error("ambiguous flag --%s: use --param with its full name", name);
		return -EINVAL;
	case FLAG_KNOWN:
		break;
	}
	*value = NULL;
	if (eq) {
		*value = eq + 1;
		return FLAGS_FLAG;
	}
	if (!flag->takes_value) {
		/* `--failed false` as well as `--failed`, as earlier Sonde releases read it */
		if (p->next < p->argc &&
		    (!strcmp(p->argv[p->next], "true") || !strcmp(p->argv[p->next], "false")))
			*value = p->argv[p->next++];
		return FLAGS_FLAG;
	}
	return separate_value(p, typed, value) ?: FLAGS_FLAG;
}

/* One shorthand of `-abc`; the rest of the group waits in p->shorts. */
static int short_flag(struct flag_parser *p, struct flag *flag, const char **value)
{
	const char *s = p->shorts;
	char typed[3] = {'-', s[0], 0};

	p->shorts = NULL;
	switch (p->lookup(p->lookup_arg, NULL, s[0], flag)) {
	case FLAG_UNKNOWN:
	case FLAG_AMBIGUOUS:
		cli_error("unknown shorthand flag '%c' in -%s%s", s[0], p->group, hint(p));
		return -EINVAL;
	case FLAG_KNOWN:
		break;
	}
	*value = NULL;
	if (s[1] == '=') {
		*value = s + 2;
		return FLAGS_FLAG;
	}
	if (!flag->takes_value) {
		if (s[1])
			p->shorts = s + 1;
		return FLAGS_FLAG;
	}
	if (s[1]) {
		*value = s + 1; /* -ojson */
		return FLAGS_FLAG;
	}
	return separate_value(p, typed, value) ?: FLAGS_FLAG;
}

int flags_next(struct flag_parser *p, struct flag *flag, const char **value)
{
	const char *arg;

	if (p->shorts)
		return short_flag(p, flag, value);
	if (p->next >= p->argc)
		return FLAGS_END;
	arg = p->argv[p->next++];
	if (p->only_positionals || arg[0] != '-' || !arg[1]) {
		*value = arg;
		return FLAGS_POSITIONAL;
	}
	if (!strcmp(arg, "--")) {
		p->only_positionals = true;
		return flags_next(p, flag, value);
	}
	if (arg[1] == '-')
		return long_flag(p, arg + 2, flag, value);
	/* `-host` is --host mistyped, not -h -o st */
	if (arg[2] && !strchr(arg, '=') && p->lookup(p->lookup_arg, arg + 1, 0, flag) == FLAG_KNOWN) {
		cli_error("flag %s: long flags take two dashes (-%s)", arg, arg);
		return -EINVAL;
	}
	p->shorts = p->group = arg + 1;
	return short_flag(p, flag, value);
}
