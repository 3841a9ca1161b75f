/* trace_exec through the sonde command: a spawned program and its arguments. */
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
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

/* A JSON boolean of ev: 1 true, 0 false, -1 missing or not a boolean. */
static int json_bool(json_t *ev, const char *path)
{
	json_t *v = test_json_path(ev, path);

	return json_is_boolean(v) ? json_is_true(v) : -1;
}

static long long ctime_ns(const struct stat *st)
{
	return (long long)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
}

/* Paths come from the root of the mount namespace, not the process's root:
 * under scripts/run-in-vm.sh, whose tests run chrooted in /new, that root is
 * the initramfs' and every path has a prefix. got must end with want. */
static void check_path(json_t *ev, const char *field, const char *want)
{
	const char *got = test_json_str(ev, field);
	size_t gl = got ? strlen(got) : 0, wl = strlen(want);

	if (!got || gl < wl || strcmp(got + gl - wl, want) != 0 || (gl > wl && got[gl - wl - 1] == '/')) {
		fprintf(stderr, "%s: got \"%s\", want \"%s\" (or a path ending in it)\n", field,
		        got ? got : "(none)", want);
		test_failures++;
	}
}

/* Copies the file at src to dst with mode. 0 or -1. */
static int copy_file(const char *src, const char *dst, mode_t mode)
{
	size_t len;
	char *data = test_read_file(src, &len);
	int fd, ok;

	if (!data)
		return -1;
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ok = fd >= 0 && write(fd, data, len) == (ssize_t)len;
	if (fd >= 0)
		close(fd);
	free(data);
	return ok && chmod(dst, mode) == 0 ? 0 : -1;
}

/* Mount id of path (statx), -1 if unknown. */
static long long mount_id(const char *path)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) || !(stx.stx_mask & STATX_MNT_ID))
		return -1;
	return (long long)stx.stx_mnt_id;
}

/*
 * A child that runs setup(arg) (the exit status 120 + its non-zero return
 * if it fails), waits for a byte on *go_fd, then execs argv with stdout on
 * /dev/null: a test starts tracing between the two.
 */
static pid_t spawn_held(int (*setup)(void *arg), void *arg, const char *const *argv, int *go_fd)
{
	int go[2];
	pid_t pid;

	if (pipe(go))
		abort();
	pid = fork();
	if (pid == 0) {
		int devnull, err;
		char c;

		close(go[1]);
		if (setup && (err = setup(arg)) != 0)
			_exit(120 + err);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(go[0]);
	*go_fd = go[1];
	return pid;
}

/* Starts `sonde run trace_exec --host -o json -v` with extra flags, lets the
 * child at go run to its end (status 0), returns sonde's stdout events whose
 * args contain token (caller decrefs). */
static json_t *trace_child(const char *const *extra, pid_t child, int go, const char *token)
{
	const char *argv[16] = {"run", "trace_exec", "--host", "-o", "json", "-v"};
	struct sonde_proc p;
	json_t *evs;
	size_t n = 6;
	int status;

	for (; extra && *extra && n < 15; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	if (sonde_proc_start(&p, argv)) {
		close(go);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		test_failures++;
		return json_array();
	}
	CHECK(sonde_proc_wait_for(&p, 2, "running", 15000));
	CHECK(write(go, "x", 1) == 1);
	close(go);
	waitpid(child, &status, 0);
	CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), 0);
	sonde_proc_wait_for(&p, 1, token, 3000);
	CHECK_INT(sonde_proc_finish(&p, SIGINT, 10000), 0);
	evs = events_with_token(p.out ? p.out : "", token);
	sonde_proc_free(&p);
	return evs;
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
	/* upstream's name for the resolved login uid; "user" is proc.creds.user */
	CHECK(test_json_str(ev, "loginuser") != NULL);
	CHECK(test_json_path(ev, "user") == NULL);
	/* the path fields cost nothing without --paths */
	CHECK_STR(test_json_str(ev, "file"), "");
	CHECK_STR(test_json_str(ev, "exepath"), "");
	CHECK_STR(test_json_str(ev, "parent_exepath"), "");
	CHECK_INT(test_json_int(ev, "inode", -1), 0);
	CHECK_INT(test_json_int(ev, "dev_major", -1), 0);
	CHECK_INT(test_json_int(ev, "dev_minor", -1), 0);
	/* the others do not need it */
	CHECK(test_json_int(ev, "ctime", 0) > 0);
	CHECK_INT(test_json_int(ev, "fctime", -1), test_json_int(ev, "ctime", 0));
	CHECK(test_json_int(ev, "pctime", 0) > 0);
	json_decref(evs);
	sonde_proc_free(&p);
}

