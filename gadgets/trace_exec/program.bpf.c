// SPDX-License-Identifier: GPL-2.0
/* trace_exec: one event per execve(2)/execveat(2), with the arguments, emitted when the call returns. */

#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#define GADGET_NO_BUF_RESERVE
#include <gadget/buffer.h>
#include <gadget/common.h>
#include <gadget/core_fixes.bpf.h>
#include <gadget/filesystem.h>
#include <gadget/filter.h>
#include <gadget/macros.h>
#include <gadget/types.h>

/* Each argument is cut at ARGSIZE bytes (NUL included); at most TOTAL_MAX_ARGS are kept. */
#define ARGSIZE 256
#define TOTAL_MAX_ARGS 20
#define FULL_MAX_ARGS_ARR (TOTAL_MAX_ARGS * ARGSIZE)
#define LAST_ARG (FULL_MAX_ARGS_ARR - ARGSIZE)

/* include/uapi/linux/magic.h */
#define OVERLAYFS_SUPER_MAGIC 0x794c7630

/* dev_t split as the kernel's MAJOR()/MINOR() (include/linux/kdev_t.h). */
#define KDEV_MINORBITS 20
#define KDEV_MAJOR(dev) ((unsigned int)((dev) >> KDEV_MINORBITS))
#define KDEV_MINOR(dev) ((unsigned int)((dev) & ((1U << KDEV_MINORBITS) - 1)))

/*
 * Names, types and order as upstream's trace_exec, so that its consumers
 * read Sonde's records. What each field holds, and where Sonde's sources
 * differ from upstream's (no kprobe on security_bprm_check here), is in
 * README.md. Every file fact is filled only for successful execs (in
 * sched_process_exec), except cwd and exepath.
 */
struct event {
	gadget_timestamp timestamp_raw;
	struct gadget_process proc;    /* after a successful exec: the new comm */

	gadget_uid loginuid;
	__u32 sessionid;
	gadget_errno error_raw;        /* 0 on success, else the positive errno */
	int args_count;                /* strings in args (+1 if argv was cut) */
	int tty;                       /* index of the controlling tty in its driver */
	unsigned int tty_major;        /* its device number; 0:0 = no controlling tty */
	unsigned int tty_minor;
	bool from_rootfs;              /* executable on the mount of the task's root */
	bool file_from_rootfs;         /* same, for bprm->file (not for scripts) */
	bool upper_layer;              /* executable in an overlayfs upper layer */
	bool fupper_layer;             /* same, for bprm->file (not for scripts) */
	bool pupper_layer;             /* same, for the parent's executable */
	unsigned int args_size;        /* bytes used in args */
	char cwd[GADGET_PATH_MAX];     /* paths=true: working directory */
	char file[GADGET_PATH_MAX];    /* paths=true: bprm->file, or a script's name */
	unsigned int dev_major;        /* paths=true: device of bprm->file */
	unsigned int dev_minor;
	unsigned long inode;           /* paths=true: inode number of bprm->file */
	__u64 ctime;                   /* change time of the executable (ns) */
	__u64 fctime;                  /* of bprm->file (0 for scripts) */
	__u64 pctime;                  /* of the parent's executable */
	char exepath[GADGET_PATH_MAX]; /* paths=true: executable after the call */
	char parent_exepath[GADGET_PATH_MAX]; /* paths=true: the parent's */
	/*
	 * Space-separated: the path given to execve, then argv[1..]. Only the
	 * first args_size bytes are sent: a record is
	 * offsetof(struct event, args) + args_size bytes long.
	 */
	char args[FULL_MAX_ARGS_ARR];
};

#define BASE_EVENT_SIZE __builtin_offsetof(struct event, args)

/* Do not report execs that fail. */
const volatile bool ignore_failed = true;
/* Fill cwd and exepath. */
const volatile bool paths = false;

GADGET_PARAM(ignore_failed);
GADGET_PARAM(paths);

static const struct event empty_event = {};

