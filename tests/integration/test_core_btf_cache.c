/* The CO-RE BTF cache through `sonde run trace_open`: the first run generates
 * a minimal kernel BTF for the gadget in the background, the next run loads
 * with it and still reports the right events; a damaged file is dropped and
 * the run goes on without it. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define CHILD_COMM "sonde_it_btf"

static char cache[64];

/* Path of the one generated .btf file under cache/core-btf/<build id>/, or "". */
static void find_cached(char *out, size_t len)
{
	char dir[128];
	DIR *top, *d;
	struct dirent *e;

	out[0] = 0;
	snprintf(dir, sizeof(dir), "%s/core-btf", cache);
	top = opendir(dir);
	if (!top)
		return;
	while ((e = readdir(top)) && !out[0]) {
		char sub[512];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		d = opendir(sub);
		for (struct dirent *f; d && (f = readdir(d));) {
			size_t n = strlen(f->d_name);

			if (n > 4 && !strcmp(f->d_name + n - 4, ".btf")) {
				snprintf(out, len, "%s/%s", sub, f->d_name);
				break;
			}
		}
		if (d)
			closedir(d);
	}
	closedir(top);
}

static bool wait_cached(char *out, size_t len)
{
	for (int i = 0; i < 200; i++) {
		struct timespec ts = {0, 50 * 1000000};

		find_cached(out, len);
		if (out[0])
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static void open_as_child(const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_NAME, CHILD_COMM);
		close(open(path, O_RDONLY));
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

/* One trace_open run: returns its stderr; *seen tells if the child's open came out. */
static char *run_once(const char *path, bool *seen)
{
	const char *argv[] = {"run",      "trace_open", "--host", "-v", "--comm",
	                      CHILD_COMM, "--fields",   "fname",  NULL};
	struct sonde_proc p;
	char *err;

	*seen = false;
	if (sonde_proc_start(&p, argv))
		return NULL;
	if (sonde_proc_wait_for(&p, 2, "running", 15000)) {
		open_as_child(path);
		*seen = sonde_proc_wait_for(&p, 1, path, 5000);
	}
	/* every run, the damaged-cache one included, must end well */
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	err = p.err ? strdup(p.err) : NULL;
	sonde_proc_free(&p);
	return err;
}

static void setup(void)
{
	test_require_root();
	if (access("/usr/sbin/bpftool", X_OK) && access("/usr/bin/bpftool", X_OK))
		test_skip_dep("no bpftool to generate the cache");
	if (access("/sys/kernel/notes", R_OK))
		test_skip_machine("no kernel build id in /sys/kernel/notes");
	snprintf(cache, sizeof(cache), "/tmp/sonde-it-cache-XXXXXX");
	REQUIRE(mkdtemp(cache));
	setenv("SONDE_CACHE_DIR", cache, 1);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cache);
	CHECK_INT(system(cmd), 0);
}

static void test_generate_then_use(void)
{
	char path[96], cached[640], *err;
	bool seen;

	setup();
	snprintf(path, sizeof(path), "/tmp/sonde-it-btf-%d", getpid());
	close(open(path, O_WRONLY | O_CREAT, 0600));

	err = run_once(path, &seen);
	CHECK(seen);
	CHECK(err && strstr(err, "generating the CO-RE BTF cache"));
	CHECK(err && !strstr(err, "kernel types from the cache"));
	free(err);
	REQUIRE(wait_cached(cached, sizeof(cached)));

	err = run_once(path, &seen);
	CHECK(seen); /* the relocations made with the small BTF are right */
	CHECK(err && strstr(err, "kernel types from the cache"));
	CHECK(err && !strstr(err, "generating"));
	free(err);

	/* damaged: dropped with a warning, the run loads without it and regenerates */
	REQUIRE(truncate(cached, 5) == 0);
	err = run_once(path, &seen);
	CHECK(seen);
	CHECK(err && strstr(err, "is unreadable; removed"));
	CHECK(err && !strstr(err, "kernel types from the cache"));
	free(err);
	CHECK(wait_cached(cached, sizeof(cached)));
	unlink(path);
	teardown();
}

/* SONDE_CACHE_DIR="" turns the cache off: nothing is written. */
static void test_off(void)
{
	char path[96], cached[640], *err;
	bool seen;

	setup();
	setenv("SONDE_CACHE_DIR", "", 1);
	snprintf(path, sizeof(path), "/tmp/sonde-it-btf-off-%d", getpid());
	close(open(path, O_WRONLY | O_CREAT, 0600));
	err = run_once(path, &seen);
	CHECK(seen);
	CHECK(err && !strstr(err, "CO-RE BTF cache"));
	free(err);
	find_cached(cached, sizeof(cached));
	CHECK_STR(cached, "");
	unlink(path);
	teardown();
}

TEST_MAIN(TEST(test_generate_then_use), TEST(test_off))
