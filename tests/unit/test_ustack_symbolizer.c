/* User stack symbolizer: maps lines, ELF symbol tables, and the symbolizer
 * naming functions of this very test binary (a PIE) and of libc, in this
 * process and in a forked child, live and after it exited. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/elf_symbols.h"
#include "host/proc_maps.h"
#include "host/ustack_symbolizer.h"
#include "testlib.h"

/* Functions whose addresses the test names: static (only in .symtab),
 * noinline and used so that they exist under their own names. */
/* Loops over a volatile: longer than the offsets the test adds to their
 * addresses, whatever the optimisation level. */
static __attribute__((noinline, used)) int sonde_test_ustack_static(int x)
{
	volatile int acc = x;

	for (int i = 0; i < 8; i++)
		acc += i * x;
	return acc;
}

__attribute__((noinline, used)) int sonde_test_ustack_global(int x)
{
	volatile int acc = sonde_test_ustack_static(x);

	for (int i = 0; i < 8; i++)
		acc ^= i + x;
	return acc;
}

static uint64_t addr_of(int (*fn)(int))
{
	return (uint64_t)(uintptr_t)fn;
}

static struct ustack_task self_task(pid_t pid, uint32_t hash)
{
	struct ustack_task t = {.tgid = (uint32_t)pid, .base_addr_hash = hash, .pid = {(uint32_t)pid}};
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) == 0)
		t.pidns[0] = (uint32_t)st.st_ino;
	if (stat("/proc/self/exe", &st) == 0) {
		t.exe_inode = st.st_ino;
		t.exe_mtime_sec = st.st_mtim.tv_sec;
		t.exe_mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	}
	return t;
}

static void test_maps_lines(void)
{
	static const char lib[] =
	    "7f1c2a028000-7f1c2a1bd000 r-xp 00028000 fe:01 1835017    /usr/lib/x86_64-linux-gnu/libc.so.6";
	static const char anon[] = "7ffd5a1f0000-7ffd5a211000 rw-p 00000000 00:00 0";
	static const char deleted[] = "00400000-00401000 r-xp 00001000 103:0a 42 /tmp/a b (deleted)";
	static const char *const bad[] = {
	    "",
	    "7f1c2a028000",
	    "7f1c2a028000-7f1c2a1bd000",
	    "7f1c2a028000-7f1c2a1bd000 r-xp",
	    "7f1c2a028000-7f1c2a1bd000 r-xp 00028000 fe01 1835017 /x",      /* device */
	    "7f1c2a1bd000-7f1c2a028000 r-xp 00028000 fe:01 1835017 /x",     /* end before start */
	    "17f1c2a028000000-7f1c2a1bd000 r-xp 00028000 fe:01 1835017 /x", /* 17 digits */
	    "7f1c2a028000-7f1c2a1bd000 r-xp 00028000 fe:01 x /x",           /* inode */
	};
	struct proc_map m;

	REQUIRE(proc_maps_parse_line(lib, strlen(lib), &m) == 0);
	CHECK(m.start == 0x7f1c2a028000ULL && m.end == 0x7f1c2a1bd000ULL);
	CHECK_INT(m.offset, 0x28000);
	CHECK_INT(m.major, 0xfe);
	CHECK_INT(m.minor, 1);
	CHECK_INT(m.inode, 1835017);
	CHECK(m.exec);
	CHECK(m.path_len == strlen("/usr/lib/x86_64-linux-gnu/libc.so.6") &&
	      !memcmp(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6", m.path_len));

	REQUIRE(proc_maps_parse_line(anon, strlen(anon), &m) == 0);
	CHECK(!m.exec);
	CHECK_INT(m.path_len, 0);

	REQUIRE(proc_maps_parse_line(deleted, strlen(deleted), &m) == 0);
	CHECK_INT(m.major, 0x103);
	CHECK_INT(m.minor, 0xa);
	CHECK(m.path_len == strlen("/tmp/a b (deleted)"));

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (proc_maps_parse_line(bad[i], strlen(bad[i]), &m) != -EINVAL) {
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
			test_failures++;
		}
	}
}

/* This binary's own symbol table, the limit on its size, and a file that is
 * not ELF (naming addresses is test_resolve_self's). */
static void test_elf_symbols(void)
{
	struct elf_symbols *t = NULL;
	uint64_t off = 99, vaddr;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	REQUIRE(fd >= 0);
	REQUIRE(elf_symbols_load(fd, 1u << 22, &t) == 0);
	CHECK(elf_symbols_count(t) > 10);
	/* too many symbols for the limit: refused, not truncated */
	{
		struct elf_symbols *small = NULL;

		CHECK_INT(elf_symbols_load(fd, 3, &small), -E2BIG);
		CHECK(small == NULL);
	}
	close(fd);
	/* a link-time address from a file offset: the first segment maps offset 0 */
	CHECK(elf_symbols_file_to_vaddr(t, 0, &vaddr));
	CHECK(!elf_symbols_file_to_vaddr(t, 1ULL << 60, &vaddr));
	CHECK(elf_symbols_lookup(t, 0, &off) == NULL);
	CHECK(elf_symbols_lookup(t, UINT64_MAX, &off) == NULL);
	elf_symbols_free(t);

	/* not an ELF file */
	fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);
	CHECK_INT(elf_symbols_load(fd, 100, &t), -ENOEXEC);
	close(fd);
}

