/* ELF function symbols for address lookups (see elf_symbols.h). */
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "host/elf_symbols.h"
#include "util/array.h"

struct elf_sym {
	uint64_t addr;
	uint64_t size;
	uint32_t name; /* offset in names */
	uint32_t rank; /* among symbols at one address, the lowest is shown */
};

struct elf_segment {
	uint64_t offset, filesz, vaddr;
};

struct elf_symbols {
	struct elf_sym *syms;
	size_t n;
	char *names;
	size_t names_len, names_cap;
	struct elf_segment *segs;
	size_t nsegs;
};

/* Symbols nested in a larger one (a local label inside a function) are
 * rare; looking this many symbols back finds the enclosing one. */
#define NESTED_LOOKBACK 16

static pthread_once_t elf_once = PTHREAD_ONCE_INIT;
static bool elf_ok;

static void elf_init(void)
{
	elf_ok = elf_version(EV_CURRENT) != EV_NONE;
}

/* "malloc" rather than its alias "__libc_malloc": global before weak before
 * local, then fewer leading underscores. */
static uint32_t rank_of(const GElf_Sym *s, const char *name)
{
	uint32_t bind = GELF_ST_BIND(s->st_info);
	uint32_t r = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : 2;
	uint32_t us = 0;

	while (name[us] == '_' && us < 15)
		us++;
	return r << 4 | us;
}

static int cmp_sym(const void *a, const void *b)
{
	const struct elf_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

static int add_name(struct elf_symbols *t, const char *name, uint32_t *off)
{
	size_t len = strnlen(name, ELF_SYMBOLS_NAME_MAX);

	if (t->names_len + len + 1 > UINT32_MAX)
		return -E2BIG;
	if (grow_array((void **)&t->names, &t->names_cap, t->names_len + len + 1, 1))
		return -ENOMEM;
	memcpy(t->names + t->names_len, name, len);
	t->names[t->names_len + len] = 0;
	*off = (uint32_t)t->names_len;
	t->names_len += len + 1;
	return 0;
}

static bool wanted(const GElf_Sym *s)
{
	int type = GELF_ST_TYPE(s->st_info);

	if (s->st_size == 0 || s->st_shndx == SHN_UNDEF || s->st_shndx == SHN_ABS)
		return false;
	return type == STT_FUNC || type == STT_GNU_IFUNC || type == STT_NOTYPE;
}

static int read_table(struct elf_symbols *t, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh, size_t max,
                      size_t *cap)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !sh->sh_entsize)
		return 0; /* an empty or odd table: the other one may do */
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 1; i < count; i++) {
		struct elf_sym sym;
		const char *name;
		GElf_Sym s;
		int err;

		if (!gelf_getsym(data, (int)i, &s) || !wanted(&s))
			continue;
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		if (t->n >= max)
			return -E2BIG;
		err = add_name(t, name, &sym.name);
		if (err)
			return err;
		sym.addr = s.st_value;
		sym.size = s.st_size;
		sym.rank = rank_of(&s, name);
		if (grow_array((void **)&t->syms, cap, t->n + 1, sizeof(*t->syms)))
			return -ENOMEM;
		t->syms[t->n++] = sym;
	}
	return 0;
}

static int read_segments(struct elf_symbols *t, Elf *elf)
{
	size_t n, cap = 0;

	if (elf_getphdrnum(elf, &n))
		return -ENOEXEC;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (grow_array((void **)&t->segs, &cap, t->nsegs + 1, sizeof(*t->segs)))
			return -ENOMEM;
		t->segs[t->nsegs++] = (struct elf_segment){ph.p_offset, ph.p_filesz, ph.p_vaddr};
	}
	return 0;
}

/* Sorted by address and rank; the same name at the same address (a function
 * in both .symtab and .dynsym) once. */
static void sort_dedup(struct elf_symbols *t)
{
	size_t w = 0;

	if (!t->n)
		return; /* syms is NULL */
	qsort(t->syms, t->n, sizeof(*t->syms), cmp_sym);
	for (size_t r = 0; r < t->n; r++) {
		bool dup = false;

		for (size_t k = w; k > 0 && t->syms[k - 1].addr == t->syms[r].addr; k--) {
			if (!strcmp(t->names + t->syms[k - 1].name, t->names + t->syms[r].name)) {
				dup = true;
				break;
			}
		}
		if (!dup)
			t->syms[w++] = t->syms[r];
	}
	t->n = w;
}

int elf_symbols_load(int fd, size_t max_symbols, struct elf_symbols **out)
{
	struct elf_symbols *t;
	Elf_Scn *scn = NULL;
	size_t cap = 0;
	Elf *elf;
	int err = 0;

	*out = NULL;
	pthread_once(&elf_once, elf_init);
	if (!elf_ok)
		return -ENOSYS;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	if (elf_kind(elf) != ELF_K_ELF) {
		elf_end(elf);
		return -ENOEXEC;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		elf_end(elf);
		return -ENOMEM;
	}
	err = read_segments(t, elf);
	while (!err && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM)
			err = read_table(t, elf, scn, &sh, max_symbols, &cap);
	}
	elf_end(elf);
	if (err) {
		elf_symbols_free(t);
		return err;
	}
	sort_dedup(t);
	*out = t;
	return 0;
}

void elf_symbols_free(struct elf_symbols *t)
{
	if (!t)
		return;
	free(t->syms);
	free(t->names);
	free(t->segs);
	free(t);
}

size_t elf_symbols_count(const struct elf_symbols *t)
{
	return t ? t->n : 0;
}

bool elf_symbols_file_to_vaddr(const struct elf_symbols *t, uint64_t off, uint64_t *vaddr)
{
	for (size_t i = 0; t && i < t->nsegs; i++) {
		const struct elf_segment *s = &t->segs[i];

		if (off >= s->offset && off - s->offset < s->filesz) {
			*vaddr = s->vaddr + (off - s->offset);
			return true;
		}
	}
	return false;
}

const char *elf_symbols_lookup(const struct elf_symbols *t, uint64_t vaddr, uint64_t *offset)
{
	size_t lo = 0, hi;

	if (!t || !t->n || t->syms[0].addr > vaddr)
		return NULL;
	/* the last symbol starting at or before vaddr */
	hi = t->n - 1;
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;

		if (t->syms[mid].addr <= vaddr)
			lo = mid;
		else
			hi = mid - 1;
	}
	for (size_t back = 0; back < NESTED_LOOKBACK; back++) {
		const struct elf_sym *s;

		/* the best-ranked name among those at this address */
		while (lo > 0 && t->syms[lo - 1].addr == t->syms[lo].addr)
			lo--;
		s = &t->syms[lo];
		for (size_t k = lo; k < t->n && t->syms[k].addr == s->addr; k++) {
			if (vaddr - t->syms[k].addr < t->syms[k].size) {
				*offset = vaddr - t->syms[k].addr;
				return t->names + t->syms[k].name;
			}
		}
		if (lo == 0)
			break;
		lo--;
	}
	return NULL;
}
