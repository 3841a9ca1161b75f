/* DNS message parser (see dns_message.h). */
#include <errno.h>
#include <string.h>

#include "format/endpoint.h"
#include "net/dns_message.h"

/* A reader over the message: every read is checked against len. */
struct rd {
	const uint8_t *msg;
	size_t len;
	size_t off;
	const char *error;
};

static int fail(struct rd *r, const char *why)
{
	if (!r->error)
		r->error = why;
	return -EBADMSG;
}

static int need(struct rd *r, size_t n, const char *what)
{
	return n > r->len - r->off ? fail(r, what) : 0;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Reads the name at r->off into out (text form, DNS_NAME_TEXT_MAX + 1
 * bytes, or NULL to only check it) and moves r->off past it: past its
 * first compression pointer if it has one, since what a pointer leads to
 * belongs to an earlier name. Labels are at most 63 bytes by their encoding
 * (the two high bits are the label type).
 */
static int read_name(struct rd *r, size_t at, size_t *end, char *out, uint32_t *out_len)
{
	char scratch[DNS_NAME_TEXT_MAX + 1];
	size_t cur = at, after = 0;
	uint32_t n = 0;
	int ptrs = 0;

	if (!out)
		out = scratch;
	for (;;) {
		uint8_t c;

		if (cur >= r->len)
			return fail(r, "name runs past the end of the message");
		c = r->msg[cur++];
		if ((c & 0xc0) == 0xc0) {
			if (cur >= r->len)
				return fail(r, "compression pointer cut by the end of the message");
			if (ptrs == 0)
				after = cur + 1;
			if (++ptrs > DNS_MAX_POINTERS)
				return fail(r, "too many compression pointers in a name (a loop?)");
			cur = (size_t)(c & 0x3f) << 8 | r->msg[cur];
			continue;
		}
		if (c & 0xc0)
			return fail(r, "reserved label type");
		if (c == 0)
			break;
		if (c > r->len - cur)
			return fail(r, "label runs past the end of the message");
		/* the text form could not tell such a label from two */
		if (memchr(r->msg + cur, '.', c))
			return fail(r, "label contains a dot");
		if (n + c + 1u > DNS_NAME_TEXT_MAX)
			return fail(r, "name longer than 254 characters");
		memcpy(out + n, r->msg + cur, c);
		n += c;
		out[n++] = '.';
		cur += c;
	}
	if (n == 0)
		out[n++] = '.';
	out[n] = 0;
	if (out_len)
		*out_len = n;
	*end = ptrs ? after : cur;
	return 0;
}

static int skip_name(struct rd *r)
{
	return read_name(r, r->off, &r->off, NULL, NULL);
}

/* Appends the address at p (4 or 16 bytes) to the comma-separated list. */
static void add_address(struct dns_message *m, const uint8_t *p, uint8_t version)
{
	uint8_t addr[16] = {0};
	char ip[FMT_IP_MAX];
	size_t n, comma;

	memcpy(addr, p, version == 4 ? 4 : 16);
	n = fmt_ip(addr, version, ip, sizeof(ip));
	comma = m->naddrs ? 1 : 0;
	/* once one is dropped, so are the next: the list stays a prefix */
	if (!m->addrs || m->addrs_dropped || m->addrs_len + comma + n + 1 > m->addrs_cap) {
		m->addrs_dropped++;
		return;
	}
	if (comma)
		m->addrs[m->addrs_len++] = ',';
	memcpy(m->addrs + m->addrs_len, ip, n);
	m->addrs_len += n;
	m->addrs[m->addrs_len] = 0;
	m->naddrs++;
}

/* The data of a record of type `type`, [start, start + len) inside the message. */
static int check_rdata(struct rd *r, uint16_t type, size_t start, size_t len)
{
	struct rd d = {.msg = r->msg, .len = r->len, .off = start};
	size_t end = start + len;
	int err = 0;

	switch (type) {
	case DNS_TYPE_NS:
	case DNS_TYPE_CNAME:
	case DNS_TYPE_PTR:
		err = skip_name(&d);
		break;
	case DNS_TYPE_MX:
		err = need(&d, 2, "MX record cut short");
		d.off += 2;
		err = err ? err : skip_name(&d);
		break;
	case DNS_TYPE_SRV:
		err = need(&d, 6, "SRV record cut short");
		d.off += 6;
		err = err ? err : skip_name(&d);
		break;
	case DNS_TYPE_SOA:
		err = skip_name(&d);
		err = err ? err : skip_name(&d);
		err = err ? err : need(&d, 20, "SOA record cut short");
		break;
	case DNS_TYPE_TXT:
		/* character-strings, each inside the record */
		while (!err && d.off < end) {
			uint8_t n = d.msg[d.off];

			if (n + 1u > end - d.off)
				err = fail(&d, "TXT string runs past its record");
			d.off += n + 1u;
		}
		break;
	default:
		break;
	}
	if (err)
		return fail(r, d.error);
	return 0;
}

/* A resource record of the section; answers give their A/AAAA addresses. */
static int read_record(struct rd *r, struct dns_message *m, bool answer)
{
	uint16_t type, rdlen;
	size_t start;

	if (skip_name(r) || need(r, 10, "resource record header cut short"))
		return -EBADMSG;
	type = get16(r->msg + r->off);
	rdlen = get16(r->msg + r->off + 8);
	r->off += 10;
	start = r->off;
	if (need(r, rdlen, "resource record data runs past the end of the message"))
		return -EBADMSG;
	if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA) {
		size_t alen = type == DNS_TYPE_A ? 4 : 16;

		/* Go reads the address even from a shorter record, if the
		 * message has the bytes; a longer one keeps the head */
		if (need(r, alen, type == DNS_TYPE_A ? "A record cut short" : "AAAA record cut short"))
			return -EBADMSG;
		if (answer)
			add_address(m, r->msg + start, type == DNS_TYPE_A ? 4 : 6);
	} else if (check_rdata(r, type, start, rdlen)) {
		return -EBADMSG;
	}
	r->off = start + rdlen;
	return 0;
}

