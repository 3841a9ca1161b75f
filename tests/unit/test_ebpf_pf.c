/* pcap filters of GADGET_PF on the real kernel (root): libpcap's classic BPF
 * translated to eBPF and spliced into tests/bpf/ebpf_pf.bpf.c, run with
 * BPF_PROG_TEST_RUN on hand-made and random packets. The oracle is libpcap's
 * own interpreter (pcap_offline_filter) on the same bytes: every verdict
 * must equal it. Also random classic programs (not only what libpcap
 * emits) against libpcap's interpreter, the splice on its own, and the
 * params: `pf`/`pf-<name>` offered only by gadgets with GADGET_PF, a bad
 * expression refused before anything loads. The fixture's programs are TC
 * classifiers: BPF_PROG_TEST_RUN gives those the packet from its Ethernet
 * header, as TC and AF_PACKET sockets do (socket filters under test-run
 * start at L3), so the socket filter is only loaded. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/filter.h> /* classic BPF_TAX, BPF_TXA, BPF_A */

#include "ebpf/cbpf.h"
#include "ebpf/internal.h"
#include "test_ebpf_helpers.h"

/* ---- packets ---- */

struct pkt {
	const char *name;
	uint8_t b[320];
	size_t len;
};

static size_t put_eth(uint8_t *b, uint16_t proto, int vlan)
{
	static const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x02}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
	size_t o = 12;

	memcpy(b, dst, 6);
	memcpy(b + 6, src, 6);
	if (vlan >= 0) {
		b[o++] = 0x81;
		b[o++] = 0x00;
		b[o++] = (uint8_t)(vlan >> 8);
		b[o++] = (uint8_t)vlan;
	}
	b[o++] = (uint8_t)(proto >> 8);
	b[o++] = (uint8_t)proto;
	return o;
}

static size_t put_ip4(uint8_t *b, uint8_t proto, uint32_t src, uint32_t dst, size_t payload)
{
	size_t tot = 20 + payload;

	memset(b, 0, 20);
	b[0] = 0x45;
	b[2] = (uint8_t)(tot >> 8);
	b[3] = (uint8_t)tot;
	b[8] = 64;
	b[9] = proto;
	for (int i = 0; i < 4; i++) {
		b[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		b[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	return 20;
}

static size_t put_ip6(uint8_t *b, uint8_t next, int dst_last, size_t payload)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	b[4] = (uint8_t)(payload >> 8);
	b[5] = (uint8_t)payload;
	b[6] = next;
	b[7] = 64;
	b[8] = 0xfd;
	b[23] = 1;
	if (dst_last >= 0) {
		b[39] = (uint8_t)dst_last; /* ::1 when 1 */
	} else {
		b[24] = 0xfd;
		b[39] = 2;
	}
	return 40;
}

static size_t put_tcp(uint8_t *b, uint16_t sport, uint16_t dport, uint8_t flags, const char *data)
{
	memset(b, 0, 20);
	b[0] = (uint8_t)(sport >> 8);
	b[1] = (uint8_t)sport;
	b[2] = (uint8_t)(dport >> 8);
	b[3] = (uint8_t)dport;
	b[12] = 5 << 4;
	b[13] = flags;
	if (data)
		memcpy(b + 20, data, strlen(data));
	return 20 + (data ? strlen(data) : 0);
}

static size_t put_udp(uint8_t *b, uint16_t sport, uint16_t dport, size_t payload)
{
	memset(b, 0, 8 + payload);
	b[0] = (uint8_t)(sport >> 8);
	b[1] = (uint8_t)sport;
	b[2] = (uint8_t)(dport >> 8);
	b[3] = (uint8_t)dport;
	b[4] = (uint8_t)((8 + payload) >> 8);
	b[5] = (uint8_t)(8 + payload);
	for (size_t i = 0; i < payload; i++)
		b[8 + i] = (uint8_t)(0x12 + i);
	return 8 + payload;
}

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))
#define SYN            0x02
#define ACK            0x10

static size_t npkts;
static struct pkt pkts[32];

static struct pkt *new_pkt(const char *name)
{
	struct pkt *p = &pkts[npkts++];

	memset(p, 0, sizeof(*p));
	p->name = name;
	return p;
}

static void tcp4(const char *name, int vlan, uint32_t src, uint32_t dst, uint16_t sp, uint16_t dp,
                 uint8_t flags, const char *data)
{
	struct pkt *p = new_pkt(name);
	size_t o = put_eth(p->b, 0x0800, vlan);
	size_t ip = o;

	o += put_ip4(p->b + o, 6, src, dst, 0);
	o += put_tcp(p->b + o, sp, dp, flags, data);
	put_ip4(p->b + ip, 6, src, dst, o - ip - 20);
	p->len = o;
}

