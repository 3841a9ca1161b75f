/* The store's writer lock: an exclusive flock on index.json.lock, with the
 * holder's pid written into the file so that a waiting process can say who
 * holds it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <sonde/log.h>

#include "image/store_internal.h"
#include "util/clock.h"

static long read_holder(int fd)
{
	char buf[32] = {0};
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	return strtol(buf, NULL, 10);
}

int oci_store_lock(struct oci_store *s, int timeout_ms)
{
	if (s->lock_depth > 0) {
		s->lock_depth++;
		return 0;
	}
	int err = oci_store_check_writable(s, "lock");
	if (err)
		return err;
	char path[4096];
	snprintf(path, sizeof(path), "%s/index.json.lock", s->dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		sonde_err("cannot open the store lock %s: %s", path, strerror(errno));
		return err;
	}
	int64_t deadline = util_now_ns() + (int64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000;
	bool told = false;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			err = -errno;
			sonde_err("cannot lock the store %s: %s", s->dir, strerror(errno));
			close(fd);
			return err;
		}
		if (util_now_ns() >= deadline) {
			long pid = read_holder(fd);
			char who[48] = "another process";
			if (pid > 0)
				snprintf(who, sizeof(who), "process %ld", pid);
			sonde_err(
			    "the image store %s is locked by %s; gave up after %d.%d s (try again when it "
			    "is done)",
			    s->dir, who, timeout_ms / 1000, (timeout_ms % 1000) / 100);
			close(fd);
			return -EWOULDBLOCK;
		}
		if (!told && timeout_ms >= 1000) {
			long pid = read_holder(fd);
			sonde_info("waiting for the image store %s, locked by process %ld", s->dir, pid);
			told = true;
		}
		struct timespec ts = {0, 20 * 1000000};
		nanosleep(&ts, NULL);
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) != n)
		sonde_debug("cannot write the pid into %s", path);
	s->lock_fd = fd;
	s->lock_depth = 1;
	return 0;
}

void oci_store_unlock(struct oci_store *s)
{
	if (!s || s->lock_depth <= 0)
		return;
	if (--s->lock_depth > 0)
		return;
	/* The pid goes before the lock does, so a reader never blames a
	 * process that no longer holds it. */
	if (ftruncate(s->lock_fd, 0) != 0)
		sonde_debug("cannot clear the store lock file of %s", s->dir);
	flock(s->lock_fd, LOCK_UN);
	close(s->lock_fd);
	s->lock_fd = -1;
}
