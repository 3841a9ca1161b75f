/* sonde image pull|push|login|logout: the registry side of the store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sonde/image.h>
#include <sonde/log.h>
#include <sonde/registry.h>

#include "cmd.h"
#include "flags.h"

#define MAX_INSECURE 32

enum reg_target {
	RF_STORE,
	RF_AUTHFILE,
	RF_INSECURE,
	RF_TLS_CA,
	RF_TIMEOUT,
	RF_CHUNK,
	RF_QUIET,
	RF_USER,
	RF_PASSWORD,
	RF_PASSWORD_STDIN,
	RF_ALL,
	RF_VERBOSE,
	RF_HELP,
};

/* which commands take a flag */
#define F_PULL   1u
#define F_PUSH   2u
#define F_LOGIN  4u
#define F_LOGOUT 8u
#define F_XFER   (F_PULL | F_PUSH)
#define F_ALL    (F_PULL | F_PUSH | F_LOGIN | F_LOGOUT)

static const struct reg_flag {
	struct flag_desc flag; /* first: the flag reader's view */
	enum reg_target target;
	unsigned cmds;
} reg_flags[] = {
    {{"store", 0, "DIR", "the image store (default /var/lib/sonde/oci-store for root)"}, RF_STORE, F_XFER},
    {{"authfile", 0, "FILE", "credentials (default $REGISTRY_AUTH_FILE or /var/lib/sonde/config.json)"},
     RF_AUTHFILE,
     F_ALL},
    {{"insecure-registries", 0, "HOSTS", "registries (host:port, comma-separated) spoken to over plain HTTP"},
     RF_INSECURE,
     F_XFER | F_LOGIN},
    {{"tls-ca", 0, "FILE", "CA certificates (PEM) to verify the registry with (default $SSL_CERT_FILE)"},
     RF_TLS_CA,
     F_XFER | F_LOGIN},
    {{"timeout", 0, "SECONDS", "a registry silent this long fails (default 20; connecting: 10)"},
     RF_TIMEOUT,
     F_XFER | F_LOGIN},
    {{"chunk-size", 0, "BYTES", "blobs larger than this are uploaded in chunks (default 16 MiB)"},
     RF_CHUNK,
     F_PUSH},
    {{"quiet", 'q', NULL, "no progress bars"}, RF_QUIET, F_XFER},
    {{"username", 'u', "USER", "user name"}, RF_USER, F_LOGIN},
    {{"password", 'p', "PASSWORD", "password (visible to other users in ps: prefer --password-stdin)"},
     RF_PASSWORD,
     F_LOGIN},
    {{"password-stdin", 0, NULL, "read the password from stdin"}, RF_PASSWORD_STDIN, F_LOGIN},
    {{"all", 'a', NULL, "remove the credentials of every registry"}, RF_ALL, F_LOGOUT},
    {{"verbose", 'v', NULL, "say what is done (requests, mounts, skipped blobs)"}, RF_VERBOSE, F_ALL},
    {{"help", 'h', NULL, "this help"}, RF_HELP, F_ALL},
};
#define NREG_FLAGS (sizeof(reg_flags) / sizeof(reg_flags[0]))

struct reg_opts {
	const char *name;
	unsigned cmd;
	const char *store;
	const char *user, *password;
	bool password_stdin, all;
	const char *positional;
	char insecure_buf[1024];
	const char *insecure[MAX_INSECURE + 1];
	struct sonde_registry_opts ro;
};

static enum flag_lookup lookup_reg_flag(void *arg, const char *name, char shorthand, struct flag *out)
{
	const struct reg_opts *o = arg;
	enum flag_lookup r =
	    flags_find(&reg_flags[0].flag, NREG_FLAGS, sizeof(reg_flags[0]), name, shorthand, out);

	if (r == FLAG_KNOWN && !(((const struct reg_flag *)out->id)->cmds & o->cmd))
		return FLAG_UNKNOWN;
	return r;
}

static void usage(FILE *out, const struct reg_opts *o, const char *args, const char *what)
{
	fprintf(out, "Usage: sonde image %s %s\n\n%s\n\nFlags:\n", o->name, args, what);
	for (size_t i = 0; i < NREG_FLAGS; i++) {
		char flag[64];

		if (!(reg_flags[i].cmds & o->cmd))
			continue;
		flags_format(&reg_flags[i].flag, flag, sizeof(flag));
		fprintf(out, "  %-34s %s\n", flag, reg_flags[i].flag.description);
	}
}

