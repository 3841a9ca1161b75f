/* Nothing left behind: after sonde stops (SIGINT, SIGTERM) or fails to
 * start part way through attaching, every eBPF program, link and map it
 * held is gone from the kernel, no eBPF object it made outlives it unowned
 * (pinned, or attached where no file holds it), no probe event it created
 * stays in tracefs and no bpffs pin appears.
 *
 * Other processes on the host may load programs meanwhile, so the checks are
 * about sonde's own objects: the ids its fds hold while it runs
 * (/proc/PID/fdinfo), and new ids that no process holds at all. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "testlib.h"

#define MAX_IDS 4096

struct idset {
	uint32_t id[MAX_IDS];
	size_t n;
};

static bool idset_has(const struct idset *s, uint32_t id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->id[i] == id)
			return true;
	return false;
}

static void idset_add(struct idset *s, uint32_t id)
{
	if (s->n < MAX_IDS && !idset_has(s, id))
		s->id[s->n++] = id;
}

enum kind { PROG, LINK, MAP, NKINDS };
static const char *const kind_name[NKINDS] = {"program", "link", "map"};
static const char *const fdinfo_key[NKINDS] = {"prog_id:", "link_id:", "map_id:"};

/* Every id of that kind in the kernel now. */
static void kernel_ids(enum kind k, struct idset *s)
{
	uint32_t id = 0;

	s->n = 0;
	for (;;) {
		int err = k == PROG   ? bpf_prog_get_next_id(id, &id)
		          : k == LINK ? bpf_link_get_next_id(id, &id)
		                      : bpf_map_get_next_id(id, &id);
		if (err)
			break;
		idset_add(s, id);
	}
}

/* Adds the ids of that kind that the fds of /proc/<who> hold. */
static void fdinfo_ids(const char *who, enum kind k, struct idset *s)
{
	char dir[300], path[600], line[256];
	size_t keylen = strlen(fdinfo_key[k]);
	struct dirent *f;
	DIR *fds;

	snprintf(dir, sizeof(dir), "/proc/%s/fdinfo", who);
	fds = opendir(dir);
	while (fds && (f = readdir(fds)) != NULL) {
		FILE *in;

		if (f->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, f->d_name);
		in = fopen(path, "r");
		while (in && fgets(line, sizeof(line), in))
			if (!strncmp(line, fdinfo_key[k], keylen))
				idset_add(s, (uint32_t)strtoul(line + keylen, NULL, 10));
		if (in)
			fclose(in);
	}
	if (fds)
		closedir(fds);
}

/* The ids of that kind the fds of process pid hold (pid 0: of every process). */
static void held_ids(pid_t pid, enum kind k, struct idset *s)
{
	char who[32];
	struct dirent *p;
	DIR *procs;

	s->n = 0;
	if (pid) {
		snprintf(who, sizeof(who), "%d", pid);
		fdinfo_ids(who, k, s);
		return;
	}
	procs = opendir("/proc");
	while (procs && (p = readdir(procs)) != NULL)
		if (p->d_name[0] >= '0' && p->d_name[0] <= '9')
			fdinfo_ids(p->d_name, k, s);
	if (procs)
		closedir(procs);
}

/* Whether id still names an object of that kind. Asked through the id
 * list, never by taking an fd: an fd taken by id on a prog_array whose last
 * user fd just closed takes a user reference the kernel's deferred clear
 * then never drops (6.18: the map leaks for good). */
static bool id_alive(enum kind k, uint32_t id)
{
	uint32_t next = 0;
	int err = k == PROG   ? bpf_prog_get_next_id(id - 1, &next)
	          : k == LINK ? bpf_link_get_next_id(id - 1, &next)
	                      : bpf_map_get_next_id(id - 1, &next);

	return !err && next == id;
}

/* What the host had before sonde ran. */
struct snapshot {
	struct idset ids[NKINDS];
	char *probe_events; /* uprobe_events and kprobe_events */
	char *pins;         /* the names under /sys/fs/bpf */
};

static char *probe_events(void)
{
	char *u = test_read_file("/sys/kernel/tracing/uprobe_events", NULL);
	char *k = test_read_file("/sys/kernel/tracing/kprobe_events", NULL);
	size_t n = (u ? strlen(u) : 0) + (k ? strlen(k) : 0) + 1;
	char *all = calloc(1, n);

	snprintf(all, n, "%s%s", u ? u : "", k ? k : "");
	free(u);
	free(k);
	return all;
}

static char *pins(void)
{
	DIR *d = opendir("/sys/fs/bpf");
	struct dirent *e;
	size_t len = 0;
	char *all = calloc(1, 1);

	while (d && (e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);

		all = realloc(all, len + n + 2);
		memcpy(all + len, e->d_name, n);
		len += n;
		all[len++] = '\n';
		all[len] = 0;
	}
	if (d)
		closedir(d);
	return all;
}

static void snapshot_take(struct snapshot *s)
{
	for (int k = 0; k < NKINDS; k++)
		kernel_ids(k, &s->ids[k]);
	s->probe_events = probe_events();
	s->pins = pins();
}

static void snapshot_free(struct snapshot *s)
{
	free(s->probe_events);
	free(s->pins);
}

