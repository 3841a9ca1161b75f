/* kernel_enums.c: which enums of an object are the running kernel's (a
 * CO-RE enum-value relocation in .BTF.ext), read from the built gadgets;
 * malformed .BTF.ext is no relocation; the kernel's enum by name. */
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ebpf/internal.h"
#include "testlib.h"

struct obj {
	struct ebpf_gadget g;
	struct btf *btf;
	char *data;
};

static bool obj_open(struct obj *o, const char *gadget)
{
	char path[512];
	size_t len = 0;

	memset(o, 0, sizeof(*o));
	snprintf(path, sizeof(path), "%s/gadgets/%s.bpf.o", SONDE_TEST_BUILD_DIR, gadget);
	o->data = test_read_file(path, &len);
	o->btf = btf__parse_elf(path, NULL);
	if (!o->data || !o->btf) {
		fprintf(stderr, "cannot read %s\n", path);
		return false;
	}
	o->g.image = o->data;
	o->g.image_len = len;
	o->g.btf = o->btf;
	return true;
}

static void obj_close(struct obj *o)
{
	btf__free(o->btf);
	free(o->data);
}

static uint32_t enum_id(const struct btf *btf, const char *name)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM);

	if (id < 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM64);
	return id < 0 ? 0 : (uint32_t)id;
}

/* trace_tcpdrop relocates skb_drop_reason (bpf_core_enum_value), and only it. */
static void test_tcpdrop_relocations(void)
{
	struct obj o;
	uint32_t reason, state, flags;

	REQUIRE(obj_open(&o, "trace_tcpdrop"));
	reason = enum_id(o.btf, "skb_drop_reason");
	state = enum_id(o.btf, "tcp_state");
	flags = enum_id(o.btf, "tcp_flags_set");
	REQUIRE(reason && state && flags);
	CHECK(ebpf_enum_core_relocated(&o.g, reason));
	CHECK(!ebpf_enum_core_relocated(&o.g, state));
	CHECK(!ebpf_enum_core_relocated(&o.g, flags));
	obj_close(&o);
}

/* trace_open's enums are its own, but for the one <gadget/buffer.h> relocates. */
static void test_no_enum_relocation(void)
{
	struct obj o;
	uint32_t n = 0;

	REQUIRE(obj_open(&o, "trace_open"));
	for (uint32_t id = 1; id < btf__type_cnt(o.btf); id++) {
		const struct btf_type *t = btf__type_by_id(o.btf, id);

		const char *name = btf__name_by_offset(o.btf, t->name_off);

		if (!btf_is_enum(t) && !btf_is_enum64(t))
			continue;
		n++;
		/* <gadget/buffer.h> asks whether the kernel has ring buffers */
		CHECK_INT(ebpf_enum_core_relocated(&o.g, id), name && !strcmp(name, "bpf_func_id"));
	}
	CHECK(n > 0);
	obj_close(&o);
}

/* A cut or corrupted image is "no relocation", never a crash. */
static void test_malformed(void)
{
	struct obj o;
	uint32_t reason;
	size_t len;

	REQUIRE(obj_open(&o, "trace_tcpdrop"));
	reason = enum_id(o.btf, "skb_drop_reason");
	len = o.g.image_len;
	for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
		o.g.image_len = cut;
		ebpf_enum_core_relocated(&o.g, reason);
	}
	o.g.image_len = len;
	/* every byte of the section table and of .BTF.ext flipped in turn */
	for (size_t i = 0; i < len; i += 7) {
		o.data[i] ^= 0xff;
		ebpf_enum_core_relocated(&o.g, reason);
		o.data[i] ^= 0xff;
	}
	CHECK(ebpf_enum_core_relocated(&o.g, reason));
	obj_close(&o);
}

/* The kernel's own enum, as its BTF has it. */
static void test_kernel_enum(void)
{
	const struct btf *kbtf = NULL;
	const struct btf_type *t;
	struct btf *vml = btf__load_vmlinux_btf();
	bool found = false;

	if (!vml)
		test_skip_machine("this kernel has no BTF (/sys/kernel/btf/vmlinux)");
	if (enum_id(vml, "skb_drop_reason") == 0) {
		btf__free(vml);
		test_skip_machine("this kernel has no enum skb_drop_reason (before 5.17)");
	}
	btf__free(vml);
	t = ebpf_kernel_enum("skb_drop_reason", &kbtf);
	REQUIRE(t && kbtf);
	for (uint16_t i = 0; btf_is_enum(t) && i < btf_vlen(t); i++)
		found |= !strcmp(btf__name_by_offset(kbtf, btf_enum(t)[i].name_off),
		                 "SKB_DROP_REASON_NETFILTER_DROP");
	CHECK(found);
	CHECK(ebpf_kernel_enum("sonde_no_such_enum", &kbtf) == NULL);
	CHECK(ebpf_kernel_enum("", &kbtf) == NULL);
}

TEST_MAIN(TEST(test_tcpdrop_relocations), TEST(test_no_enum_relocation), TEST(test_malformed),
          TEST(test_kernel_enum))
