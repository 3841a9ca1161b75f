/* sonde image list|tag|remove|inspect: the local store as users see it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sonde/image.h>
#include <sonde/sonde.h>

#include "cmd.h"
#include "flags.h"

/* One table for the four commands; each says which flags it takes. */
enum img_flag { IMG_STORE, IMG_OUTPUT, IMG_NO_TRUNC, IMG_HELP };

struct img_flag_desc {
	struct flag_desc flag; /* first: the flag reader's view */
	enum img_flag which;
};

struct img_cmd {
	const char *name, *args, *summary;
	const struct img_flag_desc *flags;
	size_t nflags;
	const char *outputs; /* the -o modes, NULL without -o */
};

#define STORE_FLAG                                                                                           \
	{                                                                                                    \
		{"store", 0, "DIR", "the image store (default /var/lib/sonde/oci-store for root)"},          \
		    IMG_STORE                                                                                \
	}
#define HELP_FLAG                                                                                            \
	{                                                                                                    \
		{"help", 'h', NULL, "this help"}, IMG_HELP                                                   \
	}

static const struct img_flag_desc list_flags[] = {
    STORE_FLAG,
    {{"output", 'o', "MODE", "columns (default), json or jsonpretty"}, IMG_OUTPUT},
    {{"no-trunc", 0, NULL, "show whole digests"}, IMG_NO_TRUNC},
    HELP_FLAG,
};
static const struct img_flag_desc inspect_flags[] = {
    STORE_FLAG,
    {{"output", 'o', "MODE", "jsonpretty (default) or json"}, IMG_OUTPUT},
    HELP_FLAG,
};
static const struct img_flag_desc plain_flags[] = {STORE_FLAG, HELP_FLAG};

struct img_opts {
	const char *store;
	const char *output;
	bool no_trunc;
	const char *args[64];
	size_t nargs;
};

static enum flag_lookup lookup(void *arg, const char *name, char shorthand, struct flag *out)
{
	const struct img_cmd *c = arg;
	return flags_find(&c->flags[0].flag, c->nflags, sizeof(c->flags[0]), name, shorthand, out);
}

static void usage(const struct img_cmd *c, FILE *out)
{
	fprintf(out, "Usage: sonde image %s%s%s [flags]\n\n%s\n\nFlags:\n", c->name, *c->args ? " " : "",
	        c->args, c->summary);
	flags_print_table(out, &c->flags[0].flag, c->nflags, sizeof(c->flags[0]), 22);
}

/* 1: help printed; 0: go on; -EINVAL after one error line. */
static int parse(const struct img_cmd *c, int argc, char **argv, struct img_opts *o, size_t min_args,
                 size_t max_args)
{
	struct flag_parser p;
	struct flag f;
	const char *value;
	char hint[64];
	int r;
	snprintf(hint, sizeof(hint), " (see sonde image %s --help)", c->name);
	flags_init(&p, argc, argv, 1, lookup, (void *)c);
	p.help_hint = hint;
	while ((r = flags_next(&p, &f, &value)) > 0) {
		if (r == FLAGS_POSITIONAL) {
			if (o->nargs == max_args || o->nargs == sizeof(o->args) / sizeof(o->args[0])) {
				cli_error("unexpected argument \"%s\"%s", value, hint);
				return -EINVAL;
			}
			o->args[o->nargs++] = value;
			continue;
		}
		const struct img_flag_desc *d = f.id;
		switch (d->which) {
		case IMG_HELP:
			usage(c, stdout);
			return 1;
		case IMG_STORE:
			o->store = value;
			break;
		case IMG_NO_TRUNC:
			o->no_trunc = !value || strcmp(value, "false");
			break;
		case IMG_OUTPUT: {
			char list[64];
			snprintf(list, sizeof(list), ",%s,", c->outputs);
			char want[40];
			snprintf(want, sizeof(want), ",%s,", value);
			if (strlen(value) > 30 || !strstr(list, want)) {
				cli_error("invalid output mode \"%s\": use %s", value, c->outputs);
				return -EINVAL;
			}
			o->output = value;
			break;
		}
		}
	}
	if (r < 0)
		return r;
	if (o->nargs < min_args) {
		cli_error("missing argument: sonde image %s %s", c->name, c->args);
		return -EINVAL;
	}
	return 0;
}

