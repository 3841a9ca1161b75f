/* The DNS message parser of trace_dns (lib/net/dns_message.c) on messages
 * built here byte by byte: queries, answers (A, AAAA, CNAME chains),
 * NXDOMAIN, compression, and broken ones (cut anywhere, pointer loops, bad
 * labels), which must fail cleanly. */
#include <errno.h>
#include <stdlib.h>

#include "net/dns_message.h"
#include "testlib.h"

/* ---- a message builder ---- */
struct msg {
	uint8_t b[4096];
	size_t len;
};

static void u8(struct msg *m, uint8_t v)
{
	if (m->len < sizeof(m->b))
		m->b[m->len++] = v;
}

static void u16(struct msg *m, uint16_t v)
{
	u8(m, (uint8_t)(v >> 8));
	u8(m, (uint8_t)v);
}

static void u32(struct msg *m, uint32_t v)
{
	u16(m, (uint16_t)(v >> 16));
	u16(m, (uint16_t)v);
}

static void bytes(struct msg *m, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		u8(m, ((const uint8_t *)p)[i]);
}

/* "www.example.com" as labels, then the root (or a pointer if ptr >= 0). */
static size_t name_ptr(struct msg *m, const char *text, int ptr)
{
	size_t at = m->len;
	const char *p = text;

	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		u8(m, (uint8_t)n);
		bytes(m, p, n);
		p += n;
		if (*p == '.')
			p++;
	}
	if (ptr >= 0)
		u16(m, (uint16_t)(0xc000 | ptr));
	else
		u8(m, 0);
	return at;
}

static size_t name(struct msg *m, const char *text)
{
	return name_ptr(m, text, -1);
}

static void header(struct msg *m, uint16_t id, uint16_t bits, uint16_t qd, uint16_t an, uint16_t ns,
                   uint16_t ar)
{
	m->len = 0;
	u16(m, id);
	u16(m, bits);
	u16(m, qd);
	u16(m, an);
	u16(m, ns);
	u16(m, ar);
}

static void question(struct msg *m, const char *qname, uint16_t type)
{
	name(m, qname);
	u16(m, type);
	u16(m, 1); /* IN */
}

/* A record header after its name: type, IN, TTL, rdlength. */
static void rr(struct msg *m, uint16_t type, uint16_t rdlen)
{
	u16(m, type);
	u16(m, 1);
	u32(m, 300);
	u16(m, rdlen);
}

static char addrs[4096];
static struct dns_message dm;

static int parse(const struct msg *m)
{
	dm.addrs = addrs;
	dm.addrs_cap = sizeof(addrs);
	return dns_message_parse(m->b, m->len, &dm);
}

/* ---- well-formed messages ---- */

static void test_query(void)
{
	struct msg m;

	header(&m, 0xbeef, 0x0100 /* RD */, 1, 0, 0, 0);
	question(&m, "www.example.com", DNS_TYPE_A);
	CHECK_INT(parse(&m), 0);
	CHECK(dm.error == NULL);
	CHECK_INT(dm.id, 0xbeef);
	CHECK(!dm.qr);
	CHECK(dm.rd);
	CHECK(!dm.ra);
	CHECK(!dm.tc);
	CHECK(dm.has_question);
	CHECK_INT(dm.qtype, DNS_TYPE_A);
	CHECK_INT(dm.qclass, 1);
	/* upstream prints dnsmessage.Name.String(): with the trailing dot */
	CHECK_STR(dm.name, "www.example.com.");
	CHECK_INT(dm.name_len, 16);
	CHECK_INT(dm.ancount, 0);
	CHECK_STR(addrs, "");

	/* an EDNS query: an OPT record in the additional section */
	header(&m, 7, 0x0120 /* RD AD */, 1, 0, 0, 1);
	question(&m, "example.org", DNS_TYPE_AAAA);
	u8(&m, 0); /* root */
	u16(&m, DNS_TYPE_OPT);
	u16(&m, 1232);
	u32(&m, 0);
	u16(&m, 4 + 2); /* one option: code 10 (cookie), 2 bytes */
	u16(&m, 10);
	u16(&m, 2);
	u16(&m, 0xabcd);
	CHECK_INT(parse(&m), 0);
	CHECK_INT(dm.qtype, DNS_TYPE_AAAA);
	CHECK_STR(dm.name, "example.org.");
}

