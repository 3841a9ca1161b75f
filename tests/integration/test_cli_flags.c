/* The command line as getopt and pflag users type it: values attached to
 * shorthands (-ojson, -t0.5), flags before the gadget's name, values that
 * start with a dash, help for every run, and one exit status for errors. */
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "testlib.h"

static int open_as_flags_test(void *path)
{
	prctl(PR_SET_NAME, "sonde_flags");
	close(open(path, O_RDONLY));
	return 0;
}

/* `sonde run --host -v -ojson trace_open --comm sonde_flags -t30`: every
 * flag placement a pflag user may try, in one run that must see its event. */
static void test_attached_values_and_flags_first(void)
{
	const char *argv[] = {"run",    "--host",      "-v",   "-ojson", "trace_open",
	                      "--comm", "sonde_flags", "-t30", NULL};
	struct test_child c;
	char path[64];
	json_t *lines;
	char *out;

	test_require_root();
	snprintf(path, sizeof(path), "/tmp/sonde-flags-%d", getpid());
	test_child_start(&c, open_as_flags_test, path);
	out = sonde_run_around_child(argv, &c, path, NULL);
	REQUIRE(out);
	CHECK(out[0] == '{'); /* -ojson took effect */
	lines = test_json_lines(out);
	CHECK(test_json_find(lines, "fname", path) != NULL);
	json_decref(lines);
	free(out);
}

/* -t0.5 ends the run by itself; -o=json is the same as -o json. */
static void test_attached_timeout(void)
{
	const char *argv[] = {"run", "trace_open", "--host", "-t0.5", "-o=none", NULL};
	int64_t start;

	test_require_root();
	start = test_now_ms();
	CHECK_INT(sonde_run_cmd(argv, NULL, NULL, 20000), 0);
	CHECK(test_now_ms() - start < 15000);
}

/* `--sort -pid` is a value, not a flag: only a lone known shorthand is. */
static void test_value_with_leading_dash(void)
{
	const char *argv[] = {"run", "snapshot_process", "--host", "--sort", "-pid", "--max-entries",
	                      "3",   "-ojson",           NULL};
	char *out = NULL;
	json_t *lines, *snapshot, *ev;
	long long prev = -1;
	size_t i, n = 0;

	test_require_root();
	CHECK_INT(sonde_run_cmd(argv, &out, NULL, 30000), 0);
	REQUIRE(out);
	lines = test_json_lines(out);
	snapshot = json_array_get(lines, 0); /* a snapshot is one array of records */
	REQUIRE(json_array_size(lines) == 1 && json_is_array(snapshot));
	json_array_foreach(snapshot, i, ev)
	{
		long long pid = test_json_int(ev, "pid", -1);

		CHECK(pid > 0);
		if (prev >= 0)
			CHECK(pid < prev); /* descending */
		prev = pid;
		n++;
	}
	CHECK_INT((int)n, 3);
	json_decref(lines);
	free(out);
}

static void test_bad_flags(void)
{
	const char *no_value[] = {"run", "trace_open", "-o", NULL};
	const char *flag_as_value[] = {"run", "trace_open", "--pid", "-t", "1", NULL};
	const char *one_dash[] = {"run", "trace_open", "-host", NULL};
	const char *bad_group[] = {"run", "trace_open", "-vx", NULL};
	const char *extra[] = {"run", "trace_open", "trace_exec", NULL};
	const char *no_gadget[] = {"run", "--host", NULL};
	const char *bad_level[] = {"run", "trace_open", "--log-level", "loud", NULL};

	sonde_expect_error(no_value, "flag -o needs a value");
	sonde_expect_error(flag_as_value, "flag --pid needs a value, got the flag -t");
	sonde_expect_error(one_dash, "flag -host: long flags take two dashes (--host)");
	sonde_expect_error(bad_group, "unknown shorthand flag 'x' in -vx");
	sonde_expect_error(extra, "unexpected argument \"trace_exec\"");
	sonde_expect_error(no_gadget, "no gadget given");
	sonde_expect_error(bad_level, "invalid log level \"loud\"");
}

