/* UidGidResolver through `sonde run trace_open`: files opened by children
 * running as various users come out with the user and group names. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

struct opener {
	pid_t pid;
	int go_fd;
};

/* A child that waits for a byte, then opens `path` as uid/gid. */
static void start_opener(struct opener *o, const char *path, uid_t uid, gid_t gid)
{
	int go[2];

	if (pipe(go))
		abort();
	o->pid = fork();
	if (o->pid == 0) {
		char c;

		close(go[1]);
		prctl(PR_SET_NAME, "sonde_it_user");
		if (setresgid(gid, gid, gid) || setresuid(uid, uid, uid))
			_exit(2);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		open(path, O_RDONLY); /* failing (EACCES, ENOENT) is fine: it is traced */
		_exit(0);
	}
	close(go[0]);
	o->go_fd = go[1];
}

static void run_opener(struct opener *o)
{
	if (write(o->go_fd, "x", 1) != 1)
		test_failures++;
	waitpid(o->pid, NULL, 0);
	close(o->go_fd);
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
	size_t n = 4;
	struct opener o;
	struct sonde_proc p;
	char *out;

	for (size_t i = 0; extra && extra[i] && n < 15; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	start_opener(&o, path, uid, gid);
	if (sonde_proc_start(&p, argv)) {
		test_failures++;
		return NULL;
	}
	if (!sonde_proc_wait_for(&p, 2, "running", 15000)) {
		fprintf(stderr, "sonde did not start:\n%s\n", p.err ? p.err : "");
		test_failures++;
	}
	run_opener(&o);
	sonde_proc_wait_for(&p, 1, path, 3000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	out = p.out;
	p.out = NULL;
	sonde_proc_free(&p);
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
	if (!test_is_root())
		test_skip("needs root");
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
