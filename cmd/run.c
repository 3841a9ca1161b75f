/* sonde run GADGET [flags]: runs a gadget locally and prints its events.
 *
 * Flags are parsed in two phases, as upstream does: the gadget is instantiated
 * first so that its params (eBPF params, operator params) become flags. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/sonde.h>

#include "cmd.h"
#include "completion.h"
#include "flags.h"
#include "privileges.h"

#define MAX_LIST_FLAGS 64
#define MAX_LIST_ITEMS 32

/* A comma-separated, repeatable list flag (--public-keys a.pem,b.pem). */
struct str_list {
	const char *items[MAX_LIST_ITEMS + 1]; /* NULL-terminated */
	size_t n;
	char *bufs[MAX_LIST_ITEMS];
	size_t nbufs;
};

struct run_opts {
	int64_t timeout_ns;
	bool help;
	enum sonde_log_level log_level;
	/* Where the gadget comes from (sonde_image_load), read in pass 1. */
	struct sonde_image_source_opts src;
	struct str_list public_keys, allowed_gadgets, insecure_registries;
};

static struct sonde_gadget_ctx *running_ctx;
/* stdout when it is a pipe or a socket, whose reader may stop reading */
static int stdout_pipe = -1, stdout_flags;

static void on_signal(int sig)
{
	if (running_ctx) {
		sonde_gadget_cancel(running_ctx);
		sonde_output_stopping(stdout_pipe);
	}
}

/* When stdout is a pipe, make it as large as the system allows (1 MiB by
 * default, more for root): a consumer that is scheduled out then stalls the
 * run loop after ~1000 JSON records instead of ~70, so the ring buffer is
 * read on. Failure is harmless: the pipe keeps its size. */
static void enlarge_stdout_pipe(void)
{
	struct stat st;
	FILE *f;
	int max = 1 << 20;

	if (fstat(STDOUT_FILENO, &st) || !S_ISFIFO(st.st_mode))
		return;
	f = fopen("/proc/sys/fs/pipe-max-size", "re");
	if (f) {
		if (fscanf(f, "%d", &max) != 1 || max < 4096)
			max = 1 << 20;
		fclose(f);
	}
	if (fcntl(STDOUT_FILENO, F_GETPIPE_SZ) < max)
		(void)fcntl(STDOUT_FILENO, F_SETPIPE_SZ, max);
}

static void install_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct stat st;

	if (!fstat(STDOUT_FILENO, &st) && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
	    (stdout_flags = fcntl(STDOUT_FILENO, F_GETFL)) >= 0)
		stdout_pipe = STDOUT_FILENO;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* sinks see EPIPE instead */
}

static void print_builtins(FILE *out)
{
	fprintf(out, "Built-in gadgets:");
	for (size_t i = 0; i < sonde_builtin_gadget_count(); i++)
		fprintf(out, " %s", sonde_builtin_gadget_at(i)->name);
	fprintf(out, "\n");
}

static bool field_listed(struct sonde_field *f)
{
	return !(sonde_field_flags(f) & (SONDE_FIELD_UNREFERENCED | SONDE_FIELD_EMPTY));
}

static void field_label(struct sonde_field *f, char *out, size_t len)
{
	snprintf(out, len, sonde_field_flags(f) & SONDE_FIELD_HIDDEN ? "[%s]" : "%s",
	         sonde_field_full_name(f));
}

