/* The process-wide container service (sonde/containers.h): one collection,
 * one watcher on one thread, one exec gate, shared by every run that needs
 * containers, reference-counted.
 *
 * Registering a new container — which its first exec waits for — happens on
 * the watcher's own thread, so it never queues behind any run's event loop (a
 * burst of events, a slow or blocked output). That thread changes the
 * collection, and calls every subscriber, with the lock held for writing; the
 * lock prefers writers, so a flood of records being enriched on other threads
 * never delays a registration.
 *
 * The thread also creates the watcher: the exec gate it forks dies with the
 * thread that forked it (PR_SET_PDEATHSIG follows the thread, not the
 * process), so it must be the service's own thread, not the first run's,
 * which may end long before the service does. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sonde/containers.h>
#include <sonde/log.h>

#define WATCHER_NICE -10

struct sonde_container_service {
	struct sonde_containers *set;
	struct sonde_container_watcher *watcher;
	pthread_rwlock_t lock;
	atomic_bool empty; /* sonde_containers_empty(set), updated after each change */
	size_t refs;       /* under service_lock */
	bool thread_running;
	pthread_t thread;
	int epfd, stopfd;
	/* the thread's start-up: the watcher's creation, reported back */
	const struct sonde_container_watch_opts *opts;
	pthread_mutex_t init_lock;
	pthread_cond_t init_done;
	bool inited;
	int init_err;
	/* what the first reference asked for (later ones share it) */
	char *containerd_socket;
	int hold_timeout_ms;
};

/* guards `service` and every reference count change */
static pthread_mutex_t service_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sonde_container_service *service;

static int watch(struct sonde_container_service *s)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int err;

	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -errno;
	ev.data.fd = s->stopfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stopfd, &ev))
		return -errno;
	/* the initial scan: the creator waits, nobody else sees the set yet */
	err = sonde_container_watcher_new(s->set, s->opts, &s->watcher);
	if (err)
		return err;
	atomic_store(&s->empty, sonde_containers_empty(s->set));
	ev.data.fd = sonde_container_watcher_fd(s->watcher);
	if (ev.data.fd >= 0 && epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev))
		return -errno;
	return 0;
}

static void *run(void *arg)
{
	struct sonde_container_service *s = arg;
	int err;

	/* a new container's first exec waits for this thread: on a loaded host
	 * it must not wait for a time slice behind every busy task (best effort:
	 * CAP_SYS_NICE; the thread sleeps but for a registration) */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), WATCHER_NICE))
		sonde_debug("containers: the watcher thread keeps its priority: %s", strerror(errno));
	err = watch(s);
	pthread_mutex_lock(&s->init_lock);
	s->init_err = err;
	s->inited = true;
	pthread_cond_signal(&s->init_done);
	pthread_mutex_unlock(&s->init_lock);
	if (err)
		return NULL;

	for (;;) {
		struct epoll_event ev[2];
		int n = epoll_wait(s->epfd, ev, 2, -1);

		if (n < 0 && errno != EINTR) {
			sonde_warn("containers: the watcher thread stops: %s", strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++)
			if (ev[i].data.fd == s->stopfd)
				return NULL;
		pthread_rwlock_wrlock(&s->lock);
		/* not empty before a new container's subscribers run (and its exec goes on) */
		atomic_store(&s->empty, false);
		sonde_container_watcher_process(s->watcher);
		atomic_store(&s->empty, sonde_containers_empty(s->set));
		pthread_rwlock_unlock(&s->lock);
	}
}

static int start_thread(struct sonde_container_service *s)
{
	sigset_t all, old;
	int err;

	s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->stopfd < 0)
		return -errno;
	/* signals stay with the threads that run the gadgets' loops */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&s->thread, NULL, run, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return err;
	s->thread_running = true;
	pthread_mutex_lock(&s->init_lock);
	while (!s->inited)
		pthread_cond_wait(&s->init_done, &s->init_lock);
	err = s->init_err;
	pthread_mutex_unlock(&s->init_lock);
	return err;
}

static void service_free(struct sonde_container_service *s)
{
	uint64_t one = 1;

	if (s->thread_running) {
		if (write(s->stopfd, &one, sizeof(one)) != sizeof(one))
			sonde_warn("containers: cannot stop the watcher thread: %s", strerror(errno));
		pthread_join(s->thread, NULL);
	}
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	sonde_container_watcher_free(s->watcher);
	sonde_containers_free(s->set);
	pthread_rwlock_destroy(&s->lock);
	pthread_mutex_destroy(&s->init_lock);
	pthread_cond_destroy(&s->init_done);
	free(s->containerd_socket);
	free(s);
}