/* As docker's units.HumanDuration, which upstream's list prints. */
static void human_duration(int64_t secs, char *buf, size_t n)
{
	double hours_f = (double)secs / 3600.0;
	int64_t minutes = secs / 60, hours = (int64_t)(hours_f + 0.5);
	if (secs < 1)
		snprintf(buf, n, "Less than a second");
	else if (secs == 1)
		snprintf(buf, n, "1 second");
	else if (secs < 60)
		snprintf(buf, n, "%lld seconds", (long long)secs);
	else if (minutes == 1)
		snprintf(buf, n, "About a minute");
	else if (minutes < 60)
		snprintf(buf, n, "%lld minutes", (long long)minutes);
	else if (hours == 1)
		snprintf(buf, n, "About an hour");
	else if (hours < 48)
		snprintf(buf, n, "%lld hours", (long long)hours);
	else if (hours < 24 * 7 * 2)
		snprintf(buf, n, "%lld days", (long long)(hours / 24));
	else if (hours < 24 * 30 * 2)
		snprintf(buf, n, "%lld weeks", (long long)(hours / 24 / 7));
	else if (hours < 24 * 365 * 2)
		snprintf(buf, n, "%lld months", (long long)(hours / 24 / 30));
	else
		snprintf(buf, n, "%lld years", (long long)(hours_f / 24 / 365));
}

/* RFC 3339 ("2024-05-01T10:00:00Z", fractions and offsets too) → epoch; -1 if not. */
static int64_t parse_rfc3339(const char *s)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!p)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	int64_t t = (int64_t)timegm(&tm);
	if (*p == 'Z' || *p == 'z')
		return p[1] ? -1 : t;
	int hh, mm;
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &hh, &mm) == 2)
		return t - (*p == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
	return -1;
}

static void created_text(const char *created, char *buf, size_t n)
{
	int64_t t = created[0] ? parse_rfc3339(created) : -1;
	if (t < 0) {
		snprintf(buf, n, "%s", created[0] ? created : "");
		return;
	}
	int64_t age = (int64_t)time(NULL) - t;
	human_duration(age < 0 ? 0 : age, buf, n - 4);
	strcat(buf, " ago");
}

static const char *digest_text(const char *d, bool no_trunc, char *buf, size_t n)
{
	const char *hex = !strncmp(d, "sha256:", 7) ? d + 7 : d;
	snprintf(buf, n, no_trunc ? "%s" : "%.12s", hex);
	return buf;
}

static int open_store(const struct img_opts *o, bool read_only, struct sonde_image_store **s)
{
	/* Reading a store that was never created is an empty list, not an error. */
	if (read_only) {
		char dir[4096], path[4200];
		if (o->store)
			snprintf(dir, sizeof(dir), "%s", o->store);
		else if (sonde_image_store_default_dir(dir, sizeof(dir)))
			return -ENOENT;
		snprintf(path, sizeof(path), "%s/index.json", dir);
		FILE *f = fopen(path, "r");
		if (!f) {
			*s = NULL;
			return 0;
		}
		fclose(f);
	}
	return sonde_image_store_open(o->store, read_only, s);
}

static const struct img_cmd list_cmd = {"list",
                                        "",
                                        "List the gadget images of the local store.",
                                        list_flags,
                                        sizeof(list_flags) / sizeof(list_flags[0]),
                                        "columns,json,jsonpretty"};

