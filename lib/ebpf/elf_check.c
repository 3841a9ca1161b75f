/* Sanity check of an eBPF ELF object before it reaches libbpf.
 *
 * libbpf trusts libelf with the framing; checking header, section table and
 * section names ourselves first turns garbage and truncated files into one
 * precise reason instead of a libbpf debug trail, and finds out early whether
 * the object carries BTF (the gadget ABI is useless without it). */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#ifndef EM_BPF
#define EM_BPF 247
#endif

static int fail(char *why, size_t whylen, int err, const char *msg)
{
	snprintf(why, whylen, "%s", msg);
	return err;
}

/* True if [off, off+size) lies inside a buffer of len bytes. */
static bool in_bounds(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

int ebpf_elf_check(const void *data, size_t len, char *why, size_t whylen)
{
	const unsigned char *p = data;
	Elf64_Ehdr eh;
	Elf64_Shdr strtab;
	uint64_t btf_off = 0, btf_size = 0;

	if (!data || len < EI_NIDENT || memcmp(p, ELFMAG, SELFMAG) != 0)
		return fail(why, whylen, -EINVAL, "not an ELF file");
	if (len < sizeof(eh))
		return fail(why, whylen, -EINVAL, "truncated ELF header");
	memcpy(&eh, p, sizeof(eh));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64)
		return fail(why, whylen, -EINVAL, "not a 64-bit ELF object");
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
#else
	if (eh.e_ident[EI_DATA] != ELFDATA2MSB)
#endif
		return fail(why, whylen, -EINVAL, "ELF byte order differs from the host");
	if (eh.e_type != ET_REL)
		return fail(why, whylen, -EINVAL, "not a relocatable ELF object");
	if (eh.e_machine != EM_BPF)
		return fail(why, whylen, -EINVAL, "not an eBPF object (ELF machine is not BPF)");
	if (eh.e_shnum == 0 || eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum)
		return fail(why, whylen, -EINVAL, "ELF section header table is malformed");
	if (!in_bounds(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr), len))
		return fail(why, whylen, -EINVAL, "truncated ELF object (section table past end of file)");
	memcpy(&strtab, p + eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof(strtab));
	if (strtab.sh_type != SHT_STRTAB || !in_bounds(strtab.sh_offset, strtab.sh_size, len) ||
	    strtab.sh_size == 0 || p[strtab.sh_offset + strtab.sh_size - 1] != '\0')
		return fail(why, whylen, -EINVAL, "ELF section name table is malformed");

	for (unsigned i = 1; i < eh.e_shnum; i++) {
		Elf64_Shdr sh;
		const char *name;

		memcpy(&sh, p + eh.e_shoff + (uint64_t)i * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_name >= strtab.sh_size)
			return fail(why, whylen, -EINVAL, "ELF section name out of range");
		if (sh.sh_type != SHT_NOBITS && !in_bounds(sh.sh_offset, sh.sh_size, len))
			return fail(why, whylen, -EINVAL,
			            "truncated ELF object (section data past end of file)");
		name = (const char *)p + strtab.sh_offset + sh.sh_name;
		if (strcmp(name, ".BTF") == 0 && sh.sh_type != SHT_NOBITS) {
			btf_off = sh.sh_offset;
			btf_size = sh.sh_size;
		}
	}
	if (!btf_size)
		return fail(why, whylen, -ENOENT,
		            "missing BTF: the eBPF object has no .BTF section (build it with clang -g)");
	return ebpf_btf_check(p + btf_off, btf_size, why, whylen);
}
