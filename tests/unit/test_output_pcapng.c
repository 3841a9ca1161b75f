/* The pcapng writer (lib/output/pcapng.c) byte for byte: block lengths,
 * padding of bodies and option values, option encoding; and the pcap-ng
 * sink over a DataSource with upstream's pcap.* annotations: one section
 * header, one interface per distinct key with its description, packets
 * with their length, original length, time and interface. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <sonde/log.h>
#include <sonde/sonde.h>

#include "output/outbuf.h"
#include "output/pcapng.h"
#include "output/sinks.h"
#include "testlib.h"

static char last_err[512];
static int nerrors;

static void capture_log(enum sonde_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if (level == SONDE_LOG_ERROR) {
		nerrors++;
		snprintf(last_err, sizeof(last_err), "%s", msg);
	}
}

static uint32_t u32_at(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t u16_at(const char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static void test_shb_bytes(void)
{
	static const struct pcapng_opt opts[] = {{PCAPNG_SHB_USERAPPL, 5, "sonde"}};
	/* type, length 44, magic, 1.0, section length -1, option 4 len 5 "sonde"+3 pad, endofopt, length */
	static const unsigned char want[44] = {
	    0x0a, 0x0d, 0x0d, 0x0a, 44,   0,    0,    0,    0x4d, 0x3c, 0x2b, 0x1a, 1, 0,   0,
	    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 4,    0,    5,    0, 's', 'o',
	    'n',  'd',  'e',  0,    0,    0,    0,    0,    0,    0,    44,   0,    0, 0,
	};
	struct sonde_outbuf ob;

	if (*(const unsigned char *)&(uint16_t){1} != 1)
		test_skip_machine("the expected bytes are little-endian");
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	CHECK_INT(pcapng_write_shb(&ob, opts, 1), 44);
	CHECK_INT(ob.len, 44);
	CHECK(memcmp(ob.data, want, sizeof(want)) == 0);
	/* no options: no opt_endofopt either */
	outbuf_reset(&ob);
	CHECK_INT(pcapng_write_shb(&ob, NULL, 0), 28);
	CHECK_INT(u32_at(ob.data + 4), 28);
	CHECK_INT(u32_at(ob.data + 24), 28);
	outbuf_fini(&ob);
}

static void test_idb_bytes(void)
{
	static const uint8_t nine = 9;
	const struct pcapng_opt opts[] = {
	    {PCAPNG_IF_NAME, 4, "eth0"},    /* exactly 4: no padding */
	    {PCAPNG_IF_TSRESOL, 1, &nine},  /* 1 + 3 padding */
	    {PCAPNG_IF_DESCRIPTION, 0, ""}, /* empty value: header only */
	};
	struct sonde_outbuf ob;
	const char *p;

	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	/* 8 head + 8 body + (4+4) + (4+4) + 4 + 4 endofopt + 4 tail */
	CHECK_INT(pcapng_idb_len(opts, 3), 44);
	CHECK_INT(pcapng_write_idb(&ob, PCAPNG_LINKTYPE_ETHERNET, 0, opts, 3), 44);
	REQUIRE(ob.len == 44);
	p = ob.data;
	CHECK_INT(u32_at(p), 1);
	CHECK_INT(u32_at(p + 4), 44);
	CHECK_INT(u16_at(p + 8), 1); /* LINKTYPE_ETHERNET */
	CHECK_INT(u16_at(p + 10), 0);
	CHECK_INT(u32_at(p + 12), 0); /* snaplen */
	CHECK_INT(u16_at(p + 16), 2);
	CHECK_INT(u16_at(p + 18), 4);
	CHECK(memcmp(p + 20, "eth0", 4) == 0);
	CHECK_INT(u16_at(p + 24), 9);
	CHECK_INT(u16_at(p + 26), 1);
	CHECK_INT((unsigned char)p[28], 9);
	CHECK(p[29] == 0 && p[30] == 0 && p[31] == 0);
	CHECK_INT(u16_at(p + 32), 3);
	CHECK_INT(u16_at(p + 34), 0);
	CHECK_INT(u32_at(p + 36), 0); /* opt_endofopt */
	CHECK_INT(u32_at(p + 40), 44);
	outbuf_fini(&ob);
}

