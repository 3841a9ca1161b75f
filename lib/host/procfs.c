/* /proc parsers (see procfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/procfs.h"

/* Signed decimal at *p (leading blanks skipped); advances *p past it. */
static bool next_int(const char **p, const char *end, int64_t *out)
{
	const char *s = *p;
	bool neg = false;
	uint64_t v = 0;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s < end && (*s == '-' || *s == '+'))
		neg = *s++ == '-';
	if (s >= end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	*out = neg ? -(int64_t)v : (int64_t)v;
	*p = s;
	return true;
}

static bool next_uint(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s >= end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint64_t)(*s - '0');
	*out = v;
	*p = s;
	return true;
}

static void skip_token(const char **p, const char *end)
{
	const char *s = *p;

	while (s < end && *s == ' ')
		s++;
	while (s < end && *s != ' ' && *s != '\n')
		s++;
	*p = s;
}

int procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out)
{
	const char *end = buf + len, *open, *close = NULL, *p = buf;
	int64_t v;
	size_t clen;

	memset(out, 0, sizeof(*out));
	if (!next_int(&p, end, &v))
		return -EINVAL;
	out->pid = (int32_t)v;
	open = memchr(buf, '(', len);
	/* comm may hold ')' itself: the last one closes it */
	for (const char *s = end; s > buf; s--)
		if (s[-1] == ')') {
			close = s - 1;
			break;
		}
	if (!open || !close || close < open)
		return -EINVAL;
	clen = (size_t)(close - open - 1);
	if (clen >= sizeof(out->comm))
		clen = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, clen);
	out->comm[clen] = 0;
	p = close + 1;
	while (p < end && *p == ' ')
		p++;
	if (p >= end)
		return -EINVAL;
	out->state = *p++;
	/* fields 4.. are numbers; field n is at index n - 4 */
	for (int field = 4; field <= 24; field++) {
		uint64_t u = 0;
		int64_t s = 0;

		switch (field) {
		case 4:
		case 18:
		case 19:
		case 20:
		case 24:
			if (!next_int(&p, end, &s))
				return -EINVAL;
			break;
		case 14:
		case 15:
		case 22:
		case 23:
			if (!next_uint(&p, end, &u))
				return -EINVAL;
			break;
		default:
			skip_token(&p, end);
			continue;
		}
		switch (field) {
		case 4:
			out->ppid = (int32_t)s;
			break;
		case 14:
			out->utime = u;
			break;
		case 15:
			out->stime = u;
			break;
		case 18:
			out->priority = s;
			break;
		case 19:
			out->nice = s;
			break;
		case 20:
			out->num_threads = s;
			break;
		case 22:
			out->starttime = u;
			break;
		case 23:
			out->vsize = u;
			break;
		case 24:
			out->rss = s;
			break;
		}
	}
	return 0;
}

/* The value after "Key:" on a line starting at `line`, or NULL. */
static const char *value_of(const char *line, const char *end, const char *key)
{
	size_t kl = strlen(key);

	if ((size_t)(end - line) < kl || memcmp(line, key, kl) != 0)
		return NULL;
	return line + kl;
}

int procfs_parse_status(const char *buf, size_t len, struct procfs_status *out)
{
	const char *end = buf + len;
	bool any = false;

	memset(out, 0, sizeof(*out));
	for (const char *line = buf; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *lend = nl ? nl : end;
		const char *v;
		uint64_t u;

		if ((v = value_of(line, lend, "Uid:")) && next_uint(&v, lend, &u)) {
			out->uid = (uint32_t)u;
			out->has_uid = true;
		} else if ((v = value_of(line, lend, "VmSize:")) && next_uint(&v, lend, &u)) {
			out->vm_size_bytes = u * 1024;
		} else if ((v = value_of(line, lend, "VmRSS:")) && next_uint(&v, lend, &u)) {
			out->vm_rss_bytes = u * 1024;
		} else if (value_of(line, lend, "Name:")) {
			any = true;
		}
		line = lend + 1;
	}
	return any || out->has_uid ? 0 : -EINVAL;
}

int procfs_parse_statm(const char *buf, size_t len, struct procfs_statm *out)
{
	const char *p = buf, *end = buf + len;

	memset(out, 0, sizeof(*out));
	if (!next_uint(&p, end, &out->size) || !next_uint(&p, end, &out->resident) ||
	    !next_uint(&p, end, &out->shared))
		return -EINVAL;
	return 0;
}

int procfs_parse_meminfo_total(const char *buf, size_t len, uint64_t *out)
{
	const char *end = buf + len;

	for (const char *line = buf; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *lend = nl ? nl : end;
		const char *v = value_of(line, lend, "MemTotal:");
		uint64_t kb;

		if (v && next_uint(&v, lend, &kb)) {
			*out = kb * 1024;
			return 0;
		}
		line = lend + 1;
	}
	return -EINVAL;
}

long procfs_read_at(int dirfd, const char *name, char *buf, size_t buflen)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return -errno;
	/* proc files may come in several reads */
	while (len + 1 < buflen) {
		ssize_t n = read(fd, buf + len, buflen - len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = 0;
	return (long)len;
}

int procfs_read_process(int procfd, int32_t pid, unsigned want, struct procfs_process *out, char *buf,
                        size_t buflen)
{
	char name[16];
	int dfd, err = 0;
	long n;
	struct stat st;

	memset(out, 0, sizeof(*out));
	snprintf(name, sizeof(name), "%d", (int)pid);
	dfd = openat(procfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	n = procfs_read_at(dfd, "stat", buf, buflen);
	err = n < 0 ? (int)n : procfs_parse_stat(buf, (size_t)n, &out->stat);
	if (!err && (want & PROCFS_WANT_STATUS)) {
		n = procfs_read_at(dfd, "status", buf, buflen);
		err = n < 0 ? (int)n : procfs_parse_status(buf, (size_t)n, &out->status);
	}
	if (!err && (want & PROCFS_WANT_STATM)) {
		n = procfs_read_at(dfd, "statm", buf, buflen);
		err = n < 0 ? (int)n : procfs_parse_statm(buf, (size_t)n, &out->statm);
	}
	/* a namespace we may not inspect is not an error: the id stays 0 */
	if (!err && (want & PROCFS_WANT_MNTNS) && fstatat(dfd, "ns/mnt", &st, 0) == 0)
		out->mntns_id = (uint64_t)st.st_ino;
	close(dfd);
	return err;
}