static int split_insecure(struct reg_opts *o, const char *value)
{
	size_t n = 0;
	char *save = NULL, *tok;

	if (strlen(value) >= sizeof(o->insecure_buf)) {
		cli_error("--insecure-registries: list too long");
		return -EINVAL;
	}
	strcpy(o->insecure_buf, value);
	for (tok = strtok_r(o->insecure_buf, ", ", &save); tok && n < MAX_INSECURE;
	     tok = strtok_r(NULL, ", ", &save))
		o->insecure[n++] = tok;
	o->insecure[n] = NULL;
	o->ro.insecure_registries = o->insecure;
	return 0;
}

/* 1: help printed; 0: go on; -EINVAL after one error line. */
static int parse(int argc, char **argv, struct reg_opts *o, const char *args, const char *what)
{
	struct flag_parser parser;
	const char *value;
	struct flag flag;
	char hint[64];
	int r;

	o->ro.sz = sizeof(o->ro);
	o->ro.progress = true;
	snprintf(hint, sizeof(hint), " (see sonde image %s --help)", o->name);
	flags_init(&parser, argc, argv, 1, lookup_reg_flag, o);
	parser.help_hint = hint;
	while ((r = flags_next(&parser, &flag, &value)) > 0) {
		const struct reg_flag *f = flag.id;
		char *end;
		long long v;

		if (r == FLAGS_POSITIONAL) {
			if (o->positional) {
				cli_error("unexpected argument \"%s\"%s", value, hint);
				return -EINVAL;
			}
			o->positional = value;
			continue;
		}
		switch (f->target) {
		case RF_HELP:
			usage(stdout, o, args, what);
			return 1;
		case RF_STORE:
			o->store = value;
			break;
		case RF_AUTHFILE:
			o->ro.authfile = value;
			break;
		case RF_INSECURE:
			if (split_insecure(o, value))
				return -EINVAL;
			break;
		case RF_TLS_CA:
			o->ro.tls_ca_file = value;
			break;
		case RF_TIMEOUT:
		case RF_CHUNK:
			errno = 0;
			v = strtoll(value, &end, 10);
			if (errno || *end || v <= 0 || (f->target == RF_TIMEOUT && v > 86400) ||
			    (f->target == RF_CHUNK && v > (1ll << 30))) {
				cli_error("--%s: \"%s\" is not a positive number in range", f->flag.name,
				          value);
				return -EINVAL;
			}
			if (f->target == RF_TIMEOUT)
				o->ro.stall_timeout_ms = o->ro.connect_timeout_ms = (int)v * 1000;
			else
				o->ro.chunk_size = (size_t)v;
			break;
		case RF_QUIET:
			o->ro.progress = false;
			break;
		case RF_USER:
			o->user = value;
			break;
		case RF_PASSWORD:
			o->password = value;
			break;
		case RF_PASSWORD_STDIN:
			o->password_stdin = true;
			break;
		case RF_ALL:
			o->all = true;
			break;
		case RF_VERBOSE:
			sonde_log_set_level(SONDE_LOG_DEBUG);
			break;
		}
	}
	return r;
}

static int open_store(const struct reg_opts *o, struct sonde_image_store **s)
{
	int r = sonde_image_store_open(o->store, false, s);

	if (r && !cli_errors_logged())
		cli_error("cannot open the image store: %s", strerror(-r));
	return r;
}

static int fail(int r, const char *what, const char *ref)
{
	if (!cli_errors_logged())
		cli_error("%s %s: %s", what, ref, strerror(-r));
	return 1;
}