static void make_packets(void)
{
	struct pkt *p;
	size_t o;

	npkts = 0;
	tcp4("ipv4 tcp syn :80", -1, IP(192, 168, 1, 2), IP(10, 0, 0, 1), 40000, 80, SYN, NULL);
	tcp4("ipv4 tcp ack :22", -1, IP(10, 0, 0, 1), IP(192, 168, 1, 2), 22, 40000, ACK, NULL);
	tcp4("ipv4 tcp GET :80", -1, IP(192, 168, 1, 2), IP(10, 0, 0, 1), 40001, 80, ACK | 0x08,
	     "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	tcp4("vlan 10 tcp :80", 10, IP(192, 168, 1, 2), IP(10, 0, 0, 1), 40000, 80, SYN, NULL);
	tcp4("vlan 20 tcp :443", 20, IP(192, 168, 1, 2), IP(10, 0, 0, 9), 40000, 443, SYN | ACK, NULL);

	p = new_pkt("ipv4 udp :53 to 10.0.0.1");
	o = put_eth(p->b, 0x0800, -1);
	o += put_ip4(p->b + o, 17, IP(192, 168, 1, 2), IP(10, 0, 0, 1), 8 + 30);
	o += put_udp(p->b + o, 5353, 53, 30);
	p->len = o;

	p = new_pkt("ipv4 udp :53 to 10.0.0.2, 160 bytes");
	o = put_eth(p->b, 0x0800, -1);
	o += put_ip4(p->b + o, 17, IP(10, 0, 0, 1), IP(10, 0, 0, 2), 8 + 118);
	o += put_udp(p->b + o, 53, 5353, 118);
	p->len = o;

	p = new_pkt("ipv4 icmp echo");
	o = put_eth(p->b, 0x0800, -1);
	o += put_ip4(p->b + o, 1, IP(10, 0, 0, 1), IP(10, 0, 0, 2), 16);
	p->b[o] = 8; /* echo request */
	o += 16;
	p->len = o;

	p = new_pkt("ipv4 fragment");
	o = put_eth(p->b, 0x0800, -1);
	put_ip4(p->b + o, 17, IP(10, 0, 0, 1), IP(10, 0, 0, 2), 20);
	p->b[o + 6] = 0x00;
	p->b[o + 7] = 0x10; /* fragment offset 16 */
	o += 40;
	p->len = o;

	p = new_pkt("ipv6 tcp :80");
	o = put_eth(p->b, 0x86dd, -1);
	o += put_ip6(p->b + o, 6, -1, 20);
	o += put_tcp(p->b + o, 40000, 80, SYN, NULL);
	p->len = o;

	p = new_pkt("ipv6 udp :53 to ::1");
	o = put_eth(p->b, 0x86dd, -1);
	o += put_ip6(p->b + o, 17, 1, 8 + 12);
	o += put_udp(p->b + o, 5353, 53, 12);
	p->len = o;

	p = new_pkt("arp request");
	o = put_eth(p->b, 0x0806, -1);
	memset(p->b, 0xff, 6); /* broadcast */
	p->b[o + 1] = 1;       /* ethernet */
	p->b[o + 2] = 0x08;    /* ipv4 */
	p->b[o + 4] = 6;
	p->b[o + 5] = 4;
	p->b[o + 7] = 1; /* request */
	o += 28;
	p->len = o;

	p = new_pkt("lldp");
	o = put_eth(p->b, 0x88cc, -1);
	p->len = o + 30;

	p = new_pkt("truncated tcp header");
	o = put_eth(p->b, 0x0800, -1);
	o += put_ip4(p->b + o, 6, IP(10, 0, 0, 1), IP(10, 0, 0, 2), 20);
	put_tcp(p->b + o, 40000, 80, SYN, NULL);
	p->len = o + 3;

	p = new_pkt("ethernet header only, vlan");
	put_eth(p->b, 0x8100, -1);
	p->len = 14;
}

static const char *const filters[] = {
    "tcp port 80",
    "udp and dst host 10.0.0.1",
    "icmp",
    "ip6",
    "vlan 10",
    "vlan 20 and tcp port 443",
    "vlan and tcp",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "len > 100",
    "greater 100",
    "less 60",
    "not arp",
    "arp",
    "ip",
    "tcp",
    "udp",
    "port 53",
    "udp port 53",
    "ip6 and udp port 53",
    "ip6 dst host ::1",
    "host 10.0.0.1",
    "src net 192.168.0.0/16",
    "dst net 10.0.0.0/8 and not dst host 10.0.0.9",
    "portrange 1-1000",
    "ether host 02:00:00:00:00:01",
    "ether broadcast",
    "ether proto 0x88cc",
    "ip[8] > 32",
    "ip[2:2] > 60",
    "ip[6:2] & 0x1fff != 0",
    "tcp[13] = 2",
    "icmp[icmptype] = icmp-echo",
    "udp[8:4] = 0x12131415",
    "tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420",
    "(tcp or udp) and not port 22",
    "ip[0] & 0xf != 5 or ip[9] % 5 = 1",
    "ip[1] >> ip[0] = 0",
    "ip[2:2] / ip[3] > 1",
    "ip[2:2] % ip[9] > 2",
    "ip[3] * 3 - 7 > ip[2] + 2",
    "ip multicast",
    "ip proto 47",
    "ip6 or arp or vlan",
    "",
};

/* ---- loading the fixture with filters ---- */

struct loaded {
	struct bpf_object *obj;
	struct bpf_program *prog;
	struct ebpf_pf_filter f[2];
	struct bpf_insn *body[2];
	struct ebpf_cbpf_insn *cbpf[2];
	size_t ncbpf[2];
};

static void unload(struct loaded *l)
{
	bpf_object__close(l->obj);
	for (int i = 0; i < 2; i++) {
		free(l->body[i]);
		free(l->cbpf[i]);
	}
	memset(l, 0, sizeof(*l));
}

/* Loads program `prog` of the fixture with cBPF programs for gadget_pf_
 * and gadget_pf_second (NULL: the stub stays). 0 or -errno. */
static int load_with(struct loaded *l, const char *prog, const struct ebpf_cbpf_insn *c0, size_t n0,
                     const struct ebpf_cbpf_insn *c1, size_t n1)
{
	const struct ebpf_cbpf_insn *c[2] = {c0, c1};
	size_t nc[2] = {n0, n1};
	struct bpf_program *p;
	char why[256];
	int err;

	memset(l, 0, sizeof(*l));
	ebpf_pf_hook_install();
	l->obj = bpf_object__open_file(fixture_path("ebpf_pf"), NULL);
	if (!l->obj)
		return -errno;
	bpf_object__for_each_program(p, l->obj)
	{
		bpf_program__set_autoload(p, strcmp(bpf_program__name(p), prog) == 0);
		bpf_program__set_type(p, strcmp(bpf_program__name(p), "pf_sock") == 0
		                             ? BPF_PROG_TYPE_SOCKET_FILTER
		                             : BPF_PROG_TYPE_SCHED_CLS);
	}
	l->prog = bpf_object__find_program_by_name(l->obj, prog);
	if (!l->prog)
		return -ENOENT;
	l->f[0].func = "gadget_pf_";
	l->f[1].func = "gadget_pf_second";
	for (int i = 0; i < 2; i++) {
		if (!c[i])
			continue;
		err = ebpf_cbpf_to_ebpf(c[i], nc[i], &l->body[i], &l->f[i].n, why, sizeof(why));
		if (err) {
			fprintf(stderr, "  translate: %s\n", why);
			return err;
		}
		l->f[i].body = l->body[i];
	}
	err = ebpf_pf_bind(l->prog, bpf_object__btf(l->obj), l->f, 2);
	if (err)
		return err;
	err = bpf_object__load(l->obj);
	ebpf_pf_unbind(l->prog);
	return err;
}

static int run_pkt(struct loaded *l, const void *data, size_t len, uint32_t *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = (uint32_t)len, .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(l->prog), &o);

	*retval = o.retval;
	return err ? -errno : 0;
}

