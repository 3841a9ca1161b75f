/* ustar writer and hardened reader (see tar.h). */
#include "image/tar.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

/* ustar header offsets */
#define H_NAME     0
#define H_MODE     100
#define H_UID      108
#define H_GID      116
#define H_SIZE     124
#define H_MTIME    136
#define H_CHKSUM   148
#define H_TYPE     156
#define H_LINKNAME 157
#define H_MAGIC    257
#define H_VERSION  263
#define H_PREFIX   345

/* A pax extended header is a few records; anything bigger is not ours. */
#define PAX_MAX (64u << 10)

/* ---- writer ---- */

void tar_writer_init(struct tar_writer *w, FILE *out, int64_t mtime)
{
	w->out = out;
	w->mtime = mtime < 0 ? 0 : mtime;
	w->err = 0;
}

static void put_octal(uint8_t *field, size_t width, uint64_t v)
{
	/* width-1 digits, zero-padded, then NUL: what GNU and Go tar write */
	snprintf((char *)field, width, "%0*" PRIo64, (int)width - 1, v);
}

static int tar_put(struct tar_writer *w, const void *data, size_t len)
{
	if (!w->err && len && fwrite(data, 1, len, w->out) != len)
		w->err = -(errno ? errno : EIO);
	return w->err;
}

int tar_write_file(struct tar_writer *w, const char *name, const void *data, size_t len)
{
	static const uint8_t zeros[TAR_BLOCK];
	uint8_t h[TAR_BLOCK] = {0};
	size_t nlen = strlen(name);
	unsigned sum = 0;

	if (w->err)
		return w->err;
	if (nlen <= 100) {
		memcpy(h + H_NAME, name, nlen);
	} else {
		/* split at the last '/' that leaves a name of at most 100 bytes */
		const char *cut = NULL;

		for (const char *p = name + nlen - 1; p > name; p--)
			if (*p == '/' && (size_t)(name + nlen - (p + 1)) <= 100) {
				if ((size_t)(p - name) <= 155)
					cut = p;
				else
					break;
			}
		if (!cut || cut[1] == '\0') {
			sonde_err("tar: member name too long for ustar: %s", name);
			return w->err = -ENAMETOOLONG;
		}
		memcpy(h + H_PREFIX, name, (size_t)(cut - name));
		memcpy(h + H_NAME, cut + 1, nlen - (size_t)(cut - name) - 1);
	}
	put_octal(h + H_MODE, 8, 0644);
	put_octal(h + H_UID, 8, 0);
	put_octal(h + H_GID, 8, 0);
	put_octal(h + H_SIZE, 12, len);
	put_octal(h + H_MTIME, 12, (uint64_t)w->mtime);
	h[H_TYPE] = '0';
	memcpy(h + H_MAGIC, "ustar", 6);
	memcpy(h + H_VERSION, "00", 2);
	memset(h + H_CHKSUM, ' ', 8);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	snprintf((char *)h + H_CHKSUM, 8, "%06o", sum);
	h[H_CHKSUM + 7] = ' ';
	tar_put(w, h, sizeof(h));
	tar_put(w, data, len);
	if (len % TAR_BLOCK)
		tar_put(w, zeros, TAR_BLOCK - len % TAR_BLOCK);
	if (w->err)
		sonde_err("tar: writing %s: %s", name, strerror(-w->err));
	return w->err;
}

int tar_writer_finish(struct tar_writer *w)
{
	static const uint8_t zeros[2 * TAR_BLOCK];

	tar_put(w, zeros, sizeof(zeros));
	if (!w->err && fflush(w->out) != 0)
		w->err = -(errno ? errno : EIO);
	return w->err;
}

/* ---- reader ---- */

static void reader_init(struct tar_reader *r, const struct tar_limits *lim, const char *what)
{
	r->limits = *lim;
	r->total = r->nmembers = r->remaining = r->padding = 0;
	r->current[0] = '\0';
	r->done = false;
	snprintf(r->what, sizeof(r->what), "%s", what ? what : "archive");
}

void tar_reader_init_file(struct tar_reader *r, FILE *in, const struct tar_limits *lim, const char *what)
{
	r->in = in;
	r->mem = NULL;
	r->memlen = r->mempos = 0;
	reader_init(r, lim, what);
}

