/* The formatters operator on a real eBPF gadget (root): the fields and tags
 * come from the object's BTF, the values from the kernel. */
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "operators/formatters.h"
#include "test_ebpf_helpers.h"

#define NOUT 11
static const char *const outputs[NOUT] = {"timestamp", "error",     "sig",         "syscall",
                                          "flags",     "mode",      "size",        "latency",
                                          "src.addr",  "dst.proto", "dst.endpoint"};

struct sink {
	struct sonde_gadget_ctx *ctx;
	struct sonde_field *pid, *out[NOUT];
	char text[NOUT][64];
	int records;
};

static int on_event(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct sink *s = arg;
	uint32_t len;

	if (sonde_field_uint32(s->pid, rec) != (uint32_t)getpid() || s->records++)
		return 0;
	for (int i = 0; i < NOUT; i++) {
		const char *t = sonde_field_string(s->out[i], rec, &len);

		snprintf(s->text[i], sizeof(s->text[i]), "%.*s", (int)len, t);
	}
	sonde_gadget_cancel(s->ctx);
	return 0;
}

static void poke(struct sonde_gadget_ctx *ctx, void *arg)
{
	syscall(SYS_getpid);
}

static void test_special_types(void)
{
	struct gadget_run r;
	struct sink sink = {0};
	struct sonde_ds *ds;
	char pid[32];

	test_require_root();
	capture_reset();
	setenv("TZ", "UTC0", 1);
	tzset();
	sonde_operator_register(&formatters_operator);
	REQUIRE(gadget_open_fixture(&r, "ebpf_special_types", NULL) == 0);
	snprintf(pid, sizeof(pid), "%d", getpid());
	CHECK_INT(set_param(&r, "pid", pid), 0);
	ds = sonde_gadget_ds(r.ctx, "special");
	REQUIRE(ds);
	sink.ctx = r.ctx;
	sink.pid = sonde_ds_field(ds, "pid");
	REQUIRE(sink.pid);
	for (int i = 0; i < NOUT; i++) {
		sink.out[i] = sonde_ds_field(ds, outputs[i]);
		if (!sink.out[i]) {
			fprintf(stderr, "no field %s\n", outputs[i]);
			test_failures++;
			goto out;
		}
	}
	/* the raw union left the output; the struct columns show the text */
	CHECK(sonde_ds_field(ds, "src.addr_raw") == NULL);
	CHECK_STR(sonde_field_annotation(sonde_ds_field(ds, "dst"), "columns.replace"), "dst.endpoint");
	REQUIRE(sonde_ds_subscribe(ds, on_event, &sink, 100) == 0);
	REQUIRE(sonde_gadget_add_timer(r.ctx, 1000000, 2000000, poke, NULL) >= 0);
	CHECK_INT(sonde_gadget_run(r.ctx, 10 * 1000000000LL), 0);
	CHECK(sink.records >= 1);
	/* 2006-01-02T15:04:05.000000000Z07:00, local zone forced to UTC */
	CHECK_INT(strlen(sink.text[0]), 30);
	CHECK(sink.text[0][29] == 'Z');
	CHECK_STR(sink.text[1], "EACCES");
	CHECK_STR(sink.text[2], "SIGTERM");
	CHECK_STR(sink.text[3], "SYS_GETPID");
	CHECK_STR(sink.text[4], "O_WRONLY|O_CREAT|O_APPEND");
	CHECK_STR(sink.text[5], "-rwxr-xr-x");
	CHECK_STR(sink.text[6], "2.5 MB");
	CHECK_STR(sink.text[7], "1.50\xc2\xb5s");
	CHECK_STR(sink.text[8], "10.0.0.1");
	CHECK_STR(sink.text[9], "UDP");
	CHECK_STR(sink.text[10], "2001:db8::1:8080");
out:
	gadget_close(&r);
	sonde_log_set_sink(NULL, NULL);
}

TEST_MAIN(TEST(test_special_types))
