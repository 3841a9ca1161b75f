/* IP addresses (Go net.IP.String) and L4 endpoints (lib/format). */
#include <arpa/inet.h>
#include <string.h>

#include "format/endpoint.h"
#include "testlib.h"

static char buf[FMT_ENDPOINT_MAX];

static const char *ip6(const char *text)
{
	uint8_t a[16];
	size_t len;

	if (inet_pton(AF_INET6, text, a) != 1)
		return "(bad test input)";
	len = fmt_ip(a, 6, buf, sizeof(buf));
	return strlen(buf) == len ? buf : "(length mismatch)";
}

static void test_ipv4(void)
{
	uint8_t a[16] = {127, 0, 0, 1, 0xaa, 0xbb}; /* bytes after the first 4 are ignored */
	uint8_t z[16] = {0}, m[16] = {255, 255, 255, 255};

	CHECK_INT(fmt_ip(a, 4, buf, sizeof(buf)), 9);
	CHECK_STR(buf, "127.0.0.1");
	fmt_ip(z, 4, buf, sizeof(buf));
	CHECK_STR(buf, "0.0.0.0");
	fmt_ip(m, 4, buf, sizeof(buf));
	CHECK_STR(buf, "255.255.255.255");
	/* unknown versions give nothing */
	CHECK_INT(fmt_ip(a, 0, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	CHECK_INT(fmt_ip(a, 5, buf, sizeof(buf)), 0);
}

static void test_ipv6(void)
{
	CHECK_STR(ip6("::"), "::");
	CHECK_STR(ip6("::1"), "::1");
	CHECK_STR(ip6("1::"), "1::");
	CHECK_STR(ip6("2001:db8::1"), "2001:db8::1");
	CHECK_STR(ip6("2001:0DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
	/* a single zero group is not compressed */
	CHECK_STR(ip6("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
	/* the first of two equally long runs; a longer later run wins */
	CHECK_STR(ip6("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");
	CHECK_STR(ip6("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");
	CHECK_STR(ip6("fe80::1:2ff:fe03:405"), "fe80::1:2ff:fe03:405");
	CHECK_STR(ip6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* IPv4-mapped addresses print as IPv4 (net.IP.String); IPv4-compatible do not */
	CHECK_STR(ip6("::ffff:10.0.0.1"), "10.0.0.1");
	CHECK_STR(ip6("::10.0.0.1"), "::a00:1");
}

static void test_l4(void)
{
	uint8_t v4[16] = {10, 0, 0, 1}, v6[16] = {0};

	v6[15] = 1;
	fmt_l4endpoint(v4, 4, 443, buf, sizeof(buf));
	CHECK_STR(buf, "10.0.0.1:443");
	fmt_l4endpoint(v4, 4, 0, buf, sizeof(buf));
	CHECK_STR(buf, "10.0.0.1:0");
	fmt_l4endpoint(v6, 6, 65535, buf, sizeof(buf));
	CHECK_STR(buf, "::1:65535");
	CHECK_INT(fmt_l4endpoint(v6, 7, 80, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	memset(v6, 0xff, sizeof(v6));
	CHECK_INT(fmt_l4endpoint(v6, 6, 65535, buf, sizeof(buf)), 45);
}

TEST_MAIN(TEST(test_ipv4), TEST(test_ipv6), TEST(test_l4))