void tar_reader_init_mem(struct tar_reader *r, const void *data, size_t len, const struct tar_limits *lim,
                         const char *what)
{
	r->in = NULL;
	r->mem = data;
	r->memlen = len;
	r->mempos = 0;
	reader_init(r, lim, what);
}

/* Up to n bytes; fewer only at the end of the input (or -EIO). */
static ssize_t raw_read(struct tar_reader *r, void *buf, size_t n)
{
	size_t got;

	if (!r->in) {
		got = r->memlen - r->mempos < n ? r->memlen - r->mempos : n;
		memcpy(buf, r->mem + r->mempos, got);
		r->mempos += got;
		return (ssize_t)got;
	}
	got = fread(buf, 1, n, r->in);
	if (got < n && ferror(r->in)) {
		sonde_err("%s: read error: %s", r->what, strerror(errno ? errno : EIO));
		return -EIO;
	}
	return (ssize_t)got;
}

static int raw_skip(struct tar_reader *r, uint64_t n)
{
	uint8_t buf[16384];

	if (!r->in) {
		if (r->memlen - r->mempos < n)
			goto truncated;
		r->mempos += n;
		return 0;
	}
	while (n) {
		size_t chunk = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		ssize_t got = raw_read(r, buf, chunk);

		if (got < 0)
			return (int)got;
		if ((size_t)got < chunk)
			goto truncated;
		n -= chunk;
	}
	return 0;
truncated:
	sonde_err("%s: truncated (in %s)", r->what, r->current[0] ? r->current : "the archive");
	return -EIO;
}

/* An octal field: optional leading spaces, digits, then NUL/space to the
 * end. GNU base-256 (high bit set) is read for sizes too. */
static int parse_number(const uint8_t *f, size_t width, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] != 0x80) /* negative or a value this wide cannot be ours */
			return -1;
		for (i = 1; i < width; i++) {
			if (v >> 55)
				return -1;
			v = (v << 8) | f[i];
		}
		*out = v;
		return 0;
	}
	while (i < width && f[i] == ' ')
		i++;
	if (i == width || f[i] < '0' || f[i] > '7')
		return i == width || f[i] == '\0' ? (*out = 0, 0) : -1;
	for (; i < width && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < width; i++)
		if (f[i] != '\0' && f[i] != ' ')
			return -1;
	*out = v;
	return 0;
}

static bool checksum_ok(const uint8_t *h)
{
	uint64_t want;
	unsigned usum = 0;
	int ssum = 0;

	if (parse_number(h + H_CHKSUM, 8, &want) < 0)
		return false;
	for (size_t i = 0; i < TAR_BLOCK; i++) {
		uint8_t c = (i >= H_CHKSUM && i < H_CHKSUM + 8) ? ' ' : h[i];
		usum += c;
		ssum += (signed char)c;
	}
	/* historic tars summed signed chars */
	return want == usum || (int64_t)want == ssum;
}

/* Canonical relative names only: what an extractor could be tricked by is
 * refused here, whatever the caller then does with the name. */
static int check_name(struct tar_reader *r, char *name)
{
	size_t len;

	while (name[0] == '.' && name[1] == '/') {
		memmove(name, name + 2, strlen(name + 2) + 1);
		while (name[0] == '/') /* ".//x" */
			memmove(name, name + 1, strlen(name));
	}
	if (!strcmp(name, "."))
		name[0] = '\0';
	len = strlen(name);
	while (len && name[len - 1] == '/')
		name[--len] = '\0';
	if (r->current[0] == '/' || name[0] == '/') {
		sonde_err("%s: member \"%s\" has an absolute path", r->what, r->current);
		return -EINVAL;
	}
	for (const char *p = name; *p;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);

		if ((n == 2 && p[0] == '.' && p[1] == '.')) {
			sonde_err("%s: member \"%s\" has a \"..\" component", r->what, r->current);
			return -EINVAL;
		}
		if (n == 0 || (n == 1 && p[0] == '.')) {
			sonde_err("%s: member \"%s\" is not a canonical path", r->what, r->current);
			return -EINVAL;
		}
		p += n + (e ? 1 : 0);
	}
	return 0;
}

