/* trace_malloc on the host: every operation the README lists (malloc, free,
 * calloc, realloc, mmap, munmap and the aligned allocators) comes out with
 * the size asked for and the address libc returned, for a child that makes
 * each call once with a size of its own. The child calls libc's functions
 * through dlsym on libc itself: in the sanitizer build the program's own
 * malloc is ASan's, which the uprobes on libc never see. glibc's
 * aligned_alloc is memalign under another name (one address): either name
 * is then accepted for those two. */
#include <dlfcn.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "testlib.h"

enum {
	OP_MALLOC,
	OP_CALLOC,
	OP_REALLOC,
	OP_MMAP,
	OP_POSIX_MEMALIGN,
	OP_ALIGNED_ALLOC,
	OP_VALLOC,
	OP_MEMALIGN,
	OP_PVALLOC,
	NOPS
};

static const struct {
	const char *name; /* operation */
	uint64_t size;    /* asked for */
} ops[NOPS] = {
    [OP_MALLOC] = {"malloc", 10001},
    [OP_CALLOC] = {"calloc", 3 * 3335},
    [OP_REALLOC] = {"realloc", 10007},
    [OP_MMAP] = {"mmap", 3 * 4096},
    [OP_POSIX_MEMALIGN] = {"posix_memalign", 10009},
    [OP_ALIGNED_ALLOC] = {"aligned_alloc", 10048},
    [OP_VALLOC] = {"valloc", 10011},
    [OP_MEMALIGN] = {"memalign", 10013},
    [OP_PVALLOC] = {"pvalloc", 10015},
};

/* What the child got back, shared with the test (MAP_SHARED before the fork). */
struct results {
	uint64_t addr[NOPS];
	uint64_t realloc_from; /* malloc'ed, then given to realloc */
	/* glibc makes aligned_alloc an alias of memalign: one address, two
	 * uprobes, and one event named after whichever probe ran first */
	bool aligned_is_memalign;
};

static struct results *res;

static int calls(void *arg)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *(*x_malloc)(size_t), (*x_free)(void *), *(*x_calloc)(size_t, size_t);
	void *(*x_realloc)(void *, size_t), *(*x_mmap)(void *, size_t, int, int, int, off_t);
	int (*x_munmap)(void *, size_t), (*x_posix_memalign)(void **, size_t, size_t);
	void *(*x_aligned_alloc)(size_t, size_t), *(*x_valloc)(size_t), *(*x_memalign)(size_t, size_t);
	void *(*x_pvalloc)(size_t);
	void *p[NOPS] = {0}, *before;

	(void)arg;
	if (!libc)
		return 1;
	*(void **)&x_malloc = dlsym(libc, "malloc");
	*(void **)&x_free = dlsym(libc, "free");
	*(void **)&x_calloc = dlsym(libc, "calloc");
	*(void **)&x_realloc = dlsym(libc, "realloc");
	*(void **)&x_mmap = dlsym(libc, "mmap");
	*(void **)&x_munmap = dlsym(libc, "munmap");
	*(void **)&x_posix_memalign = dlsym(libc, "posix_memalign");
	*(void **)&x_aligned_alloc = dlsym(libc, "aligned_alloc");
	*(void **)&x_valloc = dlsym(libc, "valloc");
	*(void **)&x_memalign = dlsym(libc, "memalign");
	*(void **)&x_pvalloc = dlsym(libc, "pvalloc");
	if (!x_malloc || !x_free || !x_calloc || !x_realloc || !x_mmap || !x_munmap || !x_posix_memalign ||
	    !x_aligned_alloc || !x_valloc || !x_memalign || !x_pvalloc)
		return 2;
	res->aligned_is_memalign = (void *)x_aligned_alloc == (void *)x_memalign;
	p[OP_MALLOC] = x_malloc(ops[OP_MALLOC].size);
	p[OP_CALLOC] = x_calloc(3, 3335);
	before = x_malloc(16);
	res->realloc_from = (uint64_t)before;
	p[OP_REALLOC] = x_realloc(before, ops[OP_REALLOC].size);
	p[OP_MMAP] =
	    x_mmap(NULL, ops[OP_MMAP].size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x_posix_memalign(&p[OP_POSIX_MEMALIGN], 64, ops[OP_POSIX_MEMALIGN].size))
		p[OP_POSIX_MEMALIGN] = NULL;
	p[OP_ALIGNED_ALLOC] = x_aligned_alloc(64, ops[OP_ALIGNED_ALLOC].size);
	p[OP_VALLOC] = x_valloc(ops[OP_VALLOC].size);
	p[OP_MEMALIGN] = x_memalign(128, ops[OP_MEMALIGN].size);
	p[OP_PVALLOC] = x_pvalloc(ops[OP_PVALLOC].size);
	for (int i = 0; i < NOPS; i++) {
		res->addr[i] = (uint64_t)p[i];
		if (!p[i] || p[i] == MAP_FAILED)
			return 3;
	}
	x_munmap(p[OP_MMAP], ops[OP_MMAP].size);
	for (int i = 0; i < NOPS; i++)
		if (i != OP_MMAP)
			x_free(p[i]);
	return 0;
}

