/* The ebpf image operator: loads the eBPF layer of a gadget image, turns its
 * BTF into DataSources and params, attaches its programs and reads its maps. */
#ifndef SONDE_EBPF_EBPF_H
#define SONDE_EBPF_EBPF_H

#include <sonde/operator.h>

extern const struct sonde_operator ebpf_operator;

#endif
