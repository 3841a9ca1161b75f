/* The UidGidResolver operator in a gadget run: a test source emits records
 * with uid/gid fields, a test sink reads the names; passwd and group are
 * temporary files given through the context variables. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <sonde/sonde.h>

#include "operators/uidgid_resolver.h"
#include "testlib.h"

struct raw {
	struct {
		uint32_t uid, gid;
	} creds;
	uint32_t owner_raw;
	uint32_t grp;
	uint64_t big; /* a uid field wider than 32 bits */
};

/* ---- source ---- */

static struct {
	bool conflict;  /* also add a top-level "user" field that the resolver would want */
	bool no_tags;   /* no uid/gid fields at all */
	int rewrite_at; /* tick that rewrites passwd (0: never) */
	int max_ticks;  /* done after this many ticks, or when the name changed */
	struct raw ev;
	const char *passwd;
} src;

static struct sonde_ds *ds;
static int ticks;

static void write_file(const char *path, const char *text)
{
	char tmp[256];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	if (rename(tmp, path))
		abort();
}

/* What the sink saw in the last record. */
static char seen_user[64], seen_group[64], seen_owner[64], seen_grpname[64], seen_big[64];
static bool seen_owner_set;
static char first_user[64];

static void on_tick(struct sonde_gadget_ctx *ctx, void *arg)
{
	struct sonde_record *rec;

	if (ticks >= src.max_ticks)
		return;
	ticks++;
	rec = sonde_ds_record(ds);
	sonde_field_put_uint(sonde_ds_field(ds, "creds.uid"), rec, src.ev.creds.uid);
	sonde_field_put_uint(sonde_ds_field(ds, "creds.gid"), rec, src.ev.creds.gid);
	sonde_field_put_uint(sonde_ds_field(ds, "owner_raw"), rec, src.ev.owner_raw);
	sonde_field_put_uint(sonde_ds_field(ds, "grp"), rec, src.ev.grp);
	sonde_field_put_uint(sonde_ds_field(ds, "big"), rec, src.ev.big);
	sonde_ds_emit(ds, rec);
	if (ticks == 1)
		snprintf(first_user, sizeof(first_user), "%s", seen_user);
	if (ticks == src.rewrite_at)
		write_file(src.passwd, "root:x:0:0::/:\nbob:x:1000:1000::/:\n");
	if (ticks >= src.max_ticks ||
	    (src.rewrite_at && ticks > src.rewrite_at && strcmp(seen_user, first_user)))
		sonde_gadget_cancel(ctx);
}

static int src_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	static const char *const uid_tags[] = {"type:gadget_uid", "type:__u32", NULL};
	static const char *const gid_tags[] = {"type:gadget_gid", NULL};
	static const char *const target[] = {"uidgidresolver.target", "grpname", NULL};
	const struct sonde_static_field members[] = {
	    {"creds", -1, SONDE_KIND_BYTES, 0, 8, 0, NULL, NULL},
	    {"uid", 0, SONDE_KIND_UINT32, 0, 4, 0, src.no_tags ? NULL : uid_tags, NULL},
	    {"gid", 0, SONDE_KIND_UINT32, 4, 4, 0, src.no_tags ? NULL : gid_tags, NULL},
	    {"owner_raw", -1, SONDE_KIND_UINT32, offsetof(struct raw, owner_raw), 4, 0,
	     src.no_tags ? NULL : uid_tags, NULL},
	    {"grp", -1, SONDE_KIND_UINT32, offsetof(struct raw, grp), 4, 0, src.no_tags ? NULL : gid_tags,
	     target},
	    {"big", -1, SONDE_KIND_UINT64, offsetof(struct raw, big), 8, 0, src.no_tags ? NULL : uid_tags,
	     NULL},
	};

	ds = sonde_gadget_add_ds(ctx, "events", SONDE_DS_SINGLE);
	if (!ds || sonde_ds_add_static_fields(ds, sizeof(struct raw), members, 6, NULL))
		return -ENOMEM;
	if (src.conflict && !sonde_ds_add_field(ds, "user", SONDE_KIND_STRING, NULL))
		return -ENOMEM;
	ticks = 0;
	*state = &src;
	return 0;
}

static int src_start(struct sonde_gadget_ctx *ctx, void *state)
{
	int id = sonde_gadget_add_timer(ctx, 1000000, 20000000, on_tick, NULL);

	return id < 0 ? id : 0;
}

