/* The networking gadget headers at run time, through BPF_PROG_TEST_RUN on
 * hand-made packets (fixture tests/bpf/gadget_headers_skb.bpf.c, loaded with
 * plain libbpf): gadget_socket_lookup() from a socket filter and
 * gadget_socket_lookup_with_direction() from TC find the gadget_sockets
 * entry of the local port (UDP and TCP, IPv4 with options, IPv6 behind an
 * extension header, the IPv4-on-dual-stack retry and IPV6_V6ONLY), fill
 * the process block from it, and gadget_should_discard_data_by_skb() follows
 * the pid filter; the packet filter stub passes a packet when no filter is
 * injected; get_slot_idx() and the FNV-1a updates give upstream's numbers;
 * the libbpf 1.3 loop macros of include/bpf/bpf_helpers.h load and loop;
 * the tracing helpers (process block, mount namespace, inode times, task
 * state, paths from an fd and from a struct path, the pid filter) describe
 * the test's own task as /proc and stat(2) do; and, end to end through the
 * built-in trace_malloc, user_stack_map.h fills struct gadget_user_stack with
 * upstream's meaning.
 *
 * The entry's struct is read through CO-RE (preserve_access_index) as in
 * upstream: like upstream's socket enricher, the test gives libbpf a BTF that
 * describes it (here the object's own) as the relocation target. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "testlib.h"

#define NETNS     42
#define AF_INET_  2
#define AF_INET6_ 10

/* Mirrors of the layouts in include/gadget/ (pinned by tests/gadget-compile). */
struct socket_key {
	uint32_t netns;
	uint16_t family;
	uint8_t proto;
	uint16_t port;
};

struct process {
	char comm[16];
	uint32_t pid, tid;
	uint64_t mntns_id;
	uint32_t uid, gid;
	char pcomm[16];
	uint32_t ppid, ptid;
};

struct lookup_result {
	uint32_t found, discard, pf, pad;
	struct process proc;
};

struct helper_result {
	uint64_t slot[8];
	uint32_t fnv32, pad;
	uint64_t fnv64;
};

/* REQUIRE for the helpers below, which report failure to their caller. */
#define ENSURE(cond)                                                                                         \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);           \
			test_failures++;                                                                     \
			return false;                                                                        \
		}                                                                                            \
	} while (0)

#define BSS_MAX 4096 /* room for the fixture's .bss */

struct fixture {
	struct bpf_object *obj;
	char btf_path[64];
	int bss_fd;
	uint32_t bss_size;
	uint32_t out_off, helpers_off;
	int sockets_fd;
	uint32_t value_size;
};

/* Offset of variable var in datasec sec of btf; UINT32_MAX if absent. */
static uint32_t var_offset(const struct btf *btf, const char *sec, const char *var)
{
	int id = btf__find_by_name_kind(btf, sec, BTF_KIND_DATASEC);
	const struct btf_type *t;
	const struct btf_var_secinfo *vs;

	if (id < 0)
		return UINT32_MAX;
	t = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, vs++)
		if (!strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, vs->type)->name_off), var))
			return vs->offset;
	return UINT32_MAX;
}

