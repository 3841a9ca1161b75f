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

#include <sonde/sonde.h>

#include "cmd.h"

#define MAX_LIST_FLAGS 64

struct run_opts {
	int64_t timeout_ns;
	bool help;
	int verbose;
};

static struct sonde_gadget_ctx *running_ctx;

static void on_signal(int sig)
{
	if (running_ctx)
		sonde_gadget_cancel(running_ctx);
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

static void print_field_help(struct sonde_gadget_ctx *ctx)
{
	for (size_t d = 0; d < sonde_gadget_nds(ctx); d++) {
		struct sonde_ds *ds = sonde_gadget_ds_at(ctx, d);

		if (!sonde_ds_is_referenced(ds))
			continue;
		printf("\nFields of datasource \"%s\" (for --fields; hidden ones in brackets):\n",
		       sonde_ds_name(ds));
		for (size_t i = 0; i < sonde_ds_nfields(ds); i++) {
			struct sonde_field *f = sonde_ds_field_at(ds, i);
			uint32_t flags = sonde_field_flags(f);
			const char *desc = sonde_field_annotation(f, "description");
			char name[128];

			if (flags & (SONDE_FIELD_UNREFERENCED | SONDE_FIELD_EMPTY))
				continue;
			snprintf(name, sizeof(name), flags & SONDE_FIELD_HIDDEN ? "[%s]" : "%s",
			         sonde_field_full_name(f));
			printf("  %-24s %-8s %s\n", name, sonde_kind_name(sonde_field_kind(f)),
			       desc ? desc : "");
		}
	}
}

static bool is_bool_param(const struct sonde_param *p)
{
	const char *t = sonde_param_desc(p)->type_hint;

	return t && !strcmp(t, "bool");
}

static void print_help(struct sonde_gadget_ctx *ctx)
{
	struct sonde_params *ps = sonde_gadget_params(ctx);
	const char *desc = sonde_config_str(sonde_gadget_config(ctx), "description", NULL);

	printf("Usage: sonde run %s [flags]\n\n", sonde_gadget_name(ctx));
	if (desc)
		printf("%s\n\n", desc);
	printf("Flags:\n"
	       "  -t, --timeout SECONDS     stop after this time (0: until interrupted or done)\n"
	       "      --param KEY=VALUE     set a param by its key or full name\n"
	       "  -v, --verbose             print debug messages\n"
	       "  -h, --help                this help\n\nGadget and operator flags:\n");
	for (int pass = 0, width = 26; pass < 2; pass++) {
		/* pass 0 measures the widest flag so that descriptions line up */
		for (size_t i = 0; i < sonde_params_count(ps); i++) {
			struct sonde_param *p = sonde_params_at(ps, i);
			const struct sonde_param_desc *d = sonde_param_desc(p);
			char flag[128];
			int n;

			/* a bool flag needs no value: --failed is --failed=true */
			n = snprintf(flag, sizeof(flag), "%s%s%s--%s%s%s", d->alias ? "-" : "",
			             d->alias ? d->alias : "", d->alias ? ", " : "    ", d->key,
			             is_bool_param(p) ? "" : " ",
			             is_bool_param(p) ? "" : (d->type_hint ? d->type_hint : "string"));
			if (pass == 0) {
				width = n > width ? n : width;
				continue;
			}
			printf("  %-*s %s", width, flag, d->description ? d->description : "");
			if (d->possible_values && d->possible_values[0]) {
				printf(" (one of:");
				for (size_t j = 0; d->possible_values[j]; j++)
					printf(" %s", d->possible_values[j]);
				printf(")");
			}
			if (d->default_value && *d->default_value)
				printf(" (default %s)", d->default_value);
			printf("\n");
		}
	}
	print_field_help(ctx);
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

/* Pass 1: options that matter before the gadget is instantiated. */
static void scan_early(int argc, char **argv, struct run_opts *o)
{
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			o->verbose++;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			o->help = true;
	}
}

static bool is_list_param(const struct sonde_param *p)
{
	const char *t = sonde_param_desc(p)->type_hint;

	return t && !strncmp(t, "[]", 2);
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

/* Pass 2: every flag, now that the gadget's params exist. */
static int parse_flags(struct sonde_gadget_ctx *ctx, int argc, char **argv, struct run_opts *o)
{
	struct sonde_params *ps = sonde_gadget_params(ctx);
	const struct sonde_param *seen[MAX_LIST_FLAGS];
	size_t nseen = 0;

	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i], *value = NULL;
		char name[128];
		struct sonde_param *p;
		bool ambiguous = false;
		const char *eq;

		if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose") || !strcmp(arg, "-h") ||
		    !strcmp(arg, "--help"))
			continue;
		if (arg[0] != '-' || !arg[1]) {
			cli_error("unexpected argument \"%s\"", arg);
			return -EINVAL;
		}
		arg += arg[1] == '-' ? 2 : 1;
		eq = strchr(arg, '=');
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		if (eq)
			value = eq + 1;
		if (!strcmp(name, "t") || !strcmp(name, "timeout") || !strcmp(name, "param")) {
			if (!value && i + 1 < argc)
				value = argv[++i];
			if (!value) {
				cli_error("flag --%s needs a value", name);
				return -EINVAL;
			}
			if (!strcmp(name, "param")) {
				const char *kv_eq = strchr(value, '=');
				char key[256];
				if (!kv_eq) {
					cli_error("--param takes KEY=VALUE, got \"%s\"", value);
					return -EINVAL;
				}
				snprintf(key, sizeof(key), "%.*s", (int)(kv_eq - value), value);
				if (set_param(ctx, key, kv_eq + 1))
					return -EINVAL;
				continue;
			}
			if (sonde_parse_duration_ns(value, &o->timeout_ns) || o->timeout_ns < 0) {
				cli_error("invalid timeout \"%s\": give seconds (e.g. 5) or a duration (e.g. "
				          "500ms)",
				          value);
				return -EINVAL;
			}
			continue;
		}
		p = sonde_params_find_key(ps, name, &ambiguous);
		if (!p && !ambiguous)
			p = sonde_params_find(ps, name);
		if (!p) {
			cli_error(ambiguous ? "ambiguous flag --%s: use --param with its full name"
			                    : "unknown flag --%s (see sonde run %s --help)",
			          name, sonde_gadget_name(ctx));
			return -EINVAL;
		}
		if (!value) {
			/* bool flags may stand alone */
			if (is_bool_param(p) &&
			    (i + 1 >= argc || (strcmp(argv[i + 1], "true") && strcmp(argv[i + 1], "false"))))
				value = "true";
			else if (i + 1 < argc)
				value = argv[++i];
			else {
				cli_error("flag --%s needs a value", name);
				return -EINVAL;
			}
		}
		if (is_list_param(p) && seen_before(seen, &nseen, p)) {
			/* a list flag given again adds to it, as upstream's repeated flags do */
			char *joined;
			int r;

			if (asprintf(&joined, "%s,%s", sonde_param_value(p), value) < 0)
				return -ENOMEM;
			r = set_param(ctx, sonde_param_full_name(p), joined);
			free(joined);
			if (r)
				return -EINVAL;
			continue;
		}
		if (set_param(ctx, sonde_param_full_name(p), value))
			return -EINVAL;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	const struct sonde_gadget_image *image;
	struct sonde_gadget_ctx *ctx;
	struct run_opts o = {0};
	char err[512];
	int r;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fprintf(argc < 2 ? stderr : stdout, "Usage: sonde run GADGET [flags]\n");
		print_builtins(argc < 2 ? stderr : stdout);
		if (argc >= 2)
			printf("\n`sonde run GADGET --help` lists the gadget's flags. Tracing gadgets hand "
			       "their events over in a ring\nbuffer: --ring-size SIZE sets its size per "
			       "CPU (default: room for 2048 whole events per CPU,\n2M at least, e.g. 2M "
			       "for trace_open). Events that come while it is full (sonde behind, its\n"
			       "output blocked) are lost, and the count is reported on stderr.\n");
		return argc < 2 ? 2 : 0;
	}
	scan_early(argc, argv, &o);
	if (o.verbose)
		sonde_log_set_level(SONDE_LOG_DEBUG);
	image = sonde_builtin_gadget(argv[1]);
	if (!image) {
		cli_error("unknown gadget \"%s\"", argv[1]);
		print_builtins(stderr);
		return 1;
	}
	sonde_register_builtin_operators();
	ctx = sonde_gadget_ctx_new(image);
	if (!ctx) {
		cli_error("out of memory");
		return 1;
	}
	r = sonde_gadget_instantiate(ctx);
	if (r)
		goto out;
	r = parse_flags(ctx, argc, argv, &o);
	if (r)
		goto out;
	if (o.help) {
		print_help(ctx);
		goto out;
	}
	if (sonde_params_validate(sonde_gadget_params(ctx), err, sizeof(err))) {
		cli_error("%s", err);
		r = -EINVAL;
		goto out;
	}
	running_ctx = ctx;
	install_signals();
	enlarge_stdout_pipe();
	r = sonde_gadget_run(ctx, o.timeout_ns);
	running_ctx = NULL;
out:
	if (r && !cli_errors_logged())
		cli_error("gadget %s failed: %s", argv[1], strerror(-r));
	sonde_gadget_ctx_free(ctx);
	return r ? 1 : 0;
}
