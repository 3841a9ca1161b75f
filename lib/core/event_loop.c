/* epoll-based run loop: one thread, no allocation per wakeup. */
#include <errno.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <sonde/log.h>

#include "event_loop.h"
#include "kvlist.h"
#include "util/clock.h"

enum source_kind { SOURCE_FD, SOURCE_TIMER, SOURCE_STOP };

struct source {
	enum source_kind kind;
	int fd;
	int id; /* timers */
	sonde_fd_fn fd_fn;
	sonde_timer_fn timer_fn;
	void *arg;
	bool removed;
};

struct idle {
	sonde_idle_fn fn;
	void *arg;
};

struct event_loop {
	struct sonde_gadget_ctx *ctx;
	int epfd;
	struct source stop;
	struct source **sources;
	size_t nsources, sources_cap;
	struct idle *idles;
	size_t nidles, idles_cap;
	int next_timer_id;
	/* Set with the stop eventfd so a batch already returned by epoll_wait
	 * is not processed further once someone asked to stop. */
	/* set from a signal handler or another thread: a lock-free atomic is
	 * async-signal-safe and race-free where a plain sig_atomic_t is only the former */
	atomic_int stop_requested;
};

struct event_loop *event_loop_new(struct sonde_gadget_ctx *ctx)
{
	struct event_loop *loop = calloc(1, sizeof(*loop));
	struct epoll_event ev = {.events = EPOLLIN};

	if (!loop)
		return NULL;
	loop->ctx = ctx;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->stop.kind = SOURCE_STOP;
	loop->stop.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ev.data.ptr = &loop->stop;
	if (loop->epfd < 0 || loop->stop.fd < 0 || epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->stop.fd, &ev)) {
		sonde_err("cannot create the event loop: %s", strerror(errno));
		event_loop_free(loop);
		return NULL;
	}
	return loop;
}

static void source_close(struct source *s)
{
	if (s->kind == SOURCE_TIMER && s->fd >= 0)
		close(s->fd);
	free(s);
}

void event_loop_free(struct event_loop *loop)
{
	if (!loop)
		return;
	for (size_t i = 0; i < loop->nsources; i++)
		source_close(loop->sources[i]);
	free(loop->sources);
	free(loop->idles);
	if (loop->stop.fd >= 0)
		close(loop->stop.fd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop);
}

void event_loop_stop(struct event_loop *loop)
{
	uint64_t one = 1;
	ssize_t r;

	atomic_store_explicit(&loop->stop_requested, 1, memory_order_relaxed);
	r = write(loop->stop.fd, &one, sizeof(one));

	(void)r;
}

static int add_source(struct event_loop *loop, struct source *s)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};

	if (grow_array((void **)&loop->sources, &loop->sources_cap, loop->nsources + 1,
	               sizeof(*loop->sources)))
		return -ENOMEM;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, s->fd, &ev)) {
		int err = -errno;
		sonde_err("cannot watch fd %d: %s", s->fd, strerror(errno));
		return err;
	}
	loop->sources[loop->nsources++] = s;
	return 0;
}

int event_loop_watch(struct event_loop *loop, int fd, sonde_fd_fn fn, void *arg)
{
	struct source *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	*s = (struct source){.kind = SOURCE_FD, .fd = fd, .fd_fn = fn, .arg = arg};
	err = add_source(loop, s);
	if (err)
		free(s);
	return err;
}

/* Sources are only marked while the loop may be iterating over epoll results;
 * they are freed when the loop has finished the batch. */
static void remove_source(struct event_loop *loop, struct source *s)
{
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	if (s->kind == SOURCE_TIMER) {
		close(s->fd);
		s->fd = -1;
	}
	s->removed = true;
}

static void reap_removed(struct event_loop *loop)
{
	size_t j = 0;

	for (size_t i = 0; i < loop->nsources; i++) {
		if (loop->sources[i]->removed)
			source_close(loop->sources[i]);
		else
			loop->sources[j++] = loop->sources[i];
	}
	loop->nsources = j;
}

int event_loop_unwatch(struct event_loop *loop, int fd)
{
	for (size_t i = 0; i < loop->nsources; i++) {
		struct source *s = loop->sources[i];
		if (s->kind == SOURCE_FD && s->fd == fd && !s->removed) {
			remove_source(loop, s);
			return 0;
		}
	}
	return -ENOENT;
}

static struct timespec ns_to_ts(int64_t ns)
{
	return (struct timespec){.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
}

int event_loop_add_timer(struct event_loop *loop, int64_t first_ns, int64_t interval_ns, sonde_timer_fn fn,
                         void *arg)
{
	struct itimerspec its = {0};
	struct source *s;
	int err;

	if (interval_ns < 0 || first_ns < 0 || (interval_ns == 0 && first_ns == 0))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	*s = (struct source){.kind = SOURCE_TIMER, .timer_fn = fn, .arg = arg, .id = ++loop->next_timer_id};
	s->fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	its.it_value = ns_to_ts(first_ns ? first_ns : interval_ns);
	its.it_interval = ns_to_ts(interval_ns);
	if (s->fd < 0 || timerfd_settime(s->fd, 0, &its, NULL)) {
		err = -errno;
		sonde_err("cannot create a timer: %s", strerror(errno));
		source_close(s);
		return err;
	}
	err = add_source(loop, s);
	if (err) {
		source_close(s);
		return err;
	}
	return s->id;
}

int event_loop_remove_timer(struct event_loop *loop, int id)
{
	for (size_t i = 0; i < loop->nsources; i++) {
		struct source *s = loop->sources[i];
		if (s->kind == SOURCE_TIMER && s->id == id && !s->removed) {
			remove_source(loop, s);
			return 0;
		}
	}
	return -ENOENT;
}

int event_loop_on_idle(struct event_loop *loop, sonde_idle_fn fn, void *arg)
{
	if (grow_array((void **)&loop->idles, &loop->idles_cap, loop->nidles + 1, sizeof(*loop->idles)))
		return -ENOMEM;
	loop->idles[loop->nidles++] = (struct idle){fn, arg};
	return 0;
}

int event_loop_run(struct event_loop *loop, int64_t timeout_ns)
{
	struct epoll_event events[32];
	int64_t deadline = timeout_ns > 0 ? util_now_ns() + timeout_ns : 0;
	bool stop = false;

	while (!stop && !atomic_load_explicit(&loop->stop_requested, memory_order_relaxed)) {
		int wait_ms = -1, n;

		if (deadline) {
			int64_t left = deadline - util_now_ns();
			if (left <= 0)
				break;
			wait_ms = (int)((left + 999999) / 1000000);
		}
		n = epoll_wait(loop->epfd, events, 32, wait_ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			sonde_err("event loop: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n && !atomic_load_explicit(&loop->stop_requested, memory_order_relaxed);
		     i++) {
			struct source *s = events[i].data.ptr;
			uint64_t ticks;

			if (s->removed)
				continue;
			switch (s->kind) {
			case SOURCE_STOP:
				stop = true;
				break;
			case SOURCE_TIMER:
				if (read(s->fd, &ticks, sizeof(ticks)) == sizeof(ticks))
					s->timer_fn(loop->ctx, s->arg);
				break;
			case SOURCE_FD:
				s->fd_fn(loop->ctx, s->fd, s->arg);
				break;
			}
		}
		for (size_t i = 0; i < loop->nidles; i++)
			loop->idles[i].fn(loop->ctx, loop->idles[i].arg);
		reap_removed(loop);
	}
	return 0;
}