/* Opens and loads the fixture; targ_pid != 0 turns the pid filter on. */
/* Opens the fixture with f->btf_path as CO-RE target and loads it. */
static bool fixture_load(struct fixture *f, const char *path, uint32_t targ_pid)
{
	struct bpf_map *map;
	size_t sz;
	int err;

	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = f->btf_path);
	f->obj = bpf_object__open_file(path, &opts);
	ENSURE(f->obj);
	if (targ_pid) {
		uint32_t off = var_offset(bpf_object__btf(f->obj), ".rodata", "targ_pid");
		const void *init;
		char rodata[4096];

		map = bpf_object__find_map_by_name(f->obj, ".rodata");
		ENSURE(map && off != UINT32_MAX);
		init = bpf_map__initial_value(map, &sz);
		ENSURE(init && off + 4 <= sz && sz <= sizeof(rodata));
		memcpy(rodata, init, sz);
		memcpy(rodata + off, &targ_pid, 4);
		ENSURE(bpf_map__set_initial_value(map, rodata, sz) == 0);
	}
	err = bpf_object__load(f->obj);
	if (err)
		fprintf(stderr, "cannot load the fixture: %s\n", strerror(-err));
	ENSURE(err == 0);
	map = bpf_object__find_map_by_name(f->obj, ".bss");
	ENSURE(map && bpf_map__fd(map) >= 0);
	/* read and written through the map: libbpf 1.1 only maps it for skeletons */
	f->bss_fd = bpf_map__fd(map);
	f->bss_size = bpf_map__value_size(map);
	f->out_off = var_offset(bpf_object__btf(f->obj), ".bss", "out");
	f->helpers_off = var_offset(bpf_object__btf(f->obj), ".bss", "helpers_out");
	ENSURE(f->bss_size <= BSS_MAX && f->out_off != UINT32_MAX && f->helpers_off != UINT32_MAX);
	map = bpf_object__find_map_by_name(f->obj, "gadget_sockets");
	ENSURE(map);
	f->sockets_fd = bpf_map__fd(map);
	f->value_size = bpf_map__value_size(map);
	ENSURE(bpf_map__key_size(map) == sizeof(struct socket_key));
	return true;
}

/* Opens and loads the fixture; targ_pid != 0 turns the pid filter on. */
static bool fixture_open(struct fixture *f, uint32_t targ_pid)
{
	char path[512];
	struct bpf_object *probe;
	const void *raw;
	uint32_t size;
	FILE *out;
	bool ok;

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "%s/gadget_headers_skb.bpf.o", SONDE_TEST_BPF_DIR);

	/* CO-RE target for struct gadget_socket_value: the object's own BTF,
	 * in a file that only lives until the load has read it */
	probe = bpf_object__open_file(path, NULL);
	ENSURE(probe);
	raw = btf__raw_data(bpf_object__btf(probe), &size);
	snprintf(f->btf_path, sizeof(f->btf_path), "/tmp/sonde-gh-%d.btf", (int)getpid());
	out = fopen(f->btf_path, "w");
	ok = out && fwrite(raw, 1, size, out) == size;
	if (out && fclose(out))
		ok = false;
	bpf_object__close(probe);
	ok = ok && fixture_load(f, path, targ_pid);
	unlink(f->btf_path);
	ENSURE(ok);
	return true;
}

static bool bss_read(struct fixture *f, unsigned char *bss)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(f->bss_fd, &zero, bss) == 0;
}

static bool bss_write(struct fixture *f, const unsigned char *bss)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(f->bss_fd, &zero, bss, BPF_ANY) == 0;
}

static void fixture_close(struct fixture *f)
{
	bpf_object__close(f->obj);
}

/* Adds a gadget_sockets entry owned by "dig" (pid 100, tid 101) of "bash". */
static bool add_socket(struct fixture *f, uint16_t family, uint8_t proto, uint16_t port, char ipv6only)
{
	struct socket_key key;
	unsigned char value[16384];
	uint64_t u64;
	uint32_t u32;

	ENSURE(f->value_size <= sizeof(value) && f->value_size >= 88);
	memset(&key, 0, sizeof(key));
	key.netns = NETNS;
	key.family = family;
	key.proto = proto;
	key.port = port;
	memset(value, 0, sizeof(value));
	u64 = 4026531840ULL; /* mntns */
	memcpy(value + 0, &u64, 8);
	u64 = (100ULL << 32) | 101; /* pid_tgid */
	memcpy(value + 8, &u64, 8);
	u64 = (2000ULL << 32) | 1000; /* uid_gid */
	memcpy(value + 16, &u64, 8);
	memcpy(value + 24, "dig", 4);
	memcpy(value + 40, "bash", 5);
	u32 = 7; /* ppid */
	memcpy(value + 72, &u32, 4);
	u32 = 8; /* ptid */
	memcpy(value + 76, &u32, 4);
	value[80] = ipv6only;
	ENSURE(bpf_map_update_elem(f->sockets_fd, &key, value, BPF_ANY) == 0);
	return true;
}

