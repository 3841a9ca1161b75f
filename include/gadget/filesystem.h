/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Path helpers: turn a struct path (or an fd of the current task) into a full path string. */
#ifndef __GADGET_FILESYSTEM_H
#define __GADGET_FILESYSTEM_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/*
 * Sizes and limits of upstream's filesystem.h (itself derived from Tracee);
 * gadgets use some of them in their event structs.
 */
#define MAX_PERCPU_BUFSIZE (1 << 15) /* per-CPU scratch buffer */
#ifndef GADGET_PATH_MAX
#define GADGET_PATH_MAX 512 /* path fields of events */
#endif
#ifndef PATH_MAX
#define PATH_MAX 4096
#endif
#define MAX_STR_FILTER_SIZE 16
#define MAX_BIN_PATH_SIZE   256
#define FILE_MAGIC_HDR_SIZE 32
#define FILE_MAGIC_MASK     31
#define NET_SEQ_OPS_SIZE    4
#define NET_SEQ_OPS_TYPES   6
#define MAX_KSYM_NAME_SIZE  64
#define UPROBE_MAGIC_NUMBER 20220829
#define ARGS_BUF_SIZE       32000
#define SEND_META_SIZE      24
#define MAX_MEM_DUMP_SIZE   127

/* Older name for a path-sized string field. */
#ifndef MAX_STRING_SIZE
#define MAX_STRING_SIZE 4096
#endif

/* Deepest path get_path_str() walks (components, mount crossings included). */
#define MAX_PATH_COMPONENTS        80
#define GADGET_PATH_MAX_COMPONENTS MAX_PATH_COMPONENTS

/* Per-CPU scratch buffers: index into bufs. */
enum buf_idx_e { STRING_BUF_IDX, MAX_BUFFERS };

typedef struct simple_buf {
	__u8 buf[MAX_PERCPU_BUFSIZE];
} buf_t;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_BUFFERS);
	__type(key, __u32);
	__type(value, buf_t);
} bufs SEC(".maps");

/* Scratch buffer idx of this CPU (NULL only if idx is out of range). */
static __always_inline buf_t *get_buf(int idx)
{
	return bpf_map_lookup_elem(&bufs, &idx);
}

/*
 * How get_path_str() uses its buf_t. It builds the path right-to-left so it
 * ends at GADGET_PATH_BUF_HALF - 1; offsets are masked into the first half
 * and each component is at most 255 bytes, so every access stays inside the
 * buffer whatever the verifier assumes. The last 8 bytes hold the write
 * position: kept in the map value, not in a register, every reload is an
 * unknown scalar that gets masked, so all paths reaching the loop head look
 * alike to the verifier and are pruned (a register would carry a different
 * range per path and make verification cost quadratic in the number of
 * components).
 */
#define GADGET_PATH_BUF_SIZE MAX_PERCPU_BUFSIZE
#define GADGET_PATH_BUF_HALF (GADGET_PATH_BUF_SIZE / 2)
#define GADGET_PATH_BUF_MASK (GADGET_PATH_BUF_HALF - 1)
#define GADGET_NAME_MAX      255

struct gadget_path_buf {
	char data[GADGET_PATH_BUF_SIZE - 8];
	__u32 pos;
	__u32 __pad;
};

_Static_assert(sizeof(struct gadget_path_buf) == sizeof(buf_t),
               "get_path_str() state must fill a buf_t exactly");

static __always_inline struct dentry *get_mnt_root_ptr_from_vfsmnt(struct vfsmount *vfsmnt)
{
	return BPF_CORE_READ(vfsmnt, mnt_root);
}

static __always_inline struct dentry *get_d_parent_ptr_from_dentry(struct dentry *dentry)
{
	return BPF_CORE_READ(dentry, d_parent);
}

static __always_inline struct qstr get_d_name_from_dentry(struct dentry *dentry)
{
	return BPF_CORE_READ(dentry, d_name);
}

