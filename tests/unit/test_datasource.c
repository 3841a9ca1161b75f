/* DataSources: layout, lookups, values, subscriptions and arrays. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <sonde/datasource.h>

#include "testlib.h"

struct raw_event {
	uint64_t ts;
	struct {
		char comm[16];
		uint32_t pid;
	} proc;
	int32_t ret;
	uint8_t flag;
};

static struct sonde_ds *make_ds(struct sonde_field **f)
{
	static const char *const ts_tags[] = {"type:gadget_timestamp", NULL};
	static const char *const comm_ann[] = {"columns.width", "20", NULL};
	const struct sonde_static_field members[] = {
	    {"ts", -1, SONDE_KIND_UINT64, 0, 8, 0, ts_tags, NULL},
	    {"proc", -1, SONDE_KIND_BYTES, 8, 20, 0, NULL, NULL},
	    {"comm", 1, SONDE_KIND_CSTRING, 8, 16, 0, NULL, comm_ann},
	    {"pid", 1, SONDE_KIND_UINT32, 24, 4, 0, NULL, NULL},
	    {"ret", -1, SONDE_KIND_INT32, 28, 4, 0, NULL, NULL},
	    {"flag", -1, SONDE_KIND_BOOL, 32, 1, 0, NULL, NULL},
	};
	struct sonde_ds *ds = sonde_ds_new("open", SONDE_DS_SINGLE);

	if (!ds || sonde_ds_add_static_fields(ds, sizeof(struct raw_event), members, 6, f)) {
		sonde_ds_free(ds);
		return NULL;
	}
	return ds;
}

static void test_static_layout(void)
{
	struct sonde_field *f[6];
	struct sonde_ds *ds = make_ds(f);

	REQUIRE(ds);
	CHECK_INT(sonde_ds_nfields(ds), 6);
	CHECK_INT(sonde_ds_npayloads(ds), 1);
	CHECK_STR(sonde_field_full_name(f[2]), "proc.comm");
	CHECK(sonde_field_parent(f[2]) == f[1]);
	CHECK_INT(sonde_field_nchildren(f[1]), 2);
	CHECK(sonde_field_flags(f[2]) & SONDE_FIELD_HAS_PARENT);
	CHECK(sonde_field_flags(f[2]) & SONDE_FIELD_STATIC_MEMBER);
	CHECK_INT(sonde_field_offset(f[3]), 24);
	CHECK(sonde_ds_field(ds, "proc.pid") == f[3]);
	CHECK(sonde_ds_field(ds, "PROC.PID") == f[3]); /* case-insensitive fallback */
	CHECK(sonde_ds_field(ds, "proc.nope") == NULL);
	CHECK(sonde_ds_first_field_with_tag(ds, "type:gadget_timestamp") == f[0]);
	CHECK_STR(sonde_field_annotation(f[2], "columns.width"), "20");
	CHECK_INT(sonde_field_order(f[4]), 0);
	sonde_ds_free(ds);
}

static void test_static_bounds(void)
{
	const struct sonde_static_field bad[] = {{"x", -1, SONDE_KIND_UINT64, 4, 8, 0, NULL, NULL}};
	const struct sonde_static_field bad_parent[] = {{"x", 0, SONDE_KIND_UINT8, 0, 1, 0, NULL, NULL}};
	struct sonde_ds *ds = sonde_ds_new("d", SONDE_DS_SINGLE);

	REQUIRE(ds);
	CHECK(sonde_ds_add_static_fields(ds, 8, bad, 1, NULL) < 0);
	CHECK(sonde_ds_add_static_fields(ds, 8, bad_parent, 1, NULL) < 0);
	CHECK_INT(sonde_ds_nfields(ds), 0);
	CHECK_INT(sonde_ds_npayloads(ds), 0);
	CHECK(sonde_ds_new("", SONDE_DS_SINGLE) == NULL);
	CHECK(sonde_ds_new("x", SONDE_DS_UNDEFINED) == NULL);
	sonde_ds_free(ds);
}

