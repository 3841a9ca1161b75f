/* Kernel stacks: the kallsyms table (any user) and gadget_kernel_stack
 * fields symbolised from real stacks of a tracepoint (root). */
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ebpf/internal.h"
#include "test_ebpf_helpers.h"

static char tmp_path[64];

static const char *write_tmp(const char *text)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/sonde-kallsyms-XXXXXX");
	fd = mkstemp(tmp_path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	return tmp_path;
}

static void test_kallsyms_table(void)
{
	static const char text[] = "ffffffff81000200 T beta\n"
	                           "ffffffff81000000 T _stext\n"
	                           "ffffffff81000000 T _text\n"
	                           "ffffffffc0001000 t mod_func\t[mymod]\n"
	                           "ffffffff81000100 t alpha\n"
	                           "not a symbol line\n"
	                           "ffffffff81000300 D\n"
	                           "ffffffff81000400 d last_one"; /* no final newline */
	struct ebpf_kallsyms *ks = NULL;

	REQUIRE(ebpf_kallsyms_load(write_tmp(text), &ks) == 0);
	unlink(tmp_path);
	CHECK_INT(ebpf_kallsyms_count(ks), 6);
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0), "[unknown]");
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0xffffffff80ffffffULL), "[unknown]");
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0xffffffff81000000ULL), "_text"); /* last of equal addresses */
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0xffffffff810000ffULL), "_text");
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0xffffffff81000100ULL), "alpha");
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0xffffffff81000250ULL), "beta");
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0xffffffff81000400ULL), "last_one");
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0xffffffffc0001234ULL), "mod_func"); /* module name left out */
	CHECK_STR(ebpf_kallsyms_lookup(ks, UINT64_MAX), "mod_func");
	ebpf_kallsyms_free(ks);

	/* addresses hidden (kptr_restrict): every lookup is unknown */
	REQUIRE(ebpf_kallsyms_load(write_tmp("0000000000000000 T a\n0000000000000000 T b\n"), &ks) == 0);
	unlink(tmp_path);
	CHECK_INT(ebpf_kallsyms_count(ks), 2);
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0), "[unknown]");
	CHECK_STR(ebpf_kallsyms_lookup(ks, 0xffffffff81000000ULL), "[unknown]");
	ebpf_kallsyms_free(ks);

	/* empty and missing files */
	REQUIRE(ebpf_kallsyms_load(write_tmp(""), &ks) == 0);
	unlink(tmp_path);
	CHECK_INT(ebpf_kallsyms_count(ks), 0);
	CHECK_STR(ebpf_kallsyms_lookup(ks, 1), "[unknown]");
	ebpf_kallsyms_free(ks);
	CHECK_INT(ebpf_kallsyms_load("/nonexistent/kallsyms", &ks), -ENOENT);
	CHECK_STR(ebpf_kallsyms_lookup(NULL, 1), "[unknown]");
}

