/* Probes of what the running kernel can attach (kernel_probe.c). */
#ifndef SONDE_TEST_KERNEL_PROBE_H
#define SONDE_TEST_KERNEL_PROBE_H

#include <bpf/bpf.h>
#include <bpf/btf.h> /* BTF_KIND_* */

/* NULL if kprobes exist, else why not. */
const char *test_kprobes_missing(void);
/* NULL if a `return 0` program of type/attach loads and attaches to `func`,
 * a BTF type of `kind` (BTF_KIND_FUNC, or BTF_KIND_TYPEDEF for a BTF
 * tracepoint's btf_trace_<name>); else why not. */
const char *test_btf_attach_refused(enum bpf_prog_type type, enum bpf_attach_type attach, const char *func,
                                    int kind);
/* BPF programs named name loaded in the kernel now (any process, or held by
 * an attachment only). */
int test_bpf_progs_named(const char *name);
/* The same after waiting up to 2 s for it to reach 0: programs are freed by
 * RCU after their last reference. */
int test_bpf_progs_named_settled(const char *name);

#endif