static const struct sonde_operator src_operator = {
    .name = "testsrc",
    .priority = -5000,
    .instantiate = src_instantiate,
    .start = src_start,
};

/* ---- sink ---- */

static const char *const *requested; /* full names the sink asks for, NULL-terminated */

static void copy_str(struct sonde_field *f, const struct sonde_record *rec, char *out, size_t outlen,
                     bool *set)
{
	uint32_t len = 0;
	const char *s = f ? sonde_field_string(f, rec, &len) : NULL;

	if (set)
		*set = s && len;
	snprintf(out, outlen, "%.*s", s ? (int)len : 0, s ? s : "");
}

static int sink_record(struct sonde_ds *d, struct sonde_record *rec, void *arg)
{
	copy_str(sonde_ds_field(d, "creds.user"), rec, seen_user, sizeof(seen_user), NULL);
	copy_str(sonde_ds_field(d, "creds.group"), rec, seen_group, sizeof(seen_group), NULL);
	copy_str(sonde_ds_field(d, "owner"), rec, seen_owner, sizeof(seen_owner), &seen_owner_set);
	copy_str(sonde_ds_field(d, "grpname"), rec, seen_grpname, sizeof(seen_grpname), NULL);
	copy_str(sonde_ds_field(d, "user"), rec, seen_big, sizeof(seen_big), NULL);
	return 0;
}

static int sink_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	*state = &requested;
	return 0;
}

static int sink_pre_start(struct sonde_gadget_ctx *ctx, void *state)
{
	for (size_t i = 0; requested && requested[i]; i++) {
		struct sonde_field *f = sonde_ds_field(ds, requested[i]);

		if (!f)
			return -ENOENT;
		sonde_field_set_requested(f, true);
	}
	return sonde_ds_subscribe(ds, sink_record, NULL, SONDE_PHASE_SINK);
}

static const struct sonde_operator sink_operator = {
    .name = "testsink",
    .priority = SONDE_PHASE_SINK,
    .instantiate = sink_instantiate,
    .pre_start = sink_pre_start,
};

/* ---- harness ---- */

static char dir[64], passwd[128], group[128];
static const struct sonde_gadget_image image = {.name = "test"};

