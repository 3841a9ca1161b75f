/* Kernel-side filters proven in the kernel, not through a log line: while
 * sonde is stopped (SIGSTOP: nothing drains its ring buffer), a decoy
 * process floods trace_open with opens of the very path the target opens.
 * The decoy's events are ~4.5 KiB each and DECOY_OPENS of them are several
 * times the largest ring sonde makes (64 MiB), so any that reached the ring
 * would overflow it and sonde would report them lost. With the filter in the
 * kernel nothing is lost, and exactly the target's opens come out: not the
 * decoy's, not the test's own (it opens the path too). Each of --pid, --tid,
 * --uid, --gid, --comm, --param (by full name and by key) and a --filter
 * rule pushed down is run end to end. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

#define DECOY_OPENS 50000
#define TARGET_UID  4242
#define TARGET_GID  4343

/* A process held until released, then opening a path `opens` times (from a
 * second thread when `threaded`: the main thread opens it once too, so a
 * tid filter has a same-process open to drop). */
struct actor_cfg {
	const char *comm;
	uid_t uid; /* 0: stays root */
	gid_t gid;
	bool threaded;
	int opens;
};

struct actor {
	pid_t pid;
	pid_t tid; /* of the thread that opens `opens` times */
	int go_fd;
};

struct opener {
	const char *path;
	int opens;
	int go_fd; /* the thread waits on it */
	pid_t tid;
	int tid_fd;
};

static void open_n(const char *path, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) /* the path does not exist: an open that works is a broken test */
			_exit(3);
	}
}

static void *opener_thread(void *arg)
{
	struct opener *o = arg;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char byte;

	if (write(o->tid_fd, &tid, sizeof(tid)) != sizeof(tid) || read(o->go_fd, &byte, 1) != 1)
		_exit(4);
	open_n(o->path, o->opens);
	return NULL;
}

static void actor_start(struct actor *a, const struct actor_cfg *cfg, const char *path)
{
	int go[2], tid[2];

	if (pipe(go) || pipe(tid))
		abort();
	a->pid = fork();
	if (a->pid < 0)
		abort();
	if (a->pid == 0) {
		pid_t me = getpid();
		char byte;

		close(go[1]);
		close(tid[0]);
		prctl(PR_SET_NAME, cfg->comm);
		if (cfg->gid && setresgid(cfg->gid, cfg->gid, cfg->gid))
			_exit(5);
		if (cfg->uid && setresuid(cfg->uid, cfg->uid, cfg->uid))
			_exit(5);
		if (cfg->threaded) {
			int inner[2], tgo[2];
			struct opener o = {.path = path, .opens = cfg->opens};
			pthread_t th;

			if (pipe(inner) || pipe(tgo))
				_exit(6);
			o.tid_fd = inner[1];
			o.go_fd = tgo[0];
			if (pthread_create(&th, NULL, opener_thread, &o) ||
			    read(inner[0], &me, sizeof(me)) != sizeof(me) ||
			    write(tid[1], &me, sizeof(me)) != sizeof(me) || read(go[0], &byte, 1) != 1)
				_exit(6);
			open_n(path, 1); /* the main thread: not the tid asked for */
			if (write(tgo[1], "x", 1) != 1 || pthread_join(th, NULL))
				_exit(6);
			_exit(0);
		}
		if (write(tid[1], &me, sizeof(me)) != sizeof(me) || read(go[0], &byte, 1) != 1)
			_exit(4);
		open_n(path, cfg->opens);
		_exit(0);
	}
	close(go[0]);
	close(tid[1]);
	a->go_fd = go[1];
	if (read(tid[0], &a->tid, sizeof(a->tid)) != sizeof(a->tid))
		a->tid = -1;
	close(tid[0]);
}

/* Releases the actor and waits for it: its exit status (0: every open done). */
static int actor_run(struct actor *a)
{
	int rc = write(a->go_fd, "x", 1) == 1 ? 0 : -1;

	close(a->go_fd);
	return rc ? rc : test_wait_status(a->pid);
}

struct verdict {
	size_t target, other; /* events naming the path: the target's, anyone else's */
	unsigned long long lost;
	json_t *first; /* the first of the target's events (a reference), or NULL */
	char *err;     /* sonde's messages */
	int status;
};

