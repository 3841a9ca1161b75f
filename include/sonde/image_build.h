/* Building gadget images from a source directory (sonde image build), as
 * upstream's `ig image build --local` does: program.bpf.c compiled per
 * architecture with the local clang against Sonde's include/, gadget.yaml as
 * the config, an optional wasm module, packed into an OCI image index.
 */
#ifndef SONDE_IMAGE_BUILD_H
#define SONDE_IMAGE_BUILD_H

#include <stdbool.h>
#include <stddef.h>

/* Called once per step ("compiling amd64 eBPF object", "packing image"). */
typedef void (*sonde_image_build_progress_fn)(const char *step, void *arg);

struct sonde_image_build_opts {
	size_t sz;              /* sizeof(struct sonde_image_build_opts) */
	const char *dir;        /* the gadget's source directory */
	const char *build_file; /* NULL: <dir>/build.yaml when it exists */
	const char *tag;        /* reference to tag in the store; NULL: untagged */
	/* Go architecture names, NULL-terminated; NULL: every architecture a
	 * vmlinux.h is found for (the host's always), the others skipped with a
	 * note. An architecture asked for explicitly without vmlinux.h fails. */
	const char *const *archs;
	const char *clang;       /* NULL: the newest clang-N on PATH, else clang */
	const char *include_dir; /* Sonde's include/ (gadget/…); NULL: found next to the binary */
	const char *output_dir;  /* keep the artifacts here; NULL: a temp dir, removed */
	const char *store_dir;   /* NULL: the default store */
	sonde_image_build_progress_fn progress;
	void *progress_arg;
};

/* Builds the image, stores it and tags it with opts->tag (normalised).
 * digest_out (may be NULL) gets the index digest, ref_out (may be NULL) the
 * normalised reference ("" when untagged). Compiler errors go to stderr as
 * the compiler printed them; the function then returns -EINVAL after
 * logging which step failed. */
int sonde_image_build(const struct sonde_image_build_opts *opts, char digest_out[72], char *ref_out,
                      size_t ref_len);

#endif
