/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Special gadget types: userspace recognises these typedef/struct names and formats/enriches the fields. */
#ifndef __GADGET_TYPES_H
#define __GADGET_TYPES_H

/*
 * Include after <vmlinux.h> or <linux/types.h> (needs __u8 ... __u64).
 *
 * The *names* of these typedefs are the ABI: userspace walks the BTF
 * typedef chain of every event field and reacts to the names it knows
 * (spec section 2.4). Never collapse two of them into one typedef.
 */

/*
 * bool comes from vmlinux.h; gadgets built on <linux/types.h> instead (e.g.
 * socket filters and TC classifiers) get it from the compiler's stdbool.h.
 */
#if !defined(__VMLINUX_H__)
#include <stdbool.h>
#endif

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

/*
 * IP address storage: IPv4 uses the first 4 bytes (v4), IPv6 all 16 (v6, or
 * v6_raw to copy or compare them in one go). Network byte order.
 */
union gadget_ip_addr_t {
	__u8 v6[16];
	unsigned __int128 v6_raw;
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
 * zero when the collect_ustack parameter is false. Upstream's layout
 * (72 bytes), which its ustack operator and Sonde's read by member name:
 *   0 major, 4 minor    device of the executable's file system (kernel
 *                       dev_t split as MAJOR/MINOR, like stat's st_dev)
 *   8 inode, 16 mtime_sec, 24 mtime_nsec
 *                       identity of the main executable (mm->exe_file), to
 *                       find its build id and symbols
 *  28 base_addr_hash    FNV-1a (32 bit) of (mm, start_code, start_stack): one
 *                       address-space instance (changes at execve, ASLR)
 *  32 stack_id          id in ig_ustack as returned by bpf_get_stackid()
 *                       (negative errno stored as u32 when it failed)
 *  36 tgid_level0, 40 pid_level0, 44 pidns_level0
 *                       process id, thread id and pid namespace inode seen
 *                       from the initial pid namespace
 *  48 pid_level1, 52 pidns_level1
 *                       thread id and pid namespace one level down (0 if
 *                       none): userspace picks the level its /proc shows
 *  56 otel_correlation_id  set by the OpenTelemetry profiler tail call
 *  64 boot_timestamp    bpf_ktime_get_boot_ns() at collection; a plain u64 so
 *                       the timestamp formatter leaves it alone
 */
struct gadget_user_stack {
	__u32 major;
	__u32 minor;
	__u64 inode;
	__u64 mtime_sec;
	__u32 mtime_nsec;
	__u32 base_addr_hash;
	__u32 stack_id;
	__u32 tgid_level0;
	__u32 pid_level0;
	__u32 pidns_level0;
	__u32 pid_level1;
	__u32 pidns_level1;
	__u64 otel_correlation_id;
	__u64 boot_timestamp;
};

/* Largest optional path of a socket enricher entry (cwd, exepath). */
#define GADGET_SE_PATH_MAX 4096

/*
 * Value of the gadget_sockets map (<gadget/sockets-map.h>): the process that
 * owns a socket, written by the socket enricher operator. Upstream's layout:
 *   0 mntns, 8 pid_tgid (tgid << 32 | tid), 16 uid_gid (gid << 32 | uid),
 *  24 task[16] (comm), 40 ptask[16] (parent comm), 56 sock (struct sock
 *     address), 64 deletion_timestamp (boot ns when the socket closed, 0
 *     while open), 72 ppid, 76 ptid, 80 ipv6only (IPv6 socket refusing IPv4)
 *  88 optional_fields_start: cwd[] then exepath[], each present only when
 *     the operator collects it, at the size it chose (power of two up to
 *     GADGET_SE_PATH_MAX).
 * The enricher sets the map's value size and gives the loader the real BTF
 * of this struct, so gadgets read members through CO-RE
 * (preserve_access_index) and must test the optional ones with
 * bpf_core_field_exists() and size them with bpf_core_field_size().
 */
struct gadget_socket_value {
	__u64 mntns;
	__u64 pid_tgid;
	__u64 uid_gid;
	char task[TASK_COMM_LEN];
	char ptask[TASK_COMM_LEN];
	__u64 sock;
	__u64 deletion_timestamp;
	__u32 ppid;
	__u32 ptid;
	char ipv6only;

	char optional_fields_start[0] __attribute__((aligned(8)));
	char cwd[GADGET_SE_PATH_MAX];
	char exepath[GADGET_SE_PATH_MAX];
} __attribute__((preserve_access_index));

#endif /* __GADGET_TYPES_H */
