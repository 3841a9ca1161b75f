/* A small POSIX ustar writer and a hardened reader, for OCI layout archives
 * (sonde image export/import). Not a general tar: regular files, directories
 * and pax extended headers are read; links, devices, fifos and GNU extensions
 * are refused, since an image archive never needs them and each is a way to
 * make an extractor write outside its target.
 *
 * The reader checks what it can on its own (header checksums, octal fields,
 * sizes against caps, truncation, the shape of names); deciding which names
 * belong to the archive's layout is the caller's. Every refusal is logged once
 * (sonde_log) naming the member and why, and returned as a negative errno.
 */
#ifndef SONDE_IMAGE_TAR_H
#define SONDE_IMAGE_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define TAR_BLOCK 512
/* Names a reader hands out are at most this long (ustar's prefix + name,
 * or a pax path). */
#define TAR_NAME_MAX 256

/* ---- writer ---- */
struct tar_writer {
	FILE *out;
	int64_t mtime; /* every member's modification time (determinism) */
	int err;       /* first error; later calls do nothing */
};

void tar_writer_init(struct tar_writer *w, FILE *out, int64_t mtime);
/* One regular file, mode 0644, owner 0:0. A name over 100 bytes is split
 * into ustar's prefix and name at a '/'; -ENAMETOOLONG if it cannot be. */
int tar_write_file(struct tar_writer *w, const char *name, const void *data, size_t len);
/* The two zero blocks that end an archive, then flushes; the first error of
 * the whole archive (0 if none). Does not close the FILE. */
int tar_writer_finish(struct tar_writer *w);

/* ---- reader ---- */
enum tar_type {
	TAR_FILE = 0,
	TAR_DIR = 1,
};

struct tar_member {
	char name[TAR_NAME_MAX + 1]; /* without a leading "./", trailing '/' of dirs removed */
	enum tar_type type;
	uint64_t size; /* 0 for directories */
};

struct tar_limits {
	uint64_t max_member; /* a member's size cap */
	uint64_t max_total;  /* sum of all members' sizes (tar bomb) */
	size_t max_members;  /* number of members */
};

/* Reads an archive from a FILE or from memory. */
struct tar_reader {
	FILE *in;           /* or */
	const uint8_t *mem; /* mem/memlen when in is NULL */
	size_t memlen, mempos;
	struct tar_limits limits;
	uint64_t total, nmembers;
	uint64_t remaining; /* data bytes of the current member not yet read */
	uint64_t padding;   /* bytes to the next header after the data */
	char what[64];      /* "archive FILE" for messages */
	char current[TAR_NAME_MAX + 1];
	bool done;
};

void tar_reader_init_file(struct tar_reader *r, FILE *in, const struct tar_limits *lim, const char *what);
void tar_reader_init_mem(struct tar_reader *r, const void *data, size_t len, const struct tar_limits *lim,
                         const char *what);
/* The next member: 1 with *m filled, 0 at the end of the archive, or a
 * negative errno (logged). Skips what is left of the previous member's data.
 * Refused (-EINVAL): bad checksum or field, absolute names, names with a
 * ".." component, empty names, links, devices, fifos, GNU and unknown
 * member types; -EFBIG: beyond a cap; -EIO: truncated or a read error. */
int tar_next(struct tar_reader *r, struct tar_member *m);
/* Reads up to n bytes of the current member's data: the count (0 at its
 * end) or -EIO (logged) when the archive ends early. */
ssize_t tar_read(struct tar_reader *r, void *buf, size_t n);

#endif