static void setup(void)
{
	memset(&src, 0, sizeof(src));
	src.max_ticks = 1;
	src.ev.creds.uid = 1000;
	src.ev.creds.gid = 50;
	src.ev.owner_raw = 0;
	src.ev.grp = 4242;
	src.ev.big = 4294967296ull; /* beyond uid_t */
	requested = NULL;
	seen_user[0] = seen_group[0] = seen_owner[0] = seen_grpname[0] = seen_big[0] = first_user[0] = 0;
	seen_owner_set = false;
	snprintf(dir, sizeof(dir), "/tmp/sonde-uidgid-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	snprintf(group, sizeof(group), "%s/group", dir);
	write_file(passwd,
	           "# users\nroot:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n");
	write_file(group, "root:x:0:\nstaff:x:50:alice\n");
	src.passwd = passwd;
	sonde_operator_unregister_all();
	sonde_operator_register(&src_operator);
	sonde_operator_register(&uidgid_resolver_operator);
	sonde_operator_register(&sink_operator);
}

static void teardown(void)
{
	unlink(passwd);
	unlink(group);
	rmdir(dir);
}

static struct sonde_gadget_ctx *new_ctx(void)
{
	struct sonde_gadget_ctx *ctx = sonde_gadget_ctx_new(&image);

	if (ctx) {
		sonde_gadget_set_var(ctx, "uidgidresolver.passwd", passwd);
		sonde_gadget_set_var(ctx, "uidgidresolver.group", group);
	}
	return ctx;
}

static int run(void)
{
	struct sonde_gadget_ctx *ctx = new_ctx();
	int err;

	if (!ctx)
		return -ENOMEM;
	err = sonde_gadget_run(ctx, 5000000000LL);
	sonde_gadget_ctx_free(ctx);
	return err;
}

/* ---- tests ---- */

static void test_fields_added(void)
{
	struct sonde_gadget_ctx *ctx;
	struct sonde_field *f;

	setup();
	ctx = new_ctx();
	REQUIRE(ctx);
	REQUIRE(sonde_gadget_instantiate(ctx) == 0);
	/* siblings of the source: same parent */
	f = sonde_ds_field(ds, "creds.user");
	REQUIRE(f);
	CHECK(sonde_field_parent(f) == sonde_ds_field(ds, "creds"));
	CHECK_INT(sonde_field_kind(f), SONDE_KIND_STRING);
	CHECK(sonde_field_flags(f) & SONDE_FIELD_HIDDEN);
	CHECK(sonde_field_flags(sonde_ds_field(ds, "creds.uid")) & SONDE_FIELD_HIDDEN);
	CHECK(sonde_ds_field(ds, "creds.group") != NULL);
	/* `_raw` stripped; annotation wins; default name when neither */
	CHECK(sonde_ds_field(ds, "owner") != NULL);
	CHECK(sonde_field_parent(sonde_ds_field(ds, "owner")) == NULL);
	CHECK(sonde_ds_field(ds, "grpname") != NULL);
	CHECK(sonde_ds_field(ds, "user") != NULL); /* from "big" */
	CHECK_INT(sonde_ds_nfields(ds), 6 + 5);
	sonde_gadget_ctx_free(ctx);
	teardown();
}

static void test_no_uid_fields(void)
{
	struct sonde_gadget_ctx *ctx;

	setup();
	src.no_tags = true;
	ctx = new_ctx();
	REQUIRE(ctx);
	REQUIRE(sonde_gadget_instantiate(ctx) == 0);
	CHECK_INT(sonde_ds_nfields(ds), 6);
	CHECK(!(sonde_field_flags(sonde_ds_field(ds, "creds.uid")) & SONDE_FIELD_HIDDEN));
	sonde_gadget_ctx_free(ctx);
	teardown();
}

static char last_err[512];

static void capture_log(enum sonde_log_level level, const char *msg, void *arg)
{
	if (level == SONDE_LOG_ERROR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
}

static void test_name_taken(void)
{
	struct sonde_gadget_ctx *ctx;

	setup();
	src.conflict = true;
	ctx = new_ctx();
	REQUIRE(ctx);
	sonde_log_set_sink(capture_log, NULL);
	CHECK(sonde_gadget_instantiate(ctx) < 0);
	sonde_log_set_sink(NULL, NULL);
	CHECK(strstr(last_err, "\"user\"") != NULL);
	sonde_gadget_ctx_free(ctx);
	teardown();
}

static void test_resolves(void)
{
	static const char *const all[] = {"creds.user", "creds.group", "owner", "grpname", "user", NULL};

	setup();
	requested = all;
	CHECK_INT(run(), 0);
	CHECK_INT(ticks, 1);
	CHECK_STR(seen_user, "alice");
	CHECK_STR(seen_group, "staff");
	CHECK_STR(seen_owner, "root");
	CHECK_STR(seen_grpname, "gid:4242"); /* unknown */
	CHECK_STR(seen_big, "uid:4294967296");
	teardown();
}

static void test_unknown_and_missing_files(void)
{
	static const char *const all[] = {"creds.user", "creds.group", "owner", NULL};

	setup();
	requested = all;
	unlink(passwd);
	unlink(group);
	src.ev.creds.uid = 4294967295u;
	CHECK_INT(run(), 0);
	CHECK_STR(seen_user, "uid:4294967295");
	CHECK_STR(seen_group, "gid:50");
	CHECK_STR(seen_owner, "uid:0");
	teardown();
}

/* Only requested names are filled. */
static void test_unrequested_skipped(void)
{
	static const char *const some[] = {"creds.user", NULL};

	setup();
	requested = some;
	CHECK_INT(run(), 0);
	CHECK_STR(seen_user, "alice");
	CHECK(!seen_owner_set);
	CHECK_STR(seen_group, "");
	teardown();
}

/* passwd replaced while the gadget runs: later records get the new name. */
static void test_refresh_while_running(void)
{
	static const char *const some[] = {"creds.user", NULL};

	setup();
	requested = some;
	src.rewrite_at = 1;
	src.max_ticks = 100; /* 2 s at most */
	CHECK_INT(run(), 0);
	CHECK_STR(first_user, "alice");
	CHECK_STR(seen_user, "bob");
	CHECK(ticks < 100);
	teardown();
}

TEST_MAIN(TEST(test_fields_added), TEST(test_no_uid_fields), TEST(test_name_taken), TEST(test_resolves),
          TEST(test_unknown_and_missing_files), TEST(test_unrequested_skipped),
          TEST(test_refresh_while_running))
