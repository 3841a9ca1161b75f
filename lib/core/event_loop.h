/* The run loop of a gadget: epoll over watched fds, timerfd timers and a
 * stop eventfd, with idle callbacks after each batch. */
#ifndef SONDE_EVENT_LOOP_H
#define SONDE_EVENT_LOOP_H

#include <stdint.h>

#include <sonde/gadget.h>

struct event_loop;

struct event_loop *event_loop_new(struct sonde_gadget_ctx *ctx);
void event_loop_free(struct event_loop *loop);
/* Runs until event_loop_stop or the timeout (0 = none). */
int event_loop_run(struct event_loop *loop, int64_t timeout_ns);
/* Async-signal-safe. */
void event_loop_stop(struct event_loop *loop);
int event_loop_watch(struct event_loop *loop, int fd, sonde_fd_fn fn, void *arg);
int event_loop_unwatch(struct event_loop *loop, int fd);
int event_loop_add_timer(struct event_loop *loop, int64_t first_ns, int64_t interval_ns, sonde_timer_fn fn,
                         void *arg);
int event_loop_remove_timer(struct event_loop *loop, int id);
int event_loop_on_idle(struct event_loop *loop, sonde_idle_fn fn, void *arg);

#endif