/*
 * tid -> exec in progress. A successful exec from a non-leader thread
 * returns in the leader's tid: sched_process_exec moves the entry there.
 * Entries are ~7.3 KiB and hash maps are preallocated: 1024 concurrent execs
 * cost ~7.5 MiB of kernel memory.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct event);
} execs SEC(".maps");

GADGET_TRACER_MAP(events, 1024 * 256);

GADGET_TRACER(exec, events, event);

/*
 * Controlling terminal of task, as the kernel's tty_devnum(): the index alone
 * is ambiguous (pts/0 and tty0 are both 0, as is "none"), the device number
 * is not. Left 0:0 without one.
 */
static __always_inline void read_tty(struct event *event,
				     struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	struct tty_driver *driver;

	if (!tty)
		return;
	driver = BPF_CORE_READ(tty, driver);
	if (!driver)
		return;
	event->tty = BPF_CORE_READ(tty, index);
	event->tty_major = BPF_CORE_READ(driver, major);
	event->tty_minor = BPF_CORE_READ(driver, minor_start) + event->tty;
}

/*
 * Whether inode is an overlayfs inode whose file is in the upper (writable)
 * layer: a file created or modified in a container, not one of its image.
 * struct ovl_inode (fs/overlayfs/ovl_entry.h) is not in vmlinux BTF; it has
 * `struct inode vfs_inode; struct dentry *__upperdentry;` back to back (5.8
 * through 6.18 at least, as upstream relies on), so the pointer right after
 * the inode is read. NULL: lower. Tested on 6.1 and 6.18.
 */
static __always_inline bool in_upper_layer(struct inode *inode)
{
	struct dentry *upper = NULL;

	if (BPF_CORE_READ(inode, i_sb, s_magic) != OVERLAYFS_SUPER_MAGIC)
		return false;
	if (bpf_probe_read_kernel(&upper, sizeof(upper),
				  (char *)inode +
					  bpf_core_type_size(struct inode)))
		return false;
	return upper != NULL;
}

/* Whether file is on the mount of task's root directory (the container's rootfs). */
static __always_inline bool on_root_mount(struct task_struct *task,
					  struct file *file)
{
	return BPF_CORE_READ(file, f_path.mnt) ==
	       BPF_CORE_READ(task, fs, root.mnt);
}

/* Full path of file into dst (a GADGET_PATH_MAX buffer); "" if unknown. */
static __always_inline void copy_file_path(char *dst, struct file *file)
{
	char *path = file ? get_path_str(&file->f_path) : NULL;

	if (!path || bpf_probe_read_kernel_str(dst, GADGET_PATH_MAX, path) < 0)
		dst[0] = '\0';
}

/* Append the user string at src to event->args. Returns false to stop. */
static __always_inline bool append_arg(struct event *event, const char *src)
{
	unsigned int off = event->args_size;
	long ret;

	if (off > LAST_ARG)
		return false;
	ret = bpf_probe_read_user_str(&event->args[off], ARGSIZE, src);
	if (ret <= 0)
		return false;
	/*
	 * Join with the previous argument: userspace shows one readable string.
	 * The index is 64-bit and hidden from clang, which otherwise proves
	 * the check true and drops it: then the 32-bit `off - 1` reaches the
	 * 6.1 verifier zero-extended with no bound ("R2 unbounded memory
	 * access"). Kept, the check bounds it on every kernel.
	 */
	if (off > 0) {
		__u64 sep = (__u64)off - 1;

		barrier_var(sep);
		if (sep < FULL_MAX_ARGS_ARR)
			event->args[sep] = ' ';
	}
	event->args_size = off + ret;
	event->args_count++;
	return true;
}

/*
 * Every filter but the container and comm ones. A new container's first exec
 * is held by Sonde inside the execve call, after this entry, until the
 * container is in the filter map: the container filter is read at the exit.
 * So is the comm filter: --comm matches the name the event shows (the new
 * program's after a successful exec), as -F proc.comm== does.
 */