/* Every error exits 1, whichever command it comes from. */
static void test_exit_status(void)
{
	const char *nothing[] = {NULL};
	const char *unknown_cmd[] = {"bogus", NULL};
	const char *lc_flag[] = {"list-containers", "--nope", NULL};
	const char *help_unknown[] = {"help", "bogus", NULL};

	CHECK_INT(sonde_run_cmd(nothing, NULL, NULL, 30000), 1);
	sonde_expect_error(unknown_cmd, "unknown command \"bogus\"");
	sonde_expect_error(lc_flag, "--nope");
	sonde_expect_error(help_unknown, "unknown command \"bogus\"");
}

/* `sonde run --help` lists the flags every run takes; `sonde help run` is the same. */
static void test_run_help(void)
{
	const char *run_help[] = {"run", "--help", NULL};
	const char *help_run[] = {"help", "run", NULL};
	const char *gadget_help[] = {"run", "trace_open", "--help", NULL};
	const char *help_gadget[] = {"help", "run", "trace_open", NULL};
	const char *common[] = {"-t, --timeout",       "-o, --output", "--fields",      "--host",
	                        "-c, --containername", "--log-level",  "-v, --verbose", NULL};
	char *a = NULL, *b = NULL, *c = NULL, *d = NULL;

	CHECK_INT(sonde_run_cmd(run_help, &a, NULL, 30000), 0);
	CHECK_INT(sonde_run_cmd(help_run, &b, NULL, 30000), 0);
	CHECK_INT(sonde_run_cmd(gadget_help, &c, NULL, 30000), 0);
	CHECK_INT(sonde_run_cmd(help_gadget, &d, NULL, 30000), 0);
	REQUIRE(a && b && c && d);
	CHECK_STR(a, b);
	CHECK_STR(c, d);
	for (size_t i = 0; common[i]; i++) {
		CHECK(strstr(a, common[i]) != NULL);
		CHECK(strstr(c, common[i]) != NULL);
	}
	CHECK(strstr(c, " \n") == NULL); /* no line padded with trailing blanks */
	CHECK(strstr(c, "  [runtime.containerImageDigest] string") != NULL); /* long names keep the columns */
	CHECK(strstr(a, "trace_open") != NULL);                              /* the gadgets there are */
	CHECK(strstr(c, "--failed") != NULL);                                /* and the gadget's own flags */
	free(a);
	free(b);
	free(c);
	free(d);
}

/* --log-level debug is -v; --log-level error hides warnings. */
static void test_log_level(void)
{
	const char *debug[] = {"run", "trace_open", "--log-level=debug", "--help", NULL};
	const char *verbose[] = {"run", "trace_open", "-v", "--help", NULL};
	const char *quiet[] = {"run", "trace_open", "--help", NULL};
	char *e1 = NULL, *e2 = NULL, *e3 = NULL;

	CHECK_INT(sonde_run_cmd(debug, NULL, &e1, 30000), 0);
	CHECK_INT(sonde_run_cmd(verbose, NULL, &e2, 30000), 0);
	CHECK_INT(sonde_run_cmd(quiet, NULL, &e3, 30000), 0);
	REQUIRE(e1 && e2 && e3);
	CHECK(strstr(e1, "sonde: debug: ") != NULL);
	CHECK(strstr(e2, "sonde: debug: ") != NULL);
	CHECK(strstr(e3, "sonde: debug: ") == NULL);
	free(e1);
	free(e2);
	free(e3);
}

/* Without privileges, one line says what is needed, before anything fails
 * halfway; help still works. Checked from a child that became nobody. */
static void test_unprivileged(void)
{
	const char *run[] = {"run", "trace_open", "--host", NULL};
	const char *run_containers[] = {"run", "trace_exec", NULL};
	const char *list[] = {"list-containers", NULL};
	const char *help[] = {"run", "trace_open", "--help", NULL};
	pid_t pid;

	char dir[] = "/tmp/sonde-nobody-XXXXXX", bin[64];
	const char *cp[] = {"cp", SONDE_BIN, bin, NULL};

	test_require_root(); /* to become nobody */
	/* a copy nobody can run: the build tree may be under a private home */
	REQUIRE(mkdtemp(dir) && chmod(dir, 0755) == 0);
	snprintf(bin, sizeof(bin), "%s/sonde", dir);
	REQUIRE(test_run_quiet(cp) == 0);
	fflush(stderr);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		sonde_bin = bin;
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		sonde_expect_error(run, "sonde run trace_open loads eBPF programs: run it as root (or with "
		                        "CAP_BPF and CAP_PERFMON");
		sonde_expect_error(run_containers, "run it as root");
		sonde_expect_error(list, "sonde list-containers reads the container runtimes' state");
		if (sonde_run_cmd(help, NULL, NULL, 30000) != 0)
			test_failures++;
		_exit(test_failures ? 1 : 0);
	}
	CHECK_INT(test_wait_status(pid), 0);
	unlink(bin);
	rmdir(dir);
}

