/* DNS messages as trace_dns's parser reads them (lib/net/dns_message.c):
 * the bytes of a packet any process on the traced host or container can
 * send. The input is the message itself. Oracles: the result is well
 * formed (a name of at most 254 characters ending in a dot, an address
 * list within its buffer that counts naddrs entries, none dropped with a
 * buffer of dns_addresses_cap()), a failure leaves
 * nothing set and says why, and a smaller address buffer changes nothing
 * but the list, which it holds a prefix of. */
#include <errno.h>

#include "net/dns_message.h"
#include "fuzz_input.h"

static void check(const struct dns_message *m, int rc)
{
	if (rc) {
		FUZZ_CHECK(rc == -EBADMSG && m->error && *m->error);
		FUZZ_CHECK(!m->has_question && m->name_len == 0 && m->naddrs == 0 && m->addrs_len == 0);
		FUZZ_CHECK(!m->addrs || m->addrs_cap == 0 || m->addrs[0] == 0);
		return;
	}
	FUZZ_CHECK(m->error == NULL);
	FUZZ_CHECK(m->name_len <= DNS_NAME_TEXT_MAX && m->name[m->name_len] == 0);
	FUZZ_CHECK(!m->has_question || (m->name_len > 0 && m->name[m->name_len - 1] == '.'));
	FUZZ_CHECK(m->has_question == (m->qdcount > 0));
	if (m->addrs && m->addrs_cap) {
		uint32_t commas = 0;

		FUZZ_CHECK(m->addrs_len < m->addrs_cap && strlen(m->addrs) == m->addrs_len);
		for (size_t i = 0; i < m->addrs_len; i++)
			commas += m->addrs[i] == ',';
		FUZZ_CHECK(m->naddrs == (m->addrs_len ? commas + 1 : 0));
		FUZZ_CHECK(m->naddrs <= m->ancount);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct dns_message full, small;
	size_t cap = dns_addresses_cap(len);
	char *addrs = malloc(cap), tiny[20];
	int rc, rc2;

	fuzz_init_once();
	if (!addrs)
		return 0;
	full.addrs = addrs;
	full.addrs_cap = cap;
	rc = dns_message_parse(data, len, &full);
	check(&full, rc);

	small.addrs = tiny;
	small.addrs_cap = sizeof(tiny);
	rc2 = dns_message_parse(data, len, &small);
	check(&small, rc2);
	FUZZ_CHECK(rc == rc2);
	if (rc == 0) {
		/* the bound holds: no address was left out of the full list */
		FUZZ_CHECK(full.addrs_dropped == 0);
		FUZZ_CHECK(small.naddrs + small.addrs_dropped == full.naddrs);
		FUZZ_CHECK(small.addrs_len <= full.addrs_len);
		FUZZ_CHECK(memcmp(small.addrs, full.addrs, small.addrs_len) == 0);
		FUZZ_CHECK(full.id == small.id && full.rcode == small.rcode && full.qtype == small.qtype &&
		           full.name_len == small.name_len &&
		           memcmp(full.name, small.name, full.name_len) == 0);
	}
	free(addrs);
	return 0;
}
