/* ebpf operator: struct → field inference (spec §2.4/§2.5) on tests/bpf/ebpf_fields.bpf.c. */
#include <bpf/btf.h>

#include "test_ebpf_helpers.h"

#define ARR(k) ((enum sonde_kind)((uint32_t)(k) | SONDE_KIND_ARRAY_OF))
#define HP     SONDE_FIELD_HAS_PARENT
#define SM     SONDE_FIELD_STATIC_MEMBER
#define HID    SONDE_FIELD_HIDDEN

/* Offsets and sizes are not listed: libbpf's reading of the object's BTF
 * (btf_layout) is the oracle, so that a change of the fixture or of a
 * gadget header cannot leave a stale copy here. */
struct want {
	const char *full_name;
	enum sonde_kind kind;
	uint32_t flags;
	const char *tags; /* space separated, besides name:<member> and src:ebpf */
	const char *template_;
	const char *alias;
};

static const struct want fields[] = {
    {"timestamp_raw", SONDE_KIND_UINT64, SM | HID, "type:gadget_timestamp type:__u64 type:unsigned long long",
     "timestamp", NULL},
    {"proc", SONDE_KIND_BYTES, SM | HID, "type:gadget_process", NULL, NULL},
    {"proc.comm", SONDE_KIND_CSTRING, SM | HP, "type:gadget_comm type:char", "comm", "comm"},
    {"proc.pid", SONDE_KIND_UINT32, SM | HP, "type:gadget_pid type:__u32 type:unsigned int", "pid", "pid"},
    {"proc.mntns_id", SONDE_KIND_UINT64, SM | HP | HID, "type:gadget_mntns_id type:__u64", "mntns_id",
     "mntns_id"},
    {"proc.creds", SONDE_KIND_BYTES, SM | HP | HID, "type:gadget_creds", NULL, "creds"},
    {"proc.creds.uid", SONDE_KIND_UINT32, SM | HP, "type:gadget_uid type:__u32", "uid", "uid"},
    {"proc.creds.gid", SONDE_KIND_UINT32, SM | HP, "type:gadget_gid", "gid", "gid"},
    {"proc.parent", SONDE_KIND_BYTES, SM | HP | HID, "type:gadget_parent", NULL, "parent"},
    {"proc.parent.comm", SONDE_KIND_CSTRING, SM | HP, "type:gadget_comm type:char", "comm", "comm"},
    {"proc.parent.pid", SONDE_KIND_UINT32, SM | HP, "type:gadget_pid", "pid", "pid"},
    {"name", SONDE_KIND_CSTRING, SM, "type:char", NULL, NULL},
    {"counts", ARR(SONDE_KIND_UINT32), SM, "type:__u32 type:unsigned int", NULL, NULL},
    {"color_raw", SONDE_KIND_UINT32, SM | HID, "type:color", NULL, NULL},
    {"small", SONDE_KIND_UINT8, SM, "type:small_enum", NULL, NULL},
    {"level", SONDE_KIND_UINT32, SM, "type:level_t type:__u32 type:unsigned int", NULL, NULL},
    {"in", SONDE_KIND_BYTES, SM, "type:inner", NULL, NULL},
    {"in.a", SONDE_KIND_UINT16, SM | HP, "type:__u16 type:unsigned short", NULL, NULL},
    {"in.b", SONDE_KIND_INT8, SM | HP, "type:__s8 type:signed char", NULL, NULL},
    {"un", SONDE_KIND_BYTES, SM, "", NULL, NULL},
    {"un.u32v", SONDE_KIND_UINT32, SM | HP, "type:__u32", NULL, NULL},
    {"un.bytes4", ARR(SONDE_KIND_UINT8), SM | HP, "type:__u8 type:unsigned char", NULL, NULL},
    {"flag", SONDE_KIND_BOOL, SM, "type:bool type:_Bool", NULL, NULL},
    {"delta", SONDE_KIND_INT64, SM, "type:__s64 type:long long", NULL, NULL},
    {"ratio", SONDE_KIND_FLOAT32, SM, "type:float", NULL, NULL},
    {"ratio2", SONDE_KIND_FLOAT64, SM, "type:double", NULL, NULL},
    {"last", SONDE_KIND_UINT8, SM, "type:__u8", NULL, NULL},
    {"perms_raw", SONDE_KIND_UINT32, SM | HID, "type:perm_set", NULL, NULL},
};

