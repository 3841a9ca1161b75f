/* /proc parsers: synthetic text with edge cases, then the test's own process. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/procfs.h"
#include "testlib.h"

static void test_parse_stat_synthetic(void)
{
	/* comm with spaces and parentheses; RT priority; negative nice */
	static const char text[] = "4242 (a) b (c)) R 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 -51 -5 "
	                           "3 0 123456 1048576 42 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 "
	                           "50 1 0 0 0 0 0 0 0 0 0 0\n";
	struct procfs_stat st;

	REQUIRE(procfs_parse_stat(text, sizeof(text) - 1, &st) == 0);
	CHECK_INT(st.pid, 4242);
	CHECK_STR(st.comm, "a) b (c)");
	CHECK_INT(st.state, 'R');
	CHECK_INT(st.ppid, 1);
	CHECK_INT(st.utime, 250);
	CHECK_INT(st.stime, 50);
	CHECK_INT(st.priority, -51);
	CHECK_INT(st.nice, -5);
	CHECK_INT(st.num_threads, 3);
	CHECK_INT(st.starttime, 123456);
	CHECK_INT(st.vsize, 1048576);
	CHECK_INT(st.rss, 42);
}

static void test_parse_stat_malformed(void)
{
	static const char *const bad[] = {
	    "",
	    "12",
	    "12 (x",                                                            /* no closing parenthesis */
	    "12 (x)",                                                           /* nothing after comm */
	    "12 (x) S 1 2 3",                                                   /* truncated */
	    "x (y) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22", /* pid */
	    "12 (x) S 1 2 3 4 5 6 7 8 9 10 abc 12 13 14 15 16 17 18 19 20 21",  /* utime */
	};
	struct procfs_stat st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (procfs_parse_stat(bad[i], strlen(bad[i]), &st) != -EINVAL) {
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
			test_failures++;
		}
	}
}

static void test_parse_status_statm_meminfo(void)
{
	static const char status[] = "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t7\nPid:\t7\n"
	                             "PPid:\t1\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\n"
	                             "VmSize:\t    8000 kB\nVmRSS:\t    4000 kB\nThreads:\t1\n";
	static const char kthread[] = "Name:\tkworker/0:1\nState:\tI (idle)\nUid:\t0\t0\t0\t0\nThreads:\t1\n";
	static const char meminfo[] = "MemFree: 10 kB\nMemTotal:       16303412 kB\n";
	struct procfs_status s;
	struct procfs_statm m;
	uint64_t total = 0;

	REQUIRE(procfs_parse_status(status, sizeof(status) - 1, &s) == 0);
	CHECK(s.has_uid);
	CHECK_INT(s.uid, 1000); /* the real uid, not the effective one */
	CHECK_INT(s.vm_size_bytes, 8000 * 1024);
	CHECK_INT(s.vm_rss_bytes, 4000 * 1024);
	REQUIRE(procfs_parse_status(kthread, sizeof(kthread) - 1, &s) == 0);
	CHECK_INT(s.vm_rss_bytes, 0);
	CHECK_INT(s.vm_size_bytes, 0);
	CHECK_INT(procfs_parse_status("garbage", 7, &s), -EINVAL);

	REQUIRE(procfs_parse_statm("2000 1000 300 10 0 500 0\n", 25, &m) == 0);
	CHECK_INT(m.size, 2000);
	CHECK_INT(m.resident, 1000);
	CHECK_INT(m.shared, 300);
	CHECK_INT(procfs_parse_statm("1 2", 3, &m), -EINVAL);

	REQUIRE(procfs_parse_meminfo_total(meminfo, sizeof(meminfo) - 1, &total) == 0);
	CHECK_INT(total, 16303412ull * 1024);
	CHECK_INT(procfs_parse_meminfo_total("MemFree: 1 kB\n", 14, &total), -EINVAL);
}

static void *idle_thread(void *arg)
{
	int *fd = arg;
	char c;

	return read(*fd, &c, 1) < 0 ? NULL : NULL;
}

/* The test process itself, read as the process operator reads any process. */
static void test_read_self(void)
{
	char buf[8192];
	int procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct procfs_process pr;
	pthread_t th;
	int p[2];
	struct stat st;

	REQUIRE(procfd >= 0);
	REQUIRE(pipe(p) == 0);
	REQUIRE(pthread_create(&th, NULL, idle_thread, &p[0]) == 0);
	prctl(PR_SET_NAME, "sonde (procfs)"); /* the main thread names the process */

	CHECK_INT(procfs_read_process(procfd, getpid(),
	                              PROCFS_WANT_STATUS | PROCFS_WANT_STATM | PROCFS_WANT_MNTNS, &pr, buf,
	                              sizeof(buf)),
	          0);
	CHECK_INT(pr.stat.pid, getpid());
	CHECK_STR(pr.stat.comm, "sonde (procfs)");
	CHECK_INT(pr.stat.ppid, getppid());
	CHECK_INT(pr.stat.num_threads, 2);
	CHECK(pr.stat.state == 'R' || pr.stat.state == 'S');
	CHECK(pr.stat.starttime > 0);
	CHECK(pr.status.has_uid);
	CHECK_INT(pr.status.uid, getuid());
	CHECK(pr.status.vm_rss_bytes > 0);
	CHECK(pr.status.vm_size_bytes >= pr.status.vm_rss_bytes);
	CHECK(pr.statm.resident > 0);
	CHECK(pr.statm.size >= pr.statm.resident);
	if (stat("/proc/self/ns/mnt", &st) == 0)
		CHECK_INT(pr.mntns_id, st.st_ino);

	/* without the extra files only stat is read */
	CHECK_INT(procfs_read_process(procfd, getpid(), 0, &pr, buf, sizeof(buf)), 0);
	CHECK_INT(pr.status.vm_rss_bytes, 0);
	CHECK_INT(pr.mntns_id, 0);
	/* a pid that does not exist */
	CHECK_INT(procfs_read_process(procfd, 0x7ffffffe, 0, &pr, buf, sizeof(buf)), -ENOENT);
	/* a scratch buffer too small for stat: truncated text is refused, not misread */
	CHECK_INT(procfs_read_process(procfd, getpid(), 0, &pr, buf, 40), -EINVAL);

	CHECK(write(p[1], "x", 1) == 1);
	pthread_join(th, NULL);
	close(p[0]);
	close(p[1]);
	close(procfd);
}

TEST_MAIN(TEST(test_parse_stat_synthetic), TEST(test_parse_stat_malformed),
          TEST(test_parse_status_statm_meminfo), TEST(test_read_self))
