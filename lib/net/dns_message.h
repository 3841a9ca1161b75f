/* DNS messages (RFC 1035, RFC 3596) as trace_dns reports them: the header
 * flags, the first question, the answer count and the A/AAAA addresses of
 * the answers. The bytes come from the network, untrusted: every length,
 * label and compression pointer is checked against the message, pointers
 * are followed at most DNS_MAX_POINTERS times per name (a loop ends there),
 * and nothing is read outside [msg, msg + len).
 *
 * What a message must be to parse is what upstream's trace_dns accepts
 * (golang.org/x/net/dns/dnsmessage Message.Unpack): a 12-byte header, then
 * every question and every resource record of the four sections must be
 * whole; a record's data must lie inside the message and the names in the
 * data of NS, CNAME, PTR, MX, SOA and SRV records must be valid names.
 * Bytes after the last record are ignored. A message that does not parse
 * gives no field at all, as upstream's wasm leaves them unset. */
#ifndef SONDE_NET_DNS_MESSAGE_H
#define SONDE_NET_DNS_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_LEN 12
/* Longest name in text form with its trailing dot (Go: nonEncodedNameMax). */
#define DNS_NAME_TEXT_MAX 254
/* Compression pointers followed per name (Go's limit too). */
#define DNS_MAX_POINTERS 10

#define DNS_TYPE_A     1
#define DNS_TYPE_NS    2
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_SOA   6
#define DNS_TYPE_PTR   12
#define DNS_TYPE_MX    15
#define DNS_TYPE_TXT   16
#define DNS_TYPE_AAAA  28
#define DNS_TYPE_SRV   33
#define DNS_TYPE_OPT   41

#define DNS_RCODE_NXDOMAIN 3

struct dns_message {
	/* header */
	uint16_t id;
	bool qr, aa, tc, rd, ra;
	uint8_t opcode, rcode;
	uint16_t qdcount, ancount, nscount, arcount;

	/* the first question, if qdcount > 0 */
	bool has_question;
	uint16_t qtype, qclass;
	/* text form: labels joined by '.', with the trailing dot ("." for the
	 * root), the label bytes as sent (a label never holds a '.');
	 * NUL-terminated, but a label may hold a NUL itself: use name_len */
	char name[DNS_NAME_TEXT_MAX + 1];
	uint32_t name_len;

	/* answers: every A and AAAA answer's address as Go's net.IP prints
	 * it, comma-separated, into the caller's buffer (addrs, addrs_cap:
	 * dns_addresses_cap(len) bytes always suffice; a smaller buffer ends
	 * the list at the last whole address) */
	char *addrs;
	size_t addrs_cap;
	size_t addrs_len;
	uint32_t naddrs;
	uint32_t addrs_dropped; /* addresses that did not fit */

	/* why the message did not parse (static text), NULL when it did */
	const char *error;
};

/* Buffer size that holds the address list of any message of len bytes,
 * NUL included. */
size_t dns_addresses_cap(size_t len);

/* Parses msg into m. Set m->addrs and m->addrs_cap first (NULL, 0: no
 * address list); everything else is overwritten. 0, or -EBADMSG with
 * m->error saying what is wrong. */
int dns_message_parse(const uint8_t *msg, size_t len, struct dns_message *m);

/* Upstream's names: "A", "AAAA", … for the types its wasm knows, else NULL
 * (upstream then prints the number). */
const char *dns_type_name(uint16_t type);
/* "Success", "FormatError", "ServerFailure", "NameError", "NotImplemented",
 * "Refused", else NULL (the number). */
const char *dns_rcode_name(uint16_t rcode);

#endif
