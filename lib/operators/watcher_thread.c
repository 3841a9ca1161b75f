/* A container watcher on its own thread (see watcher_thread.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sonde/containers.h>
#include <sonde/log.h>

#include "operators/watcher_thread.h"

#define WATCHER_NICE -10

struct watcher_thread {
	struct sonde_container_watcher *w;
	pthread_rwlock_t *lock;
	pthread_t thread;
	int epfd, stopfd;
};

static void *run(void *arg)
{
	struct watcher_thread *t = arg;

	/* a new container's first exec waits for this thread: on a loaded host
	 * it must not wait for a time slice behind every busy task (best effort:
	 * CAP_SYS_NICE; the thread sleeps but for a registration) */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), WATCHER_NICE))
		sonde_debug("containers: the watcher thread keeps its priority: %s", strerror(errno));

	for (;;) {
		struct epoll_event ev[2];
		int n = epoll_wait(t->epfd, ev, 2, -1);

		if (n < 0 && errno != EINTR) {
			sonde_warn("containers: the watcher thread stops: %s", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++)
			if (ev[i].data.fd == t->stopfd)
				return NULL;
		pthread_rwlock_wrlock(t->lock);
		sonde_container_watcher_process(t->w);
		pthread_rwlock_unlock(t->lock);
	}
}

static void free_thread(struct watcher_thread *t)
{
	if (t->epfd >= 0)
		close(t->epfd);
	if (t->stopfd >= 0)
		close(t->stopfd);
	free(t);
}

int watcher_thread_start(struct sonde_container_watcher *w, pthread_rwlock_t *lock,
                         struct watcher_thread **out)
{
	struct watcher_thread *t = calloc(1, sizeof(*t));
	struct epoll_event ev = {.events = EPOLLIN};
	sigset_t all, old;
	int err;

	if (!t)
		return -ENOMEM;
	t->w = w;
	t->lock = lock;
	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	t->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->epfd < 0 || t->stopfd < 0)
		goto fail_errno;
	ev.data.fd = sonde_container_watcher_fd(w);
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		goto fail_errno;
	ev.data.fd = t->stopfd;
	if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->stopfd, &ev))
		goto fail_errno;
	/* signals stay with the thread that runs the gadget's loop */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&t->thread, NULL, run, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		free_thread(t);
		return err;
	}
	*out = t;
	return 0;
fail_errno:
	err = -errno;
	free_thread(t);
	return err;
}

void watcher_thread_stop(struct watcher_thread *t)
{
	uint64_t one = 1;

	if (!t)
		return;
	if (write(t->stopfd, &one, sizeof(one)) != sizeof(one))
		sonde_warn("containers: cannot stop the watcher thread: %s", strerror(errno));
	pthread_join(t->thread, NULL);
	free_thread(t);
}
