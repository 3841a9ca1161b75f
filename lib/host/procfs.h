/* Parsers for /proc/<pid>/{stat,status,statm} and a reader that fills one
 * process sample through a /proc directory descriptor, without allocating.
 * Parsers take the file's bytes and return 0 or -EINVAL on malformed text. */
#ifndef SONDE_HOST_PROCFS_H
#define SONDE_HOST_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* comm is at most 15 bytes in the kernel (TASK_COMM_LEN 16). */
#define PROCFS_COMM_MAX 64

/* proc_pid_stat(5) fields used here (field numbers in brackets). */
struct procfs_stat {
	int32_t pid;                /* (1) */
	char comm[PROCFS_COMM_MAX]; /* (2) raw bytes between the first '(' and the last ')' */
	char state;                 /* (3) */
	int32_t ppid;               /* (4) */
	uint64_t utime, stime;      /* (14) (15) clock ticks */
	int64_t priority;           /* (18) */
	int64_t nice;               /* (19) */
	int64_t num_threads;        /* (20) */
	uint64_t starttime;         /* (22) clock ticks after boot */
	uint64_t vsize;             /* (23) bytes */
	int64_t rss;                /* (24) pages */
};
int procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out);

/* proc_pid_status(5): only what stat lacks or gives in other units. Missing
 * lines (kernel threads have no Vm* lines) leave zeros. */
struct procfs_status {
	uint32_t uid;           /* real uid, first number of "Uid:" */
	uint64_t vm_size_bytes; /* VmSize */
	uint64_t vm_rss_bytes;  /* VmRSS */
	bool has_uid;
};
int procfs_parse_status(const char *buf, size_t len, struct procfs_status *out);

/* proc_pid_statm(5), in pages. */
struct procfs_statm {
	uint64_t size, resident, shared;
};
int procfs_parse_statm(const char *buf, size_t len, struct procfs_statm *out);

/* "MemTotal:" of /proc/meminfo in bytes. */
int procfs_parse_meminfo_total(const char *buf, size_t len, uint64_t *out);

/* Reads a whole small file at `dirfd`/`name` into buf (NUL-terminated);
 * returns its length or a negative errno. */
long procfs_read_at(int dirfd, const char *name, char *buf, size_t buflen);

/* What procfs_read_process reads besides stat. */
enum procfs_want {
	PROCFS_WANT_STATUS = 1,
	PROCFS_WANT_STATM = 2,
	PROCFS_WANT_MNTNS = 4,
};

struct procfs_process {
	struct procfs_stat stat;
	struct procfs_status status;
	struct procfs_statm statm;
	uint64_t mntns_id; /* inode of ns/mnt, 0 if unreadable */
};

/* One process: `procfd` is an open /proc directory. `buf` is scratch space
 * (4 KiB or more). -ENOENT/-ESRCH when the process is gone. */
int procfs_read_process(int procfd, int32_t pid, unsigned want, struct procfs_process *out, char *buf,
                        size_t buflen);

#endif