/*
 * With --paths, a binary's file facts against stat(2): a copy of /bin/echo in
 * a directory of the test's (tmpfs or the root file system, never the
 * overlayfs root of the VM run, whose stat shows the lower layer's device),
 * and a #! script run by it, for which Sonde, without upstream's kprobe,
 * knows only the name (README.md).
 */
static void test_exec_file_fields(void)
{
	static const char prefix[] = "/tmp/sonde-exec-files-";
	const char *extra[] = {"--paths", NULL};
	char dir[PATH_MAX], bin[PATH_MAX + 16], script[PATH_MAX + 16], self[PATH_MAX], cwd[PATH_MAX];
	char token[64], text[PATH_MAX + 64];
	struct stat bst, sst;
	json_t *evs, *ev;
	ssize_t n;
	int go;
	pid_t pid;

	test_require_root();
	snprintf(dir, sizeof(dir), "%sXXXXXX", prefix);
	REQUIRE(mkdtemp(dir));
	snprintf(bin, sizeof(bin), "%s/echo", dir);
	snprintf(script, sizeof(script), "%s/run.sh", dir);
	snprintf(token, sizeof(token), "sonde-files-token-%d", getpid());
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	REQUIRE(n > 0);
	self[n] = '\0';
	REQUIRE(getcwd(cwd, sizeof(cwd)));
	REQUIRE(copy_file("/bin/echo", bin, 0755) == 0);
	snprintf(text, sizeof(text), "#!%s\n", bin);
	REQUIRE(test_write_file(script, text) == 0 && chmod(script, 0755) == 0);
	REQUIRE(stat(bin, &bst) == 0);
	REQUIRE(stat(script, &sst) == 0);

	/* the binary */
	pid = spawn_held(NULL, NULL, (const char *const[]){bin, token, NULL}, &go);
	evs = trace_child(extra, pid, go, token);
	CHECK_INT((int)json_array_size(evs), 1);
	if ((ev = json_array_get(evs, 0))) {
		check_path(ev, "file", bin);
		check_path(ev, "exepath", bin);
		check_path(ev, "parent_exepath", self);
		check_path(ev, "cwd", cwd);
		CHECK_INT(test_json_int(ev, "dev_major", -1), major(bst.st_dev));
		CHECK_INT(test_json_int(ev, "dev_minor", -1), minor(bst.st_dev));
		CHECK_INT(test_json_int(ev, "inode", -1), (long long)bst.st_ino);
		CHECK_INT(test_json_int(ev, "ctime", -1), ctime_ns(&bst));
		CHECK_INT(test_json_int(ev, "fctime", -1), ctime_ns(&bst));
		REQUIRE(stat(self, &sst) == 0);
		CHECK_INT(test_json_int(ev, "pctime", -1), ctime_ns(&sst));
		/* on the root's mount or not: /tmp is a mount of its own in the VM */
		CHECK_INT(json_bool(ev, "from_rootfs"), mount_id(bin) == mount_id("/"));
		CHECK_INT(json_bool(ev, "file_from_rootfs"), mount_id(bin) == mount_id("/"));
		CHECK_INT(json_bool(ev, "upper_layer"), 0);
		CHECK_INT(json_bool(ev, "fupper_layer"), 0);
		CHECK_INT(json_bool(ev, "pupper_layer"), 0);
	}
	json_decref(evs);

	/* the script: file is its name, its own facts are unknown (0) */
	REQUIRE(stat(script, &sst) == 0);
	pid = spawn_held(NULL, NULL, (const char *const[]){script, token, NULL}, &go);
	evs = trace_child(extra, pid, go, token);
	CHECK_INT((int)json_array_size(evs), 1);
	if ((ev = json_array_get(evs, 0))) {
		CHECK_STR(test_json_str(ev, "file"), script);
		check_path(ev, "exepath", bin);
		CHECK_INT(test_json_int(ev, "inode", -1), 0);
		CHECK_INT(test_json_int(ev, "dev_major", -1), 0);
		CHECK_INT(test_json_int(ev, "dev_minor", -1), 0);
		CHECK_INT(test_json_int(ev, "fctime", -1), 0);
		CHECK_INT(json_bool(ev, "fupper_layer"), 0);
		CHECK_INT(json_bool(ev, "file_from_rootfs"), 0);
		/* the interpreter's */
		CHECK_INT(test_json_int(ev, "ctime", -1), ctime_ns(&bst));
		CHECK_INT(json_bool(ev, "from_rootfs"), mount_id(bin) == mount_id("/"));
	}
	json_decref(evs);
	test_rm_tree(dir, prefix);
}

