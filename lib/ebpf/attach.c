/* Program attachment by section name (spec §2.8).
 *
 * Every program of the object is attached, or the run fails with one error
 * naming the program and its section. gadget.yaml can retarget a program
 * (`programs.<func>.attach_to: <target>`) or switch it off
 * (`gadget_program_disabled`). iter/ programs belong to iterator.c. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <sonde/config.h>
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
    /* Upstream attaches these through per-container dispatchers. */
    {"usdt/", EBPF_SEC_UNSUPPORTED},
    {"sockops", EBPF_SEC_UNSUPPORTED},
    {"socket", EBPF_SEC_UNSUPPORTED},
    {"classifier/", EBPF_SEC_UNSUPPORTED},
    {"sk_skb/", EBPF_SEC_UNSUPPORTED},
    {"sk_msg", EBPF_SEC_UNSUPPORTED},
    {"perf_event", EBPF_SEC_UNSUPPORTED},
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

/* gadget.yaml programs.<func>.attach_to, or NULL. */
static const char *attach_override(struct ebpf_gadget *g, const struct bpf_program *prog)
{
	struct sonde_config *cfg = sonde_gadget_config(g->ctx);

	return cfg ? sonde_config_str(cfg, "programs", bpf_program__name(prog), "attach_to", NULL) : NULL;
}

static bool is_disabled(struct ebpf_gadget *g, const struct bpf_program *prog)
{
	const char *sec = ebpf_prog_section(prog), *slash = strrchr(sec, '/');
	const char *ov = attach_override(g, prog);

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

int ebpf_prepare_programs(struct ebpf_gadget *g)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, g->obj)
	{
		const char *target, *ov;
		enum ebpf_sec_kind kind = ebpf_section_kind(ebpf_prog_section(prog), &target);
		int err;

		if (is_disabled(g, prog)) {
			sonde_debug("ebpf: program '%s' disabled", bpf_program__name(prog));
			bpf_program__set_autoload(prog, false);
			continue;
		}
		ov = attach_override(g, prog);
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

void ebpf_detach_all(struct ebpf_gadget *g)
{
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

static int attach_one(struct ebpf_gadget *g, struct bpf_program *prog)
{
	const char *target, *ov = attach_override(g, prog);
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
	err = ebpf_uprobes_start(g);
	if (err)
		ebpf_detach_all(g);
	return err;
}