int cmd_image_list(int argc, char **argv)
{
	struct img_opts o = {.output = "columns"};
	struct sonde_image_store *s = NULL;
	struct sonde_image_info *infos = NULL;
	size_t n = 0;
	int r = parse(&list_cmd, argc, argv, &o, 0, 0);
	if (r)
		return r > 0 ? 0 : 1;
	if (open_store(&o, true, &s) || (s && sonde_image_list(s, &infos, &n))) {
		sonde_image_store_close(s);
		return 1;
	}
	sonde_image_store_close(s);
	char dig[80], created[64];
	if (strcmp(o.output, "columns") != 0) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
			    arr, json_pack("{s:s, s:s, s:s, s:s}", "Repository", infos[i].repository, "Tag",
			                   infos[i].tag, "Digest",
			                   digest_text(infos[i].digest, o.no_trunc, dig, sizeof(dig)),
			                   "Created", infos[i].created));
		char *text = json_dumps(arr, !strcmp(o.output, "json") ? JSON_COMPACT : JSON_INDENT(2));
		printf("%s\n", text ? text : "[]");
		free(text);
		json_decref(arr);
		free(infos);
		return 0;
	}
	int wr = (int)strlen("REPOSITORY"), wt = (int)strlen("TAG"), wd = (int)strlen("DIGEST");
	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen(infos[i].repository);
		wr = l > wr ? l : wr;
		l = (int)strlen(infos[i].tag);
		wt = l > wt ? l : wt;
		l = (int)strlen(digest_text(infos[i].digest, o.no_trunc, dig, sizeof(dig)));
		wd = l > wd ? l : wd;
	}
	printf("%-*s %-*s %-*s %s\n", wr, "REPOSITORY", wt, "TAG", wd, "DIGEST", "CREATED");
	for (size_t i = 0; i < n; i++) {
		created_text(infos[i].created, created, sizeof(created));
		char line[2048];
		int len = snprintf(line, sizeof(line), "%-*s %-*s %-*s %s", wr, infos[i].repository, wt,
		                   infos[i].tag, wd,
		                   digest_text(infos[i].digest, o.no_trunc, dig, sizeof(dig)), created);
		/* No line ends in blanks, also when CREATED is empty. */
		while (len > 0 && len < (int)sizeof(line) && line[len - 1] == ' ')
			line[--len] = '\0';
		printf("%s\n", line);
	}
	free(infos);
	return 0;
}

static const struct img_cmd tag_cmd = {"tag",
                                       "SRC DST",
                                       "Give the image SRC the additional name DST.",
                                       plain_flags,
                                       sizeof(plain_flags) / sizeof(plain_flags[0]),
                                       NULL};

int cmd_image_tag(int argc, char **argv)
{
	struct img_opts o = {0};
	struct sonde_image_store *s;
	int r = parse(&tag_cmd, argc, argv, &o, 2, 2);
	if (r)
		return r > 0 ? 0 : 1;
	if (open_store(&o, false, &s))
		return 1;
	r = sonde_image_tag(s, o.args[0], o.args[1]);
	sonde_image_store_close(s);
	if (r && !cli_errors_logged())
		cli_error("cannot tag %s: %s", o.args[0], strerror(-r));
	return r ? 1 : 0;
}

static const struct img_cmd remove_cmd = {"remove",
                                          "IMAGE...",
                                          "Remove images from the local store (their blobs too when no other "
                                          "tag uses them).",
                                          plain_flags,
                                          sizeof(plain_flags) / sizeof(plain_flags[0]),
                                          NULL};

int cmd_image_remove(int argc, char **argv)
{
	struct img_opts o = {0};
	struct sonde_image_store *s;
	int r = parse(&remove_cmd, argc, argv, &o, 1, 64);
	if (r)
		return r > 0 ? 0 : 1;
	if (open_store(&o, false, &s))
		return 1;
	int failed = 0;
	for (size_t i = 0; i < o.nargs; i++) {
		if (sonde_image_remove(s, o.args[i]))
			failed = 1;
		else
			printf("Successfully removed %s\n", o.args[i]);
	}
	sonde_image_store_close(s);
	return failed;
}

static const struct img_cmd inspect_cmd = {
    "inspect",
    "IMAGE",
    "Show an image's manifest, metadata, programs, maps, DataSources and "
    "params, without loading it.",
    inspect_flags,
    sizeof(inspect_flags) / sizeof(inspect_flags[0]),
    "json,jsonpretty"};

int cmd_image_inspect(int argc, char **argv)
{
	struct img_opts o = {.output = "jsonpretty"};
	struct sonde_image_store *s = NULL;
	char *text = NULL;
	int r = parse(&inspect_cmd, argc, argv, &o, 1, 1);
	if (r)
		return r > 0 ? 0 : 1;
	if (open_store(&o, true, &s))
		return 1;
	if (!s) {
		cli_error("image %s not found: the store %s is empty", o.args[0],
		          o.store ? o.store : "(default)");
		return 1;
	}
	r = sonde_image_inspect(s, o.args[0], &text);
	sonde_image_store_close(s);
	if (r) {
		if (!cli_errors_logged())
			cli_error("cannot inspect %s: %s", o.args[0], strerror(-r));
		return 1;
	}
	if (!strcmp(o.output, "jsonpretty")) {
		json_t *doc = json_loads(text, 0, NULL);
		char *pretty = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
		printf("%s\n", pretty ? pretty : text);
		free(pretty);
		json_decref(doc);
	} else {
		printf("%s\n", text);
	}
	free(text);
	return 0;
}
