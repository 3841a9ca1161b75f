/* The loader's kprobe, kretprobe, fentry, fexit, lsm and tp_btf paths on the
 * running kernel, one hook kind per case (`test_kernel_hooks <kind>`; ctest
 * runs each on its own). The fixture ebpf_khooks hooks the open path; a
 * thread of this process opens a file that exists and one that does not, and
 * the records must carry that thread's pid, tid and comm, the path and, for
 * the exit hooks, the fd or -ENOENT the thread got. While the gadget runs its
 * program and link are listed by the kernel; after it is closed neither is,
 * and ftrace no longer hooks the function (enabled_functions, kprobe_events).
 *
 * A kernel without the hook kind (kprobes compiled out, BPF trampolines or the
 * BPF LSM refused) skips the case with the reason, found by a probe of its
 * own that does not go through sonde: a kind the kernel supports must work. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../unit/test_ebpf_helpers.h"
#include "kernel_probe.h"

#define TARGET_FUNC  "do_sys_openat2"
#define TRIGGER_COMM "khooks-trigger"
#define MAX_IDS      4096

enum hook { HOOK_KPROBE, HOOK_KRETPROBE, HOOK_FENTRY, HOOK_FEXIT, HOOK_LSM, HOOK_TP_BTF, NHOOKS };

static const char *const progs[NHOOKS] = {"ig_kprobe", "ig_kretprobe", "ig_fentry",
                                          "ig_fexit",  "ig_lsm",       "ig_tp_btf"};

static char dir[64], present[128], missing[128];

static const char *hook_missing(enum hook h)
{
	switch (h) {
	case HOOK_KPROBE:
	case HOOK_KRETPROBE:
		return test_kprobes_missing();
	case HOOK_FENTRY:
		return test_btf_attach_refused(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, TARGET_FUNC,
		                               BTF_KIND_FUNC);
	case HOOK_FEXIT:
		return test_btf_attach_refused(BPF_PROG_TYPE_TRACING, BPF_TRACE_FEXIT, TARGET_FUNC,
		                               BTF_KIND_FUNC);
	case HOOK_LSM:
		return test_btf_attach_refused(BPF_PROG_TYPE_LSM, BPF_LSM_MAC, "bpf_lsm_file_open",
		                               BTF_KIND_FUNC);
	case HOOK_TP_BTF:
		return test_btf_attach_refused(BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, "btf_trace_sys_enter",
		                               BTF_KIND_TYPEDEF);
	case NHOOKS:
		break;
	}
	return "?";
}

/* ---- kernel objects: programs and links by id ---- */

struct ids {
	__u32 v[MAX_IDS];
	size_t n;
};

static void list_ids(struct ids *out, int (*next)(__u32, __u32 *))
{
	__u32 id = 0;

	out->n = 0;
	while (out->n < MAX_IDS && next(id, &id) == 0)
		out->v[out->n++] = id;
}

static bool has_id(const struct ids *s, __u32 id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return true;
	return false;
}

/* The id of a live program named `name` that is not in `before`, or 0. */
static __u32 new_prog_named(const struct ids *before, const char *name)
{
	struct ids now;

	list_ids(&now, bpf_prog_get_next_id);
	for (size_t i = 0; i < now.n; i++) {
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);
		int fd;

		if (has_id(before, now.v[i]))
			continue;
		fd = bpf_prog_get_fd_by_id(now.v[i]);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 &&
		    strncmp(info.name, name, BPF_OBJ_NAME_LEN - 1) == 0) {
			close(fd);
			return now.v[i];
		}
		close(fd);
	}
	return 0;
}

/* The id of a live link to program `prog_id`, or 0. */
static __u32 link_of(__u32 prog_id)
{
	struct ids now;

	list_ids(&now, bpf_link_get_next_id);
	for (size_t i = 0; i < now.n; i++) {
		struct bpf_link_info info = {0};
		__u32 len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(now.v[i]);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.prog_id == prog_id) {
			close(fd);
			return now.v[i];
		}
		close(fd);
	}
	return 0;
}

/* The kernel frees a program and a link after an RCU grace period, not at
 * close: waits up to 5 s for alive(id) to turn false. */
static bool gone(bool (*alive)(__u32), __u32 id)
{
	for (int i = 0; i < 500 && alive(id); i++)
		usleep(10000);
	return !alive(id);
}

