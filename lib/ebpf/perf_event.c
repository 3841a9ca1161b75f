/* perf_event/<name> programs, spec §2.8: one perf event per CPU, sampling at
 * a frequency, the program attached to each.
 *
 * gadget.yaml says what to sample, under the section's <name> (not the
 * function's, as upstream): programs.<name>.perf.type (software),
 * .perf.config (count_sw_cpu_clock), .perf.sampleType (sample_raw) and
 * .sampler.frequency (Hz, > 0), all required. They are checked when the
 * gadget is instantiated, so a malformed block fails before anything loads. */
#include <linux/perf_event.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sonde/config.h>
#include <sonde/log.h>

#include "internal.h"

struct perf_settings {
	uint32_t type;
	uint64_t config, sample_type, freq;
};

static const char *perf_name(const struct bpf_program *prog)
{
	const char *target = NULL;

	ebpf_section_kind(ebpf_prog_section(prog), &target);
	return target;
}

static int settings(struct ebpf_gadget *g, const struct bpf_program *prog, struct perf_settings *s)
{
	struct sonde_config *cfg = sonde_gadget_config(g->ctx);
	const char *name = perf_name(prog), *v;
	char *end;

#define FAIL(...)                                                                                            \
	do {                                                                                                 \
		char m_[256];                                                                                \
		snprintf(m_, sizeof(m_), __VA_ARGS__);                                                       \
		sonde_err("program '%s' (%s): %s", bpf_program__name(prog), ebpf_prog_section(prog), m_);    \
		return -EINVAL;                                                                              \
	} while (0)

	if (!name || !*name || strchr(name, '/'))
		FAIL("a perf_event section must be perf_event/<name>");
#define GET(...) (cfg ? sonde_config_str(cfg, "programs", name, __VA_ARGS__, NULL) : NULL)
	v = GET("perf", "type");
	if (!v || !*v)
		FAIL("gadget.yaml lacks programs.%s.perf.type (software)", name);
	if (strcmp(v, "software") != 0)
		FAIL("unsupported programs.%s.perf.type '%s' (want software)", name, v);
	s->type = PERF_TYPE_SOFTWARE;
	v = GET("perf", "config");
	if (!v || !*v)
		FAIL("gadget.yaml lacks programs.%s.perf.config (count_sw_cpu_clock)", name);
	if (strcmp(v, "count_sw_cpu_clock") != 0)
		FAIL("unsupported programs.%s.perf.config '%s' (want count_sw_cpu_clock)", name, v);
	s->config = PERF_COUNT_SW_CPU_CLOCK;
	v = GET("perf", "sampleType");
	if (!v || !*v)
		FAIL("gadget.yaml lacks programs.%s.perf.sampleType (sample_raw)", name);
	if (strcmp(v, "sample_raw") != 0)
		FAIL("unsupported programs.%s.perf.sampleType '%s' (want sample_raw)", name, v);
	s->sample_type = PERF_SAMPLE_RAW;
	v = GET("sampler", "frequency");
	if (!v || !*v)
		FAIL("gadget.yaml lacks programs.%s.sampler.frequency (Hz)", name);
	errno = 0;
	s->freq = strtoull(v, &end, 10);
	if (errno || *end || strchr(v, '-'))
		FAIL("programs.%s.sampler.frequency '%s' is not a number of Hz", name, v);
	if (s->freq == 0)
		FAIL("programs.%s.sampler.frequency is zero", name);
#undef GET
#undef FAIL
	return 0;
}

int ebpf_perf_check(struct ebpf_gadget *g)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, g->obj)
	{
		struct perf_settings s;
		int err;

		if (ebpf_section_kind(ebpf_prog_section(prog), NULL) != EBPF_SEC_PERF_EVENT ||
		    ebpf_prog_disabled(g, prog))
			continue;
		err = settings(g, prog, &s);
		if (err)
			return err;
	}
	return 0;
}

int ebpf_perf_attach(struct ebpf_gadget *g, struct bpf_program *prog)
{
	int ncpus = libbpf_num_possible_cpus(), attached = 0, err;
	struct perf_settings s;

	err = settings(g, prog, &s);
	if (err)
		return err;
	if (ncpus < 0)
		return ncpus;
	for (int cpu = 0; cpu < ncpus; cpu++) {
		struct perf_event_attr attr = {
		    .size = sizeof(attr),
		    .type = s.type,
		    .config = s.config,
		    .sample_type = s.sample_type,
		    .sample_freq = s.freq,
		    .freq = 1,
		};
		struct bpf_link *link;
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			err = -errno;
			if (err == -ENODEV)
				continue; /* an offline CPU */
			sonde_err("program '%s' (%s): cannot open a perf event on CPU %d: %s%s",
			          bpf_program__name(prog), ebpf_prog_section(prog), cpu, strerror(-err),
			          err == -EINVAL ? " (frequency above kernel.perf_event_max_sample_rate?)"
			                         : "");
			return err;
		}
		ebpf_libbpf_log_reset();
		/* the link owns the event: destroying it closes the fd */
		link = bpf_program__attach_perf_event(prog, fd);
		if (!link) {
			err = -errno;
			close(fd);
			sonde_err("program '%s' (%s): cannot attach on CPU %d: %s%s%s",
			          bpf_program__name(prog), ebpf_prog_section(prog), cpu, strerror(-err),
			          *ebpf_libbpf_reason() ? "; libbpf: " : "", ebpf_libbpf_reason());
			return err;
		}
		err = ebpf_keep_link(g, link);
		if (err)
			return err;
		attached++;
	}
	sonde_debug("ebpf: perf_event program '%s' attached on %d CPUs at %llu Hz", bpf_program__name(prog),
	            attached, (unsigned long long)s.freq);
	return 0;
}