/* The child: a new session whose controlling terminal is the pty slave at arg. */
static int setup_ctty(void *arg)
{
	int fd;

	if (setsid() < 0)
		return 1;
	fd = open(arg, O_RDWR | O_NOCTTY);
	if (fd < 0)
		return 2;
	if (ioctl(fd, TIOCSCTTY, 0))
		return 3;
	dup2(fd, 0);
	dup2(fd, 2);
	return 0;
}

struct overlay {
	char dir[PATH_MAX], merged[PATH_MAX + 8];
};

/* The child: a mount namespace of its own with dir/{lower,upper} overlaid
 * on dir/merged, as a container runtime does for an image and its
 * container's writable layer. */
static int setup_overlay(void *arg)
{
	struct overlay *o = arg;
	char opts[3 * PATH_MAX + 64];

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return 1;
	snprintf(opts, sizeof(opts), "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", o->dir, o->dir,
	         o->dir);
	return mount("overlay", o->merged, "overlay", 0, opts) ? 2 : 0;
}

/* Finds the event whose args start with prefix (NULL and a failure if none). */
static json_t *event_starting(json_t *evs, const char *prefix)
{
	json_t *ev;
	size_t i;

	json_array_foreach(evs, i, ev)
	{
		const char *args = test_json_str(ev, "args");

		if (args && strncmp(args, prefix, strlen(prefix)) == 0)
			return ev;
	}
	fprintf(stderr, "no event whose args start with \"%s\"\n", prefix);
	test_failures++;
	return NULL;
}

/*
 * upper_layer, fupper_layer, pupper_layer and from_rootfs on an overlay
 * mount built by the test (busybox-static: /u/busybox only in the upper
 * layer, /l/busybox only in the lower one): run from outside (not on the
 * root's mount), then chrooted into it as a container's processes are, the
 * upper busybox's shell running the lower busybox and a script.
 */