/* Ethernet + IPv4 (ihl 5 or 6) + UDP/TCP; returns the length. */
static size_t ipv4_packet(unsigned char *p, int options, uint8_t proto, uint16_t sport, uint16_t dport)
{
	size_t ihl = options ? 24 : 20, l4 = proto == 6 ? 20 : 8;
	size_t n = 14 + ihl + l4;

	memset(p, 0, n);
	/* destination 00:00:00:00:00:00, lo's address: the test run sees PACKET_HOST */
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	p[12] = 0x08;
	p[14] = 0x40 | (uint8_t)(ihl / 4);
	p[16] = (uint8_t)((ihl + l4) >> 8);
	p[17] = (uint8_t)(ihl + l4);
	p[22] = 64;
	p[23] = proto;
	memcpy(p + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	if (options)
		memcpy(p + 34, "\x01\x01\x01\x00", 4); /* NOP NOP NOP EOL */
	p[14 + ihl] = (uint8_t)(sport >> 8);
	p[14 + ihl + 1] = (uint8_t)sport;
	p[14 + ihl + 2] = (uint8_t)(dport >> 8);
	p[14 + ihl + 3] = (uint8_t)dport;
	if (proto == 6)
		p[14 + ihl + 12] = 0x50;
	else
		p[14 + ihl + 5] = 8;
	return n;
}

/* Ethernet + IPv6 + hop-by-hop options + TCP; returns the length. */
static size_t ipv6_packet(unsigned char *p, uint16_t sport, uint16_t dport)
{
	size_t n = 14 + 40 + 8 + 20;

	memset(p, 0, n);
	memcpy(p + 6, "\x02\x00\x00\x00\x00\x01", 6);
	p[12] = 0x86;
	p[13] = 0xdd;
	p[14] = 0x60;
	p[19] = 28;                                    /* payload length */
	p[20] = 0;                                     /* next header: hop-by-hop */
	p[21] = 64;                                    /* hop limit */
	p[14 + 23] = 1;                                /* src ::1 */
	p[14 + 39] = 1;                                /* dst ::1 */
	p[54] = 6;                                     /* hop-by-hop: next header TCP */
	p[55] = 0;                                     /* 8 bytes */
	memcpy(p + 56, "\x01\x04\x00\x00\x00\x00", 6); /* PadN */
	p[62] = (uint8_t)(sport >> 8);
	p[63] = (uint8_t)sport;
	p[64] = (uint8_t)(dport >> 8);
	p[65] = (uint8_t)dport;
	p[74] = 0x50;
	return n;
}

/* Runs prog on the packet with skb->cb[0] = netns; *r = its out. */
static bool run(struct fixture *f, const char *prog, const unsigned char *pkt, size_t len, uint32_t netns,
                struct lookup_result *r)
{
	struct __sk_buff ctx;
	unsigned char bss[BSS_MAX], in[14 + 256];
	struct bpf_program *p = bpf_object__find_program_by_name(f->obj, prog);
	size_t off = 0;

	ENSURE(p && len <= 256);
	/*
	 * The test run strips the Ethernet header before a socket filter, where
	 * a packet socket (upstream's dispatcher) shows it: give such programs
	 * the frame behind an outer Ethernet header of the same type.
	 */
	if (bpf_program__type(p) == BPF_PROG_TYPE_SOCKET_FILTER) {
		memcpy(in, pkt, 14);
		off = 14;
	}
	memcpy(in + off, pkt, len);
	memset(&ctx, 0, sizeof(ctx));
	ctx.cb[0] = netns;
	ENSURE(bss_read(f, bss) && (memset(bss + f->out_off, 0xff, sizeof(*r)), bss_write(f, bss)));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = (uint32_t)(off + len),
	            .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
	ENSURE(bpf_prog_test_run_opts(bpf_program__fd(p), &opts) == 0);
	ENSURE(bss_read(f, bss));
	memcpy(r, bss + f->out_off, sizeof(*r));
	return true;
}

static void check_owner(const struct lookup_result *r)
{
	CHECK_INT(r->found, 1);
	CHECK_STR(r->proc.comm, "dig");
	CHECK_INT(r->proc.pid, 100);
	CHECK_INT(r->proc.tid, 101);
	CHECK(r->proc.mntns_id == 4026531840ULL);
	CHECK_INT(r->proc.uid, 1000);
	CHECK_INT(r->proc.gid, 2000);
	CHECK_STR(r->proc.pcomm, "bash");
	CHECK_INT(r->proc.ppid, 7);
	CHECK_INT(r->proc.ptid, 8);
}

static void test_lookups(void)
{
	struct fixture f;
	unsigned char pkt[128];
	struct lookup_result r;
	size_t n;

	test_require_root();
	REQUIRE(fixture_open(&f, 0));
	REQUIRE(add_socket(&f, AF_INET_, 17, 5353, 0));
	REQUIRE(add_socket(&f, AF_INET6_, 17, 6000, 0));
	REQUIRE(add_socket(&f, AF_INET6_, 6, 8080, 0));

	/* socket filter: ingress (PACKET_HOST), the local port is the destination */
	n = ipv4_packet(pkt, 0, 17, 40000, 5353);
	REQUIRE(run(&f, "lookup_socket", pkt, n, NETNS, &r));
	check_owner(&r);
	CHECK_INT(r.discard, 0);
	REQUIRE(run(&f, "lookup_socket", pkt, n, NETNS + 1, &r)); /* other network namespace */
	CHECK_INT(r.found, 0);
	CHECK_INT(r.discard, 0);                  /* no filter on: unknown sockets are kept */
	n = ipv4_packet(pkt, 1, 17, 40000, 5353); /* IP options */
	REQUIRE(run(&f, "lookup_socket", pkt, n, NETNS, &r));
	check_owner(&r);

	/* TC: the caller gives the direction */
	n = ipv4_packet(pkt, 0, 17, 40000, 5353);
	REQUIRE(run(&f, "lookup_ingress", pkt, n, NETNS, &r));
	check_owner(&r);
	REQUIRE(run(&f, "lookup_egress", pkt, n, NETNS, &r)); /* egress: the source port, 40000 */
	CHECK_INT(r.found, 0);
	CHECK_INT(r.pf, 1); /* no filter injected: a non-empty packet matches */
	n = ipv4_packet(pkt, 0, 17, 5353, 40000);
	REQUIRE(run(&f, "lookup_egress", pkt, n, NETNS, &r));
	check_owner(&r);

	/* IPv4 to a dual-stack IPv6 socket, unless it is IPV6_V6ONLY */
	n = ipv4_packet(pkt, 0, 17, 40000, 6000);
	REQUIRE(run(&f, "lookup_socket", pkt, n, NETNS, &r));
	check_owner(&r);
	REQUIRE(add_socket(&f, AF_INET6_, 17, 6000, 1));
	REQUIRE(run(&f, "lookup_socket", pkt, n, NETNS, &r));
	CHECK_INT(r.found, 0);

	/* TCP over IPv6 behind a hop-by-hop options header */
	n = ipv6_packet(pkt, 50000, 8080);
	REQUIRE(run(&f, "lookup_socket", pkt, n, NETNS, &r));
	check_owner(&r);
	n = ipv4_packet(pkt, 0, 6, 50000, 8080); /* same port over IPv4: dual stack */
	REQUIRE(run(&f, "lookup_ingress", pkt, n, NETNS, &r));
	check_owner(&r);
	fixture_close(&f);
}

/* With a pid filter, packets of other processes and of unknown sockets go. */
static void test_filter_by_skb(void)
{
	struct fixture f;
	unsigned char pkt[128];
	struct lookup_result r;
	size_t n;

	test_require_root();
	REQUIRE(fixture_open(&f, 100));
	REQUIRE(add_socket(&f, AF_INET_, 17, 5353, 0));
	n = ipv4_packet(pkt, 0, 17, 40000, 5353);
	REQUIRE(run(&f, "lookup_socket", pkt, n, NETNS, &r));
	CHECK_INT(r.found, 1);
	CHECK_INT(r.discard, 0);
	n = ipv4_packet(pkt, 0, 17, 40000, 5354);
	REQUIRE(run(&f, "lookup_socket", pkt, n, NETNS, &r));
	CHECK_INT(r.found, 0);
	CHECK_INT(r.discard, 1);
	fixture_close(&f);

	REQUIRE(fixture_open(&f, 99));
	REQUIRE(add_socket(&f, AF_INET_, 17, 5353, 0));
	n = ipv4_packet(pkt, 0, 17, 40000, 5353);
	REQUIRE(run(&f, "lookup_socket", pkt, n, NETNS, &r));
	CHECK_INT(r.found, 1);
	CHECK_INT(r.discard, 1);
	fixture_close(&f);
}

static uint32_t fnv32(uint32_t h, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619U;
	return h;
}

static uint64_t fnv64(uint64_t h, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

/* get_slot_idx and the FNV-1a updates, against numbers computed here. */
static void test_helpers(void)
{
	static const uint64_t want_slot[8] = {0, 1, 2, 2, 3, 10, 33, 41};
	static const unsigned char le64[] = {8, 7, 6, 5, 4, 3, 2, 1, 9};
	static const unsigned char le32_16[] = {0x64, 0x63, 0x62, 0x61, 0x66, 0x65};
	struct fixture f;
	struct helper_result h;
	unsigned char pkt[128], bss[BSS_MAX];
	size_t n;
	struct bpf_program *p;

	test_require_root();
	REQUIRE(fixture_open(&f, 0));
	p = bpf_object__find_program_by_name(f.obj, "helpers");
	REQUIRE(p);
	n = ipv4_packet(pkt, 0, 17, 1, 2);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = (uint32_t)n);
	CHECK_INT(bpf_prog_test_run_opts(bpf_program__fd(p), &opts), 0);
	REQUIRE(bss_read(&f, bss));
	memcpy(&h, bss + f.helpers_off, sizeof(h));
	for (int i = 0; i < 8; i++)
		CHECK_INT(h.slot[i], want_slot[i]);
	CHECK_INT(h.fnv32, fnv32(2166136261U, le64, sizeof(le64)));
	CHECK(h.fnv64 == fnv64(14695981039346656037ULL, le32_16, sizeof(le32_16)));
	fixture_close(&f);
}

/* bpf_for, bpf_repeat and bpf_for_each (include/bpf/bpf_helpers.h) load
 * with the system libbpf and loop as libbpf 1.3 defines them. */
static void test_loops(void)
{
	char path[512];
	struct bpf_object *obj;
	struct bpf_program *p;
	struct bpf_map *bss;
	unsigned char pkt[128], data[BSS_MAX];
	const struct btf *btf;
	struct btf *kernel;
	bool has_iter;
	uint32_t zero = 0, sq, rep, each;
	uint64_t v;
	size_t n;
	int err;

	test_require_root();
	/* the numbers iterator kfuncs came in 6.4: not in 6.1 (make check-kernels) */
	kernel = btf__load_vmlinux_btf();
	REQUIRE(kernel);
	has_iter = btf__find_by_name_kind(kernel, "bpf_iter_num_new", BTF_KIND_FUNC) > 0;
	btf__free(kernel);
	if (!has_iter)
		test_skip_machine("the kernel has no bpf_iter_num kfuncs (6.4 or later)");
	snprintf(path, sizeof(path), "%s/gadget_headers_loops.bpf.o", SONDE_TEST_BPF_DIR);
	obj = bpf_object__open_file(path, NULL);
	REQUIRE(obj);
	err = bpf_object__load(obj);
	if (err)
		fprintf(stderr, "cannot load the loops fixture: %s\n", strerror(-err));
	CHECK_INT(err, 0);
	p = bpf_object__find_program_by_name(obj, "loops");
	bss = bpf_object__find_map_by_name(obj, ".bss");
	btf = bpf_object__btf(obj);
	sq = var_offset(btf, ".bss", "squares");
	rep = var_offset(btf, ".bss", "repeated");
	each = var_offset(btf, ".bss", "each_sum");
	if (!err && p && bss && bpf_map__value_size(bss) <= sizeof(data) && sq != UINT32_MAX &&
	    rep != UINT32_MAX && each != UINT32_MAX) {
		n = ipv4_packet(pkt, 0, 17, 1, 2);
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = (uint32_t)n);
		CHECK_INT(bpf_prog_test_run_opts(bpf_program__fd(p), &opts), 0);
		CHECK_INT(bpf_map_lookup_elem(bpf_map__fd(bss), &zero, data), 0);
		for (uint64_t i = 0; i < 8; i++) {
			memcpy(&v, data + sq + i * 8, 8);
			CHECK_INT(v, i * i);
		}
		memcpy(&v, data + rep, 8);
		CHECK_INT(v, 5);
		memcpy(&v, data + each, 8);
		CHECK_INT(v, 10 + 11 + 12 + 13);
	} else {
		CHECK(!"fixture incomplete");
	}
	bpf_object__close(obj);
}