/* BPF_PROG_TEST_RUN refuses some short frames (-EINVAL; which ones
 * depends on the kernel, e.g. IPv4 ones shorter than an IP header): a
 * packet the fixture without any filter cannot run either is left out. */
static bool testrun_refuses(const struct pkt *p)
{
	static struct loaded plain;
	uint32_t r;

	if (!plain.obj && load_with(&plain, "pf_main", NULL, 0, NULL, 0)) {
		fprintf(stderr, "  the fixture without filters does not load\n");
		test_failures++;
		return true;
	}
	{
		int e = run_pkt(&plain, p->b, p->len, &r);

		if (getenv("TEST_DEBUG"))
			fprintf(stderr, "  probe %zu bytes proto %02x%02x: %d\n", p->len, p->b[12], p->b[13],
			        e);
		return e == -EINVAL;
	}
}

static int compile(const char *expr, struct ebpf_cbpf_insn **c, size_t *n)
{
	char why[512];
	int err = ebpf_pcap_compile(expr, c, n, why, sizeof(why));

	if (err)
		fprintf(stderr, "  compile '%s': %s\n", expr, why);
	return err;
}

/* Runs every packet through `expr`; counts the verdicts that differ from libpcap's. */
static int check_filter(const char *expr, const struct pkt *ps, size_t n, int *matched)
{
	struct ebpf_cbpf_insn *c = NULL;
	struct loaded l;
	size_t nc = 0;
	int bad = 0;

	if (compile(expr, &c, &nc))
		return 1;
	if (load_with(&l, "pf_main", c, nc, NULL, 0)) {
		fprintf(stderr, "  filter '%s' (%zu classic instructions) does not load\n", expr, nc);
		unload(&l);
		free(c);
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t got = 99, want = ebpf_pcap_run(c, nc, ps[i].b, ps[i].len) != 0;
		int err;

		if (testrun_refuses(&ps[i]))
			continue;
		err = run_pkt(&l, ps[i].b, ps[i].len, &got);

		if (err || got != want) {
			fprintf(stderr,
			        "  filter '%s', packet '%s' (%zu bytes): eBPF says %u (%d), libpcap %u\n",
			        expr, ps[i].name, ps[i].len, got, err, want);
			bad++;
		}
		*matched += (int)want;
	}
	unload(&l);
	free(c);
	return bad;
}