/* Reads a pax extended header's records; keeps path and size. */
static int parse_pax(struct tar_reader *r, const char *data, size_t len, char *path, bool *has_path,
                     uint64_t *size, bool *has_size)
{
	size_t pos = 0;

	while (pos < len) {
		char *end;
		unsigned long long rlen;
		const char *rec = data + pos, *eq, *val;
		size_t klen, vlen;

		if (rec[0] < '1' || rec[0] > '9')
			goto bad;
		errno = 0;
		rlen = strtoull(rec, &end, 10);
		if (errno || *end != ' ' || rlen > len - pos || rlen < 4 || rec[rlen - 1] != '\n')
			goto bad;
		eq = memchr(end + 1, '=', (size_t)(rec + rlen - 1 - (end + 1)));
		if (!eq)
			goto bad;
		klen = (size_t)(eq - (end + 1));
		val = eq + 1;
		vlen = (size_t)(rec + rlen - 1 - val);
		if (klen == 4 && !memcmp(end + 1, "path", 4)) {
			if (vlen == 0 || vlen > TAR_NAME_MAX || memchr(val, '\0', vlen)) {
				sonde_err("%s: pax path of %zu bytes refused", r->what, vlen);
				return -EINVAL;
			}
			memcpy(path, val, vlen);
			path[vlen] = '\0';
			*has_path = true;
		} else if (klen == 4 && !memcmp(end + 1, "size", 4)) {
			char num[32];

			if (vlen == 0 || vlen >= sizeof(num))
				goto bad;
			memcpy(num, val, vlen);
			num[vlen] = '\0';
			errno = 0;
			*size = strtoull(num, &end, 10);
			if (errno || *end || num[0] < '0' || num[0] > '9')
				goto bad;
			*has_size = true;
		} else if ((klen == 8 && !memcmp(end + 1, "linkpath", 8)) ||
		           (klen > 11 && !memcmp(end + 1, "GNU.sparse.", 11))) {
			sonde_err("%s: pax header with links or sparse data refused", r->what);
			return -EINVAL;
		}
		pos += rlen;
	}
	return 0;
bad:
	sonde_err("%s: malformed pax extended header", r->what);
	return -EINVAL;
}

static int read_block(struct tar_reader *r, uint8_t *h, bool *eof)
{
	ssize_t got = raw_read(r, h, TAR_BLOCK);

	*eof = false;
	if (got < 0)
		return (int)got;
	if (got == 0) {
		*eof = true;
		return 0;
	}
	if (got < TAR_BLOCK) {
		sonde_err("%s: truncated (a header of %zd bytes)", r->what, got);
		return -EIO;
	}
	return 0;
}

