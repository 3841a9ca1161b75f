/* Protocol names: the IANA "Assigned Internet Protocol Numbers" registry
 * keywords, as upstream's table has them. */
#include "format/endpoint.h"

#include "format/fmtbuf.h"

static const char *const proto_names[256] = {
    [0] = "HOPOPT",
    [1] = "ICMP",
    [2] = "IGMP",
    [3] = "GGP",
    [4] = "IPv4",
    [5] = "ST",
    [6] = "TCP",
    [7] = "CBT",
    [8] = "EGP",
    [9] = "IGP",
    [10] = "BBN-RCC-MON",
    [11] = "NVP-II",
    [12] = "PUP",
    [13] = "ARGUS",
    [14] = "EMCON",
    [15] = "XNET",
    [16] = "CHAOS",
    [17] = "UDP",
    [18] = "MUX",
    [19] = "DCN-MEAS",
    [20] = "HMP",
    [21] = "PRM",
    [22] = "XNS-IDP",
    [23] = "TRUNK-1",
    [24] = "TRUNK-2",
    [25] = "LEAF-1",
    [26] = "LEAF-2",
    [27] = "RDP",
    [28] = "IRTP",
    [29] = "ISO-TP4",
    [30] = "NETBLT",
    [31] = "MFE-NSP",
    [32] = "MERIT-INP",
    [33] = "DCCP",
    [34] = "3PC",
    [35] = "IDPR",
    [36] = "XTP",
    [37] = "DDP",
    [38] = "IDPR-CMTP",
    [39] = "TP++",
    [40] = "IL",
    [41] = "IPv6",
    [42] = "SDRP",
    [43] = "IPv6-Route",
    [44] = "IPv6-Frag",
    [45] = "IDRP",
    [46] = "RSVP",
    [47] = "GRE",
    [48] = "DSR",
    [49] = "BNA",
    [50] = "ESP",
    [51] = "AH",
    [52] = "I-NLSP",
    [53] = "SWIPE",
    [54] = "NARP",
    [55] = "MOBILE",
    [56] = "TLSP",
    [57] = "SKIP",
    [58] = "IPv6-ICMP",
    [59] = "IPv6-NoNxt",
    [60] = "IPv6-Opts",
    [61] = "internal",
    [62] = "CFTP",
    [63] = "local",
    [64] = "SAT-EXPAK",
    [65] = "KRYPTOLAN",
    [66] = "RVD",
    [67] = "IPPC",
    [68] = "distributed",
    [69] = "SAT-MON",
    [70] = "VISA",
    [71] = "IPCU",
    [72] = "CPNX",
    [73] = "CPHB",
    [74] = "WSN",
    [75] = "PVP",
    [76] = "BR-SAT-MON",
    [77] = "SUN-ND",
    [78] = "WB-MON",
    [79] = "WB-EXPAK",
    [80] = "ISO-IP",
    [81] = "VMTP",
    [82] = "SECURE-VMTP",
    [83] = "VINES",
    [84] = "TTP",
    [85] = "NSFNET-IGP",
    [86] = "DGP",
    [87] = "TCF",
    [88] = "EIGRP",
    [89] = "OSPFIGP",
    [90] = "Sprite-RPC",
    [91] = "LARP",
    [92] = "MTP",
    [93] = "AX.25",
    [94] = "IPIP",
    [95] = "MICP",
    [96] = "SCC-SP",
    [97] = "ETHERIP",
    [98] = "ENCAP",
    [99] = "private",
    [100] = "GMTP",
    [101] = "IFMP",
    [102] = "PNNI",
    [103] = "PIM",
    [104] = "ARIS",
    [105] = "SCPS",
    [106] = "QNX",
    [107] = "A/N",
    [108] = "IPComp",
    [109] = "SNP",
    [110] = "Compaq-Peer",
    [111] = "IPX-in-IP",
    [112] = "VRRP",
    [113] = "PGM",
    [114] = "0-hop",
    [115] = "L2TP",
    [116] = "DDX",
    [117] = "IATP",
    [118] = "STP",
    [119] = "SRP",
    [120] = "UTI",
    [121] = "SMP",
    [122] = "SM",
    [123] = "PTP",
    [124] = "ISIS over IPv4",
    [125] = "FIRE",
    [126] = "CRTP",
    [127] = "CRUDP",
    [128] = "SSCOPMCE",
    [129] = "IPLT",
    [130] = "SPS",
    [131] = "PIPE",
    [132] = "SCTP",
    [133] = "FC",
    [134] = "RSVP-E2E-IGNORE",
    [135] = "Mobility Header",
    [136] = "UDPLite",
    [137] = "MPLS-in-IP",
    [138] = "manet",
    [139] = "HIP",
    [140] = "Shim6",
    [141] = "WESP",
    [142] = "ROHC",
    [143] = "Ethernet",
    [144] = "AGGFRAG",
    [145] = "NSH",
    [253] = "experimentation",
    [254] = "experimentation",
    [255] = "reserved",
};