static void test_values_zero_copy(void)
{
	struct sonde_field *f[6];
	struct sonde_ds *ds = make_ds(f);
	struct raw_event ev = {.ts = UINT64_MAX, .proc = {"cat", 4242}, .ret = -2, .flag = 1};
	struct sonde_record *rec;
	uint32_t len;
	const char *s;

	REQUIRE(ds);
	REQUIRE(sonde_ds_seal(ds) == 0);
	rec = sonde_ds_record(ds);
	REQUIRE(rec);
	rec->payloads[0].data = &ev; /* a view, as the ring buffer reader does */
	rec->payloads[0].len = sizeof(ev);
	CHECK(sonde_field_uint64(f[0], rec) == UINT64_MAX);
	s = sonde_field_string(f[2], rec, &len);
	CHECK_INT(len, 3);
	CHECK(memcmp(s, "cat", 3) == 0);
	CHECK_INT(sonde_field_uint32(f[3], rec), 4242);
	CHECK_INT(sonde_field_int32(f[4], rec), -2);
	CHECK(sonde_field_bool(f[5], rec));
	int64_t v;
	CHECK(sonde_field_as_int64(f[4], rec, &v) && v == -2);
	CHECK(!sonde_field_as_int64(f[2], rec, &v));

	/* writing a static member copies the view into owned storage first */
	CHECK(sonde_field_put_string(f[2], rec, "a-much-longer-name-than-16", 26) == 0);
	s = sonde_field_string(f[2], rec, &len);
	CHECK_INT(len, 15);
	CHECK(strcmp(ev.proc.comm, "cat") == 0); /* the source is untouched */
	CHECK_INT(sonde_field_uint32(f[3], rec), 4242);
	CHECK(sonde_field_put_int(f[4], rec, INT32_MIN) == 0);
	CHECK_INT(sonde_field_int32(f[4], rec), INT32_MIN);
	/* a truncated record: fields past its end read as absent */
	rec->payloads[0].data = &ev;
	rec->payloads[0].len = 10;
	CHECK(sonde_field_get(f[3], rec, &len) == NULL);
	CHECK_INT(sonde_field_uint32(f[3], rec), 0);
	sonde_ds_free(ds);
}

/* A small member written while the block is a view (the formatters' wall
 * clock in every event's timestamp) goes aside: the view stays in place and
 * untouched, readers of that member see the new value, a read across it
 * (its parent struct) sees the block as written. */