int tar_next(struct tar_reader *r, struct tar_member *m)
{
	char pax_path[TAR_NAME_MAX + 1];
	bool has_pax_path = false, has_pax_size = false;
	uint64_t pax_size = 0;
	uint8_t h[TAR_BLOCK];
	int err;

	if (r->done)
		return 0;
	err = raw_skip(r, r->remaining + r->padding);
	if (err < 0)
		return err;
	r->remaining = r->padding = 0;
	for (;;) {
		uint64_t size;
		bool eof, zero = true, ustar_prefix;
		char name[TAR_NAME_MAX + 1];
		uint8_t type;

		err = read_block(r, h, &eof);
		if (err < 0)
			return err;
		if (eof) {
			if (has_pax_path || has_pax_size) {
				sonde_err("%s: truncated after a pax header", r->what);
				return -EIO;
			}
			r->done = true;
			return 0;
		}
		for (size_t i = 0; i < TAR_BLOCK && zero; i++)
			zero = h[i] == 0;
		if (zero) {
			r->done = true;
			return 0;
		}
		if (memcmp(h + H_MAGIC, "ustar", 5) != 0) {
			sonde_err("%s: not a ustar archive (member %" PRIu64 ")", r->what, r->nmembers + 1);
			return -EINVAL;
		}
		if (!checksum_ok(h)) {
			sonde_err("%s: bad header checksum (member %" PRIu64 ")", r->what, r->nmembers + 1);
			return -EINVAL;
		}
		/* POSIX ustar puts a name prefix at 345; GNU ("ustar  ") keeps times there */
		ustar_prefix = h[H_MAGIC + 5] == '\0' && h[H_PREFIX] != '\0';
		if (ustar_prefix)
			snprintf(name, sizeof(name), "%.155s/%.100s", (const char *)h + H_PREFIX,
			         (const char *)h + H_NAME);
		else
			snprintf(name, sizeof(name), "%.100s", (const char *)h + H_NAME);
		if (has_pax_path)
			memcpy(name, pax_path, sizeof(name));
		snprintf(r->current, sizeof(r->current), "%s", name);
		if (parse_number(h + H_SIZE, 12, &size) < 0) {
			sonde_err("%s: member \"%s\" has a malformed size", r->what, r->current);
			return -EINVAL;
		}
		if (has_pax_size)
			size = pax_size;
		type = h[H_TYPE];
		if (++r->nmembers > r->limits.max_members) {
			sonde_err("%s: more than %zu members", r->what, r->limits.max_members);
			return -EFBIG;
		}
		if (type == 'x' || type == 'g') {
			char *pax;
			ssize_t got;

			if (size > PAX_MAX) {
				sonde_err("%s: pax header of %" PRIu64 " bytes refused", r->what, size);
				return -EFBIG;
			}
			pax = malloc(size + 1);
			if (!pax)
				return -ENOMEM;
			got = raw_read(r, pax, (size_t)size);
			if (got < 0 || (uint64_t)got < size) {
				free(pax);
				sonde_err("%s: truncated pax header", r->what);
				return -EIO;
			}
			err = raw_skip(r, (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
			/* global headers apply to no member in particular: ignored */
			if (!err && type == 'x')
				err = parse_pax(r, pax, (size_t)size, pax_path, &has_pax_path, &pax_size,
				                &has_pax_size);
			free(pax);
			if (err < 0)
				return err;
			continue;
		}
		switch (type) {
		case '0':
		case '\0':
		case '7':
			m->type = TAR_FILE;
			break;
		case '5':
			m->type = TAR_DIR;
			break;
		case '1':
		case '2':
			sonde_err("%s: member \"%s\" is a %s link, refused", r->what, r->current,
			          type == '1' ? "hard" : "symbolic");
			return -EINVAL;
		case '3':
		case '4':
		case '6':
			sonde_err("%s: member \"%s\" is a device or fifo, refused", r->what, r->current);
			return -EINVAL;
		default:
			sonde_err("%s: member \"%s\" has an unsupported type '%c'", r->what, r->current,
			          type >= 0x20 && type < 0x7f ? type : '?');
			return -EINVAL;
		}
		err = check_name(r, name);
		if (err < 0)
			return err;
		if (m->type == TAR_FILE && !name[0]) {
			sonde_err("%s: a file member has an empty name", r->what);
			return -EINVAL;
		}
		if (m->type == TAR_DIR)
			size = 0; /* a directory's size field means nothing and owns no data */
		if (size > r->limits.max_member) {
			sonde_err("%s: member \"%s\" is %" PRIu64 " bytes, over the limit of %" PRIu64,
			          r->what, r->current, size, r->limits.max_member);
			return -EFBIG;
		}
		if (size > r->limits.max_total - r->total) {
			sonde_err("%s: members add up to more than %" PRIu64 " bytes", r->what,
			          r->limits.max_total);
			return -EFBIG;
		}
		r->total += size;
		memcpy(m->name, name, sizeof(m->name));
		m->size = size;
		r->remaining = size;
		r->padding = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
		return 1;
	}
}

ssize_t tar_read(struct tar_reader *r, void *buf, size_t n)
{
	ssize_t got;

	if (n > r->remaining)
		n = (size_t)r->remaining;
	if (!n)
		return 0;
	got = raw_read(r, buf, n);
	if (got < 0)
		return got;
	if ((size_t)got < n) {
		sonde_err("%s: truncated (member \"%s\" ends early)", r->what, r->current);
		return -EIO;
	}
	r->remaining -= (uint64_t)got;
	return got;
}
