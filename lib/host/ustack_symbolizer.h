/* User stack symbolizer: runtime addresses of a process → function name and
 * offset, from the ELF symbol tables of the files the process mapped.
 *
 * An address is found in the process's executable mappings
 * (/proc/<pid>/maps), turned into an offset in the mapped file, and that
 * into a link-time address through the file's PT_LOAD segments; the file is
 * opened through /proc/<pid>/map_files/ (the very inode mapped, whatever
 * mount namespace or container root it lives in, even if deleted since),
 * else /proc/<pid>/root/<path>. The main executable and every shared library
 * are named, not only the executable as upstream's symtab resolver does.
 *
 * Caches, both bounded and least-recently-used:
 *  - processes by (tgid, base_addr_hash, executable inode and mtime) — the
 *    identity of one address space as gadget_user_stack carries it (the hash
 *    changes on execve) — with their executable mappings, so stacks of a
 *    process that has exited since are still named when it was seen before
 *    (its libraries' tables must then be loaded already);
 *  - symbol tables by the mapped file's (st_dev, st_ino, mtime), so a
 *    replaced binary gets a new table and one library is read once for all
 *    processes.
 * A process whose maps lack an address (dlopen since it was read) is read
 * again, at most every USTACK_MAPS_REFRESH_NS.
 *
 * Not thread-safe: one per run, used from the run's thread. */
#ifndef SONDE_HOST_USTACK_SYMBOLIZER_H
#define SONDE_HOST_USTACK_SYMBOLIZER_H

#include <stddef.h>
#include <stdint.h>

#define USTACK_MAPS_REFRESH_NS (100 * 1000 * 1000LL)

/* The process a stack belongs to, as struct gadget_user_stack holds it. */
struct ustack_task {
	uint32_t tgid; /* in the initial pid namespace: part of the cache key only */
	uint32_t base_addr_hash;
	uint32_t pid[2];   /* thread id at pid namespace levels 0 and 1 (0 = none) */
	uint32_t pidns[2]; /* inode of those namespaces */
	uint64_t exe_inode;
	int64_t exe_mtime_sec;
	uint32_t exe_mtime_nsec;
};

/* One named frame; name NULL when unknown. */
struct ustack_sym {
	const char *name;
	uint64_t offset;
};

struct ustack_symbolizer_limits {
	size_t max_processes;     /* cached address spaces */
	size_t max_tables;        /* cached symbol tables */
	size_t max_symbols_file;  /* a file with more is not symbolised */
	size_t max_symbols_total; /* over all cached tables */
	size_t max_maps;          /* executable mappings kept per process */
};

struct ustack_symbolizer;

/* `proc` is the /proc of the host's pid namespace ("/proc", or
 * "$HOST_ROOT/proc"); limits NULL for the defaults. NULL when out of memory. */
struct ustack_symbolizer *ustack_symbolizer_new(const char *proc,
                                                const struct ustack_symbolizer_limits *limits);
void ustack_symbolizer_free(struct ustack_symbolizer *s);

/* Names addrs[0..n) into out[0..n). addrs[0] is taken as an instruction
 * pointer, the others as return addresses (looked up one byte earlier, so a
 * call at the very end of a function names that function). Names stay valid
 * until the next call. Returns 0 (some frames may still be unknown),
 * -ESRCH when the process is gone and was not seen before, -ENOENT when it is
 * in no pid namespace this /proc shows; out[] is all unknown then. */
int ustack_symbolizer_resolve(struct ustack_symbolizer *s, const struct ustack_task *task,
                              const uint64_t *addrs, size_t n, struct ustack_sym *out);

/* Counters, for tests and debug logs. */
struct ustack_symbolizer_stats {
	uint64_t maps_reads;    /* /proc/<pid>/maps read */
	uint64_t tables_loaded; /* ELF files read */
	uint64_t tables_evicted;
	uint64_t procs_evicted;
	size_t symbols_cached;
};
void ustack_symbolizer_stats(const struct ustack_symbolizer *s, struct ustack_symbolizer_stats *out);

#endif
