/* Function symbols of one ELF file, sorted for address lookups: what the user
 * stack symbolizer names a frame with.
 *
 * Symbols come from .symtab and .dynsym (a stripped library keeps its
 * exported functions in .dynsym), functions and other code symbols with a
 * size and a name; duplicates (the same function in both tables) are kept
 * once. Names longer than ELF_SYMBOLS_NAME_MAX bytes are cut, as upstream
 * does. The PT_LOAD segments are kept too: a runtime address becomes a file
 * offset through /proc/<pid>/maps, and a file offset a link-time address
 * through the segment that holds it, which works for PIE and non-PIE
 * executables and shared libraries alike. Immutable once loaded: lookups
 * need no lock. */
#ifndef SONDE_HOST_ELF_SYMBOLS_H
#define SONDE_HOST_ELF_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELF_SYMBOLS_NAME_MAX 256

struct elf_symbols;

/* Reads the file open at `fd` (not closed; its offset is not used). Files
 * with more than `max_symbols` symbols are refused with -E2BIG, files that
 * are not ELF with -ENOEXEC. A file without symbol tables is a valid, empty
 * table. Logs nothing: the caller knows which file it was. */
int elf_symbols_load(int fd, size_t max_symbols, struct elf_symbols **out);
void elf_symbols_free(struct elf_symbols *t);
size_t elf_symbols_count(const struct elf_symbols *t);

/* The link-time address of file offset `off`, if a PT_LOAD segment maps it. */
bool elf_symbols_file_to_vaddr(const struct elf_symbols *t, uint64_t off, uint64_t *vaddr);

/* The function that holds link-time address `vaddr` and the distance from its
 * start, or NULL. The name lives as long as the table. */
const char *elf_symbols_lookup(const struct elf_symbols *t, uint64_t vaddr, uint64_t *offset);

#endif
