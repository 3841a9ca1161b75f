/* passwd/group name tables and their inotify refresh (see name_cache.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/log.h>

#include "host/name_cache.h"
#include "util/file.h"

/* Open addressing keyed by id; `name` is 1 + the offset of the name in
 * `text`, 0 marks a free slot. */
struct id_slot {
	uint32_t id;
	uint32_t name;
};

struct id_names {
	char *text; /* the file's bytes, names NUL-terminated in place */
	struct id_slot *slots;
	size_t mask;
	size_t count;
};

/* Files bigger than this are not a passwd file anyone should parse per run. */
#define MAX_FILE_SIZE (64u << 20)

static size_t slot_of(uint32_t id, size_t mask)
{
	return ((uint64_t)id * 0x9E3779B97F4A7C15ull >> 32) & mask;
}

static void insert(struct id_names *t, uint32_t id, uint32_t name)
{
	size_t i = slot_of(id, t->mask);

	while (t->slots[i].name) {
		if (t->slots[i].id == id)
			return; /* the first line for an id wins, as with getpwuid */
		i = (i + 1) & t->mask;
	}
	t->slots[i] = (struct id_slot){id, name};
	t->count++;
}

/* Strict decimal uint32: what strconv.ParseUint(s, 10, 32) accepts. */
static bool parse_id(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return false; /* checked per digit: no overflow, leading zeros fine */
	}
	*out = (uint32_t)v;
	return true;
}

static void parse_line(struct id_names *t, char *line, size_t len)
{
	char *end = line + len, *c1, *c2, *c3;
	uint32_t id;

	while (line < end && (*line == ' ' || *line == '\t'))
		line++;
	if (end > line && end[-1] == '\r')
		end--;
	if (line == end || *line == '#')
		return;
	c1 = memchr(line, ':', (size_t)(end - line));
	c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
	if (!c2 || c1 == line)
		return; /* fewer than three fields, or no name */
	c3 = memchr(c2 + 1, ':', (size_t)(end - c2 - 1));
	if (!parse_id(c2 + 1, (size_t)((c3 ? c3 : end) - c2 - 1), &id))
		return;
	*c1 = 0;
	insert(t, id, (uint32_t)(line - t->text) + 1);
}

static struct id_names *parse_owned(char *text, size_t len)
{
	struct id_names *t = calloc(1, sizeof(*t));
	size_t lines = 1, cap = 8;

	if (!t) {
		free(text);
		return NULL;
	}
	t->text = text;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	while (cap < lines * 2)
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots) {
		id_names_free(t);
		return NULL;
	}
	t->mask = cap - 1;
	for (size_t pos = 0; pos < len;) {
		char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		parse_line(t, text + pos, n);
		pos += n + 1;
	}
	return t;
}

struct id_names *id_names_parse(const char *text, size_t len)
{
	char *copy;

	if (len > MAX_FILE_SIZE)
		len = 0;
	copy = malloc(len + 1);
	if (!copy)
		return NULL;
	if (len)
		memcpy(copy, text, len);
	copy[len] = 0;
	return parse_owned(copy, len);
}

struct id_names *id_names_load(const char *path, int *err)
{
	char *text;
	size_t len;
	int r = util_read_file(path, MAX_FILE_SIZE, &text, &len);

	if (err)
		*err = r;
	if (r == -ENOMEM)
		return NULL;
	if (r)
		return id_names_parse("", 0);
	return parse_owned(text, len);
}

void id_names_free(struct id_names *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t->text);
	free(t);
}

size_t id_names_count(const struct id_names *t)
{
	return t ? t->count : 0;
}

const char *id_names_get(const struct id_names *t, uint32_t id)
{
	size_t i;

	if (!t)
		return NULL;
	for (i = slot_of(id, t->mask); t->slots[i].name; i = (i + 1) & t->mask)
		if (t->slots[i].id == id)
			return t->text + t->slots[i].name - 1;
	return NULL;
}

/* ---- the cache ---- */

