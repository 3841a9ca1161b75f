// SPDX-License-Identifier: GPL-2.0
/* Loader fixture for the BTF and kprobe attach kinds: kprobe, kretprobe,
 * fentry, fexit, lsm and tp_btf all on the open path, each emitting one
 * record per hit for the test process into the "hooks" tracer: which hook
 * fired, who opened, the path and (for the exit hooks) the return value.
 * The test enables one program at a time (gadget.yaml disables the rest). */
#include <vmlinux.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include <gadget/buffer.h>
#include <gadget/macros.h>
#include <gadget/types.h>

/* The hook numbers the test expects in `hook`. */
#define HOOK_KPROBE    0
#define HOOK_KRETPROBE 1
#define HOOK_FENTRY    2
#define HOOK_FEXIT     3
#define HOOK_LSM       4
#define HOOK_TP_BTF    5

#define NR_OPENAT 257 /* x86-64 */

struct hook_event {
	gadget_timestamp timestamp_raw;
	gadget_pid pid;
	gadget_tid tid;
	gadget_comm comm[TASK_COMM_LEN];
	__u32 hook;
	__s64 ret;
	char fname[128];
};

/* __u32, not gadget_pid: the loader would expose that as the --pid filter */
const volatile __u32 targ_pid = 0;
GADGET_PARAM(targ_pid);

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(hooks, events, hook_event);

/* Reserves a record for the test process, or NULL. */
static __always_inline struct hook_event *start(__u32 hook)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct hook_event *ev;

	if ((id >> 32) != targ_pid)
		return NULL;
	ev = gadget_reserve_buf(&events, sizeof(*ev));
	if (!ev)
		return NULL;
	ev->timestamp_raw = bpf_ktime_get_boot_ns();
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	ev->hook = hook;
	ev->ret = 0;
	ev->fname[0] = '\0';
	return ev;
}

static __always_inline void user_path(struct hook_event *ev, const char *path)
{
	if (bpf_probe_read_user_str(ev->fname, sizeof(ev->fname), path) < 0)
		ev->fname[0] = '\0';
}

/* long do_sys_openat2(int dfd, const char __user *filename, struct open_how *how) */
SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(ig_kprobe, int dfd, const char *filename)
{
	struct hook_event *ev = start(HOOK_KPROBE);

	if (!ev)
		return 0;
	user_path(ev, filename);
	gadget_submit_buf(ctx, &events, ev, sizeof(*ev));
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(ig_kretprobe, long ret)
{
	struct hook_event *ev = start(HOOK_KRETPROBE);

	if (!ev)
		return 0;
	ev->ret = ret;
	gadget_submit_buf(ctx, &events, ev, sizeof(*ev));
	return 0;
}

SEC("fentry/do_sys_openat2")
int BPF_PROG(ig_fentry, int dfd, const char *filename)
{
	struct hook_event *ev = start(HOOK_FENTRY);

	if (!ev)
		return 0;
	user_path(ev, filename);
	gadget_submit_buf(ctx, &events, ev, sizeof(*ev));
	return 0;
}

SEC("fexit/do_sys_openat2")
int BPF_PROG(ig_fexit, int dfd, const char *filename, struct open_how *how, long ret)
{
	struct hook_event *ev = start(HOOK_FEXIT);

	if (!ev)
		return 0;
	user_path(ev, filename);
	ev->ret = ret;
	gadget_submit_buf(ctx, &events, ev, sizeof(*ev));
	return 0;
}

/* Only files that were found get here: the name is the dentry's (no directory). */
SEC("lsm/file_open")
int BPF_PROG(ig_lsm, struct file *file, int ret)
{
	struct hook_event *ev;
	const unsigned char *name;

	if (ret) /* an earlier LSM already denied: keep its answer */
		return ret;
	ev = start(HOOK_LSM);
	if (!ev)
		return 0;
	name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
	if (bpf_probe_read_kernel_str(ev->fname, sizeof(ev->fname), name) < 0)
		ev->fname[0] = '\0';
	gadget_submit_buf(ctx, &events, ev, sizeof(*ev));
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(ig_tp_btf, struct pt_regs *regs, long id)
{
	struct hook_event *ev;

	if (id != NR_OPENAT)
		return 0;
	ev = start(HOOK_TP_BTF);
	if (!ev)
		return 0;
	/* openat(dfd, filename, …): the second argument is in rsi */
	user_path(ev, (const char *)BPF_CORE_READ(regs, si));
	gadget_submit_buf(ctx, &events, ev, sizeof(*ev));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