static __always_inline bool discard_at_entry(void)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	return gadget_should_discard_pid((gadget_pid)(pid_tgid >> 32)) ||
	       gadget_should_discard_tid((gadget_tid)pid_tgid) ||
	       gadget_should_discard_uid((gadget_uid)uid_gid) ||
	       gadget_should_discard_gid((gadget_gid)(uid_gid >> 32));
}

static __always_inline int enter_exec(const char *filename,
				      const char *const *argv)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct event *event;
	const char *argp;

	if (discard_at_entry())
		return 0;

	if (bpf_map_update_elem(&execs, &tid, &empty_event, BPF_ANY))
		return 0;
	event = bpf_map_lookup_elem(&execs, &tid);
	if (!event)
		return 0;

	event->timestamp_raw = bpf_ktime_get_boot_ns();
	task = (struct task_struct *)bpf_get_current_task();
	if (bpf_core_field_exists(task->loginuid))
		event->loginuid = BPF_CORE_READ(task, loginuid.val);
	else
		event->loginuid = GADGET_INVALID_ID;
	if (bpf_core_field_exists(task->sessionid))
		event->sessionid = BPF_CORE_READ(task, sessionid);
	read_tty(event, task);

	if (paths) {
		struct fs_struct *fs = BPF_CORE_READ(task, fs);
		char *cwd = get_path_str(&fs->pwd);

		if (!cwd || bpf_probe_read_kernel_str(event->cwd,
						      sizeof(event->cwd), cwd) < 0)
			event->cwd[0] = '\0';
	}

	/* args[0] is the path handed to execve (an empty string if unreadable). */
	if (!append_arg(event, filename)) {
		event->args[0] = '\0';
		event->args_size = 1;
		event->args_count = 1;
	}

	for (int i = 1; i < TOTAL_MAX_ARGS; i++) {
		if (bpf_probe_read_user(&argp, sizeof(argp), &argv[i]) || !argp)
			return 0;
		if (!append_arg(event, argp))
			return 0;
	}

	/* argv goes on: count one more so userspace can show it was cut. */
	if (!bpf_probe_read_user(&argp, sizeof(argp), &argv[TOTAL_MAX_ARGS]) &&
	    argp)
		event->args_count++;
	return 0;
}

static __always_inline int exit_exec(void *ctx, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *event;
	__u64 len;

	event = bpf_map_lookup_elem(&execs, &tid);
	if (!event)
		return 0;

	if (ret < 0 && ignore_failed)
		goto cleanup;
	if (gadget_should_discard_mntns_id(gadget_get_current_mntns_id()))
		goto cleanup;

	/* Read now: after a successful exec this is the new program. */
	gadget_process_populate(&event->proc);
	if (gadget_should_discard_comm(event->proc.comm))
		goto cleanup;
	event->error_raw = ret < 0 ? (__u32)-ret : 0;

	/* A successful exec has it from ig_sched_exec; a failed one, the caller's. */
	if (paths && !event->exepath[0]) {
		struct task_struct *task =
			(struct task_struct *)bpf_get_current_task();

		copy_file_path(event->exepath, BPF_CORE_READ(task, mm, exe_file));
	}

	len = BASE_EVENT_SIZE + event->args_size;
	if (len <= sizeof(*event))
		gadget_output_buf(ctx, &events, event, len);

cleanup:
	bpf_map_delete_elem(&execs, &tid);
	return 0;
}

/* execve(const char *filename, char *const argv[], char *const envp[]) */
SEC("tracepoint/syscalls/sys_enter_execve")
int ig_execve_e(struct syscall_trace_enter *ctx)
{
	return enter_exec((const char *)ctx->args[0],
			  (const char *const *)ctx->args[1]);
}

/* execveat(int dirfd, const char *pathname, char *const argv[], char *const envp[], int flags) */
SEC("tracepoint/syscalls/sys_enter_execveat")
int ig_execveat_e(struct syscall_trace_enter *ctx)
{
	return enter_exec((const char *)ctx->args[1],
			  (const char *const *)ctx->args[2]);
}

