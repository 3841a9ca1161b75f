/* The dnsparser operator on a synthetic DataSource shaped like trace_dns's:
 * a producer emits an event struct {dns_off, data_len} and the packet as
 * the `data` bytes field, as the ebpf tracer does with ebpf.rest; a sink
 * records the fields the operator filled. Covers both triggers (upstream's
 * shape without any annotation, sonde's dns.parse annotation), a DataSource
 * it must leave alone, and packets that do not parse. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/sonde.h>

#include "operators/dns_parser.h"
#include "testlib.h"

#define NS 1000000000LL

struct ev {
	uint16_t off; /* named dns_off or other_off */
	uint32_t data_len;
};

/* ---- producer ---- */

static struct {
	const char *off_name;
	bool with_len;
	const uint8_t *pkt;
	size_t pkt_len;
	uint16_t dns_off;
	struct sonde_ds *ds;
	struct sonde_field *data;
} src;

static int src_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	const struct sonde_static_field m[] = {
	    {src.off_name, -1, SONDE_KIND_UINT16, offsetof(struct ev, off), 2, 0, NULL, NULL},
	    {"data_len", -1, SONDE_KIND_UINT32, offsetof(struct ev, data_len), 4, 0, NULL, NULL},
	};

	src.ds = sonde_gadget_add_ds(ctx, "dns", SONDE_DS_SINGLE);
	if (!src.ds || sonde_ds_add_static_fields(src.ds, sizeof(struct ev), m, src.with_len ? 2 : 1, NULL))
		return -EINVAL;
	src.data = sonde_ds_add_field(src.ds, "data", SONDE_KIND_BYTES, NULL);
	if (!src.data)
		return -EINVAL;
	*state = &src;
	return 0;
}

static void emit(struct sonde_gadget_ctx *ctx, void *arg)
{
	struct sonde_record *rec = sonde_ds_record(src.ds);
	struct ev ev = {.off = src.dns_off, .data_len = (uint32_t)src.pkt_len};

	rec->payloads[0].data = &ev;
	rec->payloads[0].len = sizeof(ev);
	sonde_field_set(src.data, rec, src.pkt, (uint32_t)src.pkt_len);
	sonde_ds_emit(src.ds, rec);
	sonde_gadget_cancel(ctx);
}

static int src_start(struct sonde_gadget_ctx *ctx, void *state)
{
	int id = sonde_gadget_add_timer(ctx, 1000000, 1000000, emit, NULL);

	return id < 0 ? id : 0;
}

static const struct sonde_operator src_operator = {
    .name = "testsrc",
    .kind = SONDE_OP_DATA,
    .priority = -10, /* its DataSource exists before dnsparser looks */
    .instantiate = src_instantiate,
    .start = src_start,
};

/* ---- sink ---- */

static const char *const names[] = {"id", "qr", "qtype",  "name",      "rcode",     "addresses",   "tc",
                                    "ra", "rd", "qr_raw", "qtype_raw", "rcode_raw", "num_answers", NULL};

static struct {
	char seen[16][128];
	int records;
} sink;

static int sink_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	sink.records++;
	for (int i = 0; names[i]; i++) {
		struct sonde_field *f = sonde_ds_field(ds, names[i]);
		enum sonde_kind k = f ? sonde_field_kind(f) : SONDE_KIND_INVALID;
		uint32_t len = 0;
		int64_t v = 0;

		if (!f)
			snprintf(sink.seen[i], sizeof(sink.seen[i]), "(none)");
		else if (k == SONDE_KIND_STRING) {
			const char *s = sonde_field_string(f, rec, &len);

			snprintf(sink.seen[i], sizeof(sink.seen[i]), "%.*s", s ? (int)len : 0, s ? s : "");
		} else if (k == SONDE_KIND_BOOL)
			snprintf(sink.seen[i], sizeof(sink.seen[i]), "%s",
			         sonde_field_bool(f, rec) ? "true" : "false");
		else if (sonde_field_as_int64(f, rec, &v))
			snprintf(sink.seen[i], sizeof(sink.seen[i]), "%s:%lld", sonde_kind_name(k),
			         (long long)v);
	}
	return 0;
}

static int sink_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	*state = &sink;
	return 0;
}

static int sink_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	return sonde_ds_subscribe(sonde_gadget_ds(ctx, "dns"), sink_record, NULL, SONDE_PHASE_SINK);
}

static const struct sonde_operator sink_operator = {
    .name = "testsink",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_SINK,
    .instantiate = sink_instantiate,
    .pre_start = sink_pre_start,
};

/* ---- helpers ---- */

static struct sonde_gadget_image image = {.name = "test"};

/* Runs one record through producer, dnsparser and sink; the sink's view. */
static int run(const char *yaml)
{
	struct sonde_gadget_ctx *ctx;
	int err;

	memset(&sink, 0, sizeof(sink));
	sonde_operator_unregister_all();
	sonde_operator_register(&src_operator);
	sonde_operator_register(&dns_parser_operator);
	sonde_operator_register(&sink_operator);
	image.config_yaml = yaml;
	image.config_len = yaml ? strlen(yaml) : 0;
	ctx = sonde_gadget_ctx_new(&image);
	if (!ctx)
		return -ENOMEM;
	err = sonde_gadget_instantiate(ctx);
	if (!err)
		err = sonde_gadget_run(ctx, 5 * NS);
	sonde_gadget_ctx_free(ctx);
	return err;
}