const char *ip_proto_name(uint16_t proto)
{
	return proto < 256 ? proto_names[proto] : NULL;
}

size_t fmt_ip_proto(uint16_t proto, char *buf, size_t cap)
{
	struct fmtbuf b = fmtbuf_init(buf, cap);
	const char *name = ip_proto_name(proto);

	if (name) {
		fmtbuf_puts(&b, name);
	} else {
		fmtbuf_puts(&b, "proto#");
		fmtbuf_uint(&b, proto, 0, '0');
	}
	return b.len;
}

static void put_ipv4(struct fmtbuf *b, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		if (i)
			fmtbuf_putc(b, '.');
		fmtbuf_uint(b, a[i], 0, '0');
	}
}

static void put_hex16(struct fmtbuf *b, unsigned v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[4];
	int n = 0;

	for (int shift = 12; shift >= 0; shift -= 4)
		if ((v >> shift) || n || shift == 0)
			tmp[n++] = hex[(v >> shift) & 0xf];
	fmtbuf_put(b, tmp, (size_t)n);
}

static void put_ipv6(struct fmtbuf *b, const uint8_t *a)
{
	static const uint8_t v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	unsigned g[8];
	int zstart = -1, zlen = 0;

	/* net.IP.String: an IPv4-mapped address prints as IPv4 */
	if (memcmp(a, v4_prefix, sizeof(v4_prefix)) == 0) {
		put_ipv4(b, a + 12);
		return;
	}
	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	/* the first longest run of two or more zero groups becomes "::" */
	for (int i = 0; i < 8; i++) {
		int j = i;

		while (j < 8 && g[j] == 0)
			j++;
		if (j - i >= 2 && j - i > zlen) {
			zstart = i;
			zlen = j - i;
		}
	}
	for (int i = 0; i < 8; i++) {
		if (i == zstart) {
			fmtbuf_put(b, "::", 2);
			i += zlen - 1;
			continue;
		}
		if (i > 0 && i != zstart + zlen)
			fmtbuf_putc(b, ':');
		put_hex16(b, g[i]);
	}
}

size_t fmt_ip(const uint8_t addr[16], uint8_t version, char *buf, size_t cap)
{
	struct fmtbuf b = fmtbuf_init(buf, cap);

	if (version == 4)
		put_ipv4(&b, addr);
	else if (version == 6)
		put_ipv6(&b, addr);
	return b.len;
}

size_t fmt_l4endpoint(const uint8_t addr[16], uint8_t version, uint16_t port, char *buf, size_t cap)
{
	struct fmtbuf b = fmtbuf_init(buf, cap);
	char ip[FMT_IP_MAX];
	size_t n = fmt_ip(addr, version, ip, sizeof(ip));

	if (!n)
		return 0;
	fmtbuf_put(&b, ip, n);
	fmtbuf_putc(&b, ':');
	fmtbuf_uint(&b, port, 0, '0');
	return b.len;
}