struct task_result {
	struct process proc;
	uint64_t mntns_id;
	uint64_t exe_ctime_ns;
	uint64_t exe_mtime_sec;
	uint32_t exe_mtime_nsec;
	uint32_t discard;
	int64_t state;
	long fd_path_len;
	char fd_path[512];
	char exe_path[512];
};

/* Loads gadget_headers_task with targ_pid set, runs it in this task with
 * fd_in = fd and copies what it found to *r. */
static bool run_task_info(uint32_t targ_pid, int fd, struct task_result *r)
{
	char path[512], rodata[4096];
	unsigned char bss[BSS_MAX];
	struct bpf_object *obj;
	struct bpf_map *map;
	struct bpf_program *p;
	const struct btf *btf;
	const void *init;
	uint64_t args[1] = {0};
	uint32_t zero = 0, off_pid, off_fd, off_out;
	size_t sz;
	bool ok = false;

	snprintf(path, sizeof(path), "%s/gadget_headers_task.bpf.o", SONDE_TEST_BPF_DIR);
	obj = bpf_object__open_file(path, NULL);
	ENSURE(obj);
	btf = bpf_object__btf(obj);
	off_pid = var_offset(btf, ".rodata", "targ_pid");
	off_fd = var_offset(btf, ".bss", "fd_in");
	off_out = var_offset(btf, ".bss", "task_out");
	map = bpf_object__find_map_by_name(obj, ".rodata");
	init = map ? bpf_map__initial_value(map, &sz) : NULL;
	if (!init || off_pid == UINT32_MAX || off_fd == UINT32_MAX || off_out == UINT32_MAX ||
	    sz > sizeof(rodata) || off_pid + 4 > sz) {
		fprintf(stderr, "gadget_headers_task: variables not found\n");
		goto out;
	}
	memcpy(rodata, init, sz);
	memcpy(rodata + off_pid, &targ_pid, 4);
	/* sized by Sonde's loader from ig_build_id_max_entries, here by hand */
	if (bpf_map__set_initial_value(map, rodata, sz) ||
	    bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "ig_build_id"), 1) ||
	    bpf_object__load(obj)) {
		fprintf(stderr, "gadget_headers_task: cannot load\n");
		goto out;
	}
	map = bpf_object__find_map_by_name(obj, ".bss");
	p = bpf_object__find_program_by_name(obj, "task_info");
	if (!map || !p || bpf_map__value_size(map) > sizeof(bss) ||
	    off_out + sizeof(*r) > bpf_map__value_size(map) ||
	    bpf_map_lookup_elem(bpf_map__fd(map), &zero, bss))
		goto out;
	memcpy(bss + off_fd, &fd, sizeof(fd));
	if (bpf_map_update_elem(bpf_map__fd(map), &zero, bss, BPF_ANY))
		goto out;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = sizeof(args));
	if (bpf_prog_test_run_opts(bpf_program__fd(p), &opts) ||
	    bpf_map_lookup_elem(bpf_map__fd(map), &zero, bss))
		goto out;
	memcpy(r, bss + off_out, sizeof(*r));
	ok = true;