/* The struct mount that embeds vfsmnt (container_of with a CO-RE offset). */
static __always_inline struct mount *real_mount(struct vfsmount *vfsmnt)
{
	return (struct mount *)((char *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
}

/*
 * Full path of path from the root of its mount namespace, e.g.
 * "/usr/bin/true", following mount points upwards. Returns a pointer into
 * the per-CPU bufs map: copy it (bpf_probe_read_kernel_str) before calling
 * get_path_str() again. Files of unmounted pseudo filesystems yield their
 * dentry name without a leading '/' (e.g. "[eventfd]"; "" for pipes and
 * sockets). NULL only if bufs is missing.
 */
static __always_inline void *get_path_str(const struct path *path)
{
	struct gadget_path_buf *b;
	struct dentry *dentry, *d_parent, *mnt_root;
	struct vfsmount *vfsmnt;
	struct mount *mnt, *mnt_parent;
	const unsigned char *name;
	__u32 pos, len;
	bool disconnected = false;

	b = (struct gadget_path_buf *)get_buf(STRING_BUF_IDX);
	if (!b)
		return NULL;

	dentry = BPF_CORE_READ(path, dentry);
	vfsmnt = BPF_CORE_READ(path, mnt);
	mnt = real_mount(vfsmnt);
	mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

	b->data[GADGET_PATH_BUF_HALF - 1] = '\0';
	b->pos = GADGET_PATH_BUF_HALF - 1;

#pragma clang loop unroll(disable)
	for (int i = 0; i < GADGET_PATH_MAX_COMPONENTS; i++) {
		mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		d_parent = BPF_CORE_READ(dentry, d_parent);

		if (dentry == mnt_root || dentry == d_parent) {
			if (dentry != mnt_root) {
				/* Root of an unmounted (pseudo) filesystem. */
				disconnected = true;
				break;
			}
			if (mnt != mnt_parent) {
				/* Root of a mount: continue at its mount point. */
				dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
				mnt = mnt_parent;
				mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
				vfsmnt = &mnt->mnt;
				continue;
			}
			/* The global root. */
			break;
		}

		len = BPF_CORE_READ(dentry, d_name.len);
		name = BPF_CORE_READ(dentry, d_name.name);
		pos = b->pos & GADGET_PATH_BUF_MASK;
		if (len > GADGET_NAME_MAX || len + 1 > pos)
			break;
		len &= GADGET_NAME_MAX;
		pos = (pos - len) & GADGET_PATH_BUF_MASK;
		if (bpf_probe_read_kernel(&b->data[pos], len, name))
			break;
		pos = (pos - 1) & GADGET_PATH_BUF_MASK;
		b->data[pos] = '/';
		b->pos = pos;
		dentry = d_parent;
	}

	pos = b->pos & GADGET_PATH_BUF_MASK;
	if (pos == GADGET_PATH_BUF_HALF - 1) {
		if (disconnected) {
			/*
			 * Nothing above it: use the pseudo file's own name
			 * (empty for pipes and sockets, whose names are only
			 * made up when /proc shows them).
			 */
			len = BPF_CORE_READ(dentry, d_name.len);
			name = BPF_CORE_READ(dentry, d_name.name);
			if (len > GADGET_NAME_MAX)
				len = GADGET_NAME_MAX;
			len &= GADGET_NAME_MAX;
			if (bpf_probe_read_kernel(&b->data[(pos - len) & GADGET_PATH_BUF_MASK], len, name) ==
			    0)
				pos -= len;
		} else {
			/* The path is the root itself. */
			pos -= 1;
			b->data[pos & GADGET_PATH_BUF_MASK] = '/';
		}
	}

	return &b->data[pos & GADGET_PATH_BUF_MASK];
}

/* struct file * behind fd in the current task's fd table, or NULL. */
static __always_inline struct file *get_struct_file_for_fd(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;

	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

/*
 * Copy the full path of the current task's open fd into buf (at most size
 * bytes, NUL included). Returns the length copied including the NUL, or a
 * negative value when fd is not open or the path cannot be read.
 */
static __always_inline long read_full_path_of_open_file_fd(int fd, char *buf, __u64 size)
{
	struct file *file = get_struct_file_for_fd(fd);
	char *path;

	if (!file)
		return -1;
	path = get_path_str(&file->f_path);
	if (!path)
		return -1;
	return bpf_probe_read_kernel_str(buf, size, path);
}

#endif /* __GADGET_FILESYSTEM_H */
