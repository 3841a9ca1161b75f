/* Logging routed per run: a run's target bound to a thread gets that
 * thread's messages at the run's level, bindings nest, and threads bound to
 * different runs never see each other's lines; unbound, messages go to the
 * process-wide sink. */
#include <pthread.h>
#include <stdatomic.h>

#include <sonde/log.h>

#include "testlib.h"

struct capture {
	pthread_mutex_t lock;
	char text[4096];
	int lines;
};

static void capture_fn(enum sonde_log_level level, const char *msg, void *arg)
{
	struct capture *c = arg;
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = strlen(c->text);
	snprintf(c->text + n, sizeof(c->text) - n, "%d:%s\n", (int)level, msg);
	c->lines++;
	pthread_mutex_unlock(&c->lock);
}

static struct capture global = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void reset(struct capture *c)
{
	c->text[0] = '\0';
	c->lines = 0;
}

static void test_bind_and_restore(void)
{
	struct capture a = {.lock = PTHREAD_MUTEX_INITIALIZER}, b = {.lock = PTHREAD_MUTEX_INITIALIZER};
	struct sonde_log_target ta = {capture_fn, &a, SONDE_LOG_DEBUG};
	struct sonde_log_target tb = {capture_fn, &b, SONDE_LOG_ERROR};
	const struct sonde_log_target *prev, *prev2;

	reset(&global);
	sonde_log_set_sink(capture_fn, &global);
	sonde_log_set_level(SONDE_LOG_WARN);

	sonde_debug("nobody's debug");
	sonde_warn("nobody's warning");
	CHECK_STR(global.text, "1:nobody's warning\n");

	prev = sonde_log_bind(&ta);
	CHECK(prev == NULL);
	CHECK_INT(sonde_log_get_level(), SONDE_LOG_DEBUG);
	sonde_debug("a's debug %d", 1);
	/* nested: b's level (errors only) while it is bound */
	prev2 = sonde_log_bind(&tb);
	CHECK(prev2 == &ta);
	sonde_warn("b drops this");
	sonde_err("b's error");
	sonde_log_bind(prev2);
	sonde_info("a again");
	sonde_log_bind(prev);

	CHECK_STR(a.text, "3:a's debug 1\n2:a again\n");
	CHECK_STR(b.text, "0:b's error\n");
	CHECK_STR(global.text, "1:nobody's warning\n");
	CHECK_INT(sonde_log_get_level(), SONDE_LOG_WARN);

	/* a run without a callback of its own: the process-wide sink, at the run's level */
	{
		struct sonde_log_target quiet = {NULL, NULL, SONDE_LOG_DEBUG};

		prev = sonde_log_bind(&quiet);
		sonde_debug("run without callback");
		sonde_log_bind(prev);
	}
	CHECK_STR(global.text, "1:nobody's warning\n3:run without callback\n");
	sonde_log_set_sink(NULL, NULL);
}

struct worker {
	struct capture cap;
	struct sonde_log_target target;
	int id;
	pthread_barrier_t *barrier;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	const struct sonde_log_target *prev = sonde_log_bind(&w->target);

	pthread_barrier_wait(w->barrier);
	for (int i = 0; i < 200; i++)
		sonde_info("worker %d line %d", w->id, i);
	sonde_log_bind(prev);
	/* unbound again: the process-wide sink */
	sonde_err("worker %d done", w->id);
	return NULL;
}

static void test_threads(void)
{
	struct worker w[4];
	pthread_t th[4];
	pthread_barrier_t barrier;

	reset(&global);
	sonde_log_set_sink(capture_fn, &global);
	pthread_barrier_init(&barrier, NULL, 4);
	for (int i = 0; i < 4; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		pthread_mutex_init(&w[i].cap.lock, NULL);
		w[i].target = (struct sonde_log_target){capture_fn, &w[i].cap, SONDE_LOG_INFO};
		w[i].id = i;
		w[i].barrier = &barrier;
		REQUIRE(pthread_create(&th[i], NULL, work, &w[i]) == 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++) {
		char mine[32];
		int own = 0;

		snprintf(mine, sizeof(mine), "worker %d line", i);
		for (const char *p = w[i].cap.text; (p = strstr(p, "worker ")); p++)
			own += strncmp(p, mine, strlen(mine)) == 0 ? 1 : -1000;
		/* the buffer holds the first lines only; all of them are this worker's */
		CHECK(own > 0);
		CHECK_INT(w[i].cap.lines, 200);
		pthread_mutex_destroy(&w[i].cap.lock);
	}
	CHECK_INT(global.lines, 4);
	CHECK(strstr(global.text, "line") == NULL);
	pthread_barrier_destroy(&barrier);
	sonde_log_set_sink(NULL, NULL);
}

TEST_MAIN(TEST(test_bind_and_restore), TEST(test_threads))