/* trace_open --host with flags (some may hold "%pid"/"%tid": the target's),
 * sonde stopped while the decoy floods and the target and the test open the
 * path, then resumed and stopped with SIGINT. */
static void run_case(const char *const *flags, const struct actor_cfg *target_cfg, const char *needle,
                     struct verdict *v)
{
	const char *argv[20] = {"run", "trace_open", "--host", "-o", "json", "-v"};
	static const struct actor_cfg decoy_cfg = {.comm = "sonde_pd_decoy", .opens = DECOY_OPENS};
	char path[128], bufs[4][64];
	struct actor target, decoy;
	struct sonde_proc p;
	size_t n = 6, i;
	json_t *all, *ev;

	memset(v, 0, sizeof(*v));
	snprintf(path, sizeof(path), "/nonexistent-sonde-pd/%d-%ld", getpid(), random());
	actor_start(&target, target_cfg, path);
	actor_start(&decoy, &decoy_cfg, path);
	for (size_t k = 0; flags[k]; k++) {
		if (!strcmp(flags[k], "%pid") || !strcmp(flags[k], "%tid")) {
			snprintf(bufs[k % 4], sizeof(bufs[0]), "%d",
			         flags[k][1] == 'p' ? target.pid : target.tid);
			argv[n++] = bufs[k % 4];
		} else if (strstr(flags[k], "%pid")) {
			snprintf(bufs[k % 4], sizeof(bufs[0]), "%.*s%d",
			         (int)(strstr(flags[k], "%pid") - flags[k]), flags[k], target.pid);
			argv[n++] = bufs[k % 4];
		} else {
			argv[n++] = flags[k];
		}
	}
	argv[n] = NULL;
	if (sonde_proc_start_running(&p, argv)) {
		actor_run(&target);
		actor_run(&decoy);
		return;
	}
	if (needle && !sonde_proc_wait_for(&p, 2, needle, 1)) {
		fprintf(stderr, "no \"%s\" in sonde's messages:\n%s\n", needle, p.err ? p.err : "");
		test_failures++;
	}
	CHECK(kill(p.pid, SIGSTOP) == 0);
	CHECK_INT(actor_run(&decoy), 0);
	CHECK_INT(actor_run(&target), 0);
	open_n(path, 1); /* the test itself: root, its own pid, tid and comm */
	CHECK(kill(p.pid, SIGCONT) == 0);
	/* what the kernel kept is drained at stop: no wait needed for it */
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 30000), 0);
	v->lost = sonde_lost_samples(p.err);
	all = test_json_lines(p.out ? p.out : "");
	json_array_foreach(all, i, ev)
	{
		const char *f = test_json_str(ev, "fname");

		if (!f || strcmp(f, path))
			continue;
		if (test_json_int(ev, "proc.pid", -1) == target.pid &&
		    test_json_int(ev, "proc.tid", -1) == target.tid) {
			if (!v->target++)
				v->first = json_incref(ev);
		} else {
			v->other++;
		}
	}
	json_decref(all);
	v->err = strdup(p.err ? p.err : "");
	v->status = p.status;
	sonde_proc_free(&p);
}

/* The target's `want` opens and nothing else; none lost. */
static void check_only_target(struct verdict *v, size_t want)
{
	int before = test_failures;

	CHECK_INT(v->lost, 0);
	CHECK_INT(v->other, 0);
	CHECK_INT(v->target, want);
	if (test_failures != before)
		sonde_proc_print_errors(&(struct sonde_proc){.err = v->err, .status = v->status});
}

static void verdict_free(struct verdict *v)
{
	json_decref(v->first);
	free(v->err);
}

static void setup(void)
{
	test_require_root();
	srandom((unsigned)getpid());
}

static void test_pid(void)
{
	const char *flags[] = {"--pid", "%pid", NULL};
	struct actor_cfg cfg = {.comm = "sonde_pd_pid", .opens = 3};
	struct verdict v;

	setup();
	run_case(flags, &cfg, NULL, &v);
	check_only_target(&v, 3);
	verdict_free(&v);
}

/* The target's second thread, not its main thread (same pid, same path). */
static void test_tid(void)
{
	const char *flags[] = {"--tid", "%tid", NULL};
	struct actor_cfg cfg = {.comm = "sonde_pd_tid", .threaded = true, .opens = 2};
	struct verdict v;

	setup();
	run_case(flags, &cfg, NULL, &v);
	check_only_target(&v, 2);
	verdict_free(&v);
}