/* ---- cases ---- */

static void test_handmade_packets(void)
{
	int matched = 0;

	make_packets();
	for (size_t f = 0; f < sizeof(filters) / sizeof(filters[0]); f++) {
		int m = 0;

		CHECK_INT(check_filter(filters[f], pkts, npkts, &m), 0);
		matched += m;
		if (getenv("TEST_VERBOSE"))
			printf("  %-50s %d/%zu packets\n", filters[f], m, npkts);
	}
	/* the packets exercise both verdicts of most filters */
	CHECK(matched > 100 && matched < (int)(npkts * (sizeof(filters) / sizeof(filters[0]))) - 100);
	/* a few verdicts spelled out, besides the oracle */
	{
		struct ebpf_cbpf_insn *c = NULL;
		size_t nc = 0;

		REQUIRE(compile("tcp port 80", &c, &nc) == 0);
		CHECK(ebpf_pcap_run(c, nc, pkts[0].b, pkts[0].len) != 0);   /* syn :80 */
		CHECK(ebpf_pcap_run(c, nc, pkts[1].b, pkts[1].len) == 0);   /* ack :22 */
		CHECK(ebpf_pcap_run(c, nc, pkts[3].b, pkts[3].len) == 0);   /* vlan-tagged */
		CHECK(ebpf_pcap_run(c, nc, pkts[9].b, pkts[9].len) != 0);   /* ipv6 :80 */
		CHECK(ebpf_pcap_run(c, nc, pkts[11].b, pkts[11].len) == 0); /* arp */
		free(c);
	}
}

static uint32_t rnd(void)
{
	static uint64_t s = 0x9e3779b97f4a7c15ULL;

	s ^= s << 13;
	s ^= s >> 7;
	s ^= s << 17;
	return (uint32_t)(s >> 11);
}

/* Hand-made packets mutated (bytes flipped, cut short) and random bytes. */
static void random_packets(struct pkt *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pkt *p = &out[i];

		if (i % 4 == 3) {
			p->name = "random bytes";
			p->len = 14 + rnd() % 200;
			for (size_t k = 0; k < p->len; k++)
				p->b[k] = (uint8_t)rnd();
			continue;
		}
		*p = pkts[rnd() % npkts];
		p->name = "mutated";
		for (int k = rnd() % 4; k > 0; k--)
			p->b[rnd() % (p->len ? p->len : 1)] = (uint8_t)rnd();
		if (rnd() % 3 == 0)
			p->len = 14 + rnd() % (p->len - 13);
	}
}

static void test_random_packets(void)
{
	struct pkt *rp = calloc(200, sizeof(*rp));
	int matched = 0;

	REQUIRE(rp);
	make_packets();
	for (int round = 0; round < 60; round++) {
		const char *expr = filters[rnd() % (sizeof(filters) / sizeof(filters[0]))];
		char both[256];

		struct ebpf_cbpf_insn *c = NULL;
		size_t nc = 0;
		char why[256];

		random_packets(rp, 40);
		/* half of the rounds combine two filters of the list */
		if (round % 2) {
			snprintf(both, sizeof(both), "(%s) %s (%s)", *expr ? expr : "ip",
			         rnd() % 2 ? "and" : "or", filters[rnd() % 10]);
			expr = both;
			/* libpcap refuses contradictions ("rejects all packets") */
			if (ebpf_pcap_compile(expr, &c, &nc, why, sizeof(why))) {
				round--;
				continue;
			}
			free(c);
		}
		CHECK_INT(check_filter(expr, rp, 40, &matched), 0);
	}
	CHECK(matched > 50);
	free(rp);
}

/* Random classic programs (every class, both operand sources, edge values)
 * against libpcap's interpreter, past what libpcap's compiler emits. */
