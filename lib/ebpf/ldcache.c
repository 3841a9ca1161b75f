/* /etc/ld.so.cache lookup: uprobe targets may name a library without a path
 * (`uprobe/libc:malloc`), resolved the way the dynamic loader would find it.
 *
 * Two layouts exist: the legacy "ld.so-1.7.0" table (optionally followed by
 * the new table) and the "glibc-ld.so.cache1.1" table alone (glibc ≥ 2.32). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/log.h>

#include "internal.h"
#include "util/file.h"

#define OLD_MAGIC      "ld.so-1.7.0"
#define NEW_MAGIC      "glibc-ld.so.cache"
#define NEW_VERSION    "1.1"
#define MAX_CACHE_SIZE (64u << 20)

#define FLAG_TYPE_MASK     0x00ff
#define FLAG_ELF_LIBC6     0x0003
#define FLAG_REQUIRED_MASK 0xff00
#define FLAG_X8664_LIB64   0x0300
#define FLAG_AARCH64_LIB64 0x0a00

struct old_entry {
	int32_t flags;
	uint32_t key, value;
};

struct new_header {
	char magic[17];
	char version[3];
	uint32_t nlibs;
	uint32_t len_strings;
	uint8_t flags;
	uint8_t pad[3];
	uint32_t extension_offset;
	uint32_t unused[3];
};

struct new_entry {
	int32_t flags;
	uint32_t key, value;
	uint32_t osversion;
	uint64_t hwcap;
};

/* Entries of other ABIs (32-bit libraries on a 64-bit host) cannot be probed
 * with this host's symbol resolution, so they are left out. */
static bool host_abi(int32_t flags)
{
	if ((flags & FLAG_TYPE_MASK) != FLAG_ELF_LIBC6)
		return false;
#if defined(__x86_64__)
	return (flags & FLAG_REQUIRED_MASK) == FLAG_X8664_LIB64;
#elif defined(__aarch64__)
	return (flags & FLAG_REQUIRED_MASK) == FLAG_AARCH64_LIB64;
#else
	return true;
#endif
}

/* NUL-terminated string at base+off inside [0, len), or NULL. */
static const char *str_at(const char *buf, size_t len, size_t base, uint64_t off)
{
	uint64_t pos = base + off;

	if (pos >= len || !memchr(buf + pos, '\0', len - pos))
		return NULL;
	return buf + pos;
}

struct result {
	char **paths; /* NULL-terminated */
	size_t n, cap;
	int err;
};

static void consider(struct result *r, const char *prefix, const char *key, const char *value)
{
	char *copy;

	if (!key || !value || strncmp(key, prefix, strlen(prefix)) != 0)
		return;
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->paths[i], value) == 0)
			return;
	copy = strdup(value);
	if (!copy || grow_array((void **)&r->paths, &r->cap, r->n + 2, sizeof(*r->paths))) {
		free(copy);
		r->err = -ENOMEM;
		return;
	}
	r->paths[r->n++] = copy;
	r->paths[r->n] = NULL;
}

static int parse_new(const char *buf, size_t len, size_t at, const char *prefix, struct result *r)
{
	struct new_header h;

	if (at > len || len - at < sizeof(h))
		return -EINVAL;
	memcpy(&h, buf + at, sizeof(h));
	if (memcmp(h.magic, NEW_MAGIC, sizeof(h.magic)) || memcmp(h.version, NEW_VERSION, 3))
		return -EINVAL;
	if ((uint64_t)h.nlibs * sizeof(struct new_entry) > len - at - sizeof(h))
		return -EINVAL;
	for (uint32_t i = 0; i < h.nlibs && !r->err; i++) {
		struct new_entry e;

		memcpy(&e, buf + at + sizeof(h) + (size_t)i * sizeof(e), sizeof(e));
		if (host_abi(e.flags))
			consider(r, prefix, str_at(buf, len, at, e.key), str_at(buf, len, at, e.value));
	}
	return 0;
}

static int parse(const char *buf, size_t len, const char *prefix, struct result *r)
{
	size_t old_hdr = 16; /* magic[11], padding, nlibs */
	uint32_t nlibs;
	size_t entries_end, new_at;

	if (len >= sizeof(struct new_header) && memcmp(buf, NEW_MAGIC, strlen(NEW_MAGIC)) == 0)
		return parse_new(buf, len, 0, prefix, r);
	if (len < old_hdr || memcmp(buf, OLD_MAGIC, strlen(OLD_MAGIC)) != 0)
		return -EINVAL;
	memcpy(&nlibs, buf + 12, sizeof(nlibs));
	if ((uint64_t)nlibs * sizeof(struct old_entry) > len - old_hdr)
		return -EINVAL;
	entries_end = old_hdr + (size_t)nlibs * sizeof(struct old_entry);
	/* The new table, when present, follows at the next 8-byte boundary and
	 * carries the same libraries with richer flags: prefer it. */
	new_at = (entries_end + 7) & ~(size_t)7;
	if (parse_new(buf, len, new_at, prefix, r) == 0)
		return 0;
	for (uint32_t i = 0; i < nlibs && !r->err; i++) {
		struct old_entry e;

		memcpy(&e, buf + old_hdr + (size_t)i * sizeof(e), sizeof(e));
		if (host_abi(e.flags))
			consider(r, prefix, str_at(buf, len, entries_end, e.key),
			         str_at(buf, len, entries_end, e.value));
	}
	return 0;
}

int ebpf_ldcache_parse(const char *buf, size_t len, const char *name, char ***paths, size_t *n)
{
	struct result r = {0};
	char prefix[256];
	int err;

	*paths = NULL;
	*n = 0;
	if (snprintf(prefix, sizeof(prefix), "%s.so", name) >= (int)sizeof(prefix))
		return -ENAMETOOLONG;
	err = parse(buf, len, prefix, &r);
	if (err) {
		ebpf_ldcache_free(r.paths);
		return -EBADMSG;
	}
	if (r.err) {
		ebpf_ldcache_free(r.paths);
		return r.err;
	}
	*paths = r.paths;
	*n = r.n;
	return 0;
}

int ebpf_ldcache_lookup(const char *cache_path, const char *name, char ***paths, size_t *n)
{
	char *buf = NULL;
	size_t len = 0;
	int err;

	*paths = NULL;
	*n = 0;
	err = util_read_file(cache_path, MAX_CACHE_SIZE, &buf, &len);
	if (err)
		return err;
	err = ebpf_ldcache_parse(buf, len, name, paths, n);
	free(buf);
	return err;
}

void ebpf_ldcache_free(char **paths)
{
	for (size_t i = 0; paths && paths[i]; i++)
		free(paths[i]);
	free(paths);
}
