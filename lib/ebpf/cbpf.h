/* Classic BPF programs as libpcap compiles them, kept apart from <pcap.h>:
 * both libpcap and the kernel's uapi call their instruction `struct
 * bpf_insn`, so no file can include both; this one includes neither. */
#ifndef SONDE_EBPF_CBPF_H
#define SONDE_EBPF_CBPF_H

#include <stddef.h>
#include <stdint.h>

/* One classic BPF instruction (the layout of libpcap's and the kernel's). */
struct ebpf_cbpf_insn {
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

/* The link type and snap length packet filters are compiled for: Ethernet
 * from offset 0, as TC classifiers and AF_PACKET socket filters see it
 * (upstream compiles for Ethernet too), and tcpdump's default snaplen. */
#define EBPF_PCAP_SNAPLEN 262144

/* ---- pcap_filter.c ---- */
/* Compiles a pcap-filter expression (tcpdump syntax) to classic BPF;
 * *out is malloc'ed. -EINVAL with libpcap's message in why. */
int ebpf_pcap_compile(const char *expr, struct ebpf_cbpf_insn **out, size_t *n, char *why, size_t whylen);
/* libpcap's own interpreter (pcap_offline_filter): non-zero when the packet
 * passes. The translator's tests use it as their oracle. */
uint32_t ebpf_pcap_run(const struct ebpf_cbpf_insn *insns, size_t n, const void *pkt, size_t len);

#endif