static void random_program(struct ebpf_cbpf_insn *c, size_t *n)
{
	static const uint16_t alu[] = {BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND,
	                               BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR};
	static const uint16_t jmp[] = {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET};
	static const uint32_t vals[] = {0,  1,  2,  3,          12,         14,        31,
	                                32, 33, 60, 0x7fffffff, 0x80000000, 0xffffffff};
	size_t len = 16 * 2 + 8 + rnd() % 40, i = 0;

	/* libpcap's interpreter reads uninitialised memory as is: set it */
	for (uint32_t m = 0; m < 16; m++) {
		c[i++] = (struct ebpf_cbpf_insn){BPF_LD | BPF_IMM, 0, 0, rnd() % 3 ? rnd() % 64 : rnd()};
		c[i++] = (struct ebpf_cbpf_insn){BPF_ST, 0, 0, m};
	}
	while (i < len - 1) {
		uint32_t k = rnd() % 2 ? vals[rnd() % (sizeof(vals) / sizeof(vals[0]))] : rnd() % 80;
		uint16_t src = rnd() % 2 ? BPF_X : BPF_K;
		size_t left = len - 1 - i - 1; /* instructions after this one, before the last */

		switch (rnd() % 12) {
		case 0:
			c[i] = (struct ebpf_cbpf_insn){(uint16_t)(BPF_LD |
			                                          (rnd() % 3 == 0 ? BPF_W
			                                           : rnd() % 2    ? BPF_H
			                                                          : BPF_B) |
			                                          (rnd() % 2 ? BPF_ABS : BPF_IND)),
			                               0, 0, rnd() % 8 ? rnd() % 70 : k};
			break;
		case 1:
			c[i] = (struct ebpf_cbpf_insn){BPF_LDX | BPF_MSH | BPF_B, 0, 0,
			                               rnd() % 8 ? rnd() % 70 : k};
			break;
		case 2:
			c[i] = (struct ebpf_cbpf_insn){(uint16_t)((rnd() % 2 ? BPF_LD : BPF_LDX) | BPF_IMM),
			                               0, 0, k};
			break;
		case 3:
			c[i] = (struct ebpf_cbpf_insn){
			    (uint16_t)((rnd() % 2 ? BPF_LD : BPF_LDX) | (rnd() % 2 ? BPF_MEM : BPF_LEN)), 0,
			    0, rnd() % 16};
			break;
		case 4:
			c[i] = (struct ebpf_cbpf_insn){(uint16_t)(rnd() % 2 ? BPF_ST : BPF_STX), 0, 0,
			                               rnd() % 16};
			break;
		case 5:
		case 6:
		case 7: {
			uint16_t op = alu[rnd() % (sizeof(alu) / sizeof(alu[0]))];

			if (src == BPF_K && (op == BPF_DIV || op == BPF_MOD) && k == 0)
				k = 7;
			if (src == BPF_K && (op == BPF_LSH || op == BPF_RSH))
				k %= 32;
			if (op == BPF_NEG)
				src = BPF_K; /* the only spelling libpcap runs */
			c[i] = (struct ebpf_cbpf_insn){(uint16_t)(BPF_ALU | op | src), 0, 0, k};
			break;
		}
		case 8:
		case 9:
			c[i] = (struct ebpf_cbpf_insn){(uint16_t)(BPF_JMP | jmp[rnd() % 4] | src),
			                               (uint8_t)(left ? rnd() % (left + 1) : 0),
			                               (uint8_t)(left ? rnd() % (left + 1) : 0), k};
			break;
		case 10:
			c[i] = (struct ebpf_cbpf_insn){(uint16_t)(BPF_MISC | (rnd() % 2 ? BPF_TAX : BPF_TXA)),
			                               0, 0, 0};
			break;
		default:
			if (rnd() % 4 == 0)
				c[i] =
				    (struct ebpf_cbpf_insn){(uint16_t)(BPF_RET | (rnd() % 2 ? BPF_A : BPF_K)),
				                            0, 0, rnd() % 3 ? 0 : k};
			else
				c[i] = (struct ebpf_cbpf_insn){BPF_JMP | BPF_JA, 0, 0,
				                               left ? rnd() % (left + 1) : 0};
			break;
		}
		i++;
	}
	c[i++] = (struct ebpf_cbpf_insn){BPF_RET | BPF_A, 0, 0, 0};
	*n = i;
}