static void test_epb_bytes(void)
{
	static const char pkt[] = "0123456"; /* 7 bytes: one of padding */
	static const struct pcapng_opt comment[] = {{PCAPNG_OPT_COMMENT, 2, "hi"}};
	uint64_t ts = 0x0123456789abcdefull;
	struct sonde_outbuf ob;
	const char *p;

	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	CHECK_INT(pcapng_write_epb(&ob, 3, ts, pkt, 7, 1500, NULL, 0), 40);
	REQUIRE(ob.len == 40);
	p = ob.data;
	CHECK_INT(u32_at(p), 6);
	CHECK_INT(u32_at(p + 4), 40);
	CHECK_INT(u32_at(p + 8), 3);            /* interface id */
	CHECK_INT(u32_at(p + 12), 0x01234567u); /* timestamp, high word first */
	CHECK_INT(u32_at(p + 16), 0x89abcdefu);
	CHECK_INT(u32_at(p + 20), 7);    /* captured */
	CHECK_INT(u32_at(p + 24), 1500); /* original */
	CHECK(memcmp(p + 28, pkt, 7) == 0);
	CHECK_INT(p[35], 0);
	CHECK_INT(u32_at(p + 36), 40);

	/* an empty packet, with a comment */
	outbuf_reset(&ob);
	CHECK_INT(pcapng_write_epb(&ob, 0, 0, NULL, 0, 0, comment, 1), 44);
	p = ob.data;
	CHECK_INT(u16_at(p + 28), 1);
	CHECK_INT(u16_at(p + 30), 2);
	CHECK(memcmp(p + 32, "hi\0\0", 4) == 0);
	CHECK_INT(u32_at(p + 36), 0);
	CHECK_INT(u32_at(p + 40), 44);

	/* an option value is cut at 65535 bytes, padded to 65536 */
	{
		static char big[70000];
		const struct pcapng_opt o = {PCAPNG_OPT_COMMENT, sizeof(big), big};

		CHECK_INT(pcapng_epb_len(0, &o, 1), 28 + 4 + 65536 + 4 + 4);
	}
	outbuf_fini(&ob);
}

/* ---- the sink ---- */

struct pds {
	struct sonde_ds *ds;
	struct sonde_field *ts, *ts_str, *size, *ifindex, *name, *payload;
};

static bool pds_make(struct pds *d, bool annotated)
{
	static const char *const key_ann[] = {"pcap.interface-key", "true", NULL};
	static const char *const var_ann[] = {"pcap.interface-var", "runtime.containerName", NULL};
	struct sonde_field_opts key = {.sz = sizeof(key), .annotations = key_ann};
	struct sonde_field_opts var = {.sz = sizeof(var), .annotations = var_ann};

	d->ds = sonde_ds_new("packets", SONDE_DS_SINGLE);
	if (!d->ds)
		return false;
	d->ts = sonde_ds_add_field(d->ds, "timestamp_raw", SONDE_KIND_UINT64, NULL);
	d->ts_str = sonde_ds_add_field(d->ds, "timestamp", SONDE_KIND_STRING, NULL);
	d->size = sonde_ds_add_field(d->ds, "packet_size", SONDE_KIND_UINT32, NULL);
	d->ifindex = sonde_ds_add_field(d->ds, "ifindex", SONDE_KIND_UINT32, &key);
	d->name = sonde_ds_add_field(d->ds, "runtime.containerName", SONDE_KIND_STRING, &var);
	d->payload = sonde_ds_add_field(d->ds, "payload", SONDE_KIND_BYTES, NULL);
	if (annotated) {
		sonde_ds_add_annotation(d->ds, "pcap.payload", "payload");
		sonde_ds_add_annotation(d->ds, "pcap.timestamp", "timestamp");
		sonde_ds_add_annotation(d->ds, "pcap.packet-length", "packet_size");
	}
	return d->ts && d->ts_str && d->size && d->ifindex && d->name && d->payload &&
	       sonde_ds_seal(d->ds) == 0;
}

static void emit(const struct pds *d, void *state, uint64_t ts, uint32_t ifindex, const char *name,
                 const char *pkt, uint32_t len, uint32_t size)
{
	struct sonde_record *rec = sonde_ds_record(d->ds);

	sonde_field_put_uint(d->ts, rec, ts);
	sonde_field_put_string(d->ts_str, rec, "2026-12-07T04:00:00Z", 20);
	sonde_field_put_uint(d->size, rec, size);
	sonde_field_put_uint(d->ifindex, rec, ifindex);
	sonde_field_put_string(d->name, rec, name, (uint32_t)strlen(name));
	sonde_field_set(d->payload, rec, pkt, len);
	pcapng_sink.write_record(state, rec);
}

