/* ebpf operator internals that need no kernel: ld.so.cache parsing, section
 * classification, record splitting, ELF/BTF checks. */
#include <unistd.h>

#include "ebpf/internal.h"
#include "test_ebpf_helpers.h"

static void test_ldcache_host(void)
{
	char **paths = NULL;
	size_t n = 0;
	bool libc6 = false;

	if (access("/etc/ld.so.cache", R_OK) != 0)
		test_skip_dep("no /etc/ld.so.cache (libc-bin's ldconfig writes it)");
	CHECK_INT(ebpf_ldcache_lookup("/etc/ld.so.cache", "libc", &paths, &n), 0);
	CHECK(n >= 1);
	for (size_t i = 0; i < n; i++) {
		const char *base = strrchr(paths[i], '/');

		CHECK(paths[i][0] == '/');
		CHECK(base && strncmp(base + 1, "libc.so", 7) == 0);
		libc6 |= base && strcmp(base + 1, "libc.so.6") == 0;
	}
	CHECK(libc6);
	CHECK(paths[n] == NULL);
	ebpf_ldcache_free(paths);

	CHECK_INT(ebpf_ldcache_lookup("/etc/ld.so.cache", "libdoesnotexist", &paths, &n), 0);
	CHECK_INT(n, 0);
	ebpf_ldcache_free(paths);
}

/* Builds a glibc-ld.so.cache1.1 file with the given (flags, key, value) entries. */
static size_t build_cache(unsigned char *buf, size_t cap, const int32_t *flags, const char *const *keys,
                          const char *const *values, uint32_t n)
{
	size_t hdr = 48, entries = hdr + (size_t)n * 24, str = entries;

	memset(buf, 0, cap);
	memcpy(buf, "glibc-ld.so.cache1.1", 20);
	memcpy(buf + 20, &n, 4);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = (uint32_t)str, v;

		memcpy(buf + str, keys[i], strlen(keys[i]) + 1);
		str += strlen(keys[i]) + 1;
		v = (uint32_t)str;
		memcpy(buf + str, values[i], strlen(values[i]) + 1);
		str += strlen(values[i]) + 1;
		memcpy(buf + hdr + i * 24, &flags[i], 4);
		memcpy(buf + hdr + i * 24 + 4, &k, 4);
		memcpy(buf + hdr + i * 24 + 8, &v, 4);
	}
	return str;
}

static int write_tmp(char *path, const void *data, size_t len)
{
	int fd;

	strcpy(path, "/tmp/sonde-ldcache-XXXXXX");
	fd = mkstemp(path);

	if (fd < 0)
		return -1;
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void test_ldcache_synthetic(void)
{
	static const int32_t flags[] = {0x0303, 0x0303, 0x0003, 0x0303, 0x0303};
	static const char *const keys[] = {"libssl.so.3", "libssl.so.1.1", "libssl.so.3", "libssl3x.so",
	                                   "libssl.so.3"};
	static const char *const values[] = {"/usr/lib/libssl.so.3", "/usr/lib/libssl.so.1.1",
	                                     "/usr/lib32/libssl.so.3", "/usr/lib/libssl3x.so",
	                                     "/usr/lib/libssl.so.3"};
	unsigned char buf[4096];
	char path[] = "/tmp/sonde-ldcache-XXXXXX";
	char **paths = NULL;
	size_t n = 0, len;

	len = build_cache(buf, sizeof(buf), flags, keys, values, 5);
	REQUIRE(write_tmp(path, buf, len) == 0);
	CHECK_INT(ebpf_ldcache_lookup(path, "libssl", &paths, &n), 0);
#if defined(__x86_64__)
	/* 32-bit entry and the other library left out, duplicate folded */
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(paths[0], "/usr/lib/libssl.so.3");
		CHECK_STR(paths[1], "/usr/lib/libssl.so.1.1");
	}
#endif
	ebpf_ldcache_free(paths);
	unlink(path);

	/* corrupt string offsets and truncated tables are rejected, not followed */
	memset(buf + 48 + 4, 0xff, 8);
	REQUIRE(write_tmp(path, buf, len) == 0);
	capture_reset();
	CHECK_INT(ebpf_ldcache_lookup(path, "libssl", &paths, &n), 0); /* entry skipped */
	ebpf_ldcache_free(paths);
	unlink(path);
	REQUIRE(write_tmp(path, buf, 60) == 0);
	CHECK(ebpf_ldcache_lookup(path, "libssl", &paths, &n) < 0);
	unlink(path);
	REQUIRE(write_tmp(path, "garbage garbage garbage garbage garbage garbage garbage", 50) == 0);
	CHECK_INT(ebpf_ldcache_lookup(path, "libssl", &paths, &n), -EBADMSG);
	unlink(path);
	CHECK_INT(ebpf_ldcache_lookup("/nonexistent/ld.so.cache", "libc", &paths, &n), -ENOENT);
}