/* A and AAAA answers whose names point back at the question. */
static void test_response_a_aaaa(void)
{
	static const uint8_t a1[4] = {10, 1, 2, 3}, a2[4] = {10, 1, 2, 4};
	static const uint8_t aaaa[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1};
	struct msg m;

	header(&m, 0x1234, 0x8180 /* QR RD RA */, 1, 4, 0, 0);
	question(&m, "sd.example", DNS_TYPE_A);
	name_ptr(&m, "", 12);
	rr(&m, DNS_TYPE_A, 4);
	bytes(&m, a1, 4);
	name_ptr(&m, "", 12);
	rr(&m, DNS_TYPE_A, 4);
	bytes(&m, a2, 4);
	name_ptr(&m, "", 12);
	rr(&m, DNS_TYPE_AAAA, 16);
	bytes(&m, aaaa, 16);
	name_ptr(&m, "", 12);
	rr(&m, DNS_TYPE_AAAA, 16);
	bytes(&m, mapped, 16);
	CHECK_INT(parse(&m), 0);
	CHECK(dm.qr);
	CHECK(dm.ra);
	CHECK(dm.rd);
	CHECK_INT(dm.rcode, 0);
	CHECK_INT(dm.ancount, 4);
	CHECK_INT(dm.naddrs, 4);
	CHECK_STR(dm.name, "sd.example.");
	/* Go's net.IP.String: an IPv4-mapped address prints as a dotted quad */
	CHECK_STR(addrs, "10.1.2.3,10.1.2.4,2001:db8::1,192.0.2.1");
	CHECK_INT(dm.addrs_len, strlen(addrs));

	/* a buffer too small keeps whole addresses only */
	dm.addrs = addrs;
	dm.addrs_cap = 18;
	CHECK_INT(dns_message_parse(m.b, m.len, &dm), 0);
	CHECK_STR(addrs, "10.1.2.3,10.1.2.4");
	CHECK_INT(dm.naddrs, 2);
	/* and none is fine */
	dm.addrs = NULL;
	dm.addrs_cap = 0;
	CHECK_INT(dns_message_parse(m.b, m.len, &dm), 0);
	CHECK_INT(dm.naddrs, 0);
}

/* www -> alias (compressed: "alias" + pointer to "example.com") -> A */
static void test_cname_chain(void)
{
	static const uint8_t a[4] = {192, 0, 2, 7};
	struct msg m;
	size_t q, alias, target;

	header(&m, 99, 0x8180, 1, 3, 0, 0);
	q = m.len;
	question(&m, "www.example.com", DNS_TYPE_A);
	name_ptr(&m, "", (int)q);
	rr(&m, DNS_TYPE_CNAME, 8);
	alias = name_ptr(&m, "alias", (int)q + 4); /* "alias" + "example.com" */
	name_ptr(&m, "", (int)alias);
	rr(&m, DNS_TYPE_CNAME, 9);
	target = name_ptr(&m, "target", (int)q + 4);
	name_ptr(&m, "", (int)target);
	rr(&m, DNS_TYPE_A, 4);
	bytes(&m, a, 4);
	CHECK_INT(parse(&m), 0);
	CHECK_STR(dm.name, "www.example.com.");
	CHECK_INT(dm.ancount, 3);
	CHECK_STR(addrs, "192.0.2.7");

	/* the CNAME's name must be valid: a loop in it fails the message */
	m.b[alias + 6] = (uint8_t)(0xc0 | (alias >> 8));
	m.b[alias + 7] = (uint8_t)alias;
	CHECK_INT(parse(&m), -EBADMSG);
	CHECK(dm.error && strstr(dm.error, "pointers"));
}

/* NXDOMAIN: no answer, the zone's SOA in the authority section. */
static void test_nxdomain(void)
{
	struct msg m;
	size_t q, rdstart;

	header(&m, 4242, 0x8183 /* QR RD RA NXDOMAIN */, 1, 0, 1, 0);
	q = m.len;
	question(&m, "nope.example", DNS_TYPE_AAAA);
	name_ptr(&m, "", (int)q + 5);
	rr(&m, DNS_TYPE_SOA, 0);
	rdstart = m.len;
	name(&m, "ns.example");
	name(&m, "hostmaster.example");
	for (int i = 0; i < 5; i++)
		u32(&m, 3600);
	m.b[rdstart - 2] = (uint8_t)((m.len - rdstart) >> 8);
	m.b[rdstart - 1] = (uint8_t)(m.len - rdstart);
	CHECK_INT(parse(&m), 0);
	CHECK(dm.qr);
	CHECK_INT(dm.rcode, DNS_RCODE_NXDOMAIN);
	CHECK_STR(dns_rcode_name(dm.rcode), "NameError");
	CHECK_INT(dm.ancount, 0);
	CHECK_STR(addrs, "");
	CHECK_STR(dm.name, "nope.example.");
	CHECK_INT(dm.qtype, DNS_TYPE_AAAA);

	/* the SOA's numbers cut short */
	m.len -= 1;
	m.b[rdstart - 1]--;
	CHECK_INT(parse(&m), -EBADMSG);
}