static void test_values_written_aside(void)
{
	/* read-only memory, as the ring buffer's pages are: a write would fault */
	static const struct raw_event ro = {.ts = 7, .proc = {"cat", 4242}, .ret = -2, .flag = 1};
	static const struct raw_event ro2 = {.ts = 9, .proc = {"dog", 1}, .ret = 0, .flag = 0};
	struct sonde_field *f[6];
	struct sonde_ds *ds = make_ds(f);
	struct sonde_record *rec;
	const char *s;
	uint32_t len;

	REQUIRE(ds);
	REQUIRE(sonde_ds_seal(ds) == 0);
	rec = sonde_ds_record(ds);
	rec->payloads[0].data = (void *)&ro;
	rec->payloads[0].len = sizeof(ro);
	CHECK(sonde_field_put_uint(f[0], rec, 1795333181891518406ULL) == 0);
	CHECK(sonde_field_uint64(f[0], rec) == 1795333181891518406ULL);
	CHECK(rec->payloads[0].data == &ro); /* no copy */
	CHECK_INT(sonde_field_uint32(f[3], rec), 4242);
	s = sonde_field_get(f[1], rec, &len); /* proc does not cover ts */
	CHECK(s == (const char *)&ro + 8 && len == 20);
	/* the same member again replaces the value aside */
	CHECK(sonde_field_put_uint(f[0], rec, 5) == 0);
	CHECK(sonde_field_uint64(f[0], rec) == 5);
	/* another member: block and first write copied together, then written in place */
	CHECK(sonde_field_put_int(f[4], rec, -7) == 0);
	CHECK(rec->payloads[0].data == rec->payloads[0].own);
	CHECK(sonde_field_uint64(f[0], rec) == 5);
	CHECK_INT(sonde_field_int32(f[4], rec), -7);
	CHECK_INT(sonde_field_uint32(f[3], rec), 4242);

	/* a read across the member written aside: the parent struct as written */
	rec = sonde_ds_record(ds);
	rec->payloads[0].data = (void *)&ro;
	rec->payloads[0].len = sizeof(ro);
	CHECK(sonde_field_put_string(f[2], rec, "vi", 2) == 0);
	s = sonde_field_string(f[2], rec, &len);
	CHECK(len == 2 && memcmp(s, "vi", 2) == 0);
	CHECK(rec->payloads[0].data == &ro);
	s = sonde_field_get(f[1], rec, &len);
	REQUIRE(s && len == 20);
	CHECK(memcmp(s, "vi\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	CHECK(rec->payloads[0].data == rec->payloads[0].own);
	CHECK(sonde_field_uint64(f[0], rec) == 7);
	CHECK(strcmp(ro.proc.comm, "cat") == 0);

	/* pointing the record at another event drops what was written for the first */
	rec = sonde_ds_record(ds);
	rec->payloads[0].data = (void *)&ro;
	rec->payloads[0].len = sizeof(ro);
	CHECK(sonde_field_put_uint(f[0], rec, 11) == 0);
	rec->payloads[0].data = (void *)&ro2;
	CHECK(sonde_field_uint64(f[0], rec) == 9);
	/* and so does the next record */
	rec->payloads[0].data = (void *)&ro;
	CHECK(sonde_field_put_uint(f[0], rec, 12) == 0);
	rec = sonde_ds_record(ds);
	rec->payloads[0].data = (void *)&ro;
	rec->payloads[0].len = sizeof(ro);
	CHECK(sonde_field_uint64(f[0], rec) == 7);
	sonde_ds_free(ds);
}

static void test_added_fields(void)
{
	struct sonde_ds *ds = sonde_ds_new("d", SONDE_DS_SINGLE);
	static const char *const tags[] = {"kind:test", NULL};
	struct sonde_field_opts opts = {.sz = sizeof(opts), .tags = tags};
	struct sonde_field_opts empty = {.sz = sizeof(empty), .flags = SONDE_FIELD_EMPTY};
	struct sonde_field *grp, *name, *num, *flt, *late;
	struct sonde_record *rec;
	uint32_t len;

	REQUIRE(ds);
	grp = sonde_ds_add_field(ds, "k8s", SONDE_KIND_INVALID, &empty);
	REQUIRE(grp);
	struct sonde_field_opts sub = {.sz = sizeof(sub), .parent = grp, .has_order = true, .order = -30};
	name = sonde_ds_add_field(ds, "podName", SONDE_KIND_STRING, &sub);
	num = sonde_ds_add_field(ds, "count", SONDE_KIND_UINT16, &opts);
	flt = sonde_ds_add_field(ds, "ratio", SONDE_KIND_FLOAT64, NULL);
	REQUIRE(name && num && flt);
	CHECK(sonde_ds_add_field(ds, "count", SONDE_KIND_UINT8, NULL) == NULL); /* duplicate */
	CHECK_STR(sonde_field_full_name(name), "k8s.podName");
	CHECK_INT(sonde_field_order(name), -30);
	CHECK_INT(sonde_field_order(num), 2);
	CHECK_INT(sonde_field_payload_index(grp), UINT32_MAX);
	CHECK_INT(sonde_ds_npayloads(ds), 3);
	CHECK(sonde_field_has_tag(num, "kind:test"));
	REQUIRE(sonde_ds_seal(ds) == 0);
	late = sonde_ds_add_field(ds, "late", SONDE_KIND_UINT8, NULL);
	CHECK(late == NULL);

	rec = sonde_ds_record(ds);
	CHECK(sonde_field_put_string(name, rec, "nginx-1", 7) == 0);
	CHECK(sonde_field_put_uint(num, rec, 65535) == 0);
	CHECK(sonde_field_put_float(flt, rec, 0.25) == 0);
	CHECK(memcmp(sonde_field_string(name, rec, &len), "nginx-1", 7) == 0 && len == 7);
	CHECK_INT(sonde_field_uint16(num, rec), 65535);
	CHECK(sonde_field_float64(flt, rec) == 0.25);
	CHECK(sonde_field_put_float(num, rec, 1.0) < 0); /* wrong kind */
	/* a fresh record resets added values */
	rec = sonde_ds_record(ds);
	CHECK_INT(sonde_field_uint16(num, rec), 0);
	sonde_field_string(name, rec, &len);
	CHECK_INT(len, 0);
	sonde_ds_free(ds);
}

static int order_log[8];
static int norder;

static int sub_a(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	order_log[norder++] = (int)(intptr_t)arg;
	return 0;
}

static int sub_discard(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	order_log[norder++] = (int)(intptr_t)arg;
	return SONDE_DISCARD;
}

static int sub_error(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	return -EIO;
}

static void test_subscription_order(void)
{
	struct sonde_ds *ds = sonde_ds_new("d", SONDE_DS_SINGLE);

	REQUIRE(ds);
	sonde_ds_subscribe(ds, sub_a, (void *)3, 10000);
	sonde_ds_subscribe(ds, sub_a, (void *)1, 0);
	sonde_ds_subscribe(ds, sub_a, (void *)2, 0); /* tie: registration order */
	sonde_ds_subscribe(ds, sub_discard, (void *)9, 9000);
	CHECK(sonde_ds_emit(ds, sonde_ds_record(ds)) == 0);
	CHECK_INT(norder, 3);
	CHECK_INT(order_log[0], 1);
	CHECK_INT(order_log[1], 2);
	CHECK_INT(order_log[2], 9); /* the sink at 10000 never saw the discarded record */
	sonde_ds_free(ds);

	ds = sonde_ds_new("e", SONDE_DS_SINGLE);
	sonde_ds_subscribe(ds, sub_error, NULL, 0);
	CHECK(sonde_ds_emit(ds, sonde_ds_record(ds)) == -EIO);
	sonde_ds_free(ds);
}

static int drop_odd(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct sonde_field *f = arg;

	return sonde_field_uint32(f, rec) % 2 ? SONDE_DISCARD : 0;
}

static size_t seen_len;
static uint32_t seen[16];

static int collect(struct sonde_ds *ds, struct sonde_array *arr, void *arg)
{
	struct sonde_field *f = arg;

	seen_len = arr->len;
	for (size_t i = 0; i < arr->len && i < 16; i++)
		seen[i] = sonde_field_uint32(f, arr->recs[i]);
	return 0;
}

static void test_array_discard(void)
{
	struct sonde_ds *ds = sonde_ds_new("procs", SONDE_DS_ARRAY);
	struct sonde_field *pid;
	struct sonde_array *arr;

	REQUIRE(ds);
	pid = sonde_ds_add_field(ds, "pid", SONDE_KIND_UINT32, NULL);
	REQUIRE(pid);
	CHECK(sonde_ds_subscribe_array(ds, collect, pid, 10000) == 0);
	CHECK(sonde_ds_subscribe(ds, drop_odd, pid, 9000) == 0);
	for (int round = 0; round < 2; round++) {
		arr = sonde_ds_array(ds);
		REQUIRE(arr);
		for (uint32_t i = 0; i < 10; i++)
			sonde_field_put_uint(pid, sonde_array_append(arr), i + (uint32_t)round * 100);
		CHECK(sonde_ds_emit_array(ds, arr) == 0);
		CHECK_INT(seen_len, 5);
		for (size_t i = 0; i < 5; i++)
			CHECK_INT(seen[i], i * 2 + (size_t)round * 100);
	}
	/* a single DS refuses array subscribers */
	struct sonde_ds *single = sonde_ds_new("s", SONDE_DS_SINGLE);
	CHECK(sonde_ds_subscribe_array(single, collect, NULL, 0) < 0);
	CHECK(sonde_ds_array(single) == NULL);
	sonde_ds_free(single);
	sonde_ds_free(ds);
}

static void test_requested(void)
{
	struct sonde_field *f[6];
	struct sonde_ds *ds = make_ds(f);

	REQUIRE(ds);
	CHECK(sonde_field_is_requested(f[4])); /* nobody declared anything: all requested */
	sonde_field_set_requested(f[3], true);
	CHECK(sonde_field_is_requested(f[3]));
	CHECK(sonde_field_is_requested(f[1])); /* parent of a requested field */
	CHECK(!sonde_field_is_requested(f[4]));
	CHECK(!sonde_field_is_requested(f[2]));
	sonde_ds_free(ds);
}

static void test_hidden_unreferenced(void)
{
	struct sonde_field *f[6];
	struct sonde_ds *ds = make_ds(f);

	REQUIRE(ds);
	sonde_field_set_hidden(f[1], true, true);
	CHECK(sonde_field_flags(f[2]) & SONDE_FIELD_HIDDEN);
	sonde_field_set_annotation(f[4], "columns.hidden", "true");
	CHECK(sonde_field_flags(f[4]) & SONDE_FIELD_HIDDEN);
	sonde_field_unreference(f[1], true);
	CHECK(sonde_ds_field(ds, "proc.pid") == NULL);
	CHECK(sonde_field_rename(f[0], "timestamp") == 0);
	CHECK(sonde_ds_field(ds, "timestamp") == f[0]);
	CHECK(sonde_field_rename(f[2], "x") < 0); /* sub-fields cannot be renamed */
	sonde_ds_report_lost(ds, 3);
	sonde_ds_report_lost(ds, 4);
	CHECK_INT(sonde_ds_lost(ds), 7);
	sonde_ds_free(ds);
}

TEST_MAIN(TEST(test_static_layout), TEST(test_static_bounds), TEST(test_values_zero_copy),
          TEST(test_values_written_aside), TEST(test_added_fields), TEST(test_subscription_order),
          TEST(test_array_discard), TEST(test_requested), TEST(test_hidden_unreferenced))