static void print_field_help(struct sonde_gadget_ctx *ctx)
{
	for (size_t d = 0; d < sonde_gadget_nds(ctx); d++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, d);
		int width = 0;
		char name[128];

		if (!sonde_ds_is_referenced(ds))
			continue;
		for (size_t i = 0; i < sonde_ds_nfields(ds); i++) {
			struct sonde_field *f = sonde_ds_field_at(ds, i);

			field_label(f, name, sizeof(name));
			if (field_listed(f) && (int)strlen(name) > width)
				width = (int)strlen(name);
		}
		printf("\nFields of datasource \"%s\" (for --fields; hidden ones in brackets):\n",
		       sonde_ds_name(ds));
		for (size_t i = 0; i < sonde_ds_nfields(ds); i++) {
			struct sonde_field *f = sonde_ds_field_at(ds, i);
			const char *desc = sonde_field_annotation(f, "description");

			if (!field_listed(f))
				continue;
			field_label(f, name, sizeof(name));
			if (desc && *desc)
				printf("  %-*s %-8s %s\n", width, name, sonde_kind_name(sonde_field_kind(f)),
				       desc);
			else
				printf("  %-*s %s\n", width, name, sonde_kind_name(sonde_field_kind(f)));
		}
	}
}

static bool is_bool_param(const struct sonde_param *p)
{
	const char *t = sonde_param_desc(p)->type_hint;

	return t && !strcmp(t, "bool");
}

static bool is_list_param(const struct sonde_param *p)
{
	const char *t = sonde_param_desc(p)->type_hint;

	return t && !strncmp(t, "[]", 2);
}

static int set_param(struct sonde_gadget_ctx *ctx, const char *name, const char *value)
{
	char err[512];

	if (sonde_params_set(sonde_gadget_params(ctx), name, value, err, sizeof(err))) {
		cli_error("%s", err);
		return -EINVAL;
	}
	return 0;
}

/* ---- the flags of `sonde run` itself ---- */

enum run_flag {
	RUN_TIMEOUT,
	RUN_PARAM,
	RUN_VERBOSE,
	RUN_LOG_LEVEL,
	RUN_STORE,
	RUN_PULL,
	RUN_CONFIG,
	RUN_VERIFY_IMAGE,
	RUN_PUBLIC_KEYS,
	RUN_ALLOWED_GADGETS,
	RUN_AUTHFILE,
	RUN_INSECURE_REGISTRIES,
	RUN_HELP,
	NRUN_FLAGS
};

static const struct flag_desc run_flags[NRUN_FLAGS] = {
    [RUN_TIMEOUT] = {"timeout", 't', "SECONDS", "stop after this time (0: until interrupted or done)"},
    [RUN_PARAM] = {"param", 0, "KEY=VALUE", "set a param by its key or full name"},
    [RUN_VERBOSE] = {"verbose", 'v', NULL, "print debug messages (same as --log-level debug)"},
    [RUN_LOG_LEVEL] = {"log-level", 0, "LEVEL",
                       "messages to print: error, warn, info or debug (default warn)"},
    [RUN_STORE] = {"store", 0, "DIR", "the image store (default /var/lib/sonde/oci-store for root)"},
    [RUN_PULL] = {"pull", 0, "POLICY", "pull the image: always, missing (default) or never"},
    [RUN_CONFIG] = {"config", 0, "FILE", "gadget.yaml of a bare eBPF object (sonde run FILE.o)"},
    [RUN_VERIFY_IMAGE] = {"verify-image", 0, NULL,
                          "verify the image's signature (default true; --verify-image=false skips it)"},
    [RUN_PUBLIC_KEYS] = {"public-keys", 0, "FILES", "PEM public keys the signature may be made with"},
    [RUN_ALLOWED_GADGETS] = {"allowed-gadgets", 0, "REFS",
                             "only run these images (a trailing * matches a prefix)"},
    [RUN_AUTHFILE] = {"authfile", 0, "FILE", "registry credentials (docker config.json format)"},
    [RUN_INSECURE_REGISTRIES] = {"insecure-registries", 0, "HOSTS", "registries reached over plain HTTP"},
    [RUN_HELP] = {"help", 'h', NULL, "this help"},
};

static enum flag_lookup lookup_run_flag(const char *name, char shorthand, struct flag *out)
{
	return flags_find(run_flags, NRUN_FLAGS, sizeof(run_flags[0]), name, shorthand, out);
}

static enum run_flag run_flag_of(const struct flag *f)
{
	const struct flag_desc *d = f->id;