/*
 * The file facts of a successful exec: task runs the new program (mm and
 * exe_file are the new ones), bprm->file is the file that was finally loaded.
 * For a #! script or a binfmt_misc binary that is the interpreter (equal to
 * exe_file): the script's own file was released before this point and no
 * tracepoint sees it (upstream reads it in a kprobe on security_bprm_check),
 * so the f* fields, dev and inode stay 0 and file holds the name exec was
 * given (bprm->filename). bprm->interp differs from bprm->filename exactly
 * when an interpreter took over (bprm_change_interp()).
 */
static __always_inline void fill_files(struct event *event,
				       struct task_struct *task,
				       struct linux_binprm *bprm)
{
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct file *bfile = BPF_CORE_READ(bprm, file);
	struct task_struct *parent = BPF_CORE_READ(task, real_parent);
	struct file *pexe = parent ? BPF_CORE_READ(parent, mm, exe_file) : NULL;
	bool interpreted =
		BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename);
	struct inode *inode;

	inode = exe ? BPF_CORE_READ(exe, f_inode) : NULL;
	if (inode) {
		event->from_rootfs = on_root_mount(task, exe);
		event->upper_layer = in_upper_layer(inode);
		event->ctime = gadget_get_ctime_nanosec_from_inode(inode);
	}
	inode = bfile && !interpreted ? BPF_CORE_READ(bfile, f_inode) : NULL;
	if (inode) {
		if (bfile == exe) {
			/* always, in practice: read once */
			event->file_from_rootfs = event->from_rootfs;
			event->fupper_layer = event->upper_layer;
			event->fctime = event->ctime;
		} else {
			event->file_from_rootfs = on_root_mount(task, bfile);
			event->fupper_layer = in_upper_layer(inode);
			event->fctime =
				gadget_get_ctime_nanosec_from_inode(inode);
		}
		if (paths) {
			dev_t dev = BPF_CORE_READ(inode, i_sb, s_dev);

			event->dev_major = KDEV_MAJOR(dev);
			event->dev_minor = KDEV_MINOR(dev);
			event->inode = BPF_CORE_READ(inode, i_ino);
		}
	}
	inode = pexe ? BPF_CORE_READ(pexe, f_inode) : NULL;
	if (inode) {
		event->pupper_layer = in_upper_layer(inode);
		event->pctime = gadget_get_ctime_nanosec_from_inode(inode);
	}

	if (!paths)
		return;
	copy_file_path(event->exepath, exe);
	if (interpreted) {
		if (bpf_probe_read_kernel_str(event->file, sizeof(event->file),
					      BPF_CORE_READ(bprm, filename)) < 0)
			event->file[0] = '\0';
	} else if (bfile == exe) {
		/* always, in practice: one path walk for both */
		if (bpf_probe_read_kernel_str(event->file, sizeof(event->file),
					      event->exepath) < 0)
			event->file[0] = '\0';
	} else {
		copy_file_path(event->file, bfile);
	}
	copy_file_path(event->parent_exepath, pexe);
}

/*
 * A successful exec, before the call returns: fills the file facts, and
 * moves the entry of a non-leader thread to the leader's tid, where the call
 * returns. tp_btf for the linux_binprm, which the tracepoint's format lacks.
 * The container filter is read here only to skip that work: the exit still
 * decides (see discard_at_entry()).
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ig_sched_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 old_tid = old_pid;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct event *event;

	event = bpf_map_lookup_elem(&execs, &old_tid);
	if (!event)
		return 0;
	if (!gadget_should_discard_mntns_id(gadget_get_current_mntns_id()))
		fill_files(event, task, bprm);
	if (old_tid == tid)
		return 0;
	bpf_map_update_elem(&execs, &tid, event, BPF_ANY);
	bpf_map_delete_elem(&execs, &old_tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int ig_execve_x(struct syscall_trace_exit *ctx)
{
	return exit_exec(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int ig_execveat_x(struct syscall_trace_exit *ctx)
{
	return exit_exec(ctx, ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
