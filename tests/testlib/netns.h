/* Named network namespaces for integration tests (`ip netns`, so that
 * `ip netns exec NAME` and a runtime's namespace path reach them):
 * /run/netns/<name>, loopback up. Only what a test names is created or
 * deleted; tests name theirs with a prefix of their own and their pid. */
#ifndef SONDE_TEST_NETNS_H
#define SONDE_TEST_NETNS_H

#include <stddef.h>
#include <stdint.h>

/* Creates the namespace (a leftover of the same name is deleted first) with
 * lo up; *ino gets its inode (the netns id of records). 0, or -1 after
 * saying why on stderr. */
int test_netns_add(const char *name, uint64_t *ino);
/* Deletes it; one that is not there is fine. */
void test_netns_del(const char *name);
/* Moves the calling process (single-threaded: a forked child) into it. 0 or -1. */
int test_netns_enter(const char *name);
/* Runs argv inside it (`ip netns exec NAME argv…`) to completion, output
 * discarded: its exit status. */
int test_netns_exec(const char *name, const char *const *argv);
/* Runs `ip args…` (at most 30 of them) to completion, output discarded: its
 * exit status. */
int test_ip(const char *const *args);
/* Runs `ip` once per row of steps (each NULL-terminated), in order: 0, or -1
 * after naming the first step that failed. */
#define TEST_IP_STEP_ARGS 16
int test_ip_steps(const char *const (*steps)[TEST_IP_STEP_ARGS], size_t n);

#endif
