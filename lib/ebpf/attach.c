/* Program attachment by section name (spec §2.8).
 *
 * Every program of the object is attached, or the run fails with one error
 * naming the program and its section. gadget.yaml can retarget a program
 * (`programs.<func>.attach_to: <target>`) or switch it off
 * (`gadget_program_disabled`). iter/ programs belong to iterator.c. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sonde/config.h>
#include <sonde/containers.h>
#include <sonde/log.h>

#include "internal.h"

#define DISABLED "gadget_program_disabled"

static const struct {
	const char *prefix;
	enum ebpf_sec_kind kind;
} sections[] = {
    {"tracepoint/", EBPF_SEC_TRACEPOINT},
    {"tp/", EBPF_SEC_TRACEPOINT},
    {"raw_tracepoint/", EBPF_SEC_RAW_TP},
    {"raw_tp/", EBPF_SEC_RAW_TP},
    {"raw_tracepoint.w/", EBPF_SEC_RAW_TP},
    {"raw_tp.w/", EBPF_SEC_RAW_TP},
    {"tp_btf/", EBPF_SEC_TP_BTF},
    {"kprobe/", EBPF_SEC_KPROBE},
    {"kretprobe/", EBPF_SEC_KRETPROBE},
    {"uprobe/", EBPF_SEC_UPROBE},
    {"uretprobe/", EBPF_SEC_URETPROBE},
    {"uprobe.s/", EBPF_SEC_UPROBE},
    {"uretprobe.s/", EBPF_SEC_URETPROBE},
    {"fentry/", EBPF_SEC_FENTRY},
    {"fentry.s/", EBPF_SEC_FENTRY},
    {"fexit/", EBPF_SEC_FEXIT},
    {"fexit.s/", EBPF_SEC_FEXIT},
    {"fmod_ret/", EBPF_SEC_FEXIT},
    {"lsm/", EBPF_SEC_LSM},
    {"lsm.s/", EBPF_SEC_LSM},
    {"iter/", EBPF_SEC_ITER},
    {"iter.s/", EBPF_SEC_ITER},
    {"sockops", EBPF_SEC_SOCKOPS},
    {"socket", EBPF_SEC_SOCKET}, /* socket, socket1, socket/x: any suffix */
    {"classifier/", EBPF_SEC_CLASSIFIER},
    {"sk_skb/", EBPF_SEC_SK_SKB},
    {"sk_msg", EBPF_SEC_SK_MSG},
    {"perf_event/", EBPF_SEC_PERF_EVENT},
    {"perf_event", EBPF_SEC_PERF_EVENT}, /* refused by perf_event.c: no name */
    {"usdt/", EBPF_SEC_USDT},
};

enum ebpf_sec_kind ebpf_section_kind(const char *sec, const char **target)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++) {
		size_t n = strlen(sections[i].prefix);

		if (strncmp(sec, sections[i].prefix, n) == 0) {
			if (target)
				*target = sec + n;
			return sections[i].kind;
		}
	}
	if (target)
		*target = sec;
	return EBPF_SEC_UNKNOWN;
}

const char *ebpf_prog_section(const struct bpf_program *prog)
{
	const char *s = bpf_program__section_name(prog);

	return s ? s : "?";
}

const char *ebpf_prog_attach_to(struct ebpf_gadget *g, const struct bpf_program *prog)
{
	struct sonde_config *cfg = sonde_gadget_config(g->ctx);

	return cfg ? sonde_config_str(cfg, "programs", bpf_program__name(prog), "attach_to", NULL) : NULL;
}

bool ebpf_prog_disabled(struct ebpf_gadget *g, const struct bpf_program *prog)
{
	const char *sec = ebpf_prog_section(prog), *slash = strrchr(sec, '/');
	const char *ov = ebpf_prog_attach_to(g, prog);

	return (ov && strcmp(ov, DISABLED) == 0) || (slash && strcmp(slash + 1, DISABLED) == 0);
}

int ebpf_check_programs(struct ebpf_gadget *g)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, g->obj)
	{
		if (ebpf_section_kind(ebpf_prog_section(prog), NULL) == EBPF_SEC_UNKNOWN) {
			sonde_err("program '%s' (%s): unknown section type", bpf_program__name(prog),
			          ebpf_prog_section(prog));
			return -EINVAL;
		}
	}
	return 0;
}

/* libbpf 1.x knows only the exact names `socket`, `classifier`, `perf_event`:
 * the types of upstream's spellings (socket1, classifier/ingress/x,
 * perf_event/x) are set here, and the attach types sk_skb/sk_msg need. */
