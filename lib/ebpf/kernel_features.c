/* The kernel feature a program kind needs and this kernel lacks, named for
 * the user after a load or attach failed: errno alone ("No such file or
 * directory" from a kprobe, "Operation not permitted" from an fentry) does
 * not say what to change. Only what can be told from outside the kernel is
 * claimed; otherwise nothing is added to the error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* kprobes register either through the kprobe PMU (4.17+) or tracefs. */
static bool have_kprobes(void)
{
	return exists("/sys/bus/event_source/devices/kprobe") ||
	       exists("/sys/kernel/tracing/kprobe_events") ||
	       exists("/sys/kernel/debug/tracing/kprobe_events");
}

/* -1 when the active LSM list cannot be read (securityfs not mounted). */
static int bpf_lsm_active(void)
{
	char buf[512], *tok, *save = NULL;
	FILE *f = fopen("/sys/kernel/security/lsm", "re");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (tok = strtok_r(buf, ",\n", &save); tok; tok = strtok_r(NULL, ",\n", &save))
		if (strcmp(tok, "bpf") == 0)
			return 1;
	return 0;
}

const char *ebpf_missing_feature(enum ebpf_sec_kind kind, int err)
{
	bool btf_kind = kind == EBPF_SEC_TP_BTF || kind == EBPF_SEC_FENTRY || kind == EBPF_SEC_FEXIT ||
	                kind == EBPF_SEC_LSM || kind == EBPF_SEC_ITER;

	if (err > 0)
		err = -err;
	if ((kind == EBPF_SEC_KPROBE || kind == EBPF_SEC_KRETPROBE) && !have_kprobes())
		return "this kernel has no kprobes (CONFIG_KPROBES is off)";
	if (btf_kind && !exists("/sys/kernel/btf/vmlinux"))
		return "this kernel has no BTF (CONFIG_DEBUG_INFO_BTF is off)";
	if (kind == EBPF_SEC_LSM && bpf_lsm_active() == 0)
		return "the BPF LSM is not active (CONFIG_BPF_LSM and \"bpf\" in the lsm= boot parameter)";
	/* 524 is the kernel's ENOTSUPP: no trampoline for this arch or config */
	if ((kind == EBPF_SEC_FENTRY || kind == EBPF_SEC_FEXIT || kind == EBPF_SEC_LSM) &&
	    (err == -EPERM || err == -EOPNOTSUPP || err == -524))
		return "this kernel refuses BPF trampolines, which fentry, fexit and lsm programs need "
		       "(5.5+ with CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS; lsm 5.7+)";
	return NULL;
}