/* Every proper prefix of a good response fails, and leaves no field set. */
static void test_truncated(void)
{
	static const uint8_t a[4] = {10, 1, 2, 3};
	struct msg m, cut;

	header(&m, 1, 0x8180, 1, 2, 0, 0);
	question(&m, "a.b.c", DNS_TYPE_A);
	name_ptr(&m, "", 12);
	rr(&m, DNS_TYPE_A, 4);
	bytes(&m, a, 4);
	name(&m, "x.a.b.c");
	rr(&m, DNS_TYPE_TXT, 4);
	u8(&m, 3);
	bytes(&m, "abc", 3);
	CHECK_INT(parse(&m), 0);
	for (size_t n = 0; n < m.len; n++) {
		cut = m;
		cut.len = n;
		memset(addrs, 'x', sizeof(addrs));
		if (parse(&cut) != -EBADMSG) {
			fprintf(stderr, "prefix of %zu bytes parsed\n", n);
			test_failures++;
			continue;
		}
		CHECK(dm.error != NULL);
		CHECK(!dm.has_question && dm.name_len == 0 && dm.id == 0 && dm.naddrs == 0);
		CHECK_STR(addrs, "");
	}
	CHECK_INT(dns_message_parse(NULL, 0, &dm), -EBADMSG);

	/* record data longer than the message */
	header(&m, 1, 0x8180, 1, 1, 0, 0);
	question(&m, "a", DNS_TYPE_A);
	name_ptr(&m, "", 12);
	rr(&m, DNS_TYPE_A, 40);
	bytes(&m, a, 4);
	CHECK_INT(parse(&m), -EBADMSG);
	/* a TXT string longer than its record */
	header(&m, 1, 0x8180, 0, 1, 0, 0);
	name(&m, "t");
	rr(&m, DNS_TYPE_TXT, 2);
	u8(&m, 5);
	bytes(&m, "hello", 5);
	CHECK_INT(parse(&m), -EBADMSG);
	/* more questions announced than sent */
	header(&m, 1, 0, 2, 0, 0, 0);
	question(&m, "a", DNS_TYPE_A);
	CHECK_INT(parse(&m), -EBADMSG);
}