	return d >= run_flags && d < run_flags + NRUN_FLAGS ? (enum run_flag)(d - run_flags) : NRUN_FLAGS;
}

/* Flags of `sonde run` first, then the run's params by key, shorthand,
 * alternative key or full name. */
static enum flag_lookup lookup_flag(void *arg, const char *name, char shorthand, struct flag *out)
{
	struct sonde_params *ps = arg;
	char key[2] = {shorthand, 0};
	bool ambiguous = false;
	struct sonde_param *p;

	if (lookup_run_flag(name, shorthand, out) == FLAG_KNOWN)
		return FLAG_KNOWN;
	if (!ps)
		return FLAG_UNKNOWN;
	p = sonde_params_find_key(ps, name ? name : key, &ambiguous);
	if (!p && !ambiguous && name)
		p = sonde_params_find(ps, name);
	if (!p)
		return ambiguous ? FLAG_AMBIGUOUS : FLAG_UNKNOWN;
	*out = (struct flag){.name = sonde_param_key(p), .takes_value = !is_bool_param(p), .id = p};
	return FLAG_KNOWN;
}

/* `report`: print an error for a bad name (pass 1 leaves that to pass 2). */
static int parse_log_level(const char *s, enum sonde_log_level *out, bool report)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]) || (i == 1 && !strcmp(s, "warning"))) {
			*out = (enum sonde_log_level)i;
			return 0;
		}
	if (report)
		cli_error("invalid log level \"%s\": use error, warn, info or debug", s);
	return -EINVAL;
}

static int add_list(struct str_list *l, const char *value, const char *flag)
{
	char *copy = strdup(value);

	if (!copy || l->nbufs == MAX_LIST_ITEMS) {
		free(copy);
		cli_error("--%s: too many values", flag);
		return -EINVAL;
	}
	l->bufs[l->nbufs++] = copy;
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (l->n == MAX_LIST_ITEMS) {
			cli_error("--%s: more than %d values", flag, MAX_LIST_ITEMS);
			return -EINVAL;
		}
		l->items[l->n++] = tok;
	}
	return 0;
}

static void free_opts(struct run_opts *o)
{
	struct str_list *lists[] = {&o->public_keys, &o->allowed_gadgets, &o->insecure_registries};

	for (size_t i = 0; i < 3; i++) {
		for (size_t j = 0; j < lists[i]->nbufs; j++)
			free(lists[i]->bufs[j]);
		memset(lists[i], 0, sizeof(*lists[i]));
	}
}

/* The image flags matter in pass 1 (the gadget is loaded before its own
 * flags exist); pass 2 sees them again and leaves them as they are. */
static int set_image_flag(enum run_flag which, const char *value, struct run_opts *o)
{
	switch (which) {
	case RUN_STORE:
		o->src.store_dir = value;
		return 0;
	case RUN_CONFIG:
		o->src.config_path = value;
		return 0;
	case RUN_AUTHFILE:
		o->src.authfile = value;
		return 0;
	case RUN_PULL:
		if (!strcmp(value, "always"))
			o->src.pull = SONDE_PULL_ALWAYS;
		else if (!strcmp(value, "missing"))
			o->src.pull = SONDE_PULL_MISSING;
		else if (!strcmp(value, "never"))
			o->src.pull = SONDE_PULL_NEVER;
		else {
			cli_error("invalid pull policy \"%s\": use always, missing or never", value);
			return -EINVAL;
		}
		return 0;
	case RUN_VERIFY_IMAGE: {
		bool on = true;

		if (value && sonde_parse_bool(value, &on)) {
			cli_error("invalid --verify-image value \"%s\": use true or false", value);
			return -EINVAL;
		}
		o->src.skip_verify = !on;
		return 0;
	}
	case RUN_PUBLIC_KEYS:
		return add_list(&o->public_keys, value, "public-keys");
	case RUN_ALLOWED_GADGETS:
		return add_list(&o->allowed_gadgets, value, "allowed-gadgets");
	case RUN_INSECURE_REGISTRIES:
		return add_list(&o->insecure_registries, value, "insecure-registries");
	default:
		return 0;
	}
}