size_t dns_addresses_cap(size_t len)
{
	/* a record is 11 bytes at least (root name, empty data: an address
	 * is still read, see read_record), an IPv6 address 39 characters */
	return len / 11 * 40 + 41;
}

int dns_message_parse(const uint8_t *msg, size_t len, struct dns_message *m)
{
	struct rd r = {.msg = msg, .len = msg ? len : 0};
	char *addrs = m->addrs;
	size_t cap = m->addrs_cap;
	uint16_t bits;
	uint32_t i;

	memset(m, 0, sizeof(*m));
	m->addrs = addrs;
	m->addrs_cap = cap;
	if (addrs && cap)
		addrs[0] = 0;

	if (need(&r, DNS_HEADER_LEN, "shorter than a DNS header"))
		goto bad;
	m->id = get16(msg);
	bits = get16(msg + 2);
	m->qr = bits & 0x8000;
	m->opcode = (bits >> 11) & 0xf;
	m->aa = bits & 0x0400;
	m->tc = bits & 0x0200;
	m->rd = bits & 0x0100;
	m->ra = bits & 0x0080;
	m->rcode = bits & 0xf;
	m->qdcount = get16(msg + 4);
	m->ancount = get16(msg + 6);
	m->nscount = get16(msg + 8);
	m->arcount = get16(msg + 10);
	r.off = DNS_HEADER_LEN;

	for (i = 0; i < m->qdcount; i++) {
		bool first = i == 0;

		if (read_name(&r, r.off, &r.off, first ? m->name : NULL, first ? &m->name_len : NULL) ||
		    need(&r, 4, "question cut short"))
			goto bad;
		if (first) {
			m->qtype = get16(msg + r.off);
			m->qclass = get16(msg + r.off + 2);
			m->has_question = true;
		}
		r.off += 4;
	}
	for (i = 0; i < m->ancount; i++)
		if (read_record(&r, m, true))
			goto bad;
	for (i = 0; i < (uint32_t)m->nscount + m->arcount; i++)
		if (read_record(&r, m, false))
			goto bad;
	return 0;

bad:
	memset(m, 0, sizeof(*m));
	m->addrs = addrs;
	m->addrs_cap = cap;
	if (addrs && cap)
		addrs[0] = 0;
	m->error = r.error ? r.error : "malformed message";
	return -EBADMSG;
}

const char *dns_type_name(uint16_t type)
{
	/* upstream's table (trace_dns program.go), WKS included */
	switch (type) {
	case 1:
		return "A";
	case 2:
		return "NS";
	case 5:
		return "CNAME";
	case 6:
		return "SOA";
	case 11:
		return "WKS";
	case 12:
		return "PTR";
	case 13:
		return "HINFO";
	case 14:
		return "MINFO";
	case 15:
		return "MX";
	case 16:
		return "TXT";
	case 28:
		return "AAAA";
	case 33:
		return "SRV";
	case 41:
		return "OPT";
	case 252:
		return "AXFR";
	case 255:
		return "ALL";
	default:
		return NULL;
	}
}

const char *dns_rcode_name(uint16_t rcode)
{
	static const char *const names[] = {"Success",   "FormatError",    "ServerFailure",
	                                    "NameError", "NotImplemented", "Refused"};

	return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : NULL;
}