static const char *seen(const char *name)
{
	for (int i = 0; names[i]; i++)
		if (!strcmp(names[i], name))
			return sink.seen[i];
	return "(not a name)";
}

/* Ethernet + IPv4 + UDP headers (contents unread), then a response for
 * sd.example AAAA: fd00::1 and an A answer. */
static uint8_t packet[256];
static size_t packet_len;
#define HDRS (14 + 20 + 8)

static void make_packet(void)
{
	static const uint8_t dns[] = {
	    0xab, 0x01, 0x81, 0x80, 0,   1,   0,   2,   0,   0,   0,   0,  /* header: QR RD RA */
	    2,    's',  'd',  7,    'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,  /* sd.example */
	    0,    28,   0,    1,                                           /* AAAA IN */
	    0xc0, 12,   0,    28,   0,   1,   0,   0,   0,   60,  0,   16, /* AAAA answer */
	    0xfd, 0,    0,    0,    0,   0,   0,   0,   0,   0,   0,   0,  0, 0,
	    0,    1,    0xc0, 12,   0,   1,   0,   1,   0,   0,   0,   60, 0, 4, /* A answer */
	    10,   1,    2,    3,
	};

	memset(packet, 0x55, HDRS);
	memcpy(packet + HDRS, dns, sizeof(dns));
	packet_len = HDRS + sizeof(dns);
	src.pkt = packet;
	src.pkt_len = packet_len;
	src.dns_off = HDRS;
}

static void check_parsed(void)
{
	CHECK_INT(sink.records, 1);
	CHECK_STR(seen("id"), "ab01");
	CHECK_STR(seen("qr"), "R");
	CHECK_STR(seen("qr_raw"), "true");
	CHECK_STR(seen("qtype"), "AAAA");
	CHECK_STR(seen("qtype_raw"), "uint16:28");
	CHECK_STR(seen("name"), "sd.example.");
	CHECK_STR(seen("rcode"), "Success");
	CHECK_STR(seen("rcode_raw"), "uint16:0");
	CHECK_STR(seen("num_answers"), "int32:2");
	CHECK_STR(seen("addresses"), "fd00::1,10.1.2.3");
	CHECK_STR(seen("tc"), "false");
	CHECK_STR(seen("ra"), "true");
	CHECK_STR(seen("rd"), "true");
}

/* ---- tests ---- */

/* Upstream's image: no annotation, the shape of its wasm's inputs. */
static void test_upstream_shape(void)
{
	memset(&src, 0, sizeof(src));
	src.off_name = "dns_off";
	src.with_len = true;
	make_packet();
	CHECK_INT(run(NULL), 0);
	check_parsed();

	/* a query: no rcode (upstream sets it on responses only) */
	packet[HDRS + 2] = 0x01;
	packet[HDRS + 3] = 0x00;
	CHECK_INT(run(NULL), 0);
	CHECK_STR(seen("qr"), "Q");
	CHECK_STR(seen("qr_raw"), "false");
	CHECK_STR(seen("rcode"), "");
	CHECK_STR(seen("ra"), "false");
	CHECK_STR(seen("name"), "sd.example.");
}

/* sonde's gadget.yaml names the fields; here the offset has another name
 * and there is no data_len, so only the annotation can trigger. */
static void test_annotation(void)
{
	static const char yaml[] = "datasources:\n"
	                           "  dns:\n"
	                           "    annotations:\n"
	                           "      dns.parse: data\n"
	                           "      dns.offset: other_off\n";
	static const char bad[] = "datasources:\n"
	                          "  dns:\n"
	                          "    annotations:\n"
	                          "      dns.parse: data_len\n";

	memset(&src, 0, sizeof(src));
	src.off_name = "other_off";
	make_packet();
	CHECK_INT(run(yaml), 0);
	check_parsed();
	/* without it: not trace_dns's shape, nothing added */
	CHECK_INT(run(NULL), 0);
	CHECK_INT(sink.records, 1);
	CHECK_STR(seen("qr"), "(none)");
	/* an annotation naming a field that holds no packet is an error */
	CHECK_INT(run(bad), -EINVAL);
}

/* Packets that hold no DNS message that parses get no field, and the run
 * goes on; a packet shorter than its offset too. */
static void test_bad_packets(void)
{
	memset(&src, 0, sizeof(src));
	src.off_name = "dns_off";
	src.with_len = true;
	make_packet();
	src.pkt_len = HDRS + 20; /* cut in the question */
	CHECK_INT(run(NULL), 0);
	CHECK_INT(sink.records, 1);
	CHECK_STR(seen("qr"), "");
	CHECK_STR(seen("name"), "");
	CHECK_STR(seen("num_answers"), "int32:0");
	make_packet();
	src.dns_off = (uint16_t)(packet_len + 1);
	CHECK_INT(run(NULL), 0);
	CHECK_STR(seen("id"), "");
	/* a compression loop in the question */
	make_packet();
	packet[HDRS + 12] = 0xc0;
	packet[HDRS + 13] = 12;
	CHECK_INT(run(NULL), 0);
	CHECK_STR(seen("qr"), "");
}

TEST_MAIN(TEST(test_upstream_shape), TEST(test_annotation), TEST(test_bad_packets))
