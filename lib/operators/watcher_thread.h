/* Runs a container watcher on a thread of its own, so that registering a new
 * container — which its first exec waits for — never queues behind the
 * gadget's event loop (a burst of events, a slow or blocked output). The
 * watcher's work, and so every change of the container set and its
 * subscribers' callbacks, happens with `lock` held for writing: whoever reads
 * the set from another thread takes it for reading. */
#ifndef SONDE_OPERATORS_WATCHER_THREAD_H
#define SONDE_OPERATORS_WATCHER_THREAD_H

#include <pthread.h>

struct sonde_container_watcher;
struct watcher_thread;

/* 0 or a negative errno. */
int watcher_thread_start(struct sonde_container_watcher *w, pthread_rwlock_t *lock,
                         struct watcher_thread **out);
/* Joins the thread; NULL is a no-op. */
void watcher_thread_stop(struct watcher_thread *t);

#endif