static void test_random_programs(void)
{
	struct pkt *rp = calloc(24, sizeof(*rp));
	struct ebpf_cbpf_insn c[128];
	int progs = 0;

	REQUIRE(rp);
	make_packets();
	for (int round = 0; round < 150; round++) {
		struct loaded l;
		size_t n = 0;

		random_program(c, &n);
		if (load_with(&l, "pf_main", c, n, NULL, 0)) {
			fprintf(stderr, "  random program %d (%zu instructions) does not load\n", round, n);
			test_failures++;
			unload(&l);
			continue;
		}
		random_packets(rp, 24);
		for (size_t i = 0; i < 24; i++) {
			uint32_t got = 99, want = ebpf_pcap_run(c, n, rp[i].b, rp[i].len) != 0;

			if (testrun_refuses(&rp[i]))
				continue;
			if (run_pkt(&l, rp[i].b, rp[i].len, &got) || got != want) {
				fprintf(stderr,
				        "  random program %d, packet %zu (%zu bytes): eBPF %u, libpcap %u\n",
				        round, i, rp[i].len, got, want);
				for (size_t k = 0; k < n; k++)
					fprintf(stderr, "    %3zu: code 0x%02x jt %u jf %u k 0x%x\n", k,
					        c[k].code, c[k].jt, c[k].jf, c[k].k);
				test_failures++;
				break;
			}
		}
		progs++;
		unload(&l);
	}
	CHECK_INT(progs, 150);
	free(rp);
}

static void test_two_filters_and_socket(void)
{
	struct ebpf_cbpf_insn *c0 = NULL, *c1 = NULL;
	size_t n0 = 0, n1 = 0;
	struct loaded l;
	uint32_t r;

	make_packets();
	REQUIRE(compile("tcp", &c0, &n0) == 0);
	REQUIRE(compile("dst host 10.0.0.1", &c1, &n1) == 0);
	/* one program, both filters, its own stack intact (else it answers 100) */
	CHECK_INT(load_with(&l, "pf_both", c0, n0, c1, n1), 0);
	CHECK_INT(run_pkt(&l, pkts[0].b, pkts[0].len, &r), 0); /* tcp to 10.0.0.1 */
	CHECK_INT(r, 3);
	CHECK_INT(run_pkt(&l, pkts[1].b, pkts[1].len, &r), 0); /* tcp to 192.168.1.2 */
	CHECK_INT(r, 1);
	CHECK_INT(run_pkt(&l, pkts[5].b, pkts[5].len, &r), 0); /* udp to 10.0.0.1 */
	CHECK_INT(r, 2);
	CHECK_INT(run_pkt(&l, pkts[7].b, pkts[7].len, &r), 0); /* icmp to 10.0.0.2 */
	CHECK_INT(r, 0);
	unload(&l);
	/* only the named one: the unnamed stub answers "not empty" */
	CHECK_INT(load_with(&l, "pf_both", NULL, 0, c1, n1), 0);
	CHECK_INT(run_pkt(&l, pkts[1].b, pkts[1].len, &r), 0);
	CHECK_INT(r, 1);
	CHECK_INT(run_pkt(&l, pkts[0].b, pkts[0].len, &r), 0);
	CHECK_INT(r, 3);
	unload(&l);
	/* the socket filter program type loads the same code */
	CHECK_INT(load_with(&l, "pf_sock", c0, n0, NULL, 0), 0);
	CHECK(bpf_program__fd(l.prog) >= 0);
	unload(&l);
	free(c0);
	free(c1);
}

static void test_translator_refusals(void)
{
	struct ebpf_cbpf_insn loop[] = {
	    {BPF_LD | BPF_IMM, 0, 0, 1},
	    {BPF_JMP | BPF_JA, 0, 0, (uint32_t)-2},
	    {BPF_RET | BPF_K, 0, 0, 1},
	};
	struct ebpf_cbpf_insn div0[] = {{BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0}, {BPF_RET | BPF_A, 0, 0, 0}};
	struct ebpf_cbpf_insn *c = NULL;
	struct bpf_insn *out = NULL;
	size_t n = 0, nout = 0;
	char why[256];

	CHECK_INT(ebpf_cbpf_to_ebpf(loop, 3, &out, &nout, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "backward jump"));
	CHECK_INT(ebpf_cbpf_to_ebpf(div0, 2, &out, &nout, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "division by zero"));
	CHECK(out == NULL);
	/* libpcap's protochain loops back: refused with a reason */
	REQUIRE(compile("ip6 protochain 6", &c, &n) == 0);
	CHECK_INT(ebpf_cbpf_to_ebpf(c, n, &out, &nout, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "backward jump"));
	free(c);
	CHECK_INT(ebpf_pcap_compile("tcp port", &c, &n, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "syntax error"));
}

/* The splice on a made-up program: main calls f1 and f2 (and takes f2's
 * address); f1 is replaced by a longer body. */
