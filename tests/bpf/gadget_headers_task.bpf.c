// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime fixture of the tracing gadget headers (integration test
 * test_gadget_headers): run with BPF_PROG_TEST_RUN in the test's own task,
 * it records what the helpers say about that task, for the test to compare
 * with what /proc and stat(2) say.
 */
#include <vmlinux.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include <gadget/common.h>
#include <gadget/core_fixes.bpf.h>
#include <gadget/filesystem.h>
#include <gadget/filter.h>
#include <gadget/mntns.h>
#include <gadget/types.h>
#include <gadget/user_stack_map.h>

struct task_result {
	struct gadget_process proc;
	__u64 mntns_id;
	__u64 exe_ctime_ns;
	__u64 exe_mtime_sec;
	__u32 exe_mtime_nsec;
	__u32 discard;
	__s64 state;
	long fd_path_len;
	char fd_path[GADGET_PATH_MAX];
	char exe_path[GADGET_PATH_MAX];
};

struct task_result task_out;
int fd_in; /* an fd of the test, set before the run */

SEC("raw_tp/sys_enter")
int task_info(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct inode *inode = BPF_CORE_READ(exe, f_inode);
	char *path;

	gadget_process_populate(&task_out.proc);
	task_out.mntns_id = gadget_get_current_mntns_id();
	task_out.exe_ctime_ns = gadget_get_ctime_nanosec_from_inode(inode);
	gadget_inode_get_mtime(inode, &task_out.exe_mtime_sec, &task_out.exe_mtime_nsec);
	task_out.discard = gadget_should_discard_data_current();
	task_out.state = get_task_state(task);
	task_out.fd_path_len =
	    read_full_path_of_open_file_fd(fd_in, task_out.fd_path, sizeof(task_out.fd_path));
	path = get_path_str(&exe->f_path);
	if (path)
		bpf_probe_read_kernel_str(task_out.exe_path, sizeof(task_out.exe_path), path);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
