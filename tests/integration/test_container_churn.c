/* Short-lived containers started back to back, traced without --host: each
 * container's first program must be attributed, however short its life,
 * because the watcher holds that program's exec until the container is in
 * the kernel's filter map. And the hold is bounded: a sonde that is stopped
 * or blocked on its output never stalls container starts on the host, and
 * says by name which containers it could not follow. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "containerd_env.h"
#include "oci_rootfs.h"
#include "testlib.h"

#define WORKDIR_PREFIX "/tmp/sonde-it-churn-"
#define RUNC_CHURN     50
#define CTR_CHURN      20
#define HELD_STARTS    10
#define HOLD_MS        50 /* --container-hold-timeout's default */
#define START_LIMIT_MS 10000
#define WORKER_MS      240000 /* a churn under qemu's emulation (check-kernels) takes minutes */

static char workdir[256];

static bool setup(void)
{
	static const char *const applets[] = {"echo", "cat", "true", NULL};

	oci_require("runc");
	return oci_workdir_create(workdir, sizeof(workdir), WORKDIR_PREFIX, applets) == 0;
}

static void cleanup(void)
{
	test_rm_tree(workdir, WORKDIR_PREFIX);
	workdir[0] = 0;
}

static void container_id(char *buf, size_t sz, const char *kind, int k)
{
	snprintf(buf, sz, "sonde-churn-%s-%d-%d", kind, getpid(), k);
}

/* Bundle <workdir>/<id> running args; NULL after saying why. */
static bool bundle_for(const char *id, json_t *args, char *dir, size_t sz)
{
	char rootfs[300];

	snprintf(dir, sz, "%s/%s", workdir, id);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", workdir);
	return oci_bundle_write(dir, rootfs, args, json_object()) == 0;
}

/* `runc run` of a prepared bundle, timed; killed (and a failure) past
 * START_LIMIT_MS, the sign of a start held without bound. The ms it took,
 * or -1. The container is deleted. */
static int64_t timed_run(const char *bundle, const char *id)
{
	const char *argv[] = {"runc", "run", "--bundle", bundle, id, NULL};
	int64_t t0 = test_now_ms(), took = -1;
	pid_t pid = test_spawn_quiet(argv);
	int st;

	while (pid > 0) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			took = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? test_now_ms() - t0 : -1;
			if (took < 0)
				fprintf(stderr, "runc run %s failed (status %d)\n", id, st);
			break;
		}
		if (test_now_ms() - t0 > START_LIMIT_MS) {
			fprintf(stderr, "runc run %s still running after %d ms: killed\n", id,
			        START_LIMIT_MS);
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		usleep(1000);
	}
	oci_delete("runc", id);
	return took;
}

/* Lines of sonde's stderr that are warnings about containers. */
static int container_warnings(const struct sonde_proc *p, const char *id)
{
	int n = 0;

	for (const char *l = p->err; l && (l = strstr(l, "sonde: warning: containers: ")); l++) {
		const char *nl = strchr(l, '\n');

		if (!id || (strstr(l, id) && (!nl || strstr(l, id) < nl)))
			n++;
	}
	return n;
}

/* ---- churn: every container's one event, attributed ---- */

struct churn {
	const char *gadget; /* trace_exec or trace_open */
	const char *field;  /* the record's field that names the container's work */
	char ids[RUNC_CHURN][64];
	char words[RUNC_CHURN][128]; /* what `field` holds for container k, exactly */
	char bundles[RUNC_CHURN][320];
};

static void check_churn(struct churn *c, const char *out)
{
	json_t *all = test_json_lines(out ? out : ""), *ev;
	int found = 0, right = 0;
	size_t i;

	for (int k = 0; k < RUNC_CHURN; k++) {
		bool seen = false;

		json_array_foreach(all, i, ev)
		{
			const char *v = test_json_str(ev, c->field);

			if (!v || strcmp(v, c->words[k]))
				continue;
			seen = true;
			if (!strcmp(test_json_str(ev, "runtime.containerName") ?: "", c->ids[k]))
				right++;
			else
				fprintf(stderr, "%s: %s attributed to '%s'\n", c->gadget, c->ids[k],
				        test_json_str(ev, "runtime.containerName"));
		}
		if (!seen)
			fprintf(stderr, "%s: no event of %s\n", c->gadget, c->ids[k]);
		found += seen;
	}
	CHECK_INT(found, RUNC_CHURN);
	CHECK_INT(right, RUNC_CHURN);
	json_decref(all);
}

