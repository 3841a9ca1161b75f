/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Special gadget types: userspace recognises these typedef/struct names and formats/enriches the fields. */
#ifndef __GADGET_TYPES_H
#define __GADGET_TYPES_H

/*
 * Include after <vmlinux.h> (needs __u8 ... __u64).
 *
 * The *names* of these typedefs are the ABI: userspace walks the BTF
 * typedef chain of every event field and reacts to the names it knows
 * (spec section 2.4). Never collapse two of them into one typedef.
 */

/* Recent vmlinux.h has TASK_COMM_LEN as an enum constant; older ones lack it. */
#ifndef TASK_COMM_LEN
#define TASK_COMM_LEN 16
#endif

/* "No id" value for uid/gid (and generic 32-bit id) parameters. */
#define GADGET_INVALID_ID ((__u32)-1)

/* Namespace ids (inode numbers). mntns_id drives container enrichment. */
typedef __u64 gadget_mntns_id;
typedef __u32 gadget_netns_id;

/* Boot-time nanoseconds (bpf_ktime_get_boot_ns()); rewritten to wall clock by userspace. */
typedef __u64 gadget_timestamp;

/* Numbers that userspace turns into names. */
typedef __u32 gadget_signal;     /* SIGKILL ... */
typedef __u32 gadget_errno;      /* positive errno, 0 = success */
typedef __u64 gadget_syscall;    /* syscall number of the host arch */
typedef __u32 gadget_file_mode;  /* st_mode style bits */
typedef __u32 gadget_file_flags; /* open(2) O_* flags */
typedef __u64 gadget_bytes;      /* humanised byte count */
typedef __u64 gadget_duration;   /* nanoseconds */

/* Process identity. "pid" is the tgid, "tid" the kernel pid (userspace terms). */
typedef __u32 gadget_uid;
typedef __u32 gadget_gid;
typedef __u32 gadget_pid;
typedef __u32 gadget_tid;
typedef __u32 gadget_ppid;
typedef __u32 gadget_ptid;

/* Element types of command-name arrays: declare as gadget_comm comm[TASK_COMM_LEN]. */
typedef char gadget_comm;
typedef char gadget_pcomm;

/* Stack id in the ig_kstack map (see kernel_stack_map.h). */
typedef __u32 gadget_kernel_stack;

/* Metric kinds for the otel-metrics operator. */
typedef __u32 gadget_counter__u32;
typedef __u64 gadget_counter__u64;
typedef __u32 gadget_gauge__u32;
typedef __u64 gadget_gauge__u64;
typedef __u32 gadget_histogram_slot__u32;
typedef __u64 gadget_histogram_slot__u64;

/* IP address storage: IPv4 uses the first 4 bytes (v4), IPv6 all 16. */
union gadget_ip_addr_t {
	__u8 v6[16];
	__u32 v4;
};

/* An IP address; version is 4 or 6. Also usable as an "ip" GADGET_PARAM. */
struct gadget_l3endpoint_t {
	union gadget_ip_addr_t addr_raw;
	__u8 version;
};

/* IP address + L4 port (host byte order) + IP protocol number (IPPROTO_*). */
struct gadget_l4endpoint_t {
	union gadget_ip_addr_t addr_raw;
	__u16 port;
	__u16 proto_raw;
	__u8 version;
};

/* Credentials of a process. */
struct gadget_creds {
	gadget_uid uid;
	gadget_gid gid;
};

/* Parent (real_parent) of a process. */
struct gadget_parent {
	gadget_pcomm comm[TASK_COMM_LEN];
	gadget_ppid pid;
	gadget_ptid tid;
};

/*
 * Common process block of an event (64 bytes):
 *   0 comm[16], 16 pid, 20 tid, 24 mntns_id, 32 creds{uid,gid}, 40 parent{comm[16], pid, tid}
 * Fill it with gadget_process_populate() from <gadget/common.h>.
 */
struct gadget_process {
	gadget_comm comm[TASK_COMM_LEN];
	gadget_pid pid;
	gadget_tid tid;
	gadget_mntns_id mntns_id;
	struct gadget_creds creds;
	struct gadget_parent parent;
};

/*
 * User stack reference, symbolised in userspace by the ustack operator.
 * Filled by gadget_get_user_stack*() from <gadget/user_stack_map.h>; all
 * zero when the collect_ustack parameter is false. Layout (64 bytes):
 *   stack_id       id in the ig_ustack map (0 with nothing collected)
 *   pid_level0     tgid in the initial pid namespace
 *   tid_level0     tid in the initial pid namespace
 *   pid_level1     tgid one pid namespace down (0 if none)
 *   tid_level1     tid one pid namespace down (0 if none)
 *   dev_major/minor, inode, mtime_sec, mtime_nsec: identity of the main
 *                  executable (mm->exe_file), to find its build id/symbols
 *   base_addr_hash FNV-1a of (mm, start_code, start_stack): identifies one
 *                  address-space instance
 *   ktime          boot-time ns of collection (plain u64 on purpose: it is
 *                  not a gadget_timestamp and must not be reformatted)
 */
struct gadget_user_stack {
	__u32 stack_id;
	__u32 pid_level0;
	__u32 tid_level0;
	__u32 pid_level1;
	__u32 tid_level1;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 mtime_nsec;
	__u64 inode;
	__u64 mtime_sec;
	__u64 base_addr_hash;
	__u64 ktime;
};

#endif /* __GADGET_TYPES_H */
