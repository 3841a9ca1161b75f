/* Probes of what the running kernel can attach, made with the raw bpf() API
 * and the file system only, never through sonde: a test skips a hook kind
 * the kernel lacks, and must pass on one it has. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel_probe.h"

static bool path_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* kprobes register through the kprobe PMU or tracefs' kprobe_events. */
const char *test_kprobes_missing(void)
{
	if (path_exists("/sys/bus/event_source/devices/kprobe") ||
	    path_exists("/sys/kernel/tracing/kprobe_events") ||
	    path_exists("/sys/kernel/debug/tracing/kprobe_events"))
		return NULL;
	return "this kernel has no kprobes (no kprobe PMU, no kprobe_events: CONFIG_KPROBES is off)";
}

/* Loads `return 0` as a program of type/attach and attaches it to `func`
 * through the raw bpf() API. */
const char *test_btf_attach_refused(enum bpf_prog_type type, enum bpf_attach_type attach, const char *func,
                                    int kind)
{
	static char why[256];
	const struct bpf_insn insns[] = {
	    {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
	    {.code = BPF_JMP | BPF_EXIT},
	};
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int id, prog, link;

	if (!vmlinux) {
		snprintf(why, sizeof(why), "this kernel has no BTF (/sys/kernel/btf/vmlinux)");
		return why;
	}
	id = btf__find_by_name_kind(vmlinux, func, kind);
	btf__free(vmlinux);
	if (id < 0) {
		snprintf(why, sizeof(why), "%s is not in this kernel's BTF", func);
		return why;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach, .attach_btf_id = (__u32)id);
	prog = bpf_prog_load(type, "khooks_probe", "GPL", insns, 2, &opts);
	if (prog < 0) {
		snprintf(why, sizeof(why), "this kernel refuses to load a %s program on %s: %s",
		         libbpf_bpf_attach_type_str(attach), func, strerror(errno));
		return why;
	}
	link = bpf_raw_tracepoint_open(NULL, prog);
	if (link < 0) {
		snprintf(why, sizeof(why), "this kernel refuses to attach a %s program to %s: %s",
		         libbpf_bpf_attach_type_str(attach), func, strerror(errno));
		close(prog);
		return why;
	}
	close(link);
	close(prog);
	return NULL;
}

int test_bpf_progs_named(const char *name)
{
	__u32 id = 0;
	int n = 0;

	while (bpf_prog_get_next_id(id, &id) == 0) {
		struct bpf_prog_info info = {0};
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && strcmp(info.name, name) == 0)
			n++;
		close(fd);
	}
	return n;
}

int test_bpf_progs_named_settled(const char *name)
{
	int n = test_bpf_progs_named(name);

	for (int i = 0; i < 100 && n > 0; i++) {
		usleep(20000);
		n = test_bpf_progs_named(name);
	}
	return n;
}