struct watched_file {
	char *path;
	const char *base; /* file name inside its directory */
	int wd;           /* watch of the directory, -1 if none */
	struct id_names *names;
};

struct name_cache {
	int ifd;
	struct watched_file files[2]; /* 0: passwd, 1: group */
};

static int reload(struct watched_file *w)
{
	int err = 0;
	struct id_names *t = id_names_load(w->path, &err);

	if (!t)
		return -ENOMEM;
	if (err)
		sonde_debug("uidgidresolver: cannot read %s: %s; its ids stay numeric", w->path,
		            strerror(-err));
	id_names_free(w->names);
	w->names = t;
	return 0;
}

/* Watches the directory: a file replaced by rename (useradd, vipw) keeps no
 * watch on its old inode. */
static void watch_dir(struct name_cache *c, struct watched_file *w)
{
	const uint32_t mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM;
	char dir[PATH_MAX];
	size_t dlen = (size_t)(w->base - w->path);

	w->wd = -1;
	if (c->ifd < 0)
		return;
	if (dlen == 0)
		snprintf(dir, sizeof(dir), ".");
	else if (dlen == 1)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(dlen - 1), w->path);
	/* watching a directory twice returns the same descriptor */
	w->wd = inotify_add_watch(c->ifd, dir, mask | IN_ONLYDIR);
	if (w->wd < 0)
		sonde_warn("uidgidresolver: cannot watch %s (%s); user and group names will not be refreshed",
		           dir, strerror(errno));
}

struct name_cache *name_cache_new(const char *passwd_path, const char *group_path)
{
	struct name_cache *c = calloc(1, sizeof(*c));
	const char *paths[2] = {passwd_path, group_path};

	if (!c)
		return NULL;
	c->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (c->ifd < 0)
		sonde_warn("uidgidresolver: inotify unavailable (%s); user and group names will not be "
		           "refreshed",
		           strerror(errno));
	for (int i = 0; i < 2; i++) {
		struct watched_file *w = &c->files[i];
		const char *slash;

		w->wd = -1;
		w->path = strdup(paths[i]);
		if (!w->path) {
			name_cache_free(c);
			return NULL;
		}
		slash = strrchr(w->path, '/');
		w->base = slash ? slash + 1 : w->path;
		/* watch before reading: a change in between is then not lost */
		watch_dir(c, w);
		if (reload(w)) {
			name_cache_free(c);
			return NULL;
		}
	}
	return c;
}

void name_cache_free(struct name_cache *c)
{
	if (!c)
		return;
	if (c->ifd >= 0)
		close(c->ifd);
	for (int i = 0; i < 2; i++) {
		free(c->files[i].path);
		id_names_free(c->files[i].names);
	}
	free(c);
}

int name_cache_fd(const struct name_cache *c)
{
	return c ? c->ifd : -1;
}

int name_cache_handle_events(struct name_cache *c)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool dirty[2] = {false, false};
	int reloaded = 0;

	if (c->ifd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(c->ifd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			for (int i = 0; i < 2; i++) {
				const struct watched_file *w = &c->files[i];

				if (ev->mask & IN_Q_OVERFLOW)
					dirty[i] = true; /* events lost: reread both */
				else if (ev->len && ev->wd == w->wd && strcmp(ev->name, w->base) == 0)
					dirty[i] = true;
			}
			p += sizeof(*ev) + ev->len;
		}
	}
	for (int i = 0; i < 2; i++) {
		if (!dirty[i])
			continue;
		if (reload(&c->files[i]))
			return -ENOMEM;
		sonde_debug("uidgidresolver: reloaded %s (%zu names)", c->files[i].path,
		            id_names_count(c->files[i].names));
		reloaded++;
	}
	return reloaded;
}

const char *name_cache_user(const struct name_cache *c, uint32_t uid)
{
	return id_names_get(c->files[0].names, uid);
}

const char *name_cache_group(const struct name_cache *c, uint32_t gid)
{
	return id_names_get(c->files[1].names, gid);
}
