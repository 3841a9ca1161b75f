/* sonde image build DIR [-t REF] [-f build.yaml] [--arch a,b] [-o OUTDIR]
 * [--store DIR]: a gadget directory compiled with the local clang and packed
 * into an image of the store (spec §1.7, upstream's `ig image build --local`). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/image_build.h>

#include "cmd.h"
#include "flags.h"

enum build_target { B_TAG, B_FILE, B_ARCH, B_OUTPUT, B_STORE, B_CLANG, B_INCLUDE, B_LOCAL, B_HELP };

static const struct build_flag {
	struct flag_desc flag; /* first: the flag reader's view */
	enum build_target target;
} build_flags[] = {
    {{"tag", 't', "REF", "name the image (name:tag, normalised as upstream)"}, B_TAG},
    {{"file", 'f', "FILE", "build file (default: DIR/build.yaml when present)"}, B_FILE},
    {{"arch", 0, "ARCHS", "architectures, comma-separated (default: amd64,arm64, each with a vmlinux.h)"},
     B_ARCH},
    {{"output", 'o', "DIR", "keep the compiled objects in DIR"}, B_OUTPUT},
    {{"store", 0, "DIR", "OCI store (default /var/lib/sonde/oci-store for root)"}, B_STORE},
    {{"clang", 0, "PATH", "compiler (default: the newest clang-N on PATH)"}, B_CLANG},
    {{"include-dir", 0, "DIR", "Sonde's include/ with the gadget headers"}, B_INCLUDE},
    {{"local", 'l', NULL, "accepted for upstream compatibility: Sonde always builds locally"}, B_LOCAL},
    {{"help", 'h', NULL, "this help"}, B_HELP},
};
#define NBUILD_FLAGS (sizeof(build_flags) / sizeof(build_flags[0]))

static void usage(FILE *out)
{
	fprintf(out, "Usage: sonde image build DIR [flags]\n\n"
	             "Compiles DIR/program.bpf.c per architecture against Sonde's gadget headers and\n"
	             "include/gadget/<arch>/vmlinux.h (Debian 12's 6.1 kernel, the same on every\n"
	             "machine), then stores an image with gadget.yaml and DIR/program.wasm (if any).\n"
	             "SOURCE_DATE_EPOCH makes the digests reproducible.\n\nFlags:\n");
	flags_print_table(out, &build_flags[0].flag, NBUILD_FLAGS, sizeof(build_flags[0]), 24);
}

static enum flag_lookup lookup(void *arg, const char *name, char shorthand, struct flag *out)
{
	return flags_find(&build_flags[0].flag, NBUILD_FLAGS, sizeof(build_flags[0]), name, shorthand, out);
}

static void on_progress(const char *step, void *arg)
{
	fprintf(stderr, "%s\n", step);
	fflush(stderr);
}

/* "amd64,arm64" into a NULL-terminated list pointing into buf. */
static int split_archs(char *buf, const char **archs, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!*tok)
			continue;
		if (n + 1 >= max) {
			cli_error("too many architectures in --arch");
			return -EINVAL;
		}
		archs[n++] = tok;
	}
	archs[n] = NULL;
	if (!n) {
		cli_error("--arch needs at least one architecture");
		return -EINVAL;
	}
	return 0;
}

int cmd_image_build(int argc, char **argv)
{
	struct sonde_image_build_opts o = {.sz = sizeof(o), .progress = on_progress};
	struct flag_parser parser;
	struct flag flag;
	const char *value, *archs[8];
	char *arch_buf = NULL, digest[72], ref[1024];
	int r;

	flags_init(&parser, argc, argv, 1, lookup, NULL);
	parser.help_hint = " (see sonde image build --help)";
	while ((r = flags_next(&parser, &flag, &value)) > 0) {
		const struct build_flag *f = flag.id;

		if (r == FLAGS_POSITIONAL) {
			if (o.dir) {
				cli_error("unexpected argument \"%s\": one directory is built", value);
				goto fail;
			}
			o.dir = value;
			continue;
		}
		switch (f->target) {
		case B_HELP:
			usage(stdout);
			free(arch_buf);
			return 0;
		case B_TAG:
			o.tag = value;
			break;
		case B_FILE:
			o.build_file = value;
			break;
		case B_ARCH:
			free(arch_buf);
			arch_buf = strdup(value);
			if (!arch_buf || split_archs(arch_buf, archs, sizeof(archs) / sizeof(archs[0])) < 0)
				goto fail;
			o.archs = archs;
			break;
		case B_OUTPUT:
			o.output_dir = value;
			break;
		case B_STORE:
			o.store_dir = value;
			break;
		case B_CLANG:
			o.clang = value;
			break;
		case B_INCLUDE:
			o.include_dir = value;
			break;
		case B_LOCAL:
			break;
		}
	}
	if (r < 0)
		goto fail;
	if (!o.dir) {
		cli_error("sonde image build needs a directory (see sonde image build --help)");
		goto fail;
	}
	r = sonde_image_build(&o, digest, ref, sizeof(ref));
	free(arch_buf);
	if (r < 0) {
		if (!cli_errors_logged())
			cli_error("building %s: %s", o.dir, strerror(-r));
		return 1;
	}
	if (ref[0])
		printf("Successfully built %s@%s\n", ref, digest);
	else
		printf("Successfully built @%s\n", digest); /* as upstream prints an untagged build */
	return 0;
fail:
	free(arch_buf);
	return 1;
}
