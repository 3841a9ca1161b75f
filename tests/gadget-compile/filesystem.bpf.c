// SPDX-License-Identifier: GPL-2.0
/* <gadget/filesystem.h>: paths from struct path and from an fd, and the scratch buffers. */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/buffer.h>
#include <gadget/filesystem.h>
#include <gadget/macros.h>

_Static_assert(sizeof(buf_t) == MAX_PERCPU_BUFSIZE, "buf_t");
_Static_assert(STRING_BUF_IDX == 0 && MAX_BUFFERS == 1, "buffers");
_Static_assert(GADGET_PATH_MAX == 512 && PATH_MAX == 4096 && MAX_PATH_COMPONENTS == 80, "limits");

struct event {
	char cwd[GADGET_PATH_MAX];
	char file[GADGET_PATH_MAX];
	char root[MAX_STR_FILTER_SIZE];
};

GADGET_TRACER_MAP(events, 1024 * 256);
GADGET_TRACER(paths, events, event);

SEC("tracepoint/syscalls/sys_exit_openat")
int opened(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fs_struct *fs = BPF_CORE_READ(task, fs);
	struct event *e;
	char *cwd;
	buf_t *scratch;
	struct file *f;
	struct path root;

	e = gadget_reserve_buf(&events, sizeof(*e));
	if (!e)
		return 0;
	cwd = get_path_str(&fs->pwd);
	if (cwd)
		bpf_probe_read_kernel_str(e->cwd, sizeof(e->cwd), cwd);
	if (read_full_path_of_open_file_fd(ctx->ret, e->file, sizeof(e->file)) < 0)
		e->file[0] = '\0';

	f = get_struct_file_for_fd(ctx->ret);
	root = BPF_CORE_READ(fs, root);
	if (f && get_mnt_root_ptr_from_vfsmnt(root.mnt) == get_d_parent_ptr_from_dentry(root.dentry)) {
		struct qstr name = get_d_name_from_dentry(root.dentry);

		bpf_probe_read_kernel_str(e->root, sizeof(e->root), name.name);
	}
	if (real_mount(root.mnt) == NULL)
		e->root[0] = '\0';
	scratch = get_buf(STRING_BUF_IDX);
	if (scratch)
		scratch->buf[0] = 0;
	gadget_submit_buf(ctx, &events, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
/* expect-btf: 'simple_buf' size=32768 */
/* expect-btf: 'bufs' */
