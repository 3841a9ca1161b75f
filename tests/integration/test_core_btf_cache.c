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

#include "ebpf/internal.h"
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

static void require_cache_tools(void)
{
	test_require_root();
	if (access("/usr/sbin/bpftool", X_OK) && access("/usr/bin/bpftool", X_OK))
		test_skip_dep("no bpftool to generate the cache");
	if (access("/sys/kernel/notes", R_OK))
		test_skip_machine("no kernel build id in /sys/kernel/notes");
}

static void setup(void)
{
	require_cache_tools();
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

/* ---- one cache directory, two kernels ---- */

#define MAX_DIRS 8

/* The build-id directories under <dir>/core-btf and, for each, its .btf
 * file's content (one per directory: one gadget runs here). */
struct cache_state {
	int n;
	char ids[MAX_DIRS][256];
	char *btf[MAX_DIRS];
	size_t len[MAX_DIRS];
};

static void read_state(const char *base, struct cache_state *st)
{
	char dir[512];
	DIR *top;
	struct dirent *e;

	memset(st, 0, sizeof(*st));
	snprintf(dir, sizeof(dir), "%s/core-btf", base);
	top = opendir(dir);
	while (top && (e = readdir(top)) && st->n < MAX_DIRS) {
		char sub[800];
		DIR *d;

		if (e->d_name[0] == '.')
			continue;
		snprintf(st->ids[st->n], sizeof(st->ids[0]), "%s", e->d_name);
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		d = opendir(sub);
		for (struct dirent *f; d && (f = readdir(d));) {
			size_t n = strlen(f->d_name);

			if (n > 4 && !strcmp(f->d_name + n - 4, ".btf")) {
				char file[1100];

				snprintf(file, sizeof(file), "%s/%s", sub, f->d_name);
				st->btf[st->n] = test_read_file(file, &st->len[st->n]);
			}
		}
		if (d)
			closedir(d);
		st->n++;
	}
	if (top)
		closedir(top);
}

static void free_state(struct cache_state *st)
{
	for (int i = 0; i < st->n; i++)
		free(st->btf[i]);
}

static int state_find(const struct cache_state *st, const char *id)
{
	for (int i = 0; i < st->n; i++)
		if (!strcmp(st->ids[i], id))
			return i;
	return -1;
}

/*
 * The same cache directory used under two kernels (a disk booted with
 * either, or scripts/check-kernels.sh: this case runs on the host, then in
 * the VM over the same directory). What the other kernel left there is
 * neither used nor touched: this kernel generates and then uses its own,
 * and the events are right. SONDE_TEST_SHARED_CACHE names the directory;
 * SONDE_TEST_SHARED_CACHE_OTHER=1 says another kernel has run there first.
 */
static void test_other_kernel(void)
{
	const char *shared = getenv("SONDE_TEST_SHARED_CACHE"),
	           *other = getenv("SONDE_TEST_SHARED_CACHE_OTHER");
	struct cache_state before, after;
	char path[96], own[160], own_dir[700], notes[4096], *err;
	int mine = -1, foreign = 0, fd;
	ssize_t n;
	bool seen;

	if (!shared || !*shared)
		test_skip_machine("needs a cache directory shared with a run under another kernel "
		          "(SONDE_TEST_SHARED_CACHE; make check-kernels sets it)");
	require_cache_tools();
	fd = open("/sys/kernel/notes", O_RDONLY);
	REQUIRE(fd >= 0);
	n = read(fd, notes, sizeof(notes));
	close(fd);
	REQUIRE(n > 0 && ebpf_build_id_from_notes(notes, (size_t)n, own, sizeof(own)) == 0);
	setenv("SONDE_CACHE_DIR", shared, 1);
	snprintf(path, sizeof(path), "/tmp/sonde-it-btf-shared-%d", getpid());
	close(open(path, O_WRONLY | O_CREAT, 0600));

	/* this kernel starts afresh (a rerun's own entry is dropped); the
	 * other kernels' entries stay */
	snprintf(own_dir, sizeof(own_dir), "%s/core-btf/%s", shared, own);
	test_rm_tree(own_dir, shared);
	read_state(shared, &before);
	for (int i = 0; i < before.n; i++)
		foreign += before.btf[i] != NULL;
	printf("  this kernel: %s; entries of other kernels: %d\n", own, foreign);
	if (other && *other)
		CHECK(foreign >= 1); /* the other kernel's run left its file */

	/* first run here: another kernel's file is not this kernel's */
	err = run_once(path, &seen);
	CHECK(seen);
	CHECK(err && strstr(err, "generating the CO-RE BTF cache"));
	CHECK(err && !strstr(err, "kernel types from the cache"));
	free(err);
	for (int i = 0; i < 200 && mine < 0; i++) {
		read_state(shared, &after);
		mine = state_find(&after, own);
		if (mine >= 0 && !after.btf[mine])
			mine = -1;
		if (mine < 0) {
			free_state(&after);
			usleep(50 * 1000);
		}
	}
	REQUIRE(mine >= 0); /* its own entry, with the file */
	free_state(&after);

	/* second run: this kernel's file, and still the right events */
	err = run_once(path, &seen);
	CHECK(seen);
	CHECK(err && strstr(err, "kernel types from the cache"));
	free(err);

	/* the other kernels' files are as they were */
	read_state(shared, &after);
	for (int i = 0; i < before.n; i++) {
		int k = state_find(&after, before.ids[i]);

		CHECK(k >= 0);
		if (k >= 0 && before.btf[i]) {
			CHECK(after.btf[k] && after.len[k] == before.len[i] &&
			      !memcmp(after.btf[k], before.btf[i], before.len[i]));
		}
	}
	free_state(&before);
	free_state(&after);
	unlink(path);
}

TEST_MAIN(TEST(test_generate_then_use), TEST(test_off), TEST(test_other_kernel))
