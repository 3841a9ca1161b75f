/* ebpf operator: bad input never crashes and gives one clear error.
 * Instantiate only (no privileges needed): nothing is loaded into the kernel. */
#include <stdint.h>
#include <unistd.h>

#include "test_ebpf_helpers.h"

/* Instantiates bytes that must be rejected; checks the error mentions `needle`. */
static void expect_reject(const char *what, const void *data, size_t len, const char *needle)
{
	struct gadget_run r;
	int err;

	capture_reset();
	err = gadget_open(&r, what, data, len, NULL);
	if (err >= 0)
		fprintf(stderr, "  %s: accepted\n", what);
	CHECK(err < 0);
	if (needle)
		CHECK_LOGGED(needle);
	CHECK(log_errors[0] != '\0');
	gadget_close(&r);
}

static void test_garbage(void)
{
	unsigned char junk[1024];
	const char text[] = "this is not an ELF object at all";
	unsigned char elf_junk[128] = {0x7f, 'E', 'L', 'F', 2, 1, 1};

	srand(1);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)rand();
	expect_reject("junk", junk, sizeof(junk), "not an ELF file");
	expect_reject("text", text, sizeof(text), "not an ELF file");
	expect_reject("empty", text, 0, "empty");
	expect_reject("tiny",
	              "\x7f"
	              "EL",
	              3, "not an ELF file");
	/* An ELF identification followed by zeros: not a BPF relocatable. */
	expect_reject("elf-junk", elf_junk, sizeof(elf_junk), "invalid eBPF object");
}

static void test_truncated(void)
{
	size_t len = 0;
	char *obj = load_fixture("ebpf_getpid", &len);
	size_t cuts[] = {4, 16, 63, 64, 100, 0, 0, 0};

	REQUIRE(obj && len > 1024);
	cuts[5] = len / 2;
	cuts[6] = len - 64;
	cuts[7] = len - 1;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		char what[64];

		snprintf(what, sizeof(what), "truncated-%zu", cuts[i]);
		expect_reject(what, obj, cuts[i], "invalid eBPF object");
	}
	free(obj);
}

/* Renames the .BTF section in place: same object, no BTF. */
static void test_no_btf_renamed(void)
{
	size_t len = 0;
	char *obj = load_fixture("ebpf_getpid", &len);
	int renamed = 0;

	REQUIRE(obj);
	for (size_t i = 0; i + 5 <= len; i++) {
		/* ".BTF" may share its bytes with ".rel.BTF" in the name table. */
		if (memcmp(obj + i, ".BTF", 5) == 0) {
			obj[i + 1] = 'X';
			renamed++;
		}
	}
	REQUIRE(renamed == 1);
	expect_reject("no-btf", obj, len, "missing BTF");
	free(obj);
}

/* The real thing: an object built with clang but stripped of .BTF/.BTF.ext. */
static void test_no_btf_stripped(void)
{
	char out[] = "/tmp/sonde-nobtf-XXXXXX";
	char cmd[4096];
	int fd = mkstemp(out);
	size_t len = 0;
	char *obj;

	REQUIRE(fd >= 0);
	close(fd);
	snprintf(cmd, sizeof(cmd),
	         "llvm-objcopy --remove-section=.BTF --remove-section=.BTF.ext %s %s 2>/dev/null || "
	         "llvm-objcopy-14 --remove-section=.BTF --remove-section=.BTF.ext %s %s 2>/dev/null",
	         fixture_path("ebpf_getpid"), out, fixture_path("ebpf_getpid"), out);
	if (system(cmd) != 0) {
		unlink(out);
		test_skip_dep("no llvm-objcopy (llvm) to strip the BTF");
	}
	obj = test_read_file(out, &len);
	unlink(out);
	REQUIRE(obj && len > 0);
	expect_reject("stripped", obj, len, "missing BTF");
	free(obj);
}

static void test_bad_fixtures(void)
{
	static const struct {
		const char *fixture;
		const char *needle;
	} cases[] = {
	    {"ebpf_bad_nomap", "tracer 'bad': map 'nosuchmap' not found"},
	    {"ebpf_bad_nostruct", "tracer 'bad': struct 'nosuchstruct' not found"},
	    {"ebpf_bad_maptype", "map 'events' has a wrong type"},
	    {"ebpf_bad_section", "program 'ig_unknown' (nosuchtype/whatever): unknown section type"},
	    {"ebpf_bad_param", "param 'settings': unsupported type 'settings'"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct gadget_run r;
		int err;

		capture_reset();
		REQUIRE(access(fixture_path(cases[i].fixture), R_OK) == 0);
		err = gadget_open_fixture(&r, cases[i].fixture, NULL);
		CHECK(err < 0);
		CHECK_LOGGED(cases[i].needle);
		gadget_close(&r);
	}
}

/* Instantiate never loads: objects the kernel would reject still give info. */
static void test_info_without_load(void)
{
	struct gadget_run r;

	capture_reset();
	CHECK_INT(gadget_open_fixture(&r, "ebpf_fentry", NULL), 0);
	CHECK_INT(sonde_gadget_nds(r.ctx), 0);
	gadget_close(&r);

	CHECK_INT(gadget_open_fixture(&r, "ebpf_getpid", NULL), 0);
	CHECK(sonde_gadget_ds(r.ctx, "getpid") != NULL);
	CHECK_STR(param_value(&r, "pid"), "0");
	gadget_close(&r);
}

/* Random byte flips in real objects: must never crash (ASan build included). */
static void test_mutations(void)
{
	static const char *const fixtures[] = {"ebpf_getpid", "ebpf_fields", "ebpf_iter", "ebpf_params"};
	unsigned seed = 12345;
	int accepted = 0, rejected = 0;

	sonde_log_set_sink(capture_sink, NULL);
	for (size_t f = 0; f < sizeof(fixtures) / sizeof(fixtures[0]); f++) {
		size_t len = 0;
		char *orig = load_fixture(fixtures[f], &len);
		char *obj;

		REQUIRE(orig);
		obj = malloc(len);
		REQUIRE(obj);
		for (int iter = 0; iter < 1000; iter++) {
			struct gadget_run r;
			int flips = 1 + (int)(rand_r(&seed) % 8);

			memcpy(obj, orig, len);
			for (int k = 0; k < flips; k++)
				obj[rand_r(&seed) % len] ^= (char)(1 + rand_r(&seed) % 255);
			log_errors[0] = '\0';
			if (gadget_open(&r, "mutant", obj, len, NULL) == 0)
				accepted++;
			else
				rejected++;
			gadget_close(&r);
		}
		free(obj);
		free(orig);
	}
	printf("  mutations: %d accepted, %d rejected\n", accepted, rejected);
	CHECK(rejected > 0);
}

TEST_MAIN(TEST(test_garbage), TEST(test_truncated), TEST(test_no_btf_renamed), TEST(test_no_btf_stripped),
          TEST(test_bad_fixtures), TEST(test_info_without_load), TEST(test_mutations))