/* Walks the blocks of a stream: their types and offsets in order (n of
 * them); false when a length is wrong. */
static bool walk(const char *p, size_t len, uint32_t *types, size_t *offs, size_t *n, size_t max)
{
	size_t off = 0;

	*n = 0;
	while (off < len) {
		uint32_t bl;

		if (len - off < 12 || *n == max)
			return false;
		bl = u32_at(p + off + 4);
		if (bl < 12 || bl % 4 || bl > len - off || u32_at(p + off + bl - 4) != bl)
			return false;
		offs[*n] = off;
		types[(*n)++] = u32_at(p + off);
		off += bl;
	}
	return true;
}

/* The value of option `code` of the IDB at p, or NULL. */
static const char *idb_opt(const char *p, uint16_t code, uint16_t *len)
{
	uint32_t bl = u32_at(p + 4);
	const char *o = p + 16, *end = p + bl - 4;

	while (o + 4 <= end && u16_at(o) != 0) {
		if (u16_at(o) == code) {
			*len = u16_at(o + 2);
			return o + 4;
		}
		o += 4 + ((u16_at(o + 2) + 3u) & ~3u);
	}
	return NULL;
}

static void test_sink(void)
{
	struct sonde_sink_env env = {0};
	struct sonde_sink_opts opts = {.env = &env};
	struct sonde_outbuf ob;
	struct pds d;
	void *state = NULL;
	uint32_t types[16];
	size_t offs[16], n;
	const char *desc;
	uint16_t dlen = 0;
	const char *p;

	REQUIRE(pds_make(&d, true));
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	env.out = &ob;
	CHECK(pcapng_sink.flags & SONDE_SINK_BINARY);
	REQUIRE(pcapng_sink.open(d.ds, &opts, &state) == 0);
	pcapng_sink.declare(state, d.ds);
	/* the raw timestamp is what the sink reads, not the formatted text */
	CHECK(sonde_field_is_requested(d.ts));
	CHECK(sonde_field_is_requested(d.payload));
	pcapng_sink.flush(state); /* before any packet: the section header alone */
	CHECK_INT(ob.len, 28 + 16);
	CHECK_INT(u32_at(ob.data), PCAPNG_BT_SHB);

	emit(&d, state, 1000000000123456789ull, 7, "web a/b", "AAAAAAAAAAAAAA", 14, 60);
	emit(&d, state, 1000000000123456790ull, 7, "web a/b", "BBBBBBBBBBBBBB", 14, 14);
	emit(&d, state, 1000000000123456791ull, 8, "db", "CCCCC", 5, 5);
	emit(&d, state, 1000000000123456792ull, 7, "web a/b", "DD", 2, 1); /* size < captured */
	pcapng_sink.flush(state);

	REQUIRE(walk(ob.data, ob.len, types, offs, &n, 16));
	REQUIRE(n == 7);
	CHECK_INT(types[0], PCAPNG_BT_SHB);
	CHECK_INT(types[1], PCAPNG_BT_IDB);
	CHECK_INT(types[2], PCAPNG_BT_EPB);
	CHECK_INT(types[3], PCAPNG_BT_EPB);
	CHECK_INT(types[4], PCAPNG_BT_IDB); /* a new key: ifindex 8, "db" */
	CHECK_INT(types[5], PCAPNG_BT_EPB);
	CHECK_INT(types[6], PCAPNG_BT_EPB);

	p = ob.data + offs[1]; /* the first IDB */
	CHECK_INT(u16_at(p + 8), PCAPNG_LINKTYPE_ETHERNET);
	desc = idb_opt(p, PCAPNG_IF_DESCRIPTION, &dlen);
	REQUIRE(desc);
	CHECK_INT(dlen, strlen("runtime.containerName=web+a%2Fb"));
	CHECK(memcmp(desc, "runtime.containerName=web+a%2Fb", dlen) == 0);
	desc = idb_opt(p, PCAPNG_IF_TSRESOL, &dlen);
	REQUIRE(desc && dlen == 1);
	CHECK_INT((unsigned char)desc[0], 9);
	CHECK(idb_opt(p, PCAPNG_IF_NAME, &dlen) != NULL);

	p = ob.data + offs[2]; /* the first EPB */
	CHECK_INT(u32_at(p + 8), 0);
	CHECK_INT(((uint64_t)u32_at(p + 12) << 32) | u32_at(p + 16), 1000000000123456789ull);
	CHECK_INT(u32_at(p + 20), 14);
	CHECK_INT(u32_at(p + 24), 60);
	CHECK(memcmp(p + 28, "AAAAAAAAAAAAAA", 14) == 0);
	p = ob.data + offs[5];
	CHECK_INT(u32_at(p + 8), 1); /* the second interface */
	CHECK(memcmp(p + 28, "CCCCC", 5) == 0);
	p = ob.data + offs[6];
	CHECK_INT(u32_at(p + 8), 0);  /* back to the first */
	CHECK_INT(u32_at(p + 20), 2); /* captured */
	CHECK_INT(u32_at(p + 24), 2); /* never less than captured */

	pcapng_sink.close(state);
	outbuf_fini(&ob);
	sonde_ds_free(d.ds);
}