static int set_type(struct bpf_program *prog, enum ebpf_sec_kind kind, const char *target)
{
	enum bpf_prog_type type;
	enum bpf_attach_type at = 0;

	switch (kind) {
	case EBPF_SEC_SOCKET:
		type = BPF_PROG_TYPE_SOCKET_FILTER;
		break;
	case EBPF_SEC_CLASSIFIER:
		type = BPF_PROG_TYPE_SCHED_CLS;
		break;
	case EBPF_SEC_PERF_EVENT:
		type = BPF_PROG_TYPE_PERF_EVENT;
		break;
	case EBPF_SEC_SOCKOPS:
		type = BPF_PROG_TYPE_SOCK_OPS;
		at = BPF_CGROUP_SOCK_OPS;
		break;
	case EBPF_SEC_SK_MSG:
		type = BPF_PROG_TYPE_SK_MSG;
		at = BPF_SK_MSG_VERDICT;
		break;
	case EBPF_SEC_SK_SKB:
		type = BPF_PROG_TYPE_SK_SKB;
		if (strcmp(target, "stream_parser") == 0)
			at = BPF_SK_SKB_STREAM_PARSER;
		else if (strcmp(target, "stream_verdict") == 0)
			at = BPF_SK_SKB_STREAM_VERDICT;
		else if (strcmp(target, "verdict") == 0)
			at = BPF_SK_SKB_VERDICT;
		else {
			sonde_err("program '%s' (%s): sk_skb sections are sk_skb/stream_parser, "
			          "sk_skb/stream_verdict or sk_skb/verdict",
			          bpf_program__name(prog), ebpf_prog_section(prog));
			return -EINVAL;
		}
		break;
	default:
		return 0;
	}
	bpf_program__set_type(prog, type);
	if (at)
		bpf_program__set_expected_attach_type(prog, at);
	return 0;
}

int ebpf_prepare_programs(struct ebpf_gadget *g)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, g->obj)
	{
		const char *target, *ov;
		enum ebpf_sec_kind kind = ebpf_section_kind(ebpf_prog_section(prog), &target);
		int err;

		if (ebpf_prog_disabled(g, prog)) {
			sonde_debug("ebpf: program '%s' disabled", bpf_program__name(prog));
			bpf_program__set_autoload(prog, false);
			continue;
		}
		err = set_type(prog, kind, target);
		if (err)
			return err;
		ov = ebpf_prog_attach_to(g, prog);
		if (!ov || !*ov)
			continue;
		/* BTF-based attach points are resolved at load time. */
		if (kind == EBPF_SEC_TP_BTF || kind == EBPF_SEC_FENTRY || kind == EBPF_SEC_FEXIT ||
		    kind == EBPF_SEC_LSM) {
			err = bpf_program__set_attach_target(prog, 0, ov);
			if (err) {
				sonde_err("program '%s' (%s): cannot retarget to '%s': %s",
				          bpf_program__name(prog), ebpf_prog_section(prog), ov,
				          strerror(-err));
				return err;
			}
		}
	}
	return 0;
}

