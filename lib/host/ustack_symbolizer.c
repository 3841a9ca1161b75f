/* User stack symbolizer (see ustack_symbolizer.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/elf_symbols.h"
#include "host/proc_maps.h"
#include "host/ustack_symbolizer.h"
#include "util/array.h"
#include "util/clock.h"

#define MAPS_MAX_BYTES (64u << 20) /* a process with ~500k mappings */

enum { TABLE_UNRESOLVED = -1, TABLE_FAILED = -2 };

struct us_map {
	uint64_t start, end, offset;
	uint32_t path, path_len; /* in us_proc.paths */
	int table;               /* slot in tables[], or TABLE_* */
	uint64_t table_serial;   /* the slot's serial when it was looked up */
};

struct us_proc {
	bool used;
	uint32_t tgid, hash, pid;
	uint64_t exe_inode;
	int64_t exe_mtime_sec;
	uint32_t exe_mtime_nsec;
	uint64_t last_used;
	int64_t read_ns;
	struct us_map *maps; /* executable file mappings, by address */
	size_t nmaps, maps_cap;
	char *paths;
	size_t paths_len, paths_cap;
};

struct us_table {
	bool used;
	uint64_t dev, ino;
	int64_t mtime_ns;
	uint64_t serial;
	uint64_t last_used;
	struct elf_symbols *syms; /* NULL: not an ELF file we can read (remembered) */
};

struct ustack_symbolizer {
	char proc[PATH_MAX];
	struct ustack_symbolizer_limits lim;
	uint64_t proc_pidns; /* inode of the pid namespace `proc` shows; 0 = unknown yet */
	bool pidns_read;
	struct us_proc *procs;
	struct us_table *tables;
	uint64_t tick, serial;
	char *buf; /* maps file text */
	size_t buf_cap;
	struct ustack_symbolizer_stats stats;
};

static const struct ustack_symbolizer_limits default_limits = {
    .max_processes = 512,
    .max_tables = 256,
    .max_symbols_file = 4u << 20,
    .max_symbols_total = 8u << 20,
    .max_maps = 8192,
};

struct ustack_symbolizer *ustack_symbolizer_new(const char *proc,
                                                const struct ustack_symbolizer_limits *limits)
{
	struct ustack_symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	snprintf(s->proc, sizeof(s->proc), "%s", proc && *proc ? proc : "/proc");
	s->lim = limits ? *limits : default_limits;
#define DEFAULT(f)                                                                                           \
	if (!s->lim.f)                                                                                       \
		s->lim.f = default_limits.f;
	DEFAULT(max_processes)
	DEFAULT(max_tables)
	DEFAULT(max_symbols_file)
	DEFAULT(max_symbols_total)
	DEFAULT(max_maps)
#undef DEFAULT
	s->procs = calloc(s->lim.max_processes, sizeof(*s->procs));
	s->tables = calloc(s->lim.max_tables, sizeof(*s->tables));
	if (!s->procs || !s->tables) {
		ustack_symbolizer_free(s);
		return NULL;
	}
	return s;
}

static void proc_clear(struct us_proc *p)
{
	free(p->maps);
	free(p->paths);
	memset(p, 0, sizeof(*p));
}

void ustack_symbolizer_free(struct ustack_symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; s->procs && i < s->lim.max_processes; i++)
		proc_clear(&s->procs[i]);
	for (size_t i = 0; s->tables && i < s->lim.max_tables; i++)
		elf_symbols_free(s->tables[i].syms);
	free(s->procs);
	free(s->tables);
	free(s->buf);
	free(s);
}

/* The pid namespace of the /proc we read: pid 1's (the host's init when
 * `proc` is the host's), else our own (no permission for pid 1's). */