static void test_resolve_self(void)
{
	struct ustack_symbolizer *s = ustack_symbolizer_new("/proc", NULL);
	struct ustack_task task = self_task(getpid(), 0x1234);
	uint64_t addrs[4] = {
	    addr_of(sonde_test_ustack_static),     /* instruction pointer: the start itself */
	    addr_of(sonde_test_ustack_global) + 3, /* return address inside the function */
	    (uint64_t)(uintptr_t)&malloc + 1,      /* libc (or ASan's interceptor) */
	    0x10,                                  /* nothing mapped */
	};
	struct ustack_sym out[4];
	struct ustack_symbolizer_stats st;

	REQUIRE(s);
	REQUIRE(task.pidns[0] != 0);
	REQUIRE(ustack_symbolizer_resolve(s, &task, addrs, 4, out) == 0);
	CHECK_STR(out[0].name ? out[0].name : "(null)", "sonde_test_ustack_static");
	CHECK_INT(out[0].offset, 0);
	CHECK_STR(out[1].name ? out[1].name : "(null)", "sonde_test_ustack_global");
	CHECK_INT(out[1].offset, 3);
	CHECK(out[2].name && strstr(out[2].name, "malloc"));
	CHECK(out[3].name == NULL);

	/* an offset as the first frame; the same process again: no new maps read */
	addrs[0] = addr_of(sonde_test_ustack_static) + 5;
	REQUIRE(ustack_symbolizer_resolve(s, &task, addrs, 1, out) == 0);
	CHECK_STR(out[0].name ? out[0].name : "(null)", "sonde_test_ustack_static");
	CHECK_INT(out[0].offset, 5);
	ustack_symbolizer_stats(s, &st);
	CHECK_INT(st.maps_reads, 1);
	CHECK(st.tables_loaded >= 1);
	CHECK(st.symbols_cached > 10);

	/* a pid namespace this /proc does not show */
	task.pidns[0] ^= 1;
	task.base_addr_hash = 0x999;
	CHECK_INT(ustack_symbolizer_resolve(s, &task, addrs, 1, out), -ENOENT);
	CHECK(out[0].name == NULL);
	ustack_symbolizer_free(s);
}

/* A child of the same binary, named while it runs and again after it exited
 * (from the cache); one never seen before is -ESRCH once gone. */
static void test_resolve_exited(void)
{
	struct ustack_symbolizer *s = ustack_symbolizer_new("/proc", NULL);
	uint64_t addr = addr_of(sonde_test_ustack_global) + 1;
	struct ustack_sym out[1];
	struct ustack_task task;
	int go[2];
	pid_t child, gone;

	REQUIRE(s && pipe(go) == 0);
	child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		char b;

		close(go[1]);
		_exit(read(go[0], &b, 1) < 0);
	}
	close(go[0]);
	task = self_task(child, 0x77);
	CHECK_INT(ustack_symbolizer_resolve(s, &task, &addr, 1, out), 0);
	CHECK_STR(out[0].name ? out[0].name : "(null)", "sonde_test_ustack_global");
	close(go[1]);
	waitpid(child, NULL, 0);
	CHECK_INT(ustack_symbolizer_resolve(s, &task, &addr, 1, out), 0);
	CHECK_STR(out[0].name ? out[0].name : "(null)", "sonde_test_ustack_global");

	gone = fork();
	REQUIRE(gone >= 0);
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	task = self_task(gone, 0x78);
	CHECK_INT(ustack_symbolizer_resolve(s, &task, &addr, 1, out), -ESRCH);
	CHECK(out[0].name == NULL);
	ustack_symbolizer_free(s);
}

/* Bounded caches: one process slot and one table slot still name every frame
 * of a stack that spans two files, and evict as they go. */
static void test_limits(void)
{
	struct ustack_symbolizer_limits lim = {.max_processes = 1, .max_tables = 1};
	struct ustack_symbolizer *s = ustack_symbolizer_new("/proc", &lim);
	struct ustack_task a = self_task(getpid(), 1), b = self_task(getpid(), 2);
	uint64_t addrs[2] = {addr_of(sonde_test_ustack_static), (uint64_t)(uintptr_t)&malloc + 1};
	struct ustack_sym out[2];
	struct ustack_symbolizer_stats st;

	REQUIRE(s);
	REQUIRE(ustack_symbolizer_resolve(s, &a, addrs, 2, out) == 0);
	CHECK_STR(out[0].name ? out[0].name : "(null)", "sonde_test_ustack_static");
	/* the second file's table had no slot free of this very stack */
	REQUIRE(ustack_symbolizer_resolve(s, &b, addrs, 1, out) == 0);
	CHECK_STR(out[0].name ? out[0].name : "(null)", "sonde_test_ustack_static");
	ustack_symbolizer_stats(s, &st);
	CHECK_INT(st.procs_evicted, 1);
	CHECK_INT(st.maps_reads, 2);
	ustack_symbolizer_free(s);

	/* a file with more symbols than allowed is not named */
	lim = (struct ustack_symbolizer_limits){.max_symbols_file = 3};
	s = ustack_symbolizer_new("/proc", &lim);
	REQUIRE(s);
	REQUIRE(ustack_symbolizer_resolve(s, &a, addrs, 1, out) == 0);
	CHECK(out[0].name == NULL);
	ustack_symbolizer_free(s);
}

TEST_MAIN(TEST(test_maps_lines), TEST(test_elf_symbols), TEST(test_resolve_self), TEST(test_resolve_exited),
          TEST(test_limits))