static void check_tags(struct sonde_field *f, const struct want *w)
{
	char buf[256], *save = NULL, tag[128];

	snprintf(buf, sizeof(buf), "%s", w->tags);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		/* "unsigned long long" etc. are one tag: join the words back */
		if (strcmp(t, "type:unsigned") == 0 || strcmp(t, "type:signed") == 0 ||
		    strcmp(t, "type:long") == 0) {
			char *next = strtok_r(NULL, " ", &save);

			snprintf(tag, sizeof(tag), "%s %s", t, next ? next : "");
			if (next && strcmp(next, "long") == 0 && strcmp(t, "type:unsigned") == 0) {
				char *third = strtok_r(NULL, " ", &save);

				snprintf(tag, sizeof(tag), "%s %s %s", t, next, third ? third : "");
			}
		} else {
			snprintf(tag, sizeof(tag), "%s", t);
		}
		if (!sonde_field_has_tag(f, tag)) {
			fprintf(stderr, "  %s: missing tag '%s'\n", w->full_name, tag);
			test_failures++;
		}
	}
	snprintf(tag, sizeof(tag), "name:%s", sonde_field_name(f));
	CHECK(sonde_field_has_tag(f, tag));
	CHECK(sonde_field_has_tag(f, "src:ebpf"));
}

/* Offset and size of the member at dotted path in struct `root` of the
 * fixture's BTF, as libbpf reads them; false if there is no such member. */
static bool btf_layout(const struct btf *btf, const char *root, const char *path, uint32_t *off,
                       uint32_t *size)
{
	int id = btf__find_by_name_kind(btf, root, BTF_KIND_STRUCT);
	char buf[128], *save = NULL;

	*off = 0;
	if (id < 0)
		return false;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *name = strtok_r(buf, ".", &save); name; name = strtok_r(NULL, ".", &save)) {
		const struct btf_type *t = btf__type_by_id(btf, btf__resolve_type(btf, id));
		const struct btf_member *m;
		int i, n;

		if (!t || !(btf_is_struct(t) || btf_is_union(t)))
			return false;
		m = btf_members(t);
		n = btf_vlen(t);
		for (i = 0; i < n; i++, m++)
			if (!strcmp(btf__name_by_offset(btf, m->name_off), name))
				break;
		if (i == n)
			return false;
		*off += btf_member_bit_offset(t, i) / 8;
		id = (int)m->type;
	}
	*size = (uint32_t)btf__resolve_size(btf, id);
	return true;
}

static void test_struct_fields(void)
{
	struct gadget_run r;
	struct sonde_ds *ds;
	struct btf *btf;
	uint32_t off, size;
	size_t nstatic = 0;

	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_fields", NULL) == 0);
	ds = sonde_gadget_ds(r.ctx, "fields");
	REQUIRE(ds);
	CHECK_INT(sonde_ds_type(ds), SONDE_DS_SINGLE);
	for (size_t i = 0; i < sonde_ds_nfields(ds); i++) {
		struct sonde_field *f = sonde_ds_field_at(ds, i);

		if (sonde_field_flags(f) & SONDE_FIELD_STATIC_MEMBER)
			nstatic++;
		if (getenv("TEST_VERBOSE")) {
			printf("  %-18s kind %#x off %3u size %2u flags %#x tags", sonde_field_full_name(f),
			       sonde_field_kind(f), sonde_field_offset(f), sonde_field_size(f),
			       sonde_field_flags(f));
			for (size_t t = 0; t < sonde_field_ntags(f); t++)
				printf(" [%s]", sonde_field_tag_at(f, t));
			printf("\n");
		}
	}
	CHECK_INT(nstatic, sizeof(fields) / sizeof(fields[0]));
	btf = btf__parse_elf(fixture_path("ebpf_fields"), NULL);
	REQUIRE(btf);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const struct want *w = &fields[i];
		struct sonde_field *f = sonde_ds_field(ds, w->full_name);

		if (!f) {
			fprintf(stderr, "  field %s missing\n", w->full_name);
			test_failures++;
			continue;
		}
		if (!btf_layout(btf, "event", w->full_name, &off, &size)) {
			fprintf(stderr, "  %s: no such member of struct event in the BTF\n", w->full_name);
			test_failures++;
			continue;
		}
		if (sonde_field_kind(f) != w->kind || sonde_field_offset(f) != off ||
		    sonde_field_size(f) != size || sonde_field_flags(f) != w->flags) {
			fprintf(stderr, "  %s: kind %#x off %u size %u flags %#x, want %#x %u %u %#x\n",
			        w->full_name, sonde_field_kind(f), sonde_field_offset(f), sonde_field_size(f),
			        sonde_field_flags(f), w->kind, off, size, w->flags);
			test_failures++;
		}
		CHECK_INT(sonde_field_order(f), 0);
		check_tags(f, w);
		if (w->template_)
			CHECK_STR(sonde_field_annotation(f, "template"), w->template_);
		else
			CHECK(sonde_field_annotation(f, "template") == NULL);
		if (w->alias)
			CHECK_STR(sonde_field_annotation(f, "columns.alias"), w->alias);
		else
			CHECK(sonde_field_annotation(f, "columns.alias") == NULL);
	}
	/* members starting with "__" are private */
	CHECK(sonde_ds_field(ds, "__private") == NULL);
	/* all static members share one payload slot */
	CHECK_INT(sonde_field_payload_index(sonde_ds_field(ds, "last")),
	          sonde_field_payload_index(sonde_ds_field(ds, "proc.parent.pid")));
	/* static block + the two enum name fields */
	CHECK_INT(sonde_ds_npayloads(ds), 3);
	CHECK_INT(sonde_field_kind(sonde_ds_field(ds, "color")), SONDE_KIND_STRING);
	CHECK_INT(sonde_field_kind(sonde_ds_field(ds, "perms")), SONDE_KIND_STRING);
	CHECK(sonde_ds_field(ds, "small_name") == NULL);
	btf__free(btf);
	gadget_close(&r);
}