static void test_sections(void)
{
	const char *target;

	CHECK_INT(ebpf_section_kind("tracepoint/syscalls/sys_enter_open", &target), EBPF_SEC_TRACEPOINT);
	CHECK_STR(target, "syscalls/sys_enter_open");
	CHECK_INT(ebpf_section_kind("tp/sched/sched_switch", &target), EBPF_SEC_TRACEPOINT);
	CHECK_INT(ebpf_section_kind("raw_tp/sys_enter", &target), EBPF_SEC_RAW_TP);
	CHECK_STR(target, "sys_enter");
	CHECK_INT(ebpf_section_kind("raw_tracepoint/sys_exit", NULL), EBPF_SEC_RAW_TP);
	CHECK_INT(ebpf_section_kind("tp_btf/sched_process_exec", NULL), EBPF_SEC_TP_BTF);
	CHECK_INT(ebpf_section_kind("uprobe/libc:malloc", &target), EBPF_SEC_UPROBE);
	CHECK_STR(target, "libc:malloc");
	CHECK_INT(ebpf_section_kind("uretprobe//bin/bash:readline", &target), EBPF_SEC_URETPROBE);
	CHECK_STR(target, "/bin/bash:readline");
	CHECK_INT(ebpf_section_kind("kprobe/do_unlinkat", NULL), EBPF_SEC_KPROBE);
	CHECK_INT(ebpf_section_kind("kretprobe/do_unlinkat", NULL), EBPF_SEC_KRETPROBE);
	CHECK_INT(ebpf_section_kind("fentry/x", NULL), EBPF_SEC_FENTRY);
	CHECK_INT(ebpf_section_kind("fexit/x", NULL), EBPF_SEC_FEXIT);
	CHECK_INT(ebpf_section_kind("lsm/file_open", NULL), EBPF_SEC_LSM);
	CHECK_INT(ebpf_section_kind("iter/task", NULL), EBPF_SEC_ITER);
	CHECK_INT(ebpf_section_kind("socket", NULL), EBPF_SEC_SOCKET);
	CHECK_INT(ebpf_section_kind("socket1", NULL), EBPF_SEC_SOCKET);
	CHECK_INT(ebpf_section_kind("sockops", NULL), EBPF_SEC_SOCKOPS);
	CHECK_INT(ebpf_section_kind("classifier/ingress/drop", &target), EBPF_SEC_CLASSIFIER);
	CHECK_STR(target, "ingress/drop");
	CHECK_INT(ebpf_section_kind("perf_event/sample", &target), EBPF_SEC_PERF_EVENT);
	CHECK_STR(target, "sample");
	CHECK_INT(ebpf_section_kind("sk_skb/stream_verdict", NULL), EBPF_SEC_SK_SKB);
	CHECK_INT(ebpf_section_kind("sk_msg", NULL), EBPF_SEC_SK_MSG);
	CHECK_INT(ebpf_section_kind("usdt/libc:libc:setjmp", NULL), EBPF_SEC_USDT);
	CHECK_INT(ebpf_section_kind("xdp", NULL), EBPF_SEC_UNKNOWN);
	CHECK_INT(ebpf_section_kind("tracepointx", NULL), EBPF_SEC_UNKNOWN);
}

static void test_split(void)
{
	size_t n;

	CHECK_INT(ebpf_split_records(0, 24, &n), 0);
	CHECK_INT(n, 0);
	CHECK_INT(ebpf_split_records(72, 24, &n), 0);
	CHECK_INT(n, 3);
	CHECK(ebpf_split_records(73, 24, &n) < 0);
	CHECK(ebpf_split_records(10, 0, &n) < 0);
}

static void test_elf_check(void)
{
	char why[256];
	size_t len = 0;
	char *obj = load_fixture("ebpf_getpid", &len);
	char *exe;

	REQUIRE(obj);
	CHECK_INT(ebpf_elf_check(obj, len, why, sizeof(why)), 0);
	free(obj);
	exe = test_read_file("/proc/self/exe", &len);
	REQUIRE(exe);
	CHECK(ebpf_elf_check(exe, len, why, sizeof(why)) < 0);
	CHECK_STR(why, "not a relocatable ELF object");
	free(exe);
}

/* BTF records pointing outside the type table are caught before libbpf. */
static void test_btf_check(void)
{
	/* header + INT "a" + PTR→type 7 (does not exist) + strings "\0a\0" */
	struct {
		uint16_t magic;
		uint8_t version, flags;
		uint32_t hdr_len, type_off, type_len, str_off, str_len;
		uint32_t int_name, int_info, int_size, int_enc;
		uint32_t ptr_name, ptr_info, ptr_type;
		char strs[4];
	} __attribute__((packed)) b = {
	    0xeB9F, 1, 0, 24, 0, 28, 28, 3, 1, 1u << 24, 4, 32, 0, 2u << 24, 7, {0, 'a', 0, 0},
	};
	char why[256];

	CHECK(ebpf_btf_check(&b, 24 + 28 + 3, why, sizeof(why)) < 0);
	CHECK_STR(why, "malformed BTF: type 2: refers to a type that does not exist");
	b.ptr_type = 1;
	CHECK_INT(ebpf_btf_check(&b, 24 + 28 + 3, why, sizeof(why)), 0);
	b.int_name = 40; /* past the strings */
	CHECK(ebpf_btf_check(&b, 24 + 28 + 3, why, sizeof(why)) < 0);
	b.int_name = 1;
	b.ptr_info = 8u << 24; /* TYPEDEF */
	b.ptr_type = 2;        /* itself: a cycle */
	CHECK(ebpf_btf_check(&b, 24 + 28 + 3, why, sizeof(why)) < 0);
	CHECK_STR(why, "malformed BTF: type 2: type chain does not end (cycle)");
	b.type_len = 100;
	CHECK(ebpf_btf_check(&b, 24 + 28 + 3, why, sizeof(why)) < 0);
}

TEST_MAIN(TEST(test_ldcache_host), TEST(test_ldcache_synthetic), TEST(test_sections), TEST(test_split),
          TEST(test_elf_check), TEST(test_btf_check))