static int transfer(int argc, char **argv, const char *name, unsigned cmd)
{
	struct reg_opts o = {.name = name, .cmd = cmd};
	struct sonde_image_store *s = NULL;
	struct sonde_image_ref ref;
	char full[1200], digest[72] = "";
	int r = parse(argc, argv, &o, "REF [flags]",
	              cmd == F_PULL ? "Pulls an image and its signatures from its registry into the store."
	                            : "Pushes an image of the store (and its signatures) to its registry.");

	if (r)
		return r > 0 ? 0 : 1;
	if (!o.positional) {
		cli_error("sonde image %s needs an image reference (see sonde image %s --help)", name, name);
		return 1;
	}
	if (sonde_image_ref_parse(o.positional, &ref) || sonde_image_ref_format(&ref, full, sizeof(full)))
		return fail(-EINVAL, "invalid reference", o.positional);
	if (open_store(&o, &s))
		return 1;
	/* on a terminal only: a script's stderr holds errors and nothing else */
	if (o.ro.progress && isatty(STDERR_FILENO))
		fprintf(stderr, "%s %s...\n", cmd == F_PULL ? "Pulling" : "Pushing", full);
	if (cmd == F_PULL)
		r = sonde_image_pull(s, o.positional, &o.ro, digest);
	else
		r = sonde_image_push(s, o.positional, &o.ro, digest);
	sonde_image_store_close(s);
	if (r)
		return fail(r, cmd == F_PULL ? "cannot pull" : "cannot push", full);
	/* a reference by digest already names it */
	printf("Successfully %s %s%s%s\n", cmd == F_PULL ? "pulled" : "pushed", full,
	       ref.digest[0] ? "" : "@", ref.digest[0] ? "" : digest);
	return 0;
}

int cmd_image_pull(int argc, char **argv)
{
	return transfer(argc, argv, "pull", F_PULL);
}

int cmd_image_push(int argc, char **argv)
{
	return transfer(argc, argv, "push", F_PUSH);
}

/* The password from stdin: one line (a trailing newline is not part of it). */
static int read_password_stdin(char *buf, size_t n)
{
	size_t len;

	if (!fgets(buf, (int)n, stdin)) {
		cli_error("--password-stdin: nothing on stdin");
		return -EINVAL;
	}
	len = strlen(buf);
	if (len && buf[len - 1] != '\n' && !feof(stdin)) {
		cli_error("--password-stdin: password too long");
		return -EINVAL;
	}
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = 0;
	return 0;
}

int cmd_image_login(int argc, char **argv)
{
	struct reg_opts o = {.name = "login", .cmd = F_LOGIN};
	char pw[512];
	const char *password;
	int r = parse(argc, argv, &o, "REGISTRY [-u USER] [-p PASSWORD | --password-stdin]",
	              "Checks the credentials against the registry and stores them in the auth file (0600).");

	if (r)
		return r > 0 ? 0 : 1;
	if (!o.positional) {
		cli_error("sonde image login needs a registry (host[:port])");
		return 1;
	}
	if (!o.user) {
		cli_error("sonde image login needs a user name (-u USER)");
		return 1;
	}
	if (o.password && o.password_stdin) {
		cli_error("--password and --password-stdin exclude each other");
		return 1;
	}
	if (o.password_stdin) {
		if (read_password_stdin(pw, sizeof(pw)))
			return 1;
		password = pw;
	} else if (o.password) {
		password = o.password;
	} else if (isatty(STDIN_FILENO)) {
		password = getpass("Password: ");
	} else {
		cli_error("no password: -p PASSWORD or --password-stdin");
		return 1;
	}
	r = sonde_registry_login(o.positional, o.user, password ? password : "", &o.ro);
	memset(pw, 0, sizeof(pw));
	if (r)
		return fail(r, "cannot log in to", o.positional);
	printf("Login Succeeded\n");
	return 0;
}

int cmd_image_logout(int argc, char **argv)
{
	struct reg_opts o = {.name = "logout", .cmd = F_LOGOUT};
	int r =
	    parse(argc, argv, &o, "REGISTRY | -a", "Removes a registry's credentials from the auth file.");

	if (r)
		return r > 0 ? 0 : 1;
	if (!o.positional && !o.all) {
		cli_error("sonde image logout needs a registry (or -a for all)");
		return 1;
	}
	r = sonde_registry_logout(o.positional, o.all, &o.ro);
	if (r)
		return fail(r, "cannot log out of", o.positional ? o.positional : "all registries");
	if (o.all)
		printf("Removed the credentials of all registries\n");
	else
		printf("Removed login credentials for %s\n", o.positional);
	return 0;
}