static void test_overlay_layers(void)
{
	static const char prefix[] = "/tmp/sonde-exec-ovl-";
	char token[64], path[PATH_MAX + 32], upper_bin[PATH_MAX + 32], lower_bin[PATH_MAX + 32], cmd[256];
	struct overlay o;
	struct stat ust, lst;
	json_t *evs, *ev;
	int go;
	pid_t pid;

	test_require_root();
	if (access("/bin/busybox", X_OK))
		test_skip_dep("/bin/busybox (busybox-static) is missing");
	snprintf(o.dir, sizeof(o.dir), "%sXXXXXX", prefix);
	REQUIRE(mkdtemp(o.dir));
	snprintf(token, sizeof(token), "sonde-ovl-token-%d", getpid());
	snprintf(o.merged, sizeof(o.merged), "%s/merged", o.dir);
	static const char *const dirs[] = {"lower", "lower/l", "upper", "upper/u", "work", "merged"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", o.dir, dirs[i]);
		REQUIRE(mkdir(path, 0755) == 0);
	}
	snprintf(lower_bin, sizeof(lower_bin), "%s/lower/l/busybox", o.dir);
	snprintf(upper_bin, sizeof(upper_bin), "%s/upper/u/busybox", o.dir);
	REQUIRE(copy_file("/bin/busybox", lower_bin, 0755) == 0);
	REQUIRE(copy_file("/bin/busybox", upper_bin, 0755) == 0);
	snprintf(path, sizeof(path), "%s/upper/u/run.sh", o.dir);
	REQUIRE(test_write_file(path, "#!/l/busybox sh\n") == 0 && chmod(path, 0755) == 0);
	REQUIRE(stat(lower_bin, &lst) == 0);
	REQUIRE(stat(upper_bin, &ust) == 0);

	snprintf(path, sizeof(path), "%s/u/busybox", o.merged);
	snprintf(cmd, sizeof(cmd), "/l/busybox true %s; /u/run.sh %s; /l/busybox true", token, token);
	pid = spawn_held(setup_overlay, &o,
	                 (const char *const[]){path, "chroot", o.merged, "/u/busybox", "sh", "-c", cmd, NULL},
	                 &go);
	/* without --paths: none of these fields needs it */
	evs = trace_child(NULL, pid, go, token);
	CHECK_INT((int)json_array_size(evs), 4);

	/* the upper busybox from outside: not on the root's mount */
	if ((ev = event_starting(evs, path))) {
		CHECK_INT(json_bool(ev, "upper_layer"), 1);
		CHECK_INT(json_bool(ev, "fupper_layer"), 1);
		CHECK_INT(json_bool(ev, "from_rootfs"), 0);
		CHECK_INT(json_bool(ev, "file_from_rootfs"), 0);
		CHECK_INT(json_bool(ev, "pupper_layer"), 0);
		CHECK_INT(test_json_int(ev, "ctime", -1), ctime_ns(&ust));
	}
	/* chrooted: now on the root's mount */
	if ((ev = event_starting(evs, "/u/busybox sh"))) {
		CHECK_INT(json_bool(ev, "upper_layer"), 1);
		CHECK_INT(json_bool(ev, "fupper_layer"), 1);
		CHECK_INT(json_bool(ev, "from_rootfs"), 1);
		CHECK_INT(json_bool(ev, "file_from_rootfs"), 1);
		/* its parent is itself before the exec: busybox chroot execs in place */
		CHECK_INT(json_bool(ev, "pupper_layer"), 0);
	}
	/* the lower busybox, child of the upper one's shell */
	if ((ev = event_starting(evs, "/l/busybox true"))) {
		CHECK_INT(json_bool(ev, "upper_layer"), 0);
		CHECK_INT(json_bool(ev, "fupper_layer"), 0);
		CHECK_INT(json_bool(ev, "from_rootfs"), 1);
		CHECK_INT(json_bool(ev, "file_from_rootfs"), 1);
		CHECK_INT(json_bool(ev, "pupper_layer"), 1);
		CHECK_INT(test_json_int(ev, "ctime", -1), ctime_ns(&lst));
		CHECK_INT(test_json_int(ev, "fctime", -1), ctime_ns(&lst));
		CHECK_INT(test_json_int(ev, "pctime", -1), ctime_ns(&ust));
	}
	/* a script in the upper layer run by the lower busybox: the
	 * interpreter's facts; the script's are unknown to Sonde */
	if ((ev = event_starting(evs, "/u/run.sh"))) {
		CHECK_INT(json_bool(ev, "upper_layer"), 0);
		CHECK_INT(json_bool(ev, "from_rootfs"), 1);
		CHECK_INT(json_bool(ev, "fupper_layer"), 0);
		CHECK_INT(json_bool(ev, "file_from_rootfs"), 0);
		CHECK_INT(test_json_int(ev, "fctime", -1), 0);
		CHECK_INT(test_json_int(ev, "ctime", -1), ctime_ns(&lst));
	}
	json_decref(evs);
	test_rm_tree(o.dir, prefix);
}