static struct sonde_container_service *service_new(const struct sonde_container_watch_opts *opts, int *errp)
{
	struct sonde_container_service *s = calloc(1, sizeof(*s));
	pthread_rwlockattr_t attr;
	int err;

	if (!s) {
		*errp = -ENOMEM;
		return NULL;
	}
	s->epfd = s->stopfd = -1;
	pthread_mutex_init(&s->init_lock, NULL);
	pthread_cond_init(&s->init_done, NULL);
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	s->set = sonde_containers_new();
	if (opts && opts->containerd_socket)
		s->containerd_socket = strdup(opts->containerd_socket);
	s->hold_timeout_ms = opts ? opts->hold_timeout_ms : 0;
	if (!s->set || (opts && opts->containerd_socket && !s->containerd_socket)) {
		service_free(s);
		*errp = -ENOMEM;
		return NULL;
	}
	s->opts = opts;
	err = start_thread(s);
	s->opts = NULL; /* the caller's */
	if (err) {
		sonde_err("containers: cannot start the container watcher: %s", strerror(-err));
		service_free(s);
		*errp = err;
		return NULL;
	}
	sonde_debug("containers: the shared collection starts with %zu containers",
	            sonde_containers_count(s->set));
	return s;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int sonde_container_service_get(const struct sonde_container_watch_opts *opts,
                                struct sonde_container_service **out)
{
	int err = 0;

	if (opts && opts->sz < sizeof(*opts))
		return -EINVAL;
	pthread_mutex_lock(&service_lock);
	if (!service) {
		service = service_new(opts, &err);
	} else if (opts && (!same_str(opts->containerd_socket, service->containerd_socket) ||
	                    opts->hold_timeout_ms != service->hold_timeout_ms)) {
		sonde_info("containers: the shared container watcher keeps the settings of the run that "
		           "started it (containerd socket %s, hold timeout %d ms)",
		           service->containerd_socket ? service->containerd_socket : "default",
		           service->hold_timeout_ms);
	}
	if (service) {
		service->refs++;
		*out = service;
	}
	pthread_mutex_unlock(&service_lock);
	return err;
}

void sonde_container_service_put(struct sonde_container_service *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&service_lock);
	if (--s->refs == 0) {
		service_free(s);
		service = NULL;
	}
	pthread_mutex_unlock(&service_lock);
}

size_t sonde_container_service_refs(void)
{
	size_t n;

	pthread_mutex_lock(&service_lock);
	n = service ? service->refs : 0;
	pthread_mutex_unlock(&service_lock);
	return n;
}

int sonde_container_service_subscribe(struct sonde_container_service *s, sonde_container_fn fn, void *arg)
{
	int id;

	pthread_rwlock_wrlock(&s->lock);
	id = sonde_containers_subscribe(s->set, fn, arg);
	/* what is already known, before any change can come */
	for (size_t i = 0; id > 0 && i < sonde_containers_count(s->set); i++)
		fn(s->set, SONDE_CONTAINER_ADDED, sonde_containers_at(s->set, i), arg);
	pthread_rwlock_unlock(&s->lock);
	return id;
}

void sonde_container_service_unsubscribe(struct sonde_container_service *s, int id)
{
	if (!s || id <= 0)
		return;
	/* with the write lock, no callback of ours is running on the watcher's thread */
	pthread_rwlock_wrlock(&s->lock);
	sonde_containers_unsubscribe(s->set, id);
	pthread_rwlock_unlock(&s->lock);
}

struct sonde_containers *sonde_container_service_set(struct sonde_container_service *s)
{
	return s->set;
}

bool sonde_container_service_empty(const struct sonde_container_service *s)
{
	return atomic_load(&s->empty);
}

void sonde_container_service_rdlock(struct sonde_container_service *s)
{
	pthread_rwlock_rdlock(&s->lock);
}

void sonde_container_service_wrlock(struct sonde_container_service *s)
{
	pthread_rwlock_wrlock(&s->lock);
}

void sonde_container_service_unlock(struct sonde_container_service *s)
{
	pthread_rwlock_unlock(&s->lock);
}
