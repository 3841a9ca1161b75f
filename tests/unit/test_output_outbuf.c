/* The buffered writer: memory mode, flushing to fds, auto-flush, write errors. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include "test_output_fixture.h"

static int memfd(void)
{
	return memfd_create("outbuf-test", MFD_CLOEXEC);
}

static off_t fd_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static char *fd_contents(int fd)
{
	lseek(fd, 0, SEEK_SET);
	return read_all(fd);
}

static void test_memory_mode(void)
{
	struct sonde_outbuf ob;
	char big[1000];

	REQUIRE(outbuf_init(&ob, -1, 16) == 0);
	outbuf_puts(&ob, "n=");
	outbuf_put_u64(&ob, 0);
	outbuf_putc(&ob, ' ');
	outbuf_put_u64(&ob, UINT64_MAX);
	outbuf_putc(&ob, ' ');
	outbuf_put_i64(&ob, INT64_MIN);
	outbuf_putc(&ob, ' ');
	outbuf_put_i64(&ob, -7);
	outbuf_putc(&ob, ' ');
	outbuf_put_hex(&ob, "\x00\xab\xff", 3);
	outbuf_fill(&ob, '.', 3);
	CHECK_STR(ob_text(&ob), "n=0 18446744073709551615 -9223372036854775808 -7 00abff...");
	/* grows past the threshold: memory mode never flushes */
	memset(big, 'x', sizeof(big));
	outbuf_write(&ob, big, sizeof(big));
	outbuf_write(&ob, big, sizeof(big));
	CHECK_INT(ob.len, 2000);
	CHECK_INT(outbuf_flush(&ob), 0);
	CHECK_INT(ob.len, 2000);
	CHECK_INT(outbuf_error(&ob), 0);
	outbuf_fini(&ob);
}

static void test_flush_to_fd(void)
{
	struct sonde_outbuf ob;
	int fd = memfd();
	char *text;

	REQUIRE(fd >= 0);
	REQUIRE(outbuf_init(&ob, fd, 0) == 0);
	outbuf_puts(&ob, "hello ");
	CHECK_INT(fd_size(fd), 0); /* buffered */
	outbuf_puts(&ob, "world\n");
	CHECK_INT(outbuf_flush(&ob), 0);
	CHECK_INT(fd_size(fd), 12);
	CHECK_INT(ob.len, 0);
	CHECK_INT(outbuf_flush(&ob), 0); /* nothing to do */
	text = fd_contents(fd);
	CHECK_STR(text, "hello world\n");
	free(text);
	outbuf_fini(&ob);
	close(fd);
}

static void test_auto_flush(void)
{
	struct sonde_outbuf ob;
	int fd = memfd();
	char chunk[10], *text;
	size_t total = 0;

	REQUIRE(fd >= 0);
	REQUIRE(outbuf_init(&ob, fd, 16) == 0);
	memset(chunk, 'a', sizeof(chunk));
	outbuf_write(&ob, chunk, 10);
	CHECK_INT(fd_size(fd), 0);
	memset(chunk, 'b', sizeof(chunk));
	outbuf_write(&ob, chunk, 10); /* does not fit: the first 10 go out */
	CHECK_INT(fd_size(fd), 10);
	CHECK_INT(ob.len, 10);
	/* a single append larger than the buffer grows it */
	{
		char big[100];

		memset(big, 'c', sizeof(big));
		outbuf_write(&ob, big, sizeof(big));
	}
	CHECK_INT(fd_size(fd), 20);
	CHECK_INT(outbuf_flush_if_full(&ob), 0);
	CHECK_INT(fd_size(fd), 120);
	/* many small appends: output complete and in order */
	for (int i = 0; i < 10000; i++) {
		outbuf_put_u64(&ob, (uint64_t)i % 10);
		total++;
	}
	outbuf_flush(&ob);
	CHECK_INT(fd_size(fd), 120 + (off_t)total);
	text = fd_contents(fd);
	CHECK(strncmp(text, "aaaaaaaaaabbbbbbbbbbccc", 23) == 0);
	CHECK(strncmp(text + 120, "0123456789012", 13) == 0);
	free(text);
	outbuf_fini(&ob);
	close(fd);
}