/* Empty values (no container name, an empty packet) are values too. */
static void test_sink_empty_values(void)
{
	struct sonde_sink_env env = {0};
	struct sonde_sink_opts opts = {.env = &env};
	struct sonde_outbuf ob;
	struct pds d;
	void *state = NULL;
	uint32_t types[8];
	size_t offs[8], n;
	uint16_t dlen = 0;
	const char *desc;

	REQUIRE(pds_make(&d, true));
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	env.out = &ob;
	REQUIRE(pcapng_sink.open(d.ds, &opts, &state) == 0);
	pcapng_sink.declare(state, d.ds);
	emit(&d, state, 1, 0, "", NULL, 0, 0);
	emit(&d, state, 2, 0, "", NULL, 0, 0);
	REQUIRE(walk(ob.data, ob.len, types, offs, &n, 8));
	REQUIRE(n == 4);
	CHECK_INT(types[1], PCAPNG_BT_IDB);
	desc = idb_opt(ob.data + offs[1], PCAPNG_IF_DESCRIPTION, &dlen);
	REQUIRE(desc);
	CHECK_INT(dlen, strlen("runtime.containerName="));
	CHECK_INT(types[2], PCAPNG_BT_EPB);
	CHECK_INT(types[3], PCAPNG_BT_EPB); /* the same interface */
	CHECK_INT(u32_at(ob.data + offs[3] + 8), 0);
	CHECK_INT(u32_at(ob.data + offs[3] + 20), 0);
	CHECK_INT(u32_at(ob.data + offs[3] + 4), 32);
	pcapng_sink.close(state);
	outbuf_fini(&ob);
	sonde_ds_free(d.ds);
}

static void test_sink_refuses(void)
{
	struct sonde_sink_env env = {0};
	struct sonde_sink_opts opts = {.env = &env};
	struct sonde_outbuf ob;
	struct pds d;
	void *state = NULL;

	REQUIRE(pds_make(&d, false));
	REQUIRE(outbuf_init(&ob, -1, 0) == 0);
	env.out = &ob;
	nerrors = 0;
	sonde_log_set_sink(capture_log, NULL);
	CHECK_INT(pcapng_sink.open(d.ds, &opts, &state), -EINVAL);
	CHECK_INT(nerrors, 1);
	CHECK_STR(last_err,
	          "pcap-ng: data source \"packets\" has no pcap.payload annotation: it has no packets "
	          "to write");
	sonde_ds_add_annotation(d.ds, "pcap.payload", "payload");
	sonde_ds_add_annotation(d.ds, "pcap.timestamp", "nope");
	CHECK_INT(pcapng_sink.open(d.ds, &opts, &state), -EINVAL);
	CHECK_STR(last_err, "pcap-ng: data source \"packets\": pcap.timestamp names field \"nope\", which it "
	                    "does not have");
	sonde_log_set_sink(NULL, NULL);
	CHECK_INT(ob.len, 0);
	outbuf_fini(&ob);
	sonde_ds_free(d.ds);
}

TEST_MAIN(TEST(test_shb_bytes), TEST(test_idb_bytes), TEST(test_epb_bytes), TEST(test_sink),
          TEST(test_sink_empty_values), TEST(test_sink_refuses))