/* Enum formatters turn raw values into names when a record is emitted. */
static void test_enum_formatter(void)
{
	static const struct {
		uint32_t color, perms;
		const char *color_name, *perms_name;
	} cases[] = {
	    {0, 0, "RED", "PERM_NONE"},
	    {2, 5, "BLUE", "PERM_R|PERM_X"},
	    {7, 2, "UNKNOWN", "PERM_W"},
	    {1, 7, "GREEN", "PERM_R|PERM_W|PERM_X"},
	};
	struct gadget_run r;
	struct sonde_ds *ds;
	struct sonde_field *color, *perms, *raw;
	unsigned char ev[184];
	uint32_t color_off = 0, perms_off = 0, n;
	struct btf *btf = btf__parse_elf(fixture_path("ebpf_fields"), NULL);

	REQUIRE(btf);
	CHECK(btf_layout(btf, "event", "color_raw", &color_off, &n) && n == 4);
	CHECK(btf_layout(btf, "event", "perms_raw", &perms_off, &n) && n == 4);
	CHECK_INT(btf__resolve_size(btf, btf__find_by_name_kind(btf, "event", BTF_KIND_STRUCT)), sizeof(ev));
	btf__free(btf);
	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_fields", NULL) == 0);
	ds = sonde_gadget_ds(r.ctx, "fields");
	REQUIRE(ds);
	color = sonde_ds_field(ds, "color");
	perms = sonde_ds_field(ds, "perms");
	raw = sonde_ds_field(ds, "color_raw");
	REQUIRE(color && perms && raw);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sonde_record *rec = sonde_ds_record(ds);
		const char *s;
		uint32_t len = 0;

		REQUIRE(rec);
		memset(ev, 0, sizeof(ev));
		memcpy(ev + color_off, &cases[i].color, 4);
		memcpy(ev + perms_off, &cases[i].perms, 4);
		rec->payloads[sonde_field_payload_index(raw)].data = ev;
		rec->payloads[sonde_field_payload_index(raw)].len = sizeof(ev);
		CHECK_INT(sonde_ds_emit(ds, rec), 0);
		s = sonde_field_string(color, rec, &len);
		CHECK(s && len == strlen(cases[i].color_name) && memcmp(s, cases[i].color_name, len) == 0);
		s = sonde_field_string(perms, rec, &len);
		if (!s || len != strlen(cases[i].perms_name) || memcmp(s, cases[i].perms_name, len) != 0) {
			fprintf(stderr, "  perms %u: got '%.*s', want '%s'\n", cases[i].perms, (int)len,
			        s ? s : "", cases[i].perms_name);
			test_failures++;
		}
	}
	gadget_close(&r);

	/* a target name from gadget.yaml, and a custom separator */
	capture_reset();
	REQUIRE(gadget_open_fixture(
	            &r, "ebpf_fields",
	            "datasources:\n  fields:\n    fields:\n      small:\n        annotations:\n"
	            "          ebpf.formatter.enum: small_name\n      perms_raw:\n        annotations:\n"
	            "          ebpf.formatter.bitfield.separator: ','\n") == 0);
	ds = sonde_gadget_ds(r.ctx, "fields");
	CHECK(sonde_ds_field(ds, "small_name") != NULL);
	CHECK(sonde_field_flags(sonde_ds_field(ds, "small")) & SONDE_FIELD_HIDDEN);
	{
		struct sonde_record *rec = sonde_ds_record(ds);
		uint32_t v = 3, len = 0;
		const char *s;

		REQUIRE(rec);
		memset(ev, 0, sizeof(ev));
		memcpy(ev + perms_off, &v, 4);
		rec->payloads[0].data = ev;
		rec->payloads[0].len = sizeof(ev);
		CHECK_INT(sonde_ds_emit(ds, rec), 0);
		s = sonde_field_string(sonde_ds_field(ds, "perms"), rec, &len);
		CHECK(s && len == 13 && memcmp(s, "PERM_R,PERM_W", 13) == 0);
	}
	gadget_close(&r);
}