static uint64_t proc_pidns(struct ustack_symbolizer *s)
{
	char path[PATH_MAX + 32];
	struct stat st;

	if (s->pidns_read)
		return s->proc_pidns;
	s->pidns_read = true;
	snprintf(path, sizeof(path), "%s/1/ns/pid", s->proc);
	if (stat(path, &st) == 0) {
		s->proc_pidns = st.st_ino;
		return s->proc_pidns;
	}
	snprintf(path, sizeof(path), "%s/self/ns/pid", s->proc);
	if (stat(path, &st) == 0)
		s->proc_pidns = st.st_ino;
	return s->proc_pidns;
}

/* ---- maps ---- */

/* Reads <proc>/<pid>/maps into s->buf; its length or -errno. */
static long read_maps(struct ustack_symbolizer *s, uint32_t pid)
{
	char path[PATH_MAX + 32];
	size_t len = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%u/maps", s->proc, pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t r;

		if (len + 4096 > s->buf_cap) {
			if (len + 4096 > MAPS_MAX_BYTES ||
			    grow_array((void **)&s->buf, &s->buf_cap, len + 4096 + 1, 1)) {
				close(fd);
				return -ENOMEM;
			}
		}
		r = read(fd, s->buf + len, s->buf_cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	s->buf[len] = 0;
	/* a zombie, or a process past exit_mm(), shows no mappings at all */
	return len ? (long)len : -ESRCH;
}

static int add_map(struct ustack_symbolizer *s, struct us_proc *p, const struct proc_map *m)
{
	struct us_map *um;

	if (p->nmaps >= s->lim.max_maps)
		return 0; /* the rest stays unknown: bounded memory first */
	if (p->paths_len + m->path_len + 1 > UINT32_MAX ||
	    grow_array((void **)&p->maps, &p->maps_cap, p->nmaps + 1, sizeof(*p->maps)) ||
	    grow_array((void **)&p->paths, &p->paths_cap, p->paths_len + m->path_len + 1, 1))
		return -ENOMEM;
	um = &p->maps[p->nmaps++];
	*um = (struct us_map){
	    .start = m->start,
	    .end = m->end,
	    .offset = m->offset,
	    .path = (uint32_t)p->paths_len,
	    .path_len = (uint32_t)m->path_len,
	    .table = TABLE_UNRESOLVED,
	};
	memcpy(p->paths + p->paths_len, m->path, m->path_len);
	p->paths[p->paths_len + m->path_len] = 0;
	p->paths_len += m->path_len + 1;
	return 0;
}

/* (Re)reads the executable file mappings of p->pid. On failure p keeps what
 * it had. */
static int load_maps(struct ustack_symbolizer *s, struct us_proc *p)
{
	long len = read_maps(s, p->pid);
	char *line, *next;
	int err = 0;

	if (len < 0)
		return (int)len;
	s->stats.maps_reads++;
	p->nmaps = 0;
	p->paths_len = 0;
	p->read_ns = util_now_ns();
	for (line = s->buf; *line && !err; line = next) {
		struct proc_map m;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		else
			next = line + strlen(line);
		if (proc_maps_parse_line(line, strlen(line), &m) || !m.exec || m.path_len == 0 ||
		    m.path[0] != '/')
			continue; /* anonymous, [vdso] (no file to read) and data mappings */
		err = add_map(s, p, &m);
	}
	return err;
}

static struct us_map *find_map(struct us_proc *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < p->maps[mid].start)
			hi = mid;
		else if (addr >= p->maps[mid].end)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	return NULL;
}

/* ---- processes ---- */

static bool proc_matches(const struct us_proc *p, const struct ustack_task *t)
{
	return p->used && p->tgid == t->tgid && p->hash == t->base_addr_hash &&
	       p->exe_inode == t->exe_inode && p->exe_mtime_sec == t->exe_mtime_sec &&
	       p->exe_mtime_nsec == t->exe_mtime_nsec;
}

static struct us_proc *find_proc(struct ustack_symbolizer *s, const struct ustack_task *t)
{
	for (size_t i = 0; i < s->lim.max_processes; i++)
		if (proc_matches(&s->procs[i], t))
			return &s->procs[i];
	return NULL;
}