static void test_kallsyms_proc(void)
{
	struct ebpf_kallsyms *ks = NULL;
	struct timespec t0, t1;
	char *text, *p;
	unsigned long long addr = 0;

	test_require_root();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	REQUIRE(ebpf_kallsyms_load("/proc/kallsyms", &ks) == 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(ebpf_kallsyms_count(ks) > 10000);
	printf("  /proc/kallsyms: %zu symbols loaded and sorted in %.1f ms\n", ebpf_kallsyms_count(ks),
	       (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	text = test_read_file("/proc/kallsyms", NULL);
	REQUIRE(text);
	p = strstr(text, " T do_syscall_64\n");
	REQUIRE(p);
	while (p > text && p[-1] != '\n')
		p--;
	addr = strtoull(p, NULL, 16);
	free(text);
	CHECK_STR(ebpf_kallsyms_lookup(ks, addr), "do_syscall_64");
	CHECK_STR(ebpf_kallsyms_lookup(ks, addr + 5), "do_syscall_64");
	ebpf_kallsyms_free(ks);
}

/* ---- real stacks ---- */

struct stack_sink {
	struct sonde_gadget_ctx *ctx;
	struct sonde_field *pid, *kstack, *other;
	int records;
	char first[4096], other_text[64];
};

static int on_event(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct stack_sink *s = arg;
	uint32_t len;
	const char *t;

	if (sonde_field_uint32(s->pid, rec) != (uint32_t)getpid())
		return 0;
	if (s->records++ == 0) {
		t = sonde_field_string(s->kstack, rec, &len);
		snprintf(s->first, sizeof(s->first), "%.*s", (int)len, t);
		t = sonde_field_string(s->other, rec, &len);
		snprintf(s->other_text, sizeof(s->other_text), "%.*s", (int)len, t);
	}
	if (s->records == 5)
		sonde_gadget_cancel(s->ctx);
	return 0;
}

static void poke(struct sonde_gadget_ctx *ctx, void *arg)
{
	syscall(SYS_getpid);
}

static void test_kernel_stacks(void)
{
	static const char yaml[] = "datasources:\n  kstack:\n    fields:\n      other_stack:\n"
	                           "        annotations:\n          ebpf.formatter.kstack: other\n";
	struct gadget_run r;
	struct stack_sink sink = {0};
	struct sonde_ds *ds;
	char pid[32];

	test_require_root();
	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_kstack", yaml) == 0);
	snprintf(pid, sizeof(pid), "%d", getpid());
	CHECK_INT(set_param(&r, "pid", pid), 0); /* gadget_pid targ_pid: the well-known key */
	ds = sonde_gadget_ds(r.ctx, "kstack");
	REQUIRE(ds);
	sink.ctx = r.ctx;
	sink.pid = sonde_ds_field(ds, "pid");
	sink.kstack = sonde_ds_field(ds, "kstack");
	sink.other = sonde_ds_field(ds, "other");
	REQUIRE(sink.pid && sink.kstack && sink.other);
	CHECK(sonde_field_kind(sink.kstack) == SONDE_KIND_STRING);
	CHECK(sonde_field_flags(sonde_ds_field(ds, "kstack_raw")) & SONDE_FIELD_HIDDEN);
	CHECK(sonde_field_flags(sonde_ds_field(ds, "other_stack")) & SONDE_FIELD_HIDDEN);
	CHECK(!(sonde_field_flags(sink.kstack) & SONDE_FIELD_HIDDEN));
	REQUIRE(sonde_ds_subscribe(ds, on_event, &sink, 100) == 0);
	REQUIRE(sonde_gadget_add_timer(r.ctx, 1000000, 2000000, poke, NULL) >= 0);
	CHECK_INT(sonde_gadget_run(r.ctx, 10 * 1000000000LL), 0);
	CHECK(sink.records >= 5);
	printf("  stack: %.200s\n", sink.first);
	CHECK(strncmp(sink.first, "[0]", 3) == 0);
	CHECK(strstr(sink.first, "]do_syscall_64; ") != NULL);
	CHECK(strlen(sink.first) > 2 && strcmp(sink.first + strlen(sink.first) - 2, "; ") == 0);
	CHECK(strstr(sink.first, "[unknown]") == NULL);
	/* the stack id -EFAULT has no stack: empty, and said once */
	CHECK_STR(sink.other_text, "");
	CHECK_LOGGED("stack with id -14 is lost");
	gadget_close(&r);
	sonde_log_set_sink(NULL, NULL);
}

static void test_missing_map(void)
{
	struct gadget_run r;

	capture_reset();
	CHECK(gadget_open_fixture(&r, "ebpf_bad_kstack", NULL) == -EINVAL);
	CHECK_LOGGED("has a gadget_kernel_stack field but the object has no ig_kstack stack trace map");
	gadget_close(&r);
	sonde_log_set_sink(NULL, NULL);
}

TEST_MAIN(TEST(test_kallsyms_table), TEST(test_kallsyms_proc), TEST(test_kernel_stacks),
          TEST(test_missing_map))