/* bash completion as a user gets it: the script `sonde completion bash`
 * prints, loaded in bash, completing gadget names and a gadget's flags
 * (eval, not source <(...): a VM's minimal /dev may lack /dev/fd). */
static char *bash_complete(const char *words, int cword)
{
	char cmd[1024];
	static char out[4096];
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd),
	         "bash -c 'eval \"$(%s completion bash)\" || exit 9; COMP_WORDS=(%s %s); COMP_CWORD=%d; "
	         "_sonde; printf \"%%s\\n\" \"${COMPREPLY[@]}\"'",
	         sonde_bin, sonde_bin, words, cword);
	f = popen(cmd, "r");
	if (!f)
		return NULL;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	if (pclose(f) != 0)
		return NULL;
	return strdup(out);
}

static void test_completion(void)
{
	const char *help[] = {"__complete", "run", "trace_open", "--log-level", "", NULL};
	const char *bad_shell[] = {"completion", "tcsh", NULL};
	char *out = NULL;

	out = bash_complete("run tr", 2);
	REQUIRE(out);
	CHECK_STR(out, "trace_exec\ntrace_malloc\ntrace_open\n");
	free(out);
	out = bash_complete("run --host trace_open --fai", 4);
	REQUIRE(out);
	CHECK_STR(out, "--failed\n");
	free(out);
	out = bash_complete("run trace_open -o j", 4);
	REQUIRE(out);
	CHECK_STR(out, "json\njsonpretty\n");
	free(out);
	out = bash_complete("list-containers --k8s-p", 2);
	REQUIRE(out);
	CHECK_STR(out, "--k8s-podname\n");
	free(out);
	out = bash_complete("", 1);
	REQUIRE(out);
	CHECK(strstr(out, "run\n") && strstr(out, "list-containers\n") && strstr(out, "completion\n"));
	free(out);
	out = NULL;
	CHECK_INT(sonde_run_cmd(help, &out, NULL, 30000), 0);
	CHECK_STR(out, "error\nwarn\ninfo\ndebug\n");
	free(out);
	sonde_expect_error(bad_shell, "usage: sonde completion bash|zsh|fish");
}

/* Every field a gadget's help lists says what it is. */
static void test_fields_described(void)
{
	static const char *const gadgets[] = {
	    "trace_open", "trace_exec", "trace_malloc", "snapshot_process", "top_process", "tcpdump", NULL};

	for (size_t g = 0; gadgets[g]; g++) {
		const char *argv[] = {"run", gadgets[g], "--help", NULL};
		char *out = NULL, *line, *save = NULL;
		bool in_fields = false;

		CHECK_INT(sonde_run_cmd(argv, &out, NULL, 30000), 0);
		REQUIRE(out);
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char name[128], kind[32], desc[8];

			if (!strncmp(line, "Fields of datasource", 20)) {
				in_fields = true;
				continue;
			}
			if (!in_fields || sscanf(line, " %127s %31s %7s", name, kind, desc) == 3)
				continue;
			fprintf(stderr, "%s: field without a description: %s\n", gadgets[g], line);
			test_failures++;
		}
		free(out);
	}
}

TEST_MAIN(TEST(test_attached_values_and_flags_first), TEST(test_attached_timeout),
          TEST(test_value_with_leading_dash), TEST(test_bad_flags), TEST(test_exit_status),
          TEST(test_run_help), TEST(test_log_level), TEST(test_unprivileged), TEST(test_completion),
          TEST(test_fields_described))