static struct us_proc *new_proc(struct ustack_symbolizer *s, const struct ustack_task *t, uint32_t pid)
{
	struct us_proc *victim = NULL, tmp = {0};
	int err;

	for (size_t i = 0; i < s->lim.max_processes; i++) {
		struct us_proc *p = &s->procs[i];

		if (!p->used) {
			victim = p;
			break;
		}
		if (!victim || p->last_used < victim->last_used)
			victim = p;
	}
	tmp.pid = pid;
	err = load_maps(s, &tmp);
	if (err) {
		proc_clear(&tmp);
		return NULL;
	}
	if (victim->used)
		s->stats.procs_evicted++;
	proc_clear(victim);
	*victim = tmp;
	victim->used = true;
	victim->tgid = t->tgid;
	victim->hash = t->base_addr_hash;
	victim->exe_inode = t->exe_inode;
	victim->exe_mtime_sec = t->exe_mtime_sec;
	victim->exe_mtime_nsec = t->exe_mtime_nsec;
	return victim;
}

/* ---- symbol tables ---- */

static size_t symbols_cached(const struct ustack_symbolizer *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->lim.max_tables; i++)
		n += elf_symbols_count(s->tables[i].syms);
	return n;
}

static void evict_table(struct ustack_symbolizer *s, struct us_table *t)
{
	elf_symbols_free(t->syms);
	memset(t, 0, sizeof(*t));
	s->stats.tables_evicted++;
}

/* A free slot, evicting the least recently used table not used by the
 * resolve under way (its names are being returned). */
static struct us_table *free_table(struct ustack_symbolizer *s)
{
	struct us_table *victim = NULL;

	for (size_t i = 0; i < s->lim.max_tables; i++) {
		struct us_table *t = &s->tables[i];

		if (!t->used)
			return t;
		if (t->last_used != s->tick && (!victim || t->last_used < victim->last_used))
			victim = t;
	}
	if (victim)
		evict_table(s, victim);
	return victim;
}

/* Room for `n` more symbols within max_symbols_total. */
static bool make_room(struct ustack_symbolizer *s, size_t n)
{
	size_t total = symbols_cached(s);

	while (total + n > s->lim.max_symbols_total) {
		struct us_table *victim = NULL;

		for (size_t i = 0; i < s->lim.max_tables; i++) {
			struct us_table *t = &s->tables[i];

			if (t->used && t->syms && t->last_used != s->tick &&
			    (!victim || t->last_used < victim->last_used))
				victim = t;
		}
		if (!victim)
			return false;
		total -= elf_symbols_count(victim->syms);
		evict_table(s, victim);
	}
	return true;
}