static int log_count;
static char last_log[256];

static void log_sink(enum sonde_log_level level, const char *msg, void *arg)
{
	log_count++;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static void test_epipe(void)
{
	struct sonde_outbuf ob;
	int p[2];

	/* SIGPIPE keeps its default action (terminate): the writer must not trigger it */
	signal(SIGPIPE, SIG_DFL);
	REQUIRE(pipe(p) == 0);
	close(p[0]);
	sonde_log_set_level(SONDE_LOG_DEBUG);
	sonde_log_set_sink(log_sink, NULL);
	log_count = 0;
	REQUIRE(outbuf_init(&ob, p[1], 64) == 0);
	outbuf_puts(&ob, "lost\n");
	CHECK_INT(outbuf_flush(&ob), -EPIPE);
	CHECK_INT(outbuf_error(&ob), -EPIPE);
	CHECK_INT(log_count, 1);
	CHECK(strstr(last_log, "closed") != NULL);
	/* later output is discarded; the error stays and is not logged again */
	for (int i = 0; i < 100; i++)
		outbuf_puts(&ob, "more output that nobody reads\n");
	CHECK_INT(outbuf_flush(&ob), -EPIPE);
	CHECK_INT(ob.len, 0);
	CHECK_INT(log_count, 1);
	/* no SIGPIPE left pending for the process */
	{
		sigset_t pending;

		sigpending(&pending);
		CHECK(!sigismember(&pending, SIGPIPE));
	}
	sonde_log_set_sink(NULL, NULL);
	sonde_log_set_level(SONDE_LOG_WARN);
	outbuf_fini(&ob);
	close(p[1]);
}

static void test_bad_fd(void)
{
	struct sonde_outbuf ob;

	sonde_log_set_sink(log_sink, NULL);
	log_count = 0;
	REQUIRE(outbuf_init(&ob, 1000, 0) == 0); /* not open */
	outbuf_puts(&ob, "x");
	CHECK_INT(outbuf_flush(&ob), -EBADF);
	CHECK_INT(outbuf_flush(&ob), -EBADF);
	CHECK_INT(log_count, 1);
	CHECK(strstr(last_log, "write to fd 1000 failed") != NULL);
	sonde_log_set_sink(NULL, NULL);
	outbuf_fini(&ob);
}

struct reader {
	int fd;
	size_t got;
};

static void *slow_reader(void *arg)
{
	struct reader *r = arg;
	char buf[4096];
	ssize_t n;

	usleep(20000);
	while ((n = read(r->fd, buf, sizeof(buf))) > 0)
		r->got += (size_t)n;
	return NULL;
}

/* A non-blocking fd that is full makes the writer wait, not fail. */
static void test_nonblocking_fd(void)
{
	struct sonde_outbuf ob;
	struct reader r = {0};
	pthread_t th;
	char chunk[1024];
	int p[2];

	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	fcntl(p[0], F_SETFL, 0); /* the reader blocks */
	r.fd = p[0];
	REQUIRE(pthread_create(&th, NULL, slow_reader, &r) == 0);
	REQUIRE(outbuf_init(&ob, p[1], 4096) == 0);
	memset(chunk, 'z', sizeof(chunk));
	for (int i = 0; i < 1024; i++) /* 1 MiB, far more than the pipe holds */
		outbuf_write(&ob, chunk, sizeof(chunk));
	CHECK_INT(outbuf_flush(&ob), 0);
	close(p[1]);
	pthread_join(th, NULL);
	CHECK_INT(r.got, 1024 * 1024);
	outbuf_fini(&ob);
	close(p[0]);
}

/* ---- the stop: a reader that takes nothing cannot hold the process ---- */

struct blocked_writer {
	struct sonde_outbuf ob;
	atomic_int tid;
	int err;
};

static int stop_fd = -1;

static void on_stop_signal(int sig)
{
	(void)sig;
	sonde_output_stopping(stop_fd);
}

static void *blocked_flush(void *arg)
{
	struct blocked_writer *w = arg;

	atomic_store(&w->tid, (int)gettid());
	w->err = outbuf_flush(&w->ob);
	return NULL;
}

/* Whether thread tid sleeps in the kernel's pipe write (wchan needs
 * kallsyms; without it, that the thread sleeps at all). */
static bool in_pipe_write(int tid)
{
	char path[64], buf[512] = "";
	FILE *f;
	char *p;

	snprintf(path, sizeof(path), "/proc/self/task/%d/wchan", tid);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	if (strstr(buf, "pipe_write"))
		return true;
	if (buf[0] && strcmp(buf, "0") != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	f = fopen(path, "re");
	if (!f)
		return false;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] == ' ' && p[2] == 'S';
}

/* A write blocked on a full pipe whose reader never reads: the stop signal
 * makes it give up (ETIMEDOUT, warned once) instead of blocking the exit
 * for ever, and what fitted in the pipe is intact. Runs last: the stop is
 * process-wide and stays. */
static void test_stop_unblocks_writer(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal}, old;
	struct blocked_writer w = {0};
	char chunk[4096], *got;
	size_t filled = 0;
	pthread_t th;
	int p[2];

	REQUIRE(pipe2(p, O_NONBLOCK) == 0);
	memset(chunk, 'f', sizeof(chunk));
	for (ssize_t n; (n = write(p[1], chunk, sizeof(chunk))) > 0;)
		filled += (size_t)n;
	fcntl(p[1], F_SETFL, 0); /* the writer blocks, as on stdout */
	stop_fd = p[1];
	sigemptyset(&sa.sa_mask); /* no SA_RESTART, as sonde run's handler */
	REQUIRE(sigaction(SIGUSR1, &sa, &old) == 0);
	REQUIRE(outbuf_init(&w.ob, p[1], 4096) == 0);
	outbuf_write(&w.ob, "tail", 4);
	log_count = 0;
	sonde_log_set_sink(log_sink, NULL);
	REQUIRE(pthread_create(&th, NULL, blocked_flush, &w) == 0);
	while (!atomic_load(&w.tid) || !in_pipe_write(atomic_load(&w.tid)))
		usleep(1000);
	pthread_kill(th, SIGUSR1);
	pthread_join(th, NULL);
	CHECK_INT(w.err, -ETIMEDOUT);
	CHECK_INT(log_count, 1);
	CHECK(strstr(last_log, "took nothing") != NULL);
	CHECK(fcntl(p[1], F_GETFL) & O_NONBLOCK);
	close(p[1]);
	got = read_all(p[0]);
	CHECK(got && strlen(got) == filled && strspn(got, "f") == filled);
	free(got);
	sonde_log_set_sink(NULL, NULL);
	sigaction(SIGUSR1, &old, NULL);
	outbuf_fini(&w.ob);
	close(p[0]);
}

/* After the stop, a reader that keeps reading still gets everything. */
static void test_stop_slow_reader_served(void)
{
	struct sonde_outbuf ob;
	struct reader r = {0};
	pthread_t th;
	char chunk[1024];
	int p[2];

	REQUIRE(pipe(p) == 0);
	sonde_output_stopping(p[1]);
	r.fd = p[0];
	REQUIRE(pthread_create(&th, NULL, slow_reader, &r) == 0);
	REQUIRE(outbuf_init(&ob, p[1], 4096) == 0);
	memset(chunk, 'z', sizeof(chunk));
	for (int i = 0; i < 1024; i++)
		outbuf_write(&ob, chunk, sizeof(chunk));
	CHECK_INT(outbuf_flush(&ob), 0);
	close(p[1]);
	pthread_join(th, NULL);
	CHECK_INT(r.got, 1024 * 1024);
	outbuf_fini(&ob);
	close(p[0]);
}

TEST_MAIN(TEST(test_memory_mode), TEST(test_flush_to_fd), TEST(test_auto_flush), TEST(test_epipe),
          TEST(test_bad_fd), TEST(test_nonblocking_fd), TEST(test_stop_unblocks_writer),
          TEST(test_stop_slow_reader_served))