static int setup_no_ctty(void *arg)
{
	(void)arg;
	return setsid() < 0;
}

/* tty, tty_major and tty_minor: the controlling terminal of a process that
 * has one (a pty of the test's), 0:0 for one that has none. */
static void test_exec_tty(void)
{
	char token[64], slave[64];
	struct stat st;
	json_t *evs, *ev;
	int master, spare, go, pty;
	pid_t pid;

	test_require_root();
	snprintf(token, sizeof(token), "sonde-tty-token-%d", getpid());
	/* a pty numbered above 0, which "no terminal" and a minor of
	 * minor_start alone cannot pass for: the lowest free number is taken,
	 * so a second one is, if pts/0 was free */
	spare = -1;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	REQUIRE(master >= 0);
	REQUIRE(grantpt(master) == 0 && unlockpt(master) == 0);
	REQUIRE(ptsname_r(master, slave, sizeof(slave)) == 0);
	REQUIRE(sscanf(slave, "/dev/pts/%d", &pty) == 1);
	if (pty == 0) {
		spare = master;
		master = posix_openpt(O_RDWR | O_NOCTTY);
		REQUIRE(master >= 0);
		REQUIRE(grantpt(master) == 0 && unlockpt(master) == 0);
		REQUIRE(ptsname_r(master, slave, sizeof(slave)) == 0);
		REQUIRE(sscanf(slave, "/dev/pts/%d", &pty) == 1);
	}
	CHECK(pty > 0);
	REQUIRE(stat(slave, &st) == 0);

	pid = spawn_held(setup_ctty, slave, (const char *const[]){"/bin/echo", token, NULL}, &go);
	evs = trace_child(NULL, pid, go, token);
	CHECK_INT((int)json_array_size(evs), 1);
	if ((ev = json_array_get(evs, 0))) {
		CHECK_INT(test_json_int(ev, "tty_major", -1), 136);
		CHECK_INT(test_json_int(ev, "tty_major", -1), major(st.st_rdev));
		CHECK_INT(test_json_int(ev, "tty_minor", -1), minor(st.st_rdev));
		CHECK_INT(test_json_int(ev, "tty_minor", -1), pty);
		CHECK_INT(test_json_int(ev, "tty", -1), pty);
	}
	json_decref(evs);
	close(master);
	if (spare >= 0)
		close(spare);

	/* no controlling terminal: a new session without one */
	snprintf(token, sizeof(token), "sonde-notty-token-%d", getpid());
	pid = spawn_held(setup_no_ctty, NULL, (const char *const[]){"/bin/echo", token, NULL}, &go);
	evs = trace_child(NULL, pid, go, token);
	CHECK_INT((int)json_array_size(evs), 1);
	if ((ev = json_array_get(evs, 0))) {
		CHECK_INT(test_json_int(ev, "tty_major", -1), 0);
		CHECK_INT(test_json_int(ev, "tty_minor", -1), 0);
		CHECK_INT(test_json_int(ev, "tty", -1), 0);
	}
	json_decref(evs);
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
	/* no file was executed: its facts stay unset, as upstream's (but fctime) */
	CHECK_INT(test_json_int(ev, "ctime", -1), 0);
	CHECK_INT(test_json_int(ev, "fctime", -1), 0);
	CHECK_INT(test_json_int(ev, "pctime", -1), 0);
	CHECK_INT(json_bool(ev, "from_rootfs"), 0);
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

TEST_MAIN(TEST(test_exec_event), TEST(test_exec_file_fields), TEST(test_exec_tty), TEST(test_overlay_layers),
          TEST(test_failed_exec), TEST(test_comm_is_the_name_after_exec))