/* Objects made since `before` that nobody holds: an object a process made
 * dies with its last fd unless something else (a pin, an attachment that no
 * fd owns) keeps it. Freeing is deferred a little after the last close, so
 * it is retried for up to 3 s; returns how many are left. */
static size_t orphans(const struct snapshot *before, const char *what)
{
	static struct idset now, held;
	int64_t deadline = test_now_ms() + 3000;
	size_t left;

	do {
		left = 0;
		for (int k = 0; k < NKINDS; k++) {
			kernel_ids(k, &now);
			held_ids(0, k, &held);
			for (size_t i = 0; i < now.n; i++)
				if (!idset_has(&before->ids[k], now.id[i]) && !idset_has(&held, now.id[i]) &&
				    id_alive(k, now.id[i])) {
					if (test_now_ms() >= deadline)
						fprintf(stderr, "%s: %s %u outlived its process\n", what,
						        kind_name[k], now.id[i]);
					left++;
				}
		}
		if (left && test_now_ms() < deadline)
			usleep(20 * 1000); /* the kernel frees them from a work queue: nothing to wait on */
		else
			break;
	} while (true);
	return left;
}

/* The ids sonde's own fds held are gone, up to 3 s after it exited. */
static size_t survivors(const struct idset held[NKINDS], const char *what)
{
	int64_t deadline = test_now_ms() + 3000;
	size_t left;

	do {
		left = 0;
		for (int k = 0; k < NKINDS; k++)
			for (size_t i = 0; i < held[k].n; i++)
				if (id_alive(k, held[k].id[i])) {
					if (test_now_ms() >= deadline)
						fprintf(stderr, "%s: sonde's %s %u still exists\n", what,
						        kind_name[k], held[k].id[i]);
					left++;
				}
		if (left && test_now_ms() < deadline)
			usleep(20 * 1000);
		else
			break;
	} while (true);
	return left;
}

/* The host-wide checks: no orphan, no new probe event, no new pin. */
static void check_host_after(const struct snapshot *before, const char *what)
{
	char *ev = probe_events(), *pn = pins();

	CHECK_INT(orphans(before, what), 0);
	if (strcmp(ev, before->probe_events)) {
		fprintf(stderr, "%s: probe events before:\n%s\nafter:\n%s\n", what, before->probe_events, ev);
		test_failures++;
	}
	if (strcmp(pn, before->pins)) {
		fprintf(stderr, "%s: /sys/fs/bpf before:\n%s\nafter:\n%s\n", what, before->pins, pn);
		test_failures++;
	}
	free(ev);
	free(pn);
}

/* Runs gadget with extra flags until "running", records the objects it
 * holds, stops it with sig and checks they are all gone. */
static void stop_with(const char *gadget, int sig, const char *extra)
{
	int failures_before = test_failures;
	const char *argv[] = {"run", gadget, "--host", "-o", "json", "-v", extra, NULL};
	static struct idset held[NKINDS];
	struct snapshot before;
	struct sonde_proc p;
	char what[64];

	test_require_root();
	snprintf(what, sizeof(what), "%s, %s", gadget, strsignal(sig));
	snapshot_take(&before);
	if (sonde_proc_start_running(&p, argv))
		goto out;
	for (int k = 0; k < NKINDS; k++)
		held_ids(p.pid, k, &held[k]);
	/* the gadget's programs, links (tracepoints, uprobes) and maps (ring, filters) */
	CHECK(held[PROG].n > 0);
	CHECK(held[LINK].n > 0);
	CHECK(held[MAP].n > 0);
	printf("  %s: %zu programs, %zu links, %zu maps\n", what, held[PROG].n, held[LINK].n, held[MAP].n);
	CHECK_INT(sonde_proc_finish(&p, sig, 15000), 0);
	if (test_failures != failures_before)
		sonde_proc_print_errors(&p);
	sonde_proc_free(&p);
	CHECK_INT(survivors(held, what), 0);
	check_host_after(&before, what);
out:
	snapshot_free(&before);
}

static void test_sigint(void)
{
	stop_with("trace_open", SIGINT, NULL);
}

static void test_sigterm(void)
{
	stop_with("trace_open", SIGTERM, NULL);
}

/* uprobes and uretprobes on the host's libc */
static void test_sigterm_uprobes(void)
{
	stop_with("trace_malloc", SIGTERM, NULL);
}

/* A start that fails part way through attaching trace_malloc's uprobes (56
 * fds: several are attached when the next one finds none left): exit 1 and
 * nothing left behind. */
static void test_failed_start(void)
{
	int failures_before = test_failures;
	const char *argv[] = {"run", "trace_malloc", "--host", "-o", "json", NULL};
	struct snapshot before;
	char *text = NULL;

	test_require_root();
	snapshot_take(&before);
	CHECK_INT(sonde_run_cmd_nofile(argv, 56, &text), 1);
	/* it failed where it should: attaching, after others were attached */
	CHECK(text && strstr(text, "Too many open files"));
	CHECK(text && strstr(text, "cannot attach to"));
	if (test_failures != failures_before)
		fprintf(stderr, "sonde's messages:\n%s\n", text ? text : "");
	check_host_after(&before, "trace_malloc, failed start");
	free(text);
	snapshot_free(&before);
}

TEST_MAIN(TEST(test_sigint), TEST(test_sigterm), TEST(test_sigterm_uprobes), TEST(test_failed_start))