int ebpf_keep_link(struct ebpf_gadget *g, struct bpf_link *link)
{
	if (grow_array((void **)&g->links, &g->links_cap, g->nlinks + 1, sizeof(*g->links))) {
		bpf_link__destroy(link);
		return -ENOMEM;
	}
	g->links[g->nlinks++] = link;
	return 0;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/* Closing a perf-event link (tracepoints, kprobes, uprobes) waits for RCU
 * grace periods, ~60-90 ms each here; concurrent closes share them, so links
 * are destroyed by one thread each (started in reverse order). */
void ebpf_destroy_links(struct bpf_link **links, size_t n)
{
	pthread_t threads[32];

	while (n > 0) {
		size_t started = 0;

		while (n > 0 && started < sizeof(threads) / sizeof(threads[0])) {
			struct bpf_link *link = links[--n];

			if (n + started == 0 ||
			    pthread_create(&threads[started], NULL, destroy_link, link) != 0)
				bpf_link__destroy(link); /* last one (or no thread): inline */
			else
				started++;
		}
		while (started > 0)
			pthread_join(threads[--started], NULL);
	}
}

static void sk_detach_all(struct ebpf_gadget *g)
{
	for (size_t i = 0; i < g->nsk_targets; i++) {
		struct ebpf_sk_target *t = &g->sk_targets[i];

		if (!t->attached)
			continue;
		if (bpf_prog_detach2(bpf_program__fd(t->prog), bpf_map__fd(t->map), t->type))
			sonde_warn("program '%s' (%s): cannot detach from map '%s': %s",
			           bpf_program__name(t->prog), ebpf_prog_section(t->prog),
			           bpf_map__name(t->map), strerror(errno));
		t->attached = false;
	}
}

void ebpf_detach_all(struct ebpf_gadget *g)
{
	if (g->attacher) {
		sonde_gadget_set_var(g->ctx, SONDE_VAR_CONTAINER_ATTACHER, NULL);
		free(g->attacher);
		g->attacher = NULL;
	}
	ebpf_sockfilters_stop(g);
	ebpf_tc_stop(g);
	ebpf_iter_netns_stop(g);
	sk_detach_all(g);
	ebpf_destroy_links(g->links, g->nlinks);
	g->nlinks = 0;
	ebpf_uprobes_stop(g);
}

/* One error line: the program, its section, errno, the missing kernel
 * feature when it can be told, and libbpf's own words. */
static int attach_failed(const struct bpf_program *prog, const char *where, int err)
{
	const char *reason = ebpf_libbpf_reason();
	const char *missing;

	if (err >= 0)
		err = -EINVAL;
	missing = ebpf_missing_feature(ebpf_section_kind(ebpf_prog_section(prog), NULL), err);
	sonde_err("program '%s' (%s): cannot load/attach on this kernel: %s%s%s%s%s%s%s",
	          bpf_program__name(prog), ebpf_prog_section(prog), strerror(-err), where ? " on " : "",
	          where ? where : "", missing ? ": " : "", missing ? missing : "",
	          *reason ? "; libbpf: " : "", reason);
	return err;
}

static int attach_tracepoint(struct ebpf_gadget *g, struct bpf_program *prog, const char *target)
{
	const char *slash = strchr(target, '/');
	char cat[256];
	struct bpf_link *link;
	int err;

	if (!slash || slash == target || !slash[1] || (size_t)(slash - target) >= sizeof(cat)) {
		sonde_err("program '%s' (%s): tracepoint target must be <category>/<name>",
		          bpf_program__name(prog), ebpf_prog_section(prog));
		return -EINVAL;
	}
	err = ebpf_tracefs_ensure();
	if (err)
		return err;
	memcpy(cat, target, (size_t)(slash - target));
	cat[slash - target] = '\0';
	link = bpf_program__attach_tracepoint(prog, cat, slash + 1);
	if (!link)
		return attach_failed(prog, NULL, -errno);
	return ebpf_keep_link(g, link);
}

/* Where cgroup v2 is mounted (the unified hierarchy's root). */
int ebpf_cgroup2_root(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], *sep = strstr(line, " - ");

		/* id parent major:minor root mountpoint … - fstype source options */
		if (!sep || strncmp(sep, " - cgroup2 ", 11) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strlen(mnt) < len) {
			strcpy(out, mnt);
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

static int attach_sockops(struct ebpf_gadget *g, struct bpf_program *prog)
{
	char root[PATH_MAX];
	struct bpf_link *link;
	int fd, err = ebpf_cgroup2_root(root, sizeof(root));

	if (err) {
		sonde_err("program '%s' (%s): no cgroup v2 hierarchy is mounted", bpf_program__name(prog),
		          ebpf_prog_section(prog));
		return err;
	}
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return attach_failed(prog, root, -errno);
	link = bpf_program__attach_cgroup(prog, fd);
	err = link ? 0 : -errno;
	close(fd);
	if (!link)
		return attach_failed(prog, root, err);
	return ebpf_keep_link(g, link);
}

/* sk_skb/sk_msg predate bpf links: BPF_PROG_ATTACH to the map, detached at stop. */
static int attach_sk(struct ebpf_gadget *g, struct bpf_program *prog)
{
	for (size_t i = 0; i < g->nsk_targets; i++) {
		struct ebpf_sk_target *t = &g->sk_targets[i];

		if (t->prog != prog)
			continue;
		t->type = bpf_program__expected_attach_type(prog);
		if (bpf_prog_attach(bpf_program__fd(prog), bpf_map__fd(t->map), t->type, 0))
			return attach_failed(prog, bpf_map__name(t->map), -errno);
		t->attached = true;
		return 0;
	}
	sonde_err("program '%s' (%s): no target map; declare GADGET_SK_TARGET_MAP(%s, <map>) in the source",
	          bpf_program__name(prog), ebpf_prog_section(prog), bpf_program__name(prog));
	return -EINVAL;
}

static int attach_one(struct ebpf_gadget *g, struct bpf_program *prog)
{
	const char *target, *ov = ebpf_prog_attach_to(g, prog);
	enum ebpf_sec_kind kind = ebpf_section_kind(ebpf_prog_section(prog), &target);
	struct bpf_link *link = NULL;

	if (ov && *ov)
		target = ov;
	ebpf_libbpf_log_reset();
	switch (kind) {
	case EBPF_SEC_TRACEPOINT:
		return attach_tracepoint(g, prog, target);
	case EBPF_SEC_UPROBE:
	case EBPF_SEC_URETPROBE:
	case EBPF_SEC_USDT:
		return 0; /* per root: uprobes.c */
	case EBPF_SEC_RAW_TP:
		link = bpf_program__attach_raw_tracepoint(prog, target);
		break;
	case EBPF_SEC_TP_BTF:
	case EBPF_SEC_FENTRY:
	case EBPF_SEC_FEXIT:
		link = bpf_program__attach_trace(prog);
		break;
	case EBPF_SEC_LSM:
		link = bpf_program__attach_lsm(prog);
		break;
	case EBPF_SEC_KPROBE:
	case EBPF_SEC_KRETPROBE:
		link = bpf_program__attach_kprobe(prog, kind == EBPF_SEC_KRETPROBE, target);
		break;
	case EBPF_SEC_ITER:
		return 0; /* iterator.c runs them */
	case EBPF_SEC_SOCKET:
	case EBPF_SEC_CLASSIFIER:
		return 0; /* per network namespace / interface: sockfilter.c, tc.c */
	case EBPF_SEC_PERF_EVENT:
		return ebpf_perf_attach(g, prog);
	case EBPF_SEC_SOCKOPS:
		return attach_sockops(g, prog);
	case EBPF_SEC_SK_SKB:
	case EBPF_SEC_SK_MSG:
		return attach_sk(g, prog);
	case EBPF_SEC_UNSUPPORTED:
	case EBPF_SEC_UNKNOWN:
		sonde_err("program '%s' (%s): attaching this program type is not supported by sonde",
		          bpf_program__name(prog), ebpf_prog_section(prog));
		return -EOPNOTSUPP;
	}
	if (!link)
		return attach_failed(prog, NULL, -errno);
	return ebpf_keep_link(g, link);
}

static void container_attach(void *arg, const struct sonde_container *c)
{
	struct ebpf_gadget *g = arg;

	ebpf_uprobes_attach_container(g, c);
	ebpf_sockfilters_attach_container(g, c);
	ebpf_tc_attach_container(g, c);
	ebpf_iter_netns_attach_container(g, c);
}

static void container_detach(void *arg, const struct sonde_container *c)
{
	struct ebpf_gadget *g = arg;

	ebpf_iter_netns_detach_container(g, c);
	ebpf_tc_detach_container(g, c);
	ebpf_sockfilters_detach_container(g, c);
	ebpf_uprobes_detach_container(g, c);
}

/* The programs that attach per root or network namespace: the host's now
 * (unless the container operator says the host is not traced), each
 * selected container's through the attacher published for the container
 * operator, which calls it from its own start on. */
static int attach_roots(struct ebpf_gadget *g)
{
	const bool *hostp = sonde_gadget_var(g->ctx, SONDE_VAR_ATTACH_HOST);
	bool host = !hostp || *hostp;
	int err;

	err = ebpf_uprobes_start(g, host);
	if (!err)
		err = ebpf_sockfilters_start(g, host);
	if (!err)
		err = ebpf_tc_start(g);
	if (!err)
		err = ebpf_iter_netns_start(g, host);
	if (err || !hostp || !(g->uprobes || g->sockfilters || g->tc || g->iter_netns))
		return err;
	g->attacher = malloc(sizeof(*g->attacher));
	if (!g->attacher)
		return -ENOMEM;
	*g->attacher = (struct sonde_container_attacher){container_attach, container_detach, g};
	sonde_gadget_set_var(g->ctx, SONDE_VAR_CONTAINER_ATTACHER, g->attacher);
	return 0;
}

int ebpf_attach_all(struct ebpf_gadget *g)
{
	struct bpf_program *prog;

	int err;

	bpf_object__for_each_program(prog, g->obj)
	{
		if (!bpf_program__autoload(prog))
			continue;
		err = attach_one(g, prog);
		if (err) {
			ebpf_detach_all(g);
			return err;
		}
	}
	err = attach_roots(g);
	if (err)
		ebpf_detach_all(g);
	return err;
}