static int set_run_flag(enum run_flag which, const char *value, struct run_opts *o)
{
	switch (which) {
	case RUN_VERBOSE:
		o->log_level = SONDE_LOG_DEBUG;
		return 0;
	case RUN_HELP:
		o->help = true;
		return 0;
	case RUN_LOG_LEVEL:
		return parse_log_level(value, &o->log_level, true);
	case RUN_TIMEOUT:
		if (sonde_parse_duration_ns(value, &o->timeout_ns) || o->timeout_ns < 0) {
			cli_error("invalid timeout \"%s\": give seconds (e.g. 5) or a duration (e.g. 500ms)",
			          value);
			return -EINVAL;
		}
		return 0;
	default:
		return 0; /* --param is set on the run's params; image flags in pass 1 */
	}
}

/* Whether the flag `arg` (as typed, before the gadget's params exist) takes
 * the next argument as its value: 1 yes, 0 no, -1 not known yet. */
static int takes_next_value(const char *arg)
{
	struct flag f;

	if (strchr(arg, '='))
		return 0;
	if (arg[1] == '-') {
		if (lookup_run_flag(arg + 2, 0, &f) == FLAG_KNOWN)
			return f.takes_value;
		for (size_t i = 0; i < sonde_operator_count(); i++) {
			const struct sonde_operator *op = sonde_operator_at(i);

			for (size_t j = 0; j < op->ninstance_params; j++) {
				const struct sonde_param_desc *d = &op->instance_params[j];

				if (!strcmp(arg + 2, d->key) || (d->alt_key && !strcmp(arg + 2, d->alt_key)))
					return !d->type_hint || strcmp(d->type_hint, "bool");
			}
		}
		return -1;
	}
	/* a group of shorthands: only its last one may take the next argument */
	for (const char *c = arg + 1; *c; c++) {
		if (lookup_run_flag(NULL, *c, &f) != FLAG_KNOWN)
			return -1;
		if (f.takes_value)
			return !c[1];
	}
	return 0;
}

/* An image flag seen in pass 1 (`--store DIR`, `--pull=never`): set now.
 * Returns nonzero after an error line when its value is bad (report). */
static int image_flag_early(const char *arg, const char *next, struct run_opts *o, bool report)
{
	const char *eq = strchr(arg, '=');
	char name[64];
	struct flag f;
	enum run_flag which;
	const char *value;

	snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg - 2) : (int)strlen(arg + 2), arg + 2);
	if (lookup_run_flag(name, 0, &f) != FLAG_KNOWN)
		return 0;
	which = run_flag_of(&f);
	if (which < RUN_STORE || which > RUN_INSECURE_REGISTRIES)
		return 0;
	value = eq ? eq + 1 : f.takes_value ? next : NULL;
	if (f.takes_value && !value)
		return 0; /* pass 2 says what is missing */
	if (set_image_flag(which, value, o))
		return report ? -1 : 0;
	return 0;
}

/* Pass 1, before the gadget is instantiated: where its name is (flags may come
 * first: `sonde run --host trace_open`), and the flags that matter early. A
 * flag only the gadget defines is taken to have a value unless the next
 * argument names a gadget. Returns the index of the name, or -1. */
static int scan_early(int argc, char **argv, struct run_opts *o, bool report)
{
	int gadget = -1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int t;

		if (!strcmp(a, "--")) {
			if (gadget < 0 && i + 1 < argc)
				gadget = i + 1;
			break;
		}
		if (a[0] != '-' || !a[1]) {
			if (gadget < 0)
				gadget = i;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			o->help = true;
		else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
			o->log_level = SONDE_LOG_DEBUG;
		else if (!strncmp(a, "--log-level=", 12))
			parse_log_level(a + 12, &o->log_level, false);
		else if (!strcmp(a, "--log-level") && i + 1 < argc)
			parse_log_level(argv[i + 1], &o->log_level, false);
		else if (a[1] == '-' && image_flag_early(a, i + 1 < argc ? argv[i + 1] : NULL, o, report))
			return -2;
		t = takes_next_value(a);
		if (i + 1 < argc &&
		    (t == 1 || (t == -1 && argv[i + 1][0] != '-' && !sonde_builtin_gadget(argv[i + 1]))))
			i++;
	}
	return gadget;
}

