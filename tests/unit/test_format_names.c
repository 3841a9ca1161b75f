/* errno, signal, syscall and IP protocol names (lib/format). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "format/endpoint.h"
#include "format/errno_names.h"
#include "format/signal_names.h"
#include "format/syscall_names.h"
#include "testlib.h"

static char buf[128];

static const char *errno_str(uint32_t n)
{
	size_t len = fmt_errno(n, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static const char *signal_str(uint32_t n)
{
	size_t len = fmt_signal(n, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static const char *syscall_str(uint64_t n)
{
	size_t len = fmt_syscall(n, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static const char *proto_str(uint16_t n)
{
	size_t len = fmt_ip_proto(n, buf, sizeof(buf));

	return strlen(buf) == len ? buf : "(length mismatch)";
}

static void test_errno(void)
{
	CHECK_STR(errno_str(0), "");
	CHECK_INT(fmt_errno(0, buf, sizeof(buf)), 0);
	CHECK_STR(errno_str(ENOENT), "ENOENT");
	CHECK_STR(errno_str(EPERM), "EPERM");
	/* shared numbers: the name Go's table keeps */
	CHECK_STR(errno_str(EAGAIN), "EAGAIN");
	CHECK_STR(errno_str(EDEADLK), "EDEADLK");
	CHECK_STR(errno_str(95), "ENOTSUP");
	CHECK_STR(errno_str(133), "EHWPOISON");
	/* holes and the end of the table */
	CHECK_STR(errno_str(41), "error#41");
	CHECK_STR(errno_str(58), "error#58");
	CHECK_STR(errno_str(134), "error#134");
	CHECK_STR(errno_str(UINT32_MAX), "error#4294967295");
	CHECK(strlen(errno_str(UINT32_MAX)) < FMT_ERRNO_MAX);
	/* every name agrees with the C library's (except the one Go names differently) */
	for (int e = 1; e <= 133; e++) {
		const char *mine = errno_name((uint32_t)e), *libc = strerrorname_np(e);

		if (e == 95 || e == 41 || e == 58)
			continue;
		if (!mine || !libc || strcmp(mine, libc) != 0) {
			fprintf(stderr, "errno %d: %s, libc says %s\n", e, mine ? mine : "(null)",
			        libc ? libc : "(null)");
			test_failures++;
		}
	}
	/* truncation keeps the buffer terminated */
	CHECK_INT(fmt_errno(ENOENT, buf, 4), 3);
	CHECK_STR(buf, "ENO");
	CHECK_INT(fmt_errno(ENOENT, buf, 0), 0);
}

static void test_signal(void)
{
	CHECK_STR(signal_str(0), "signal#0");
	CHECK_STR(signal_str(SIGKILL), "SIGKILL");
	CHECK_STR(signal_str(SIGHUP), "SIGHUP");
	CHECK_STR(signal_str(SIGABRT), "SIGABRT");
	CHECK_STR(signal_str(SIGIO), "SIGIO");
	CHECK_STR(signal_str(SIGSYS), "SIGSYS");
	CHECK_STR(signal_str(32), "signal#32");
	CHECK_STR(signal_str(SIGRTMIN), "signal#34");
	CHECK_STR(signal_str(64), "signal#64");
	CHECK_STR(signal_str(UINT32_MAX), "signal#4294967295");
	for (int s = 1; s < 32; s++) {
		const char *mine = signal_name((uint32_t)s), *abbrev = sigabbrev_np(s);

		if (s == SIGIO || s == SIGABRT)
			continue; /* glibc prefers POLL / IOT for these */
		if (!mine || !abbrev || strncmp(mine, "SIG", 3) || strcmp(mine + 3, abbrev)) {
			fprintf(stderr, "signal %d: %s, libc says SIG%s\n", s, mine ? mine : "(null)",
			        abbrev ? abbrev : "(null)");
			test_failures++;
		}
	}
}

static void test_syscall(void)
{
	CHECK_STR(syscall_str(0), "SYS_READ");
	CHECK_STR(syscall_str(SYS_openat), "SYS_OPENAT");
	CHECK_STR(syscall_str(SYS_execve), "SYS_EXECVE");
	CHECK_STR(syscall_str(156), "SYS__SYSCTL");
	CHECK_STR(syscall_str(SYS_clone3), "SYS_CLONE3");
	CHECK_STR(syscall_str(450), "SYS_SET_MEMPOLICY_HOME_NODE");
	CHECK_STR(syscall_str(451), "SYS_CACHESTAT");
	CHECK_STR(syscall_str(462), "SYS_MSEAL");
	CHECK_STR(syscall_str(469), "SYS_FILE_SETATTR");
	CHECK_STR(syscall_str(470), "SYS_UNKNOWN");
	CHECK_STR(syscall_str(512), "SYS_UNKNOWN");
	CHECK_STR(syscall_str(UINT64_MAX), "SYS_UNKNOWN");
	CHECK(format_syscall_name(SYS_getpid) && strcmp(format_syscall_name(SYS_getpid), "getpid") == 0);
	CHECK(strlen(syscall_str(450)) < FMT_SYSCALL_MAX);
	/* a few against the C library's numbers */
	CHECK_STR(syscall_str(SYS_bpf), "SYS_BPF");
	CHECK_STR(syscall_str(SYS_perf_event_open), "SYS_PERF_EVENT_OPEN");
	CHECK_STR(syscall_str(SYS_futex_waitv), "SYS_FUTEX_WAITV");
}

static void test_proto(void)
{
	CHECK_STR(proto_str(0), "HOPOPT");
	CHECK_STR(proto_str(6), "TCP");
	CHECK_STR(proto_str(17), "UDP");
	CHECK_STR(proto_str(58), "IPv6-ICMP");
	CHECK_STR(proto_str(132), "SCTP");
	CHECK_STR(proto_str(145), "NSH");
	CHECK_STR(proto_str(146), "proto#146");
	CHECK_STR(proto_str(252), "proto#252");
	CHECK_STR(proto_str(255), "reserved");
	CHECK_STR(proto_str(256), "proto#256");
	CHECK_STR(proto_str(UINT16_MAX), "proto#65535");
}

TEST_MAIN(TEST(test_errno), TEST(test_signal), TEST(test_syscall), TEST(test_proto))
