/* Buffered writer: one growable buffer, flushed with write(2). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sonde/log.h>

#include <sonde/sink.h>

#include "numfmt.h"
#include "outbuf.h"

/* After the stop, how long a write waits for a reader that takes nothing. */
#define OUTBUF_STOP_GRACE_MS 1000

static volatile sig_atomic_t outbuf_stopping;

void sonde_output_stopping(int fd)
{
	int saved = errno, fl;

	outbuf_stopping = 1;
	/* A write already blocked in the kernel returns (EINTR, or what it
	 * wrote) because of the signal; this keeps the next one, and one that
	 * was about to start, from blocking again. */
	if (fd >= 0 && (fl = fcntl(fd, F_GETFL)) >= 0 && !(fl & O_NONBLOCK))
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	errno = saved;
}

int outbuf_init(struct sonde_outbuf *ob, int fd, size_t threshold)
{
	memset(ob, 0, sizeof(*ob));
	ob->fd = fd;
	ob->threshold = threshold ? threshold : OUTBUF_DEFAULT_THRESHOLD;
	ob->cap = ob->threshold;
	ob->data = malloc(ob->cap);
	if (!ob->data) {
		ob->cap = 0;
		ob->err = -ENOMEM;
		return -ENOMEM;
	}
	return 0;
}

void outbuf_fini(struct sonde_outbuf *ob)
{
	free(ob->data);
	ob->data = NULL;
	ob->len = ob->cap = 0;
}

static void report(struct sonde_outbuf *ob)
{
	if (ob->reported)
		return;
	ob->reported = true;
	/* A reader that went away (`| head`) is normal, not an error worth shouting about. */
	if (ob->err == -EPIPE)
		sonde_debug("output: reader closed the pipe, discarding further output");
	else if (ob->err == -ETIMEDOUT)
		sonde_warn("output: the reader of fd %d took nothing for %d ms after the stop; "
		           "the rest of the output is dropped",
		           ob->fd, OUTBUF_STOP_GRACE_MS);
	else
		sonde_err("output: write to fd %d failed: %s", ob->fd, strerror(-ob->err));
}

/* write(2) everything, retrying on EINTR, waiting on EAGAIN: for as long as
 * it takes while the run goes on (a slow reader slows the run, the rings
 * count what is lost meanwhile), at most OUTBUF_STOP_GRACE_MS without
 * progress once it is being stopped, so that a reader that never reads
 * cannot keep the process from exiting. SIGPIPE is blocked around the
 * writes so a closed pipe gives EPIPE instead of killing the process; a
 * SIGPIPE raised by us is consumed before unblocking. */
static int write_all(int fd, const char *p, size_t n)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	int err = 0;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};
			int r = poll(&pfd, 1, outbuf_stopping ? OUTBUF_STOP_GRACE_MS : -1);

			if (r > 0 || (r < 0 && errno == EINTR))
				continue;
			if (r == 0) {
				err = -ETIMEDOUT;
				break;
			}
		}
		err = -errno;
		break;
	}
	if (err == -EPIPE && !was_pending) {
		struct timespec zero = {0, 0};

		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

int outbuf_flush(struct sonde_outbuf *ob)
{
	if (ob->fd < 0 || ob->len == 0)
		return ob->err;
	if (!ob->err) {
		int err = write_all(ob->fd, ob->data, ob->len);

		if (err) {
			ob->err = err;
			report(ob);
		}
	}
	ob->len = 0;
	ob->flushes++;
	return ob->err;
}

int outbuf_flush_if_full(struct sonde_outbuf *ob)
{
	if (ob->len >= ob->threshold)
		return outbuf_flush(ob);
	return ob->err;
}

char *outbuf_make_room(struct sonde_outbuf *ob, size_t n)
{
	size_t ncap;
	char *nd;

	/* Past the threshold: write out what we have instead of growing. */
	if (ob->fd >= 0 && ob->len > 0) {
		outbuf_flush(ob);
		if (ob->cap - ob->len >= n)
			return ob->data + ob->len;
	}
	ncap = ob->cap ? ob->cap : 256;
	while (ncap - ob->len < n) {
		if (ncap > SIZE_MAX / 2)
			goto nomem;
		ncap *= 2;
	}
	nd = realloc(ob->data, ncap);
	if (!nd)
		goto nomem;
	ob->data = nd;
	ob->cap = ncap;
	return ob->data + ob->len;
nomem:
	if (!ob->err) {
		ob->err = -ENOMEM;
		report(ob);
	}
	return NULL;
}

void outbuf_fill(struct sonde_outbuf *ob, char c, size_t n)
{
	char *d = outbuf_reserve(ob, n);

	if (d) {
		memset(d, c, n);
		ob->len += n;
	}
}

void outbuf_put_u64_slow(struct sonde_outbuf *ob, uint64_t v)
{
	char *d = outbuf_reserve(ob, 24);

	if (d)
		ob->len += fmt_u64(d, v);
}

void outbuf_put_i64(struct sonde_outbuf *ob, int64_t v)
{
	char *d = outbuf_reserve(ob, 24);

	if (d)
		ob->len += fmt_i64(d, v);
}

void outbuf_put_hex(struct sonde_outbuf *ob, const void *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = p;
	char *d;

	if (n > SIZE_MAX / 2)
		return;
	d = outbuf_reserve(ob, 2 * n);
	if (!d)
		return;
	for (size_t i = 0; i < n; i++) {
		*d++ = hex[s[i] >> 4];
		*d++ = hex[s[i] & 0xF];
	}
	ob->len += 2 * n;
}
