/* The kernel build id that keys the CO-RE BTF cache, read from ELF notes. */
#include <errno.h>

#include "ebpf/internal.h"
#include "testlib.h"

/* Appends one note (header, name and desc, each padded to 4 bytes). */
static size_t put_note(unsigned char *buf, uint32_t type, const char *name, const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1, hdr[3] = {namesz, descsz, type};
	size_t n = 0;

	memcpy(buf, hdr, sizeof(hdr));
	n += sizeof(hdr);
	memset(buf + n, 0, (namesz + 3) & ~3u);
	memcpy(buf + n, name, namesz);
	n += (namesz + 3) & ~3u;
	memset(buf + n, 0, (descsz + 3) & ~3u);
	memcpy(buf + n, desc, descsz);
	return n + ((descsz + 3) & ~3u);
}

static void test_build_id(void)
{
	static const unsigned char id[20] = {0xab, 0xf9, 0xec, 0x0e, 0xc5, 0x94, 0x66, 0x00, 0xc9, 0x06,
	                                     0x41, 0xcf, 0x5d, 0xb9, 0x98, 0x47, 0x2f, 0xac, 0x41, 0x0b};
	unsigned char buf[256];
	char out[64];
	size_t n = 0;

	n += put_note(buf + n, 6, "Xen", "xyz", 3); /* another note first */
	n += put_note(buf + n, 3, "GNU", id, sizeof(id));
	CHECK_INT(ebpf_build_id_from_notes(buf, n, out, sizeof(out)), 0);
	CHECK_STR(out, "abf9ec0ec5946600c90641cf5db998472fac410b");
	CHECK_INT(ebpf_build_id_from_notes(buf, n, out, 20), -ENOSPC);
	CHECK_INT(ebpf_build_id_from_notes(buf, n - 8, out, sizeof(out)), -EINVAL); /* truncated desc */
	CHECK_INT(ebpf_build_id_from_notes(buf, 20, out, sizeof(out)), -ENOENT);    /* only the Xen note */
	CHECK_INT(ebpf_build_id_from_notes(buf, 0, out, sizeof(out)), -ENOENT);
}

/* A GNU note of another type, or a non-GNU note of type 3, is not a build id. */
static void test_not_build_id(void)
{
	unsigned char buf[128];
	char out[64];
	size_t n = 0;

	n += put_note(buf + n, 1, "GNU", "abcd", 4);
	n += put_note(buf + n, 3, "LNX", "abcd", 4);
	CHECK_INT(ebpf_build_id_from_notes(buf, n, out, sizeof(out)), -ENOENT);
}

/* A huge size in a header must not read past the buffer. */
static void test_bad_sizes(void)
{
	unsigned char buf[64] = {0};
	uint32_t hdr[3] = {4, 0xfffffff0u, 3};
	char out[64];

	memcpy(buf, hdr, sizeof(hdr));
	memcpy(buf + 12, "GNU", 4);
	CHECK_INT(ebpf_build_id_from_notes(buf, sizeof(buf), out, sizeof(out)), -EINVAL);
}

TEST_MAIN(TEST(test_build_id), TEST(test_not_build_id), TEST(test_bad_sizes))