static void test_splice(void)
{
#define CALL_REL(rel)                                                                                        \
	((struct bpf_insn){.code = BPF_JMP | BPF_CALL, .src_reg = BPF_PSEUDO_CALL, .imm = (rel)})
#define MOV(i) ((struct bpf_insn){.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = (i)})
#define EXIT_  ((struct bpf_insn){.code = BPF_JMP | BPF_EXIT})
	struct bpf_insn prog[] = {
	    CALL_REL(5), /* 0 -> 6 (f1) */
	    ((struct bpf_insn){.code = BPF_LD | BPF_IMM | BPF_DW,
	                       .dst_reg = 2,
	                       .src_reg = BPF_PSEUDO_FUNC,
	                       .imm = 7}), /* 1 -> 9 (f2) */
	    ((struct bpf_insn){0}),        /* 2 */
	    CALL_REL(5),                   /* 3 -> 9 */
	    MOV(0),                        /* 4 */
	    EXIT_,                         /* 5 */
	    MOV(1),
	    MOV(2),
	    EXIT_,        /* 6..8: f1 */
	    CALL_REL(-4), /* 9 -> 6: f2 calls f1 */
	    EXIT_,        /* 10 */
	};
	struct bpf_func_info fi[3] = {{0, 1}, {6, 2}, {9, 3}};
	struct bpf_line_info li[6] = {{.insn_off = 0}, {.insn_off = 4}, {.insn_off = 6},
	                              {.insn_off = 7}, {.insn_off = 9}, {.insn_off = 10}};
	struct bpf_insn body[5] = {MOV(7), MOV(7), MOV(7), MOV(7), EXIT_};
	const struct bpf_insn *bodies[3] = {NULL, body, NULL};
	size_t nbodies[3] = {0, 5, 0};
	struct ebpf_pf_spliced s;

	REQUIRE(ebpf_pf_splice(prog, 11, fi, 3, sizeof(fi[0]), li, 6, sizeof(li[0]), bodies, nbodies, &s) ==
	        0);
	CHECK_INT(s.n, 13);
	CHECK_INT(s.insns[0].imm, 5);   /* still f1, at 6 */
	CHECK_INT(s.insns[1].imm, 9);   /* f2 moved to 11 */
	CHECK_INT(s.insns[3].imm, 7);   /* 3 -> 11 */
	CHECK_INT(s.insns[6].imm, 7);   /* the body */
	CHECK_INT(s.insns[11].imm, -6); /* f2 -> f1: 11 + 1 - 6 = 6 */
	CHECK_INT(((struct bpf_func_info *)s.finfo)[1].insn_off, 6);
	CHECK_INT(((struct bpf_func_info *)s.finfo)[2].insn_off, 11);
	CHECK_INT(((struct bpf_func_info *)s.finfo)[2].type_id, 3);
	CHECK_INT(s.lcnt, 5); /* f1's second line went */
	CHECK_INT(((struct bpf_line_info *)s.linfo)[2].insn_off, 6);
	CHECK_INT(((struct bpf_line_info *)s.linfo)[3].insn_off, 11);
	CHECK_INT(((struct bpf_line_info *)s.linfo)[4].insn_off, 12);
	ebpf_pf_spliced_free(&s);
	/* a call into the middle of a function is refused */
	prog[0] = CALL_REL(6);
	CHECK_INT(ebpf_pf_splice(prog, 11, fi, 3, sizeof(fi[0]), li, 6, sizeof(li[0]), bodies, nbodies, &s),
	          -EINVAL);
}

/* TC on lo: where the kernel cannot load modules by itself (the test VM)
 * and brings no interface up, not even lo (no-ops elsewhere). */
static void lo_ready(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	if (system("modprobe sch_ingress 2>/dev/null; modprobe cls_bpf 2>/dev/null; "
	           "ip link set lo up 2>/dev/null"))
		fprintf(stderr, "  (modprobe or ip failed: TC on lo may not work)\n");
}

/* Through the ebpf operator: params of GADGET_PF gadgets only, a bad
 * expression refused with one error naming the param, a good one loaded. */