/* The events of op with that size and address (addr 0: any). */
static size_t count(json_t *evs, const char *op, uint64_t size, uint64_t addr)
{
	size_t i, n = 0;
	json_t *ev;

	json_array_foreach(evs, i, ev)
	{
		const char *o = test_json_str(ev, "operation");

		n += o && !strcmp(o, op) && (uint64_t)test_json_int(ev, "size", -1) == size &&
		     (!addr || (uint64_t)test_json_int(ev, "addr", -1) == addr);
	}
	return n;
}

static void test_every_operation(void)
{
	int before = test_failures;
	const char *argv[] = {"run", "trace_malloc", "--host", "-o", "json", "-v", "--pid", NULL, NULL};
	char pid[16];
	struct test_child c;
	json_t *evs;
	char *out;
	int rc = -1;

	test_require_root();
	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	REQUIRE(res != MAP_FAILED);
	test_child_start(&c, calls, NULL);
	snprintf(pid, sizeof(pid), "%d", c.pid);
	argv[7] = pid;
	/* munmap is the last call of interest but free()s follow: wait for the last free */
	out = sonde_run_around_child(argv, &c, "\"free\"", &rc);
	CHECK_INT(rc, 0);
	REQUIRE(out);
	/* what trails the first FREE is in the ring: stop drained it */
	evs = test_json_lines(out);
	for (int i = 0; i < NOPS; i++) {
		size_t n = count(evs, ops[i].name, ops[i].size, res->addr[i]);

		if (res->aligned_is_memalign && (i == OP_ALIGNED_ALLOC || i == OP_MEMALIGN))
			n = count(evs, "aligned_alloc", ops[i].size, res->addr[i]) +
			    count(evs, "memalign", ops[i].size, res->addr[i]);

		if (n != 1) {
			fprintf(stderr, "%s of %llu bytes at %#llx: %zu events\n", ops[i].name,
			        (unsigned long long)ops[i].size, (unsigned long long)res->addr[i], n);
			test_failures++;
		}
		/* each block given back: free, or munmap of the mapping */
		if (i == OP_MMAP)
			CHECK_INT(count(evs, "munmap", ops[i].size, res->addr[i]), 1);
		else
			CHECK_INT(count(evs, "free", 0, res->addr[i]), 1);
	}
	CHECK_INT(count(evs, "malloc", 16, res->realloc_from), 1);
	/* realloc releases the block it was given, as upstream reports it */
	CHECK_INT(count(evs, "realloc_free", 0, res->realloc_from), 1);
	if (test_failures != before)
		fprintf(stderr, "sonde printed:\n%s\n", out);
	json_decref(evs);
	free(out);
	munmap(res, sizeof(*res));
}

TEST_MAIN(TEST(test_every_operation))