/* Records p as given on this command line; true if it already was. */
static bool seen_before(const struct sonde_param **seen, size_t *n, const struct sonde_param *p)
{
	for (size_t i = 0; i < *n; i++)
		if (seen[i] == p)
			return true;
	if (*n < MAX_LIST_FLAGS)
		seen[(*n)++] = p;
	return false;
}

static int set_param_flag(struct sonde_gadget_ctx *ctx, struct sonde_param *p, const char *value,
                          const struct sonde_param **seen, size_t *nseen)
{
	char *joined;
	int r;

	if (!value)
		value = "true"; /* a bool flag standing alone */
	if (!is_list_param(p) || !seen_before(seen, nseen, p))
		return set_param(ctx, sonde_param_full_name(p), value);
	/* a list flag given again adds to it, as upstream's repeated flags do */
	if (asprintf(&joined, "%s,%s", sonde_param_value(p), value) < 0)
		return -ENOMEM;
	r = set_param(ctx, sonde_param_full_name(p), joined);
	free(joined);
	return r;
}

static int set_param_kv(struct sonde_gadget_ctx *ctx, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char key[256];

	if (!eq) {
		cli_error("--param takes KEY=VALUE, got \"%s\"", kv);
		return -EINVAL;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	return set_param(ctx, key, eq + 1);
}

/* Pass 2: every flag, now that the gadget's params exist. */
static int parse_flags(struct sonde_gadget_ctx *ctx, int argc, char **argv, int gadget_arg,
                       struct run_opts *o)
{
	const struct sonde_param *seen[MAX_LIST_FLAGS];
	struct flag_parser parser;
	size_t nseen = 0;
	char hint[192];
	struct flag f;
	const char *value;
	int r;

	snprintf(hint, sizeof(hint), " (see sonde run %s --help)", sonde_gadget_name(ctx));
	flags_init(&parser, argc, argv, 1, lookup_flag, sonde_gadget_params(ctx));
	parser.help_hint = hint;
	while ((r = flags_next(&parser, &f, &value)) > 0) {
		enum run_flag which;

		if (r == FLAGS_POSITIONAL) {
			if (parser.next - 1 == gadget_arg)
				continue;
			cli_error("unexpected argument \"%s\": one gadget per run", value);
			return -EINVAL;
		}
		which = run_flag_of(&f);
		if (which == RUN_PARAM)
			r = set_param_kv(ctx, value);
		else if (which != NRUN_FLAGS)
			r = set_run_flag(which, value, o);
		else
			r = set_param_flag(ctx, f.id, value, seen, &nseen);
		if (r)
			return -EINVAL;
	}
	return r;
}

/* ---- help ---- */

struct help_row {
	char flag[160];
	const struct sonde_param_desc *d; /* NULL for the flags of `sonde run` */
	const char *description;
};

static void help_row_of_param(struct help_row *row, const struct sonde_param_desc *d)
{
	bool is_bool = d->type_hint && !strcmp(d->type_hint, "bool");

	/* a bool flag needs no value: --failed is --failed=true */
	snprintf(row->flag, sizeof(row->flag), "%s%s%s--%s%s%s", d->alias ? "-" : "",
	         d->alias ? d->alias : "", d->alias ? ", " : "    ", d->key, is_bool ? "" : " ",
	         is_bool ? "" : (d->type_hint ? d->type_hint : "string"));
	row->d = d;
	row->description = d->description;
}

/* Descriptions line up after the widest flag, up to a limit past which a
 * long flag gets a line of its own. */
static int rows_width(const struct help_row *rows, size_t n)
{
	enum { MAX_WIDTH = 34 };
	int width = 0;

	for (size_t i = 0; i < n; i++) {
		int w = (int)strlen(rows[i].flag);
		if (w <= MAX_WIDTH && w > width)
			width = w;
	}
	return width;
}

static void print_rows(const struct help_row *rows, size_t n, int width)
{
	for (size_t i = 0; i < n; i++) {
		const struct sonde_param_desc *d = rows[i].d;

		if ((int)strlen(rows[i].flag) > width)
			printf("  %s\n  %-*s %s", rows[i].flag, width, "",
			       rows[i].description ? rows[i].description : "");
		else
			printf("  %-*s %s", width, rows[i].flag,
			       rows[i].description ? rows[i].description : "");
		if (d && d->possible_values && d->possible_values[0]) {
			printf(" (one of:");
			for (size_t j = 0; d->possible_values[j]; j++)
				printf(" %s", d->possible_values[j]);
			printf(")");
		}
		if (d && d->default_value && *d->default_value)
			printf(" (default %s)", d->default_value);
		printf("\n");
	}
}

static size_t run_flag_rows(struct help_row *rows)
{
	for (size_t i = 0; i < NRUN_FLAGS; i++) {
		flags_format(&run_flags[i], rows[i].flag, sizeof(rows[i].flag));
		rows[i].d = NULL;
		rows[i].description = run_flags[i].description;
	}
	return NRUN_FLAGS;
}

/* `sonde run --help`: what every run takes, before a gadget is chosen. */
static void print_run_help(void)
{
	size_t n = NRUN_FLAGS, k;
	struct help_row *rows;

	printf("Usage: sonde run GADGET [flags]\n\n");
	print_builtins(stdout);
	for (size_t i = 0; i < sonde_operator_count(); i++)
		n += sonde_operator_at(i)->ninstance_params;
	rows = calloc(n, sizeof(*rows));
	if (!rows)
		return;
	k = run_flag_rows(rows);
	for (size_t i = 0; i < sonde_operator_count(); i++) {
		const struct sonde_operator *op = sonde_operator_at(i);

		for (size_t j = 0; j < op->ninstance_params; j++)
			help_row_of_param(&rows[k++], &op->instance_params[j]);
	}
	printf("\nFlags of every run (sonde run GADGET --help adds the gadget's own):\n");
	print_rows(rows, k, rows_width(rows, k));
	free(rows);
	printf("\nTracing gadgets hand their events over in a ring buffer: --ring-size SIZE sets its size\n"
	       "per CPU (default: room for 2048 whole events per CPU, 2M at least, e.g. 2M for trace_open).\n"
	       "Events that come while it is full (sonde behind, its output blocked) are lost, and the\n"
	       "count is reported on stderr.\n");
}

/* Params whose key starts with "ig_" are upstream's internal knobs (map sizes the
 * gadget headers declare): settable with --param, not advertised. */
static bool is_internal_param(const struct sonde_param_desc *d)
{
	return !strncmp(d->key, "ig_", 3);
}

static void print_help(struct sonde_gadget_ctx *ctx)
{
	struct sonde_params *ps = sonde_gadget_params(ctx);
	const char *desc = sonde_config_str(sonde_gadget_config(ctx), "description", NULL);
	struct help_row *rows = calloc(NRUN_FLAGS + sonde_params_count(ps), sizeof(*rows));
	size_t n;

	printf("Usage: sonde run %s [flags]\n\n", sonde_gadget_name(ctx));
	if (desc)
		printf("%s\n\n", desc);
	if (!rows)
		return;
	n = run_flag_rows(rows);
	for (size_t i = 0; i < sonde_params_count(ps); i++) {
		const struct sonde_param_desc *d = sonde_param_desc(sonde_params_at(ps, i));

		if (!is_internal_param(d))
			help_row_of_param(&rows[n++], d);
	}
	printf("Flags:\n");
	print_rows(rows, NRUN_FLAGS, rows_width(rows, n));
	printf("\nGadget and operator flags:\n");
	print_rows(rows + NRUN_FLAGS, n - NRUN_FLAGS, rows_width(rows, n));
	free(rows);
	print_field_help(ctx);
}

/* ---- completion ---- */

static void complete_param(const char *partial, const struct sonde_param_desc *d)
{
	complete_flag(partial, d->alias && !d->alias[1] ? d->alias[0] : 0, d->key);
}

/* The value of `flag` (as typed) being completed: its possible values. */
static bool complete_value(struct sonde_gadget_ctx *ctx, const char *flag_arg, const char *partial)
{
	const struct sonde_param_desc *d;
	struct flag f;

	if (flag_arg[0] != '-' || strchr(flag_arg, '=') || !ctx)
		return false;
	if (lookup_flag(sonde_gadget_params(ctx), flag_arg[1] == '-' ? flag_arg + 2 : NULL,
	                flag_arg[1] == '-' ? 0 : flag_arg[1], &f) != FLAG_KNOWN ||
	    !f.takes_value)
		return false;
	if (run_flag_of(&f) != NRUN_FLAGS) {
		if (run_flag_of(&f) == RUN_LOG_LEVEL)
			for (size_t i = 0; i < 4; i++)
				complete_word(partial,
				              (const char *const[]){"error", "warn", "info", "debug"}[i]);
		return true;
	}
	d = sonde_param_desc(f.id);
	for (size_t i = 0; d->possible_values && d->possible_values[i]; i++)
		complete_word(partial, d->possible_values[i]);
	/* --output takes "mode" or "ds:mode,…"; offer the plain modes: the sinks */
	if (!strcmp(sonde_param_full_name(f.id), "operator.cli.output"))
		for (size_t i = 0; i < sonde_sink_count(); i++)
			complete_word(partial, sonde_sink_at(i)->name);
	return true;
}

static void silent(enum sonde_log_level level, const char *msg, void *arg)
{
}

void run_complete(int n, char **words)
{
	struct sonde_loaded_gadget *loaded = NULL;
	const char *partial = words[n - 1];
	struct sonde_gadget_ctx *ctx = NULL;
	struct run_opts o = {0};
	const struct sonde_gadget_image *image;
	int gadget_arg;

	sonde_log_set_level(SONDE_LOG_ERROR);
	sonde_register_builtin_operators();
	gadget_arg = scan_early(n - 1, words, &o, false);
	image = gadget_arg > 0 ? sonde_builtin_gadget(words[gadget_arg]) : NULL;
	if (!image && gadget_arg > 0 && gadget_arg < n - 1) {
		/* An image of the store: read from disk, never pulled. */
		o.src.pull = SONDE_PULL_NEVER;
		o.src.skip_verify = true;
		sonde_log_set_sink(silent, NULL);
		if (!sonde_image_load(words[gadget_arg], &o.src, &loaded))
			image = sonde_loaded_gadget_image(loaded);
	}
	if (image) {
		ctx = sonde_gadget_ctx_new(image);
		if (ctx && sonde_gadget_instantiate(ctx)) {
			sonde_gadget_ctx_free(ctx);
			ctx = NULL;
		}
	}
	if (n >= 2 && complete_value(ctx, words[n - 2], partial))
		goto out;
	if (partial[0] != '-') {
		if (gadget_arg < 0) {
			for (size_t i = 0; i < sonde_builtin_gadget_count(); i++)
				complete_word(partial, sonde_builtin_gadget_at(i)->name);
			complete_store_tags(partial, o.src.store_dir);
		}
		goto out;
	}
	for (size_t i = 0; i < NRUN_FLAGS; i++)
		complete_flag(partial, run_flags[i].shorthand, run_flags[i].name);
	if (ctx) {
		struct sonde_params *ps = sonde_gadget_params(ctx);

		for (size_t i = 0; i < sonde_params_count(ps); i++)
			if (!is_internal_param(sonde_param_desc(sonde_params_at(ps, i))))
				complete_param(partial, sonde_param_desc(sonde_params_at(ps, i)));
	} else {
		for (size_t i = 0; i < sonde_operator_count(); i++)
			for (size_t j = 0; j < sonde_operator_at(i)->ninstance_params; j++)
				complete_param(partial, &sonde_operator_at(i)->instance_params[j]);
	}
out:
	sonde_gadget_ctx_free(ctx);
	sonde_loaded_gadget_free(loaded);
	free_opts(&o);
}

int cmd_run(int argc, char **argv)
{
	const struct sonde_gadget_image *image;
	struct sonde_gadget_ctx *ctx = NULL;
	struct sonde_loaded_gadget *loaded = NULL;
	struct run_opts o = {.log_level = sonde_log_get_level(), .src = {.sz = sizeof(o.src)}};
	int gadget_arg;
	char err[512];
	int r;

	sonde_register_builtin_operators();
	gadget_arg = scan_early(argc, argv, &o, true);
	if (gadget_arg == -2) {
		free_opts(&o);
		return 1;
	}
	if (gadget_arg < 0) {
		if (o.help) {
			print_run_help();
			return 0;
		}
		cli_error("no gadget given: sonde run GADGET [flags] (sonde run --help lists them)");
		return 1;
	}
	sonde_log_set_level(o.log_level);
	o.src.public_keys = o.public_keys.n ? o.public_keys.items : NULL;
	o.src.allowed_gadgets = o.allowed_gadgets.n ? o.allowed_gadgets.items : NULL;
	o.src.insecure_registries = o.insecure_registries.n ? o.insecure_registries.items : NULL;
	r = sonde_image_load(argv[gadget_arg], &o.src, &loaded);
	if (r) {
		if (r == -ENOENT && !strchr(argv[gadget_arg], '/'))
			print_builtins(stderr);
		if (!cli_errors_logged())
			cli_error("cannot load gadget %s: %s", argv[gadget_arg], strerror(-r));
		free_opts(&o);
		return 1;
	}
	image = sonde_loaded_gadget_image(loaded);
	sonde_debug("gadget %s from %s", image->name ? image->name : argv[gadget_arg],
	            sonde_loaded_gadget_origin(loaded));
	ctx = sonde_gadget_ctx_new(image);
	if (!ctx) {
		cli_error("out of memory");
		r = -ENOMEM;
		goto out;
	}
	r = sonde_gadget_instantiate(ctx);
	if (r)
		goto out;
	r = parse_flags(ctx, argc, argv, gadget_arg, &o);
	if (r)
		goto out;
	sonde_log_set_level(o.log_level);
	if (o.help) {
		print_help(ctx);
		goto out;
	}
	if (sonde_params_validate(sonde_gadget_params(ctx), err, sizeof(err))) {
		cli_error("%s", err);
		r = -EINVAL;
		goto out;
	}
	snprintf(err, sizeof(err), "sonde run %s", sonde_gadget_name(ctx));
	if (!cli_can_trace(err)) {
		r = -EPERM;
		goto out;
	}
	running_ctx = ctx;
	install_signals();
	enlarge_stdout_pipe();
	r = sonde_gadget_run(ctx, o.timeout_ns);
	running_ctx = NULL;
	/* the stop made it non-blocking; others may share the pipe's end */
	if (stdout_pipe >= 0)
		(void)fcntl(stdout_pipe, F_SETFL, stdout_flags);
out:
	if (r && !cli_errors_logged())
		cli_error("gadget %s failed: %s", argv[gadget_arg], strerror(-r));
	sonde_gadget_ctx_free(ctx);
	sonde_loaded_gadget_free(loaded);
	free_opts(&o);
	return r ? 1 : 0;
}
