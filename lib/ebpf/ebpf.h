/* The ebpf image operator: loads the eBPF layer of a gadget image, turns its
 * BTF into DataSources and params, attaches its programs and reads its maps. */
#ifndef SONDE_EBPF_EBPF_H
#define SONDE_EBPF_EBPF_H

#include <sonde/operator.h>

extern const struct sonde_operator ebpf_operator;

/* Registers sonde's libbpf section handlers (packet_filter.c) once per
 * process. libbpf's handler table is not thread-safe: call it before any
 * thread may open a BPF object (the ebpf operator also calls it on open). */
void ebpf_pf_hook_install(void);

#endif
