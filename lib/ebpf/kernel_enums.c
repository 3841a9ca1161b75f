/* Enums whose values belong to the running kernel.
 *
 * An object's BTF carries the enums of the vmlinux.h it was built with. When
 * the program asks the kernel for an enum's values (a CO-RE enum-value
 * relocation, bpf_core_enum_value()), the values it stores are the running
 * kernel's, which move between releases (enum skb_drop_reason gained and
 * reordered reasons in every kernel since 5.17): such an enum is named from
 * the kernel's own BTF. Other enums keep the object's values, and no
 * gadget without such a relocation pays for parsing the kernel's BTF. */
#include <elf.h>
#include <pthread.h>
#include <string.h>

#include <sonde/log.h>

#include "internal.h"

#define BTF_EXT_MAGIC 0xeB9F
/* enum bpf_core_relo_kind */
#define CORE_ENUMVAL_EXISTS 10
#define CORE_ENUMVAL_VALUE  11

struct btf_ext_hdr {
	uint16_t magic;
	uint8_t version;
	uint8_t flags;
	uint32_t hdr_len;
	uint32_t func_info_off, func_info_len;
	uint32_t line_info_off, line_info_len;
	uint32_t core_relo_off, core_relo_len; /* when hdr_len covers them */
};

struct core_relo {
	uint32_t insn_off;
	uint32_t type_id;
	uint32_t access_str_off;
	uint32_t kind;
};

static bool in_bounds(uint64_t off, uint64_t size, size_t len)
{
	return off <= len && size <= len - off;
}

/* The bytes of section `name` of the ELF image, or NULL. */
static const unsigned char *find_section(const unsigned char *img, size_t len, const char *name, size_t *size)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strtab;

	if (len < sizeof(eh))
		return NULL;
	memcpy(&eh, img, sizeof(eh));
	if (eh.e_shentsize != sizeof(sh) || eh.e_shstrndx >= eh.e_shnum ||
	    !in_bounds(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(sh), len))
		return NULL;
	memcpy(&strtab, img + eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof(sh), sizeof(sh));
	if (!in_bounds(strtab.sh_offset, strtab.sh_size, len))
		return NULL;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, img + eh.e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_name >= strtab.sh_size || strncmp((const char *)img + strtab.sh_offset + sh.sh_name,
		                                            name, strtab.sh_size - sh.sh_name) != 0)
			continue;
		if (!in_bounds(sh.sh_offset, sh.sh_size, len))
			return NULL;
		*size = sh.sh_size;
		return img + sh.sh_offset;
	}
	return NULL;
}

bool ebpf_enum_core_relocated(const struct ebpf_gadget *g, uint32_t enum_id)
{
	const unsigned char *ext, *p, *end;
	struct btf_ext_hdr h = {0};
	uint32_t rec_size;
	size_t size = 0;

	ext = find_section(g->image, g->image_len, ".BTF.ext", &size);
	if (!ext || size < offsetof(struct btf_ext_hdr, core_relo_off))
		return false;
	memcpy(&h, ext, offsetof(struct btf_ext_hdr, core_relo_off));
	if (h.magic != BTF_EXT_MAGIC || h.hdr_len < sizeof(h) || h.hdr_len > size)
		return false;
	memcpy(&h, ext, sizeof(h));
	if (!in_bounds((uint64_t)h.hdr_len + h.core_relo_off, h.core_relo_len, size) || h.core_relo_len < 4)
		return false;
	p = ext + h.hdr_len + h.core_relo_off;
	end = p + h.core_relo_len;
	memcpy(&rec_size, p, 4);
	p += 4;
	if (rec_size < sizeof(struct core_relo))
		return false;
	enum_id = (uint32_t)btf__resolve_type(g->btf, enum_id);
	/* sections: name offset, record count, records */
	while (end - p >= 8) {
		uint32_t n;

		memcpy(&n, p + 4, 4);
		p += 8;
		if ((uint64_t)n * rec_size > (uint64_t)(end - p))
			return false;
		for (uint32_t i = 0; i < n; i++, p += rec_size) {
			struct core_relo r;

			memcpy(&r, p, sizeof(r));
			if ((r.kind == CORE_ENUMVAL_EXISTS || r.kind == CORE_ENUMVAL_VALUE) &&
			    (uint32_t)btf__resolve_type(g->btf, r.type_id) == enum_id)
				return true;
		}
	}
	return false;
}

static pthread_once_t vmlinux_once = PTHREAD_ONCE_INIT;
static struct btf *vmlinux; /* kept for the process: parsing it costs ~40 ms */

static void load_vmlinux(void)
{
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		sonde_debug("ebpf: cannot read the kernel's BTF: %s", strerror(errno));
}

const struct btf_type *ebpf_kernel_enum(const char *name, const struct btf **btf)
{
	int id;

	if (!name || !*name)
		return NULL;
	pthread_once(&vmlinux_once, load_vmlinux);
	if (!vmlinux)
		return NULL;
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_ENUM);
	if (id < 0)
		id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_ENUM64);
	if (id < 0)
		return NULL;
	*btf = vmlinux;
	return btf__type_by_id(vmlinux, (uint32_t)id);
}