/* Templates expand into annotations (core), yaml decorates static fields,
 * and ebpf.rest.* adds the trailing-bytes field. */
static void test_yaml_and_rest(void)
{
	static const char yaml[] = "datasources:\n"
	                           "  fields:\n"
	                           "    annotations:\n"
	                           "      ebpf.rest.name: payload\n"
	                           "      ebpf.rest.len: level\n"
	                           "    fields:\n"
	                           "      name:\n"
	                           "        annotations:\n"
	                           "          columns.width: 20\n";
	struct gadget_run r;
	struct sonde_ds *ds;
	struct sonde_field *f;

	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_fields", yaml) == 0);
	ds = sonde_gadget_ds(r.ctx, "fields");
	REQUIRE(ds);
	CHECK_STR(sonde_field_annotation(sonde_ds_field(ds, "name"), "columns.width"), "20");
	CHECK_STR(sonde_field_annotation(sonde_ds_field(ds, "proc.comm"), "columns.maxwidth"), "16");
	f = sonde_ds_field(ds, "payload");
	REQUIRE(f);
	CHECK_INT(sonde_field_kind(f), SONDE_KIND_BYTES);
	CHECK(!(sonde_field_flags(f) & SONDE_FIELD_STATIC_MEMBER));
	CHECK_INT(sonde_ds_npayloads(ds), 4);
	gadget_close(&r);

	/* ebpf.rest.len naming a non-integer member is an error */
	capture_reset();
	CHECK(gadget_open_fixture(&r, "ebpf_fields",
	                          "datasources:\n  fields:\n    annotations:\n      ebpf.rest.name: p\n"
	                          "      ebpf.rest.len: name\n") < 0);
	CHECK_LOGGED("ebpf.rest.len must name an integer member");
	gadget_close(&r);
}

/* The built-in-like layout of gadget_process as the top-level struct of an
 * iterator (snapshot_process): members get their alias, iterator DS is Array. */
static void test_iterator_ds(void)
{
	struct gadget_run r;
	struct sonde_ds *ds;

	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_iter", NULL) == 0);
	ds = sonde_gadget_ds(r.ctx, "tasks");
	REQUIRE(ds);
	CHECK_INT(sonde_ds_type(ds), SONDE_DS_ARRAY);
	CHECK_STR(sonde_ds_annotation(ds, "fetch-interval"), "0");
	CHECK_STR(sonde_ds_annotation(ds, "fetch-count"), "1");
	CHECK_INT(sonde_field_kind(sonde_ds_field(ds, "comm")), SONDE_KIND_CSTRING);
	CHECK_INT(sonde_field_offset(sonde_ds_field(ds, "comm")), 8);
	gadget_close(&r);

	capture_reset();
	REQUIRE(gadget_open_fixture(&r, "ebpf_mapiter", NULL) == 0);
	ds = sonde_gadget_ds(r.ctx, "calls");
	REQUIRE(ds);
	CHECK_INT(sonde_ds_type(ds), SONDE_DS_ARRAY);
	CHECK_INT(sonde_ds_npayloads(ds), 2);
	CHECK(sonde_field_has_tag(sonde_ds_field(ds, "tid"), "role:key"));
	CHECK(!sonde_field_has_tag(sonde_ds_field(ds, "calls"), "role:key"));
	CHECK_INT(sonde_field_payload_index(sonde_ds_field(ds, "calls")), 1);
	CHECK_STR(param_value(&r, "map-fetch-interval"), "1000ms");
	CHECK_STR(param_value(&r, "map-fetch-count"), "0");
	gadget_close(&r);
}

TEST_MAIN(TEST(test_struct_fields), TEST(test_enum_formatter), TEST(test_yaml_and_rest),
          TEST(test_iterator_ds))