static void test_uid(void)
{
	const char *flags[] = {"--uid", "4242", NULL};
	struct actor_cfg cfg = {.comm = "sonde_pd_uid", .uid = TARGET_UID, .opens = 2};
	struct verdict v;

	setup();
	run_case(flags, &cfg, NULL, &v);
	check_only_target(&v, 2);
	CHECK_INT(test_json_int(v.first, "proc.creds.uid", -1), TARGET_UID);
	verdict_free(&v);
}

static void test_gid(void)
{
	const char *flags[] = {"--gid", "4343", NULL};
	struct actor_cfg cfg = {.comm = "sonde_pd_gid", .gid = TARGET_GID, .opens = 2};
	struct verdict v;

	setup();
	run_case(flags, &cfg, NULL, &v);
	check_only_target(&v, 2);
	CHECK_INT(test_json_int(v.first, "proc.creds.gid", -1), TARGET_GID);
	verdict_free(&v);
}

static void test_comm(void)
{
	const char *flags[] = {"--comm", "sonde_pd_comm", NULL};
	struct actor_cfg cfg = {.comm = "sonde_pd_comm", .opens = 2};
	struct verdict v;

	setup();
	run_case(flags, &cfg, NULL, &v);
	check_only_target(&v, 2);
	CHECK_STR(test_json_str(v.first, "proc.comm"), "sonde_pd_comm");
	verdict_free(&v);
}

/* --param KEY=VALUE sets the same kernel param, by full name or by key. */
static void test_param(void)
{
	const char *full[] = {"--param", "operator.oci.ebpf.pid=%pid", NULL};
	const char *key[] = {"--param", "uid=4242", NULL};
	struct actor_cfg cfg = {.comm = "sonde_pd_param", .opens = 2};
	struct actor_cfg uid_cfg = {.comm = "sonde_pd_param", .uid = TARGET_UID, .opens = 3};
	struct verdict v;

	setup();
	run_case(full, &cfg, NULL, &v);
	check_only_target(&v, 2);
	verdict_free(&v);
	run_case(key, &uid_cfg, NULL, &v);
	check_only_target(&v, 3);
	verdict_free(&v);
}

/* --filter proc.pid==N becomes the kernel's pid param: the userspace filter
 * alone would print the same events, but would have let the decoy's flood
 * through the ring. */
static void test_filter_rule_pushed_down(void)
{
	const char *flags[] = {"--filter", "proc.pid==%pid", NULL};
	struct actor_cfg cfg = {.comm = "sonde_pd_filter", .opens = 2};
	struct verdict v;

	setup();
	run_case(flags, &cfg, "filter: pushed down proc.pid==", &v);
	check_only_target(&v, 2);
	verdict_free(&v);
}

/* Blanks around the operator are not part of the value: `proc.comm == X`
 * pushes comm=X into the kernel (it once pushed " X" and matched nothing). */
static void test_filter_rule_with_blanks(void)
{
	const char *flags[] = {"--filter", " proc.comm == sonde_pd_fcomm ", NULL};
	struct actor_cfg cfg = {.comm = "sonde_pd_fcomm", .opens = 2};
	struct verdict v;

	setup();
	run_case(flags, &cfg, "filter: pushed down proc.comm==sonde_pd_fcomm to the kernel", &v);
	check_only_target(&v, 2);
	verdict_free(&v);
}

/* The control: without a filter the same flood overflows the ring and is
 * reported lost, so the cases above could see a failure. */
static void test_control_flood_is_lost(void)
{
	const char *flags[] = {NULL};
	struct actor_cfg cfg = {.comm = "sonde_pd_ctl", .opens = 1};
	struct verdict v;

	setup();
	run_case(flags, &cfg, NULL, &v);
	CHECK(v.lost > 0);
	CHECK(v.other + v.lost >= DECOY_OPENS);
	verdict_free(&v);
}

TEST_MAIN(TEST(test_control_flood_is_lost), TEST(test_pid), TEST(test_tid), TEST(test_uid), TEST(test_gid),
          TEST(test_comm), TEST(test_param), TEST(test_filter_rule_pushed_down),
          TEST(test_filter_rule_with_blanks))