static void test_params(void)
{
	struct gadget_run r;

	capture_reset();
	CHECK_INT(gadget_open_fixture(&r, "ebpf_pf", NULL), 0);
	CHECK(param_value(&r, "pf") != NULL);
	CHECK(param_value(&r, "pf-second") != NULL);
	CHECK(param_value(&r, "pf") && strcmp(param_value(&r, "pf"), "") == 0);
	CHECK_INT(set_param(&r, "pf", "tcp port"), 0); /* a string: checked before start */
	CHECK_INT(set_param(&r, "iface", "lo"), 0);
	CHECK(sonde_gadget_run(r.ctx, 100000000) < 0);
	CHECK_LOGGED(
	    "param 'pf': invalid packet filter 'tcp port': can't parse filter expression: syntax error");
	{
		int lines = 0;

		for (const char *p = log_errors; *p; p++)
			lines += *p == '\n';
		CHECK_INT(lines, 1);
	}
	gadget_close(&r);

	/* a gadget without GADGET_PF has no such params */
	CHECK_INT(gadget_open_fixture(&r, "ebpf_netprogs",
	                              "programs:\n  ig_perf:\n    attach_to: "
	                              "gadget_program_disabled\n"),
	          0);
	CHECK(param_value(&r, "pf") == NULL);
	gadget_close(&r);

	/* a good expression: the classifiers load with it and attach to lo */
	lo_ready();
	capture_reset();
	log_debug_needle = "packet filter inserted";
	sonde_log_set_level(SONDE_LOG_DEBUG);
	CHECK_INT(gadget_open_fixture(&r, "ebpf_pf", NULL), 0);
	CHECK_INT(set_param(&r, "pf", "tcp[tcpflags] & tcp-syn != 0 and port 80"), 0);
	CHECK_INT(set_param(&r, "pf-second", "udp"), 0);
	CHECK_INT(set_param(&r, "iface", "lo"), 0);
	CHECK_INT(sonde_gadget_run(r.ctx, 100000000), 0);
	CHECK(strstr(log_debug_line, "packet filter inserted"));
	CHECK_INT(log_errors[0], 0);
	gadget_close(&r);
	sonde_log_set_level(SONDE_LOG_INFO);
	log_debug_needle = NULL;
}

/* ---- real traffic: AF_PACKET socket filter and TC on lo ---- */

struct traffic {
	struct sonde_gadget_ctx *ctx;
	struct sonde_field *kind, *dport;
	uint16_t want, other;
	int seen[3], bad;
	volatile bool stop;
};

static int on_packet(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct traffic *t = arg;
	uint32_t kind = sonde_field_uint32(t->kind, rec), port = sonde_field_uint32(t->dport, rec);

	(void)ds;
	if (port != t->want || kind < 1 || kind > 2) {
		if (t->bad++ < 5)
			fprintf(stderr, "  kind %u reported port %u\n", kind, port);
		return 0;
	}
	t->seen[kind]++;
	if (t->seen[1] >= 10 && t->seen[2] >= 10)
		sonde_gadget_cancel(t->ctx);
	return 0;
}

static void *send_udp(void *arg)
{
	struct traffic *t = arg;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	if (fd < 0)
		return NULL;
	while (!t->stop) {
		to.sin_port = htons(t->want);
		sendto(fd, "sonde", 5, 0, (struct sockaddr *)&to, sizeof(to));
		to.sin_port = htons(t->other);
		sendto(fd, "sonde", 5, 0, (struct sockaddr *)&to, sizeof(to));
		usleep(5000);
	}
	close(fd);
	return NULL;
}

static void test_real_traffic(void)
{
	struct traffic t = {0};
	struct gadget_run r;
	struct sonde_ds *ds;
	pthread_t th;
	char expr[64];

	/* nobody listens there: the datagrams only have to cross lo */
	t.want = (uint16_t)(40000 + getpid() % 20000);
	t.other = (uint16_t)(t.want + 1);
	snprintf(expr, sizeof(expr), "udp dst port %u and not port %u", t.want, t.other);
	lo_ready();
	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_pf_trace", NULL) == 0);
	CHECK_INT(set_param(&r, "pf", expr), 0);
	CHECK_INT(set_param(&r, "iface", "lo"), 0);
	ds = sonde_gadget_ds(r.ctx, "packets");
	REQUIRE(ds);
	t.ctx = r.ctx;
	t.kind = sonde_ds_field(ds, "kind");
	t.dport = sonde_ds_field(ds, "dport");
	REQUIRE(t.kind && t.dport);
	REQUIRE(sonde_ds_subscribe(ds, on_packet, &t, 100) == 0);
	REQUIRE(pthread_create(&th, NULL, send_udp, &t) == 0);
	CHECK_INT(sonde_gadget_run(r.ctx, 10 * 1000000000LL), 0);
	t.stop = true;
	pthread_join(th, NULL);
	printf("  '%s': socket filter %d, tc %d packets, %d others\n", expr, t.seen[1], t.seen[2], t.bad);
	CHECK(t.seen[1] >= 10);
	CHECK(t.seen[2] >= 10);
	CHECK_INT(t.bad, 0);
	CHECK_INT(log_errors[0], 0);
	gadget_close(&r);
}

int main(int argc, char **argv)
{
	static const struct test_case cases[] = {
	    TEST(test_splice),         TEST(test_translator_refusals), TEST(test_handmade_packets),
	    TEST(test_random_packets), TEST(test_random_programs),     TEST(test_two_filters_and_socket),
	    TEST(test_params),         TEST(test_real_traffic),
	};

	test_require_root();
	return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