out:
	bpf_object__close(obj);
	ENSURE(ok);
	return true;
}

/* First line of a small file, without its newline. */
static void read_line(const char *path, char *buf, size_t len)
{
	char *s = test_read_file(path, NULL);

	snprintf(buf, len, "%s", s ? s : "");
	buf[strcspn(buf, "\n")] = '\0';
	free(s);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static void test_task(void)
{
	struct task_result r;
	struct stat exe, mnt;
	struct statfs fs;
	char self[512], comm[32], pcomm[32], ppath[64];
	ssize_t n;
	int fd;

	test_require_root();
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(n > 0);
	self[n] = '\0';
	REQUIRE(stat(self, &exe) == 0 && statfs(self, &fs) == 0 && stat("/proc/self/ns/mnt", &mnt) == 0);
	read_line("/proc/self/comm", comm, sizeof(comm));
	snprintf(ppath, sizeof(ppath), "/proc/%d/comm", (int)getppid());
	read_line(ppath, pcomm, sizeof(pcomm));
	fd = open(self, O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0);

	REQUIRE(run_task_info(0, fd, &r));
	CHECK_INT(r.proc.pid, getpid());
	CHECK_INT(r.proc.tid, gettid());
	CHECK_STR(r.proc.comm, comm);
	CHECK_INT(r.proc.uid, getuid());
	CHECK_INT(r.proc.gid, getgid());
	CHECK(r.proc.mntns_id == (uint64_t)mnt.st_ino);
	CHECK_INT(r.proc.ppid, getppid());
	CHECK_STR(r.proc.pcomm, pcomm);
	CHECK(r.mntns_id == (uint64_t)mnt.st_ino);
	CHECK_INT(r.state, 0); /* TASK_RUNNING */
	CHECK_INT(r.discard, 0);
	/* paths go up to the root of the mount namespace, which is above this
	 * task's root under a chroot or switch_root (the 6.1 VM's "/new") */
	CHECK(ends_with(r.fd_path, self));
	CHECK_INT(r.fd_path_len, strlen(r.fd_path) + 1);
	CHECK(ends_with(r.exe_path, self));
	if (!ends_with(r.fd_path, self) || !ends_with(r.exe_path, self))
		fprintf(stderr, "paths: fd %s, exe %s, want ...%s\n", r.fd_path, r.exe_path, self);
	/* on overlayfs (the 6.1 VM's root) the kernel sees the file underneath */
	if (fs.f_type != 0x794c7630 /* OVERLAYFS_SUPER_MAGIC */) {
		CHECK(r.exe_ctime_ns == (uint64_t)exe.st_ctim.tv_sec * 1000000000ULL + exe.st_ctim.tv_nsec);
		CHECK_INT(r.exe_mtime_sec, exe.st_mtim.tv_sec);
		CHECK_INT(r.exe_mtime_nsec, exe.st_mtim.tv_nsec);
	}

	/* the pid filter, on this task and on another */
	REQUIRE(run_task_info((uint32_t)getpid(), fd, &r));
	CHECK_INT(r.discard, 0);
	REQUIRE(run_task_info((uint32_t)getpid() + 1, fd, &r));
	CHECK_INT(r.discard, 1);
	close(fd);
}

#define USTACK_SIZE   10003 /* the child's malloc, found among sonde's own */
#define USTACK_SIZE_S "10003"

/* malloc through libc itself: under ASan the program's malloc is not libc's */
static int ustack_child(void *arg)
{
	void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *(*x_malloc)(size_t);
	void (*x_free)(void *);
	void *p;

	(void)arg;
	if (!libc)
		return 1;
	*(void **)&x_malloc = dlsym(libc, "malloc");
	*(void **)&x_free = dlsym(libc, "free");
	if (!x_malloc || !x_free)
		return 2;
	p = x_malloc(USTACK_SIZE);
	x_free(p);
	return p ? 0 : 3;
}

/*
 * trace_malloc (a uprobe gadget: gadget_get_user_stack() on struct pt_regs)
 * with collect-ustack and collect-build-id: the user stack of the child's
 * malloc names the child in the initial pid namespace and its executable as
 * stat(2) sees it (major/minor of st_dev, inode, mtime).
 */
static void test_user_stack(void)
{
	const char *argv[] = {"run",     "trace_malloc",
	                      "--host",  "-o",
	                      "json",    "-v",
	                      "--param", "collect-ustack=true",
	                      "--param", "collect-build-id=true",
	                      "--pid",   NULL,
	                      NULL};
	char pid[16];
	struct test_child c;
	struct stat exe, pidns;
	struct statfs fs;
	json_t *evs, *ev, *found = NULL;
	char *out;
	size_t i;
	int rc = -1;

	test_require_root();
	REQUIRE(stat("/proc/self/exe", &exe) == 0 && statfs("/proc/self/exe", &fs) == 0);
	REQUIRE(stat("/proc/self/ns/pid", &pidns) == 0);
	test_child_start(&c, ustack_child, NULL);
	snprintf(pid, sizeof(pid), "%d", c.pid);
	argv[11] = pid;
	/* the event itself, whatever the case of the operation names */
	out = sonde_run_around_child(argv, &c, "\"size\":" USTACK_SIZE_S, &rc);
	CHECK_INT(rc, 0);
	REQUIRE(out);
	evs = test_json_lines(out);
	json_array_foreach(evs, i, ev)
	{
		const char *op = test_json_str(ev, "operation");

		if (op && !strcasecmp(op, "malloc") && test_json_int(ev, "size", -1) == USTACK_SIZE)
			found = ev;
	}
	CHECK(found != NULL);
	if (found) {
		long long stack_id = test_json_int(found, "ustack.stack_id", -1);

		CHECK(stack_id >= 0 && stack_id < 0x80000000LL); /* an id, not an errno */
		CHECK_INT(test_json_int(found, "ustack.tgid_level0", -1), c.pid);
		CHECK_INT(test_json_int(found, "ustack.pid_level0", -1), c.pid);
		CHECK_INT(test_json_int(found, "ustack.pidns_level0", -1), pidns.st_ino);
		CHECK_INT(test_json_int(found, "ustack.pid_level1", -1), 0);
		CHECK_INT(test_json_int(found, "ustack.pidns_level1", -1), 0);
		CHECK(test_json_int(found, "ustack.base_addr_hash", 0) != 0);
		CHECK(test_json_int(found, "ustack.boot_timestamp", 0) > 0);
		CHECK_INT(test_json_int(found, "ustack.otel_correlation_id", -1), 0);
		/* on overlayfs (the 6.1 VM's root) the kernel sees the file underneath */
		if (fs.f_type != 0x794c7630 /* OVERLAYFS_SUPER_MAGIC */) {
			CHECK_INT(test_json_int(found, "ustack.major", -1), major(exe.st_dev));
			CHECK_INT(test_json_int(found, "ustack.minor", -1), minor(exe.st_dev));
			CHECK_INT(test_json_int(found, "ustack.inode", -1), exe.st_ino);
			CHECK_INT(test_json_int(found, "ustack.mtime_sec", -1), exe.st_mtim.tv_sec);
			CHECK_INT(test_json_int(found, "ustack.mtime_nsec", -1), exe.st_mtim.tv_nsec);
		}
	}
	if (!found || test_failures)
		fprintf(stderr, "sonde printed:\n%s\n", out);
	json_decref(evs);
	free(out);
}

TEST_MAIN(TEST(test_lookups), TEST(test_filter_by_skb), TEST(test_helpers), TEST(test_loops), TEST(test_task),
          TEST(test_user_stack))
