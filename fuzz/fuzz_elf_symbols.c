/* The user stack symbolizer's readers of files a traced process controls:
 * an ELF file it mapped (a container's binary or library, written by whoever
 * built the image) and a line of its /proc/<pid>/maps (paths are the
 * process's own). First byte 'M': the rest is one maps line; anything else:
 * the whole input is an ELF file, read through a memfd as the symbolizer
 * reads an fd, then looked up at addresses taken from its own bytes.
 *
 * Oracles: a parsed maps line has start <= end and a path inside the line; a
 * name found is NUL-terminated within ELF_SYMBOLS_NAME_MAX bytes. */
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "host/elf_symbols.h"
#include "host/proc_maps.h"

static void maps_line(const uint8_t *data, size_t len)
{
	struct proc_map m;

	if (proc_maps_parse_line((const char *)data, len, &m) != 0)
		return;
	FUZZ_CHECK(m.start <= m.end);
	FUZZ_CHECK(m.path >= (const char *)data && m.path + m.path_len == (const char *)data + len);
}

static void elf_file(const uint8_t *data, size_t len)
{
	struct elf_symbols *t = NULL;
	int fd = memfd_create("fuzz_elf", MFD_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, data, len) != (ssize_t)len || elf_symbols_load(fd, 1u << 16, &t) != 0) {
		close(fd);
		return;
	}
	close(fd);
	for (size_t i = 0; i + 8 <= len && i < 64 * 8; i += 8) {
		uint64_t a, off = 0, vaddr;
		const char *name;

		memcpy(&a, data + i, sizeof(a));
		name = elf_symbols_lookup(t, a, &off);
		if (name) {
			FUZZ_CHECK(strnlen(name, ELF_SYMBOLS_NAME_MAX + 1) <= ELF_SYMBOLS_NAME_MAX);
			FUZZ_CHECK(off <= a);
		}
		(void)elf_symbols_file_to_vaddr(t, a, &vaddr);
	}
	/* where small executables (PIE, then non-PIE) and libraries put their code */
	for (uint64_t base = 0; base <= 0x400000; base += 0x400000) {
		for (uint64_t a = base; a < base + 0x4000; a += 4) {
			uint64_t off = 0;
			const char *name = elf_symbols_lookup(t, a, &off);

			if (name)
				FUZZ_CHECK(strnlen(name, ELF_SYMBOLS_NAME_MAX + 1) <= ELF_SYMBOLS_NAME_MAX &&
				           off <= a);
		}
	}
	elf_symbols_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	fuzz_init_once();
	if (len && data[0] == 'M')
		maps_line(data + 1, len - 1);
	else
		elf_file(data, len);
	return 0;
}