static void test_names(void)
{
	struct msg m;
	char label[64];

	/* the root */
	header(&m, 1, 0, 1, 0, 0, 0);
	question(&m, "", DNS_TYPE_NS);
	CHECK_INT(parse(&m), 0);
	CHECK_STR(dm.name, ".");
	CHECK_STR(dns_type_name(dm.qtype), "NS");

	/* a pointer to itself, and two pointing at each other */
	header(&m, 1, 0, 1, 0, 0, 0);
	u16(&m, 0xc000 | 12);
	CHECK_INT(parse(&m), -EBADMSG);
	CHECK(dm.error && strstr(dm.error, "pointers"));
	header(&m, 1, 0, 1, 0, 0, 0);
	u8(&m, 1);
	u8(&m, 'a');
	u16(&m, 0xc000 | 15);
	u8(&m, 1);
	u8(&m, 'b');
	u16(&m, 0xc000 | 12);
	CHECK_INT(parse(&m), -EBADMSG);
	/* pointers past the end, or cut */
	header(&m, 1, 0, 1, 0, 0, 0);
	u16(&m, 0xc000 | 0x3fff);
	CHECK_INT(parse(&m), -EBADMSG);
	header(&m, 1, 0, 1, 0, 0, 0);
	u8(&m, 0xc0);
	CHECK_INT(parse(&m), -EBADMSG);
	/* a forward pointer is fine (Go follows it too) */
	header(&m, 1, 0, 1, 0, 0, 0);
	u16(&m, 0xc000 | 18);
	u16(&m, DNS_TYPE_A);
	u16(&m, 1);
	name(&m, "fwd");
	CHECK_INT(parse(&m), 0);
	CHECK_STR(dm.name, "fwd.");
	/* ten pointers are allowed, eleven are not */
	header(&m, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 11; i++)
		u16(&m, (uint16_t)(0xc000 | (m.len + 2)));
	name(&m, "z");
	CHECK_INT(parse(&m), -EBADMSG);
	header(&m, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 10; i++)
		u16(&m, (uint16_t)(0xc000 | (m.len + 2)));
	name(&m, "z");
	/* the question ends after its first pointer: its type and class are
	 * the next pointer's bytes */
	CHECK_INT(parse(&m), 0);
	CHECK_STR(dm.name, "z.");

	/* reserved label types 0x40 and 0x80 */
	header(&m, 1, 0, 1, 0, 0, 0);
	u8(&m, 0x41);
	u8(&m, 'a');
	u8(&m, 0);
	u32(&m, 0x00010001);
	CHECK_INT(parse(&m), -EBADMSG);
	m.b[12] = 0x81;
	CHECK_INT(parse(&m), -EBADMSG);

	/* a label with a dot in it */
	header(&m, 1, 0, 1, 0, 0, 0);
	u8(&m, 3);
	bytes(&m, "a.b", 3);
	u8(&m, 0);
	u32(&m, 0x00010001);
	CHECK_INT(parse(&m), -EBADMSG);
	CHECK(dm.error && strstr(dm.error, "dot"));

	/* 254 characters in text form is the longest name */
	memset(label, 'l', 63);
	header(&m, 1, 0, 1, 0, 0, 0);
	for (int i = 0; i < 3; i++) {
		u8(&m, 63);
		bytes(&m, label, 63);
	}
	u8(&m, 61);
	bytes(&m, label, 61);
	u8(&m, 0);
	u32(&m, 0x00010001);
	CHECK_INT(parse(&m), 0);
	CHECK_INT(dm.name_len, 254);
	CHECK_INT(strlen(dm.name), 254);
	m.b[12 + 3 * 64] = 62;
	m.len = 12 + 3 * 64;
	u8(&m, 62);
	bytes(&m, label, 62);
	u8(&m, 0);
	u32(&m, 0x00010001);
	CHECK_INT(parse(&m), -EBADMSG);
	CHECK(dm.error && strstr(dm.error, "254"));

	/* bytes that are not letters are kept as they are */
	header(&m, 1, 0, 1, 0, 0, 0);
	u8(&m, 3);
	bytes(&m, "a\0\n", 3);
	u8(&m, 0);
	u32(&m, 0x00010001);
	CHECK_INT(parse(&m), 0);
	CHECK_INT(dm.name_len, 4);
	CHECK(memcmp(dm.name, "a\0\n.", 4) == 0);
}

/* The bound of dns_addresses_cap holds for the worst message: AAAA answers
 * with an empty name and no data, each still read as an address. */
static void test_address_cap(void)
{
	struct msg m;
	char *big;
	size_t cap;
	uint32_t n = 0;

	header(&m, 1, 0x8000, 0, 0, 0, 0);
	while (m.len + 11 + 16 <= sizeof(m.b)) {
		u8(&m, 0);
		rr(&m, DNS_TYPE_AAAA, 0);
		n++;
	}
	for (int i = 0; i < 16; i++)
		u8(&m, 0xff);
	m.b[6] = (uint8_t)(n >> 8);
	m.b[7] = (uint8_t)n;
	cap = dns_addresses_cap(m.len);
	big = malloc(cap);
	REQUIRE(big);
	dm.addrs = big;
	dm.addrs_cap = cap;
	CHECK_INT(dns_message_parse(m.b, m.len, &dm), 0);
	CHECK_INT(dm.naddrs, n);
	CHECK(dm.addrs_len < cap);
	free(big);
}

static void test_names_of_codes(void)
{
	CHECK_STR(dns_type_name(1), "A");
	CHECK_STR(dns_type_name(28), "AAAA");
	CHECK_STR(dns_type_name(5), "CNAME");
	CHECK_STR(dns_type_name(11), "WKS");
	CHECK_STR(dns_type_name(255), "ALL");
	CHECK(dns_type_name(65) == NULL);
	CHECK_STR(dns_rcode_name(0), "Success");
	CHECK_STR(dns_rcode_name(5), "Refused");
	CHECK(dns_rcode_name(6) == NULL);
}

TEST_MAIN(TEST(test_query), TEST(test_response_a_aaaa), TEST(test_cname_chain), TEST(test_nxdomain),
          TEST(test_truncated), TEST(test_names), TEST(test_address_cap), TEST(test_names_of_codes))