static int open_mapped_file(struct ustack_symbolizer *s, const struct us_proc *p, const struct us_map *m)
{
	const char *path = p->paths + m->path;
	char buf[2 * PATH_MAX];
	int fd;

	/* the inode mapped, through any mount namespace; needs CAP_SYS_ADMIN */
	snprintf(buf, sizeof(buf), "%s/%u/map_files/%llx-%llx", s->proc, p->pid, (unsigned long long)m->start,
	         (unsigned long long)m->end);
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	/* the path as the process sees it, inside its root */
	if (snprintf(buf, sizeof(buf), "%s/%u/root%s", s->proc, p->pid, path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	fd = open(buf, O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

static struct us_table *table_for(struct ustack_symbolizer *s, const struct us_proc *p, struct us_map *m)
{
	struct us_table *t;
	struct stat st;
	int64_t mtime_ns;
	int fd, err;

	if (m->table >= 0 && s->tables[m->table].used && s->tables[m->table].serial == m->table_serial) {
		t = &s->tables[m->table];
		t->last_used = s->tick;
		return t->syms ? t : NULL;
	}
	if (m->table == TABLE_FAILED)
		return NULL;
	fd = open_mapped_file(s, p, m);
	if (fd < 0) {
		m->table = TABLE_FAILED;
		return NULL;
	}
	if (fstat(fd, &st)) {
		close(fd);
		m->table = TABLE_FAILED;
		return NULL;
	}
	mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	for (size_t i = 0; i < s->lim.max_tables; i++) {
		t = &s->tables[i];
		if (t->used && t->dev == st.st_dev && t->ino == st.st_ino && t->mtime_ns == mtime_ns) {
			close(fd);
			m->table = (int)i;
			m->table_serial = t->serial;
			t->last_used = s->tick;
			return t->syms ? t : NULL;
		}
	}
	t = free_table(s);
	if (!t) {
		close(fd); /* every slot serves this very stack: try again next time */
		return NULL;
	}
	*t = (struct us_table){
	    .used = true,
	    .dev = st.st_dev,
	    .ino = st.st_ino,
	    .mtime_ns = mtime_ns,
	    .serial = ++s->serial,
	    .last_used = s->tick,
	};
	err = elf_symbols_load(fd, s->lim.max_symbols_file, &t->syms);
	close(fd);
	s->stats.tables_loaded++;
	if (!err && !make_room(s, elf_symbols_count(t->syms))) {
		elf_symbols_free(t->syms);
		t->syms = NULL;
		t->used = false; /* not remembered as unreadable: room may come */
		return NULL;
	}
	m->table = (int)(t - s->tables);
	m->table_serial = t->serial;
	return t->syms ? t : NULL;
}

void ustack_symbolizer_stats(const struct ustack_symbolizer *s, struct ustack_symbolizer_stats *out)
{
	*out = s->stats;
	out->symbols_cached = symbols_cached(s);
}

/* ---- resolve ---- */

static uint32_t pick_pid(struct ustack_symbolizer *s, const struct ustack_task *t)
{
	uint64_t ns = proc_pidns(s);

	for (int l = 0; l < 2; l++)
		if (t->pid[l] && t->pidns[l] && t->pidns[l] == ns)
			return t->pid[l];
	return 0;
}

static void name_one(struct ustack_symbolizer *s, struct us_proc *p, struct us_map *m, uint64_t addr,
                     bool ret_addr, struct ustack_sym *out)
{
	struct us_table *t = table_for(s, p, m);
	uint64_t vaddr, off;
	const char *name;

	if (!t || !elf_symbols_file_to_vaddr(t->syms, addr - m->start + m->offset, &vaddr))
		return;
	name = elf_symbols_lookup(t->syms, vaddr - ret_addr, &off);
	if (name) {
		out->name = name;
		out->offset = off + ret_addr;
	}
}

int ustack_symbolizer_resolve(struct ustack_symbolizer *s, const struct ustack_task *task,
                              const uint64_t *addrs, size_t n, struct ustack_sym *out)
{
	struct us_proc *p;
	bool reread = false;
	uint32_t pid;

	for (size_t i = 0; i < n; i++)
		out[i] = (struct ustack_sym){0};
	s->tick++;
	p = find_proc(s, task);
	if (!p) {
		pid = pick_pid(s, task);
		if (!pid)
			return -ENOENT;
		p = new_proc(s, task, pid);
		if (!p)
			return -ESRCH;
		reread = true;
	}
	p->last_used = s->tick;
	for (size_t i = 0; i < n; i++) {
		bool ret_addr = i > 0 && addrs[i] > 0;
		uint64_t a = addrs[i] - ret_addr;
		struct us_map *m = find_map(p, a);

		/* mapped since it was read (dlopen): once per call and per interval */
		if (!m && !reread && util_now_ns() - p->read_ns >= USTACK_MAPS_REFRESH_NS) {
			reread = true;
			if (load_maps(s, p) == 0)
				m = find_map(p, a);
		}
		if (m)
			name_one(s, p, m, addrs[i], ret_addr, &out[i]);
	}
	return 0;
}