static void churn_runc(const char *gadget)
{
	struct churn *c = calloc(1, sizeof(*c));
	const char *argv[] = {"run", gadget, "-o", "json", "-v", NULL};
	struct sonde_proc p;
	bool exec = !strcmp(gadget, "trace_exec");

	REQUIRE(c);
	c->gadget = gadget;
	c->field = exec ? "args" : "fname";
	if (!setup())
		goto out;
	for (int k = 0; k < RUNC_CHURN; k++) {
		json_t *args;

		container_id(c->ids[k], sizeof(c->ids[k]), exec ? "exec" : "open", k);
		if (exec) {
			snprintf(c->words[k], sizeof(c->words[k]), "/bin/echo word-%s", c->ids[k]);
			args = json_pack("[s,s]", "/bin/echo", c->words[k] + strlen("/bin/echo "));
		} else {
			char path[400];

			snprintf(c->words[k], sizeof(c->words[k]), "/etc/%s", c->ids[k]);
			snprintf(path, sizeof(path), "%s/rootfs%s", workdir, c->words[k]);
			test_write_file_or_abort(path, "churn\n");
			args = json_pack("[s,s]", "/bin/cat", c->words[k]);
		}
		if (!bundle_for(c->ids[k], args, c->bundles[k], sizeof(c->bundles[k]))) {
			test_failures++;
			goto out;
		}
	}
	if (sonde_proc_start_running(&p, argv))
		goto out;
	/* from a child, while this process reads sonde's output */
	pid_t worker = fork();
	if (worker == 0) {
		int bad = 0;

		for (int k = 0; k < RUNC_CHURN; k++)
			bad += oci_run("runc", c->bundles[k], c->ids[k]) != 0;
		_exit(bad != 0);
	}
	sonde_proc_await_child_for(&p, worker, WORKER_MS); /* every container ran */
	sonde_proc_wait_for(&p, 1, c->words[RUNC_CHURN - 1], 3000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	check_churn(c, p.out);
	/* nothing had to be said: every start was held in time */
	CHECK_INT(container_warnings(&p, NULL), 0);
	if (test_failures)
		sonde_proc_print_errors(&p);
	sonde_proc_free(&p);
out:
	cleanup();
	free(c);
}

static void test_runc_churn_exec(void)
{
	churn_runc("trace_exec");
}

static void test_runc_churn_open(void)
{
	churn_runc("trace_open");
}

/* containerd: its shim runs `runc create` then `runc start` per container */
static void test_ctr_churn(void)
{
	struct ctrd_env *e = ctrd_env_setup();
	const char *argv[] = {"run", "trace_exec", "-o", "json", "-v", "--containerd-socketpath", NULL, NULL};
	char ids[CTR_CHURN][64], words[CTR_CHURN][96];
	struct sonde_proc p;
	json_t *all, *ev;
	int found = 0, right = 0;
	size_t i;

	if (!e)
		return;
	argv[6] = e->socket;
	if (sonde_proc_start_running(&p, argv))
		goto out;
	for (int k = 0; k < CTR_CHURN; k++) {
		container_id(ids[k], sizeof(ids[k]), "ctr", k);
		snprintf(words[k], sizeof(words[k]), "word-%s", ids[k]);
	}
	pid_t worker = fork();
	if (worker == 0) {
		int bad = 0;

		for (int k = 0; k < CTR_CHURN; k++) {
			const char *run[] = {"run", "--rm", e->busybox.name, ids[k], "echo", words[k], NULL};
			bad += ctrd_ctr(e, "default", run, NULL) != 0;
		}
		_exit(bad != 0);
	}
	sonde_proc_await_child_for(&p, worker, WORKER_MS);
	sonde_proc_wait_for(&p, 1, words[CTR_CHURN - 1], 3000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	all = test_json_lines(p.out ? p.out : "");
	for (int k = 0; k < CTR_CHURN; k++) {
		bool seen = false;

		json_array_foreach(all, i, ev)
		{
			const char *args = test_json_str(ev, "args");
			const char *arg1 = args ? strchr(args, ' ') : NULL;

			/* the program as runc resolved it, then the word */
			if (!arg1 || strcmp(arg1 + 1, words[k]))
				continue;
			seen = true;
			right += !strcmp(test_json_str(ev, "runtime.containerName") ?: "", ids[k]) &&
			         !strcmp(test_json_str(ev, "runtime.runtimeName") ?: "", "containerd");
		}
		if (!seen)
			fprintf(stderr, "no event of %s\n", ids[k]);
		found += seen;
	}
	CHECK_INT(found, CTR_CHURN);
	CHECK_INT(right, CTR_CHURN);
	CHECK_INT(container_warnings(&p, NULL), 0);
	if (test_failures)
		sonde_proc_print_errors(&p);
	json_decref(all);
	sonde_proc_free(&p);
out:
	ctrd_env_stop(e);
}

/* ---- a held sonde: bounded holds, said by name ---- */

/* The slowest of a few plain starts of bundle, no sonde running. */
static int64_t normal_start_ms(const char *bundle)
{
	int64_t worst = 0;

	for (int k = 0; k < 5; k++) {
		char id[64];
		int64_t ms;

		container_id(id, sizeof(id), "baseline", k);
		ms = timed_run(bundle, id);
		if (ms < 0)
			return -1;
		worst = ms > worst ? ms : worst;
	}
	return worst;
}

/* Starts HELD_STARTS containers while sonde cannot run its loop: each must
 * finish within the hold's bound plus a normal start, with room for a loaded
 * host (three times the slowest plain start, and 250 ms); an unbounded hold
 * would keep it until START_LIMIT_MS. */
static void start_while_held(const char *bundle, int64_t normal, char ids[HELD_STARTS][64])
{
	int64_t limit = HOLD_MS + 3 * normal + 250;

	for (int k = 0; k < HELD_STARTS; k++) {
		int64_t ms;

		container_id(ids[k], sizeof(ids[k]), "held", k);
		ms = timed_run(bundle, ids[k]);
		CHECK(ms >= 0);
		if (ms > limit)
			fprintf(stderr, "%s took %lld ms, over %lld ms\n", ids[k], (long long)ms,
			        (long long)limit);
		CHECK(ms <= limit);
	}
}

/* The rootfs, a bundle running /bin/true, its plain start time, then sonde
 * with argv; false after counting why as a failure (or skipping). */
static bool held_setup(const char *const *argv, char *bundle, size_t sz, int64_t *normal,
                       struct sonde_proc *p)
{
	if (!setup())
		return false;
	if (!bundle_for("held", json_pack("[s]", "/bin/true"), bundle, sz) ||
	    (*normal = normal_start_ms(bundle)) < 0) {
		test_failures++;
		return false;
	}
	return sonde_proc_start_running(p, argv) == 0;
}

static void test_stopped_sonde(void)
{
	const char *argv[] = {"run", "trace_exec", "-o", "json", "-v", NULL};
	char bundle[320], ids[HELD_STARTS][64];
	struct sonde_proc p;
	int64_t normal;

	if (!held_setup(argv, bundle, sizeof(bundle), &normal, &p))
		goto out;
	CHECK_INT(kill(p.pid, SIGSTOP), 0);
	start_while_held(bundle, normal, ids);
	CHECK_INT(kill(p.pid, SIGCONT), 0);
	/* once running again, sonde says which containers it could not follow */
	sonde_proc_wait_for(&p, 2, ids[HELD_STARTS - 1], 5000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	for (int k = 0; k < HELD_STARTS; k++) {
		if (container_warnings(&p, ids[k]) != 1)
			fprintf(stderr, "%s: said %d times\n", ids[k], container_warnings(&p, ids[k]));
		CHECK_INT(container_warnings(&p, ids[k]), 1);
	}
	if (test_failures)
		sonde_proc_print_errors(&p);
	sonde_proc_free(&p);
out:
	cleanup();
}

/* Whether pid sleeps in a pipe write (pipe_write, anon_pipe_write on 6.18). */
static bool in_pipe_write(pid_t pid)
{
	char path[64], *wchan;
	bool blocked;

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	wchan = test_read_file(path, NULL);
	blocked = wchan && strstr(wchan, "pipe_write");
	free(wchan);
	return blocked;
}

/* sonde's stdout is a pipe nobody reads: once it is full, sonde's loop is
 * blocked in a write, and container starts must not wait for it. */
static void test_blocked_output(void)
{
	const char *argv[] = {"run", "trace_exec", "--host", "-o", "json", "-v", NULL};
	/* long arguments make each record ~5 KB: sonde's stdout pipe (raised to
	 * the system's maximum, 1 MiB) fills in ~200 execs, even under qemu */
	const char *true_argv[21] = {"/bin/true"};
	char bundle[320], ids[HELD_STARTS][64], arg[250];
	struct sonde_proc p;
	int64_t normal, t0;
	bool blocked = false;

	memset(arg, 'a', sizeof(arg) - 1);
	arg[sizeof(arg) - 1] = 0;
	for (int k = 1; k < 20; k++)
		true_argv[k] = arg;
	if (!held_setup(argv, bundle, sizeof(bundle), &normal, &p))
		goto out;
	/* host execs until a pipe's worth of records waits unread */
	t0 = test_now_ms();
	while (!blocked && test_now_ms() - t0 < 60000) {
		for (int k = 0; k < 20; k++)
			test_run_quiet(true_argv);
		usleep(20 * 1000);
		blocked = in_pipe_write(p.pid);
	}
	CHECK(blocked);
	start_while_held(bundle, normal, ids);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 20000), 0);
	if (test_failures)
		sonde_proc_print_errors(&p);
	sonde_proc_free(&p);
out:
	cleanup();
}

TEST_MAIN(TEST(test_runc_churn_exec), TEST(test_runc_churn_open), TEST(test_ctr_churn),
          TEST(test_stopped_sonde), TEST(test_blocked_output))