static bool prog_alive(__u32 id)
{
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static bool link_alive(__u32 id)
{
	int fd = bpf_link_get_fd_by_id(id);

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/* Lines of a tracefs file that mention TARGET_FUNC (0 if it cannot be read). */
static int tracefs_mentions(const char *file)
{
	char path[128];
	char *text;
	int n = 0;

	snprintf(path, sizeof(path), "/sys/kernel/tracing/%s", file);
	text = test_read_file(path, NULL);
	if (!text)
		return 0;
	for (char *p = text; (p = strstr(p, TARGET_FUNC)); p++)
		n++;
	free(text);
	return n;
}

/* ---- the thread that opens, and what the gadget shows while it runs ---- */

struct trigger {
	pthread_t thread;
	atomic_bool stop;
	atomic_int tid;
	atomic_int opens;
	atomic_bool fds[1024]; /* what opens of `present` returned */
	atomic_int *records;   /* the sink's count: looks once records come */
	const struct ids *progs_before;
	const char *prog_name;
	__u32 prog_id, link_id; /* found while running */
	int ftrace_lines;       /* enabled_functions lines for TARGET_FUNC while running */
};

static void *trigger_main(void *arg)
{
	struct trigger *t = arg;

	prctl(PR_SET_NAME, TRIGGER_COMM);
	t->tid = (int)syscall(SYS_gettid);
	while (!t->stop) {
		int fd = open(present, O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			if (fd < 1024)
				t->fds[fd] = true;
			close(fd);
		}
		if (open(missing, O_RDONLY | O_CLOEXEC) >= 0)
			fprintf(stderr, "%s exists\n", missing);
		t->opens++;
		/* records come: the gadget runs, look at what it holds */
		if (*t->records > 0 && !t->prog_id) {
			t->prog_id = new_prog_named(t->progs_before, t->prog_name);
			t->link_id = t->prog_id ? link_of(t->prog_id) : 0;
			t->ftrace_lines = tracefs_mentions("enabled_functions");
		}
		usleep(5000);
	}
	return NULL;
}

/* ---- records ---- */

struct sink {
	struct sonde_field *pid, *tid, *comm, *hook, *ret, *fname;
	enum hook want;
	int tid_want;
	atomic_int records;
	int other_hook, bad_task;
	int named_present, named_missing; /* fname matched */
	int ret_enoent;
	bool ret_fds[1024]; /* the trigger's rets that may be fds, matched after the run */
};

static bool field_is(const struct sonde_field *f, const struct sonde_record *rec, const char *s)
{
	uint32_t len = 0;
	const char *v = sonde_field_string(f, rec, &len);

	return v && strlen(s) == len && memcmp(v, s, len) == 0;
}

static int on_hook(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct sink *s = arg;
	int64_t ret = sonde_field_int64(s->ret, rec);
	const char *base = strrchr(present, '/') + 1;

	(void)ds;
	s->records++;
	if (sonde_field_uint32(s->hook, rec) != (uint32_t)s->want) {
		s->other_hook++;
		return 0;
	}
	if (sonde_field_uint32(s->pid, rec) != (uint32_t)getpid())
		s->bad_task++;
	/* other threads of this process (sonde's own) open files too: only the
	 * trigger's records are checked further */
	if ((int)sonde_field_uint32(s->tid, rec) != s->tid_want)
		return 0;
	if (!field_is(s->comm, rec, TRIGGER_COMM))
		s->bad_task++;
	if (field_is(s->fname, rec, s->want == HOOK_LSM ? base : present))
		s->named_present++;
	if (field_is(s->fname, rec, missing))
		s->named_missing++;
	if (ret >= 0 && ret < 1024)
		s->ret_fds[ret] = true;
	if (ret == -ENOENT)
		s->ret_enoent++;
	return 0;
}

/* ---- one case per hook kind ---- */

static void run_hook(enum hook h)
{
	char yaml[1024] = "programs:\n";
	struct gadget_run r;
	struct trigger trig;
	struct sink sink = {.want = h};
	struct ids *before;
	struct sonde_ds *ds;
	char pid[32];
	const char *why;
	int ftrace_before, fds_got = 0, fds_seen = 0;

	test_require_root();
	why = hook_missing(h);
	if (why)
		test_skip_machine(why); /* probed without sonde: a kernel that has it cannot skip */
	before = calloc(1, sizeof(*before)); /* after the skip, which leaves the case by longjmp */
	REQUIRE(before);
	snprintf(dir, sizeof(dir), "/tmp/sonde-khooks-XXXXXX");
	REQUIRE(mkdtemp(dir));
	snprintf(present, sizeof(present), "%s/present-file", dir);
	snprintf(missing, sizeof(missing), "%s/missing-file", dir);
	test_write_file_or_abort(present, "x");

	for (int k = 0; k < NHOOKS; k++)
		if (k != (int)h)
			snprintf(yaml + strlen(yaml), sizeof(yaml) - strlen(yaml),
			         "  %s:\n    attach_to: gadget_program_disabled\n", progs[k]);
	capture_reset();
	list_ids(before, bpf_prog_get_next_id);
	ftrace_before = tracefs_mentions("enabled_functions");

	REQUIRE(gadget_open_fixture(&r, "ebpf_khooks", yaml) == 0);
	snprintf(pid, sizeof(pid), "%d", getpid());
	CHECK_INT(set_param(&r, "targ_pid", pid), 0);
	ds = sonde_gadget_ds(r.ctx, "hooks");
	REQUIRE(ds);
	sink.pid = sonde_ds_field(ds, "pid");
	sink.tid = sonde_ds_field(ds, "tid");
	sink.comm = sonde_ds_field(ds, "comm");
	sink.hook = sonde_ds_field(ds, "hook");
	sink.ret = sonde_ds_field(ds, "ret");
	sink.fname = sonde_ds_field(ds, "fname");
	REQUIRE(sink.pid && sink.tid && sink.comm && sink.hook && sink.ret && sink.fname);
	REQUIRE(sonde_ds_subscribe(ds, on_hook, &sink, 100) == 0);

	memset(&trig, 0, sizeof(trig));
	trig.progs_before = before;
	trig.prog_name = progs[h];
	trig.records = &sink.records;
	pthread_create(&trig.thread, NULL, trigger_main, &trig);
	while (!trig.tid)
		usleep(1000);
	sink.tid_want = trig.tid;
	/* qemu without KVM is slow: two seconds hold enough opens everywhere */
	CHECK_INT(sonde_gadget_run(r.ctx, 2000 * 1000000LL), 0);
	trig.stop = true;
	pthread_join(trig.thread, NULL);
	if (logged("cannot"))
		fprintf(stderr, "  log:\n%s", log_errors);
	for (int fd = 0; fd < 1024; fd++) {
		fds_got += trig.fds[fd];
		fds_seen += trig.fds[fd] && sink.ret_fds[fd];
	}
	printf("  %s: %d records after %d opens; prog id %u, link id %u, ftrace lines %d -> %d\n", progs[h],
	       (int)sink.records, (int)trig.opens, trig.prog_id, trig.link_id, ftrace_before,
	       trig.ftrace_lines);

	/* the records are the trigger's, with the right fields */
	CHECK(sink.records > 0);
	CHECK_INT(sink.other_hook, 0);
	CHECK_INT(sink.bad_task, 0);
	/* entry hooks see the path of both opens; LSM's file_open only the
	 * file that was found, by its dentry name */
	if (h != HOOK_KRETPROBE)
		CHECK(sink.named_present > 0);
	if (h == HOOK_LSM)
		CHECK_INT(sink.named_missing, 0);
	else if (h != HOOK_KRETPROBE)
		CHECK(sink.named_missing > 0);
	/* exit hooks see what open returned */
	if (h == HOOK_KRETPROBE || h == HOOK_FEXIT) {
		CHECK(fds_got > 0);
		CHECK(fds_seen > 0);
		CHECK(sink.ret_enoent > 0);
	}

	/* the kernel held the program and its link while the gadget ran */
	CHECK(trig.prog_id != 0);
	CHECK(trig.link_id != 0);
	/* trampolines, and kprobes at a function's entry (KPROBES_ON_FTRACE,
	 * x86-64), hook the function through ftrace; tp_btf and lsm do not */
	if (h != HOOK_TP_BTF && h != HOOK_LSM)
		CHECK(trig.ftrace_lines > ftrace_before);

	gadget_close(&r);

	/* … and nothing after */
	if (trig.prog_id)
		CHECK(gone(prog_alive, trig.prog_id));
	if (trig.link_id)
		CHECK(gone(link_alive, trig.link_id));
	CHECK_INT(tracefs_mentions("enabled_functions"), ftrace_before);
	CHECK_INT(tracefs_mentions("kprobe_events"), 0);

	unlink(present);
	rmdir(dir);
	free(before);
}

static void test_kprobe(void)
{
	run_hook(HOOK_KPROBE);
}
static void test_kretprobe(void)
{
	run_hook(HOOK_KRETPROBE);
}
static void test_fentry(void)
{
	run_hook(HOOK_FENTRY);
}
static void test_fexit(void)
{
	run_hook(HOOK_FEXIT);
}
static void test_lsm(void)
{
	run_hook(HOOK_LSM);
}
static void test_tp_btf(void)
{
	run_hook(HOOK_TP_BTF);
}

TEST_MAIN(TEST(test_kprobe), TEST(test_kretprobe), TEST(test_fentry), TEST(test_fexit), TEST(test_lsm),
          TEST(test_tp_btf))
