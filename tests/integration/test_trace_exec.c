/* trace_exec through the sonde command: a spawned program and its arguments. */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

/* Forks a child that waits for a byte, then execs /bin/echo with a unique token. */
static pid_t spawn_echo(const char *token, int *go_fd)
{
	int go[2];
	pid_t pid;

	if (pipe(go))
		abort();
	pid = fork();
	if (pid == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		execl("/bin/echo", "/bin/echo", token, "second arg", (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	*go_fd = go[1];
	return pid;
}

static json_t *events_with_token(const char *out, const char *token)
{
	json_t *all = test_json_lines(out), *matching = json_array(), *ev;
	size_t i;

	json_array_foreach(all, i, ev)
	{
		const char *args = test_json_str(ev, "args");
		if (args && strstr(args, token))
			json_array_append(matching, ev);
	}
	json_decref(all);
	return matching;
}

static void test_exec_event(void)
{
	const char *argv[] = {"run", "trace_exec", "--host", "-o", "json", "-v", NULL};
	char token[64], want_args[128];
	struct sonde_proc p;
	json_t *evs, *ev;
	int go, status;
	pid_t pid;

	test_require_root();
	snprintf(token, sizeof(token), "sonde-exec-token-%d", getpid());
	pid = spawn_echo(token, &go);
	REQUIRE(sonde_proc_start(&p, argv) == 0);
	CHECK(sonde_proc_wait_for(&p, 2, "running", 15000));
	CHECK(write(go, "x", 1) == 1);
	close(go);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sonde_proc_wait_for(&p, 1, token, 3000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	evs = events_with_token(p.out ? p.out : "", token);
	REQUIRE(json_array_size(evs) == 1);
	ev = json_array_get(evs, 0);
	snprintf(want_args, sizeof(want_args), "/bin/echo %s second arg", token);
	CHECK_STR(test_json_str(ev, "args"), want_args);
	CHECK_INT(test_json_int(ev, "args_count", -1), 3);
	CHECK_INT(test_json_int(ev, "proc.pid", -1), pid);
	CHECK_INT(test_json_int(ev, "proc.parent.pid", -1), getpid());
	CHECK_STR(test_json_str(ev, "proc.comm"), "echo");
	CHECK_INT(test_json_int(ev, "proc.creds.uid", -1), getuid());
	CHECK_INT(test_json_int(ev, "error_raw", -1), 0);
	CHECK(test_json_int(ev, "proc.mntns_id", 0) > 0);
	CHECK(test_json_int(ev, "timestamp_raw", 0) > 0);
	json_decref(evs);
	sonde_proc_free(&p);
}

/* A failed exec is reported only with --ignore-failed=false. */
static void test_failed_exec(void)
{
	const char *argv[] = {"run", "trace_exec", "--host", "-o", "json", "-v", "--ignore-failed=false",
	                      NULL};
	char path[96];
	struct sonde_proc p;
	json_t *evs, *ev;
	pid_t pid;

	test_require_root();
	snprintf(path, sizeof(path), "/nonexistent-sonde-%d", getpid());
	REQUIRE(sonde_proc_start(&p, argv) == 0);
	CHECK(sonde_proc_wait_for(&p, 2, "running", 15000));
	pid = fork();
	if (pid == 0) {
		execl(path, path, (char *)NULL);
		_exit(3);
	}
	waitpid(pid, NULL, 0);
	sonde_proc_wait_for(&p, 1, path, 3000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	evs = events_with_token(p.out ? p.out : "", path);
	REQUIRE(json_array_size(evs) == 1);
	ev = json_array_get(evs, 0);
	CHECK_INT(test_json_int(ev, "error_raw", -1), 2 /* ENOENT */);
	CHECK_INT(test_json_int(ev, "proc.pid", -1), pid);
	json_decref(evs);
	sonde_proc_free(&p);
}

/* --comm matches the name the event shows: the new program's (as -F
 * proc.comm== and the COMM column do), not the name before the exec. */
static void test_comm_is_the_name_after_exec(void)
{
	char exe[64], new_comm[16], token[64];
	const char *by_new[] = {"run", "trace_exec", "--host", "-o", "json", "-v", "--comm", new_comm, NULL};
	const char *by_old[] = {"run", "trace_exec", "--host",       "-o", "json",
	                        "-v",  "--comm",     "sonde_te_old", NULL};
	struct sonde_proc a, b;
	json_t *seen_a, *seen_b;
	int go[2], status;
	pid_t pid;

	test_require_root();
	snprintf(new_comm, sizeof(new_comm), "snd_te_%d", getpid() % 100000);
	snprintf(exe, sizeof(exe), "/tmp/%s", new_comm);
	snprintf(token, sizeof(token), "sonde-comm-token-%d", getpid());
	unlink(exe);
	REQUIRE(symlink("/bin/echo", exe) == 0);
	REQUIRE(pipe(go) == 0);
	pid = fork();
	if (pid == 0) {
		char c;
		int devnull = open("/dev/null", O_WRONLY);

		prctl(PR_SET_NAME, "sonde_te_old");
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		dup2(devnull, 1);
		execl(exe, exe, token, (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	REQUIRE(sonde_proc_start(&a, by_new) == 0);
	REQUIRE(sonde_proc_start(&b, by_old) == 0);
	CHECK(sonde_proc_wait_for(&a, 2, "running", 15000));
	CHECK(sonde_proc_wait_for(&b, 2, "running", 15000));
	CHECK(write(go[1], "x", 1) == 1);
	close(go[1]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	sonde_proc_wait_for(&a, 1, token, 3000);
	sonde_proc_wait_for(&b, 1, token, 1000);
	CHECK_INT(sonde_proc_finish(&a, SIGINT, 10000), 0);
	CHECK_INT(sonde_proc_finish(&b, SIGINT, 10000), 0);
	unlink(exe);
	seen_a = events_with_token(a.out ? a.out : "", token);
	seen_b = events_with_token(b.out ? b.out : "", token);
	CHECK_INT((int)json_array_size(seen_a), 1);
	CHECK_INT((int)json_array_size(seen_b), 0);
	if (json_array_size(seen_a) == 1)
		CHECK_STR(test_json_str(json_array_get(seen_a, 0), "proc.comm"), new_comm);
	json_decref(seen_a);
	json_decref(seen_b);
	sonde_proc_free(&a);
	sonde_proc_free(&b);
}

TEST_MAIN(TEST(test_exec_event), TEST(test_failed_exec), TEST(test_comm_is_the_name_after_exec))
