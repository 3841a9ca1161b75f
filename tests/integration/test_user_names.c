/* UidGidResolver through `sonde run trace_open`: files opened by children
 * running as various users come out with the user and group names. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "testlib.h"

/* Who the held child is and what it opens. */
struct open_as {
	uid_t uid;
	gid_t gid;
	const char *path;
};

/* In the child: opens `path` as uid/gid; 0, or -1 if it could not become them. */
static int open_as_user(void *arg)
{
	const struct open_as *a = arg;

	prctl(PR_SET_NAME, "sonde_it_user");
	if (setresgid(a->gid, a->gid, a->gid) || setresuid(a->uid, a->uid, a->uid))
		return -1;
	open(a->path, O_RDONLY); /* failing (EACCES, ENOENT) is fine: it is traced */
	return 0;
}

/* What the host's files say, through libc (fine in a test). */
static void expected_names(uid_t uid, gid_t gid, char *user, size_t ulen, char *group, size_t glen)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr = getgrgid(gid);

	if (pw)
		snprintf(user, ulen, "%s", pw->pw_name);
	else
		snprintf(user, ulen, "uid:%u", (unsigned)uid);
	if (gr)
		snprintf(group, glen, "%s", gr->gr_name);
	else
		snprintf(group, glen, "gid:%u", (unsigned)gid);
}

/* Starts trace_open with extra args, lets a child open a unique path as
 * uid/gid, returns sonde's stdout (caller frees). */
static char *trace_as(uid_t uid, gid_t gid, const char *path, const char *const *extra)
{
	const char *argv[16] = {"run", "trace_open", "--host", "-v"};
	struct open_as args = {uid, gid, path};
	struct test_child c;
	size_t n = 4;
	char *out;
	int r;

	for (size_t i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	test_child_start(&c, open_as_user, &args);
	out = sonde_run_around_child(argv, &c, path, &r);
	CHECK_INT(r, 0);
	return out;
}

static json_t *event_for(json_t *all, const char *path)
{
	size_t i;
	json_t *ev;

	json_array_foreach(all, i, ev)
	{
		const char *fname = test_json_str(ev, "fname");
		if (fname && !strcmp(fname, path))
			return ev;
	}
	return NULL;
}

static void setup(void)
{
	test_require_root();
}

/* The test itself is root: uid 0 is "root" in every passwd. */
static void test_json_root(void)
{
	setup();
	static const char *const json[] = {"-o", "json", NULL};
	char path[128], *out;
	json_t *all, *ev;

	snprintf(path, sizeof(path), "/tmp/sonde-it-user-root-%d", getpid());
	out = trace_as(0, 0, path, json);
	REQUIRE(out);
	all = test_json_lines(out);
	ev = event_for(all, path);
	REQUIRE(ev);
	CHECK_INT(test_json_int(ev, "proc.creds.uid", -1), 0);
	CHECK_STR(test_json_str(ev, "proc.creds.user"), "root");
	CHECK_STR(test_json_str(ev, "proc.creds.group"), "root");
	json_decref(all);
	free(out);
}

/* Other ids, known or not to the host, come out as the host's files say. */
static void test_json_other_users(void)
{
	setup();
	static const char *const json[] = {"-o", "json", NULL};
	static const uid_t uids[] = {65534, 54321};
	char path[128], user[64], group[64], *out;
	json_t *all, *ev;

	for (size_t i = 0; i < sizeof(uids) / sizeof(uids[0]); i++) {
		snprintf(path, sizeof(path), "/tmp/sonde-it-user-%u-%d", (unsigned)uids[i], getpid());
		expected_names(uids[i], uids[i], user, sizeof(user), group, sizeof(group));
		out = trace_as(uids[i], uids[i], path, json);
		REQUIRE(out);
		all = test_json_lines(out);
		ev = event_for(all, path);
		REQUIRE(ev);
		CHECK_INT(test_json_int(ev, "proc.creds.uid", -1), uids[i]);
		CHECK_STR(test_json_str(ev, "proc.creds.user"), user);
		CHECK_STR(test_json_str(ev, "proc.creds.group"), group);
		json_decref(all);
		free(out);
	}
}

/* Hidden in columns by default; shown when asked for. */
static void test_columns(void)
{
	setup();
	static const char *const fields[] = {"--fields", "proc.comm,proc.creds.user,proc.creds.group,fname",
	                                     NULL};
	char path[128], *out;

	snprintf(path, sizeof(path), "/tmp/sonde-it-user-col-%d", getpid());
	out = trace_as(0, 0, path, NULL);
	REQUIRE(out);
	CHECK(strstr(out, "USER") == NULL);
	free(out);
	out = trace_as(0, 0, path, fields);
	REQUIRE(out);
	CHECK(strncmp(out, "COMM", 4) == 0);
	/* named like the uid/gid columns of the process struct: by their short names */
	CHECK(strstr(out, " USER ") != NULL);
	CHECK(strstr(out, " GROUP") != NULL);
	CHECK(strstr(out, "PROC.CREDS") == NULL);
	CHECK(strstr(out, "sonde_it_user    root             root") != NULL);
	free(out);
}

TEST_MAIN(TEST(test_json_root), TEST(test_json_other_users), TEST(test_columns))
