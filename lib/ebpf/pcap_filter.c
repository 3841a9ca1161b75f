/* pcap-filter expressions compiled by libpcap (the `pf` params of GADGET_PF).
 *
 * This file alone includes <pcap.h>: its `struct bpf_insn` is the classic
 * one, the kernel's is eBPF's (cbpf.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "cbpf.h"

_Static_assert(sizeof(struct ebpf_cbpf_insn) == sizeof(struct bpf_insn), "classic BPF instruction size");

/* pcap_compile keeps parser state per pcap_t, but libpcap before 1.10 had
 * globals in its lexer: one compilation at a time is cheap insurance. */
static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

int ebpf_pcap_compile(const char *expr, struct ebpf_cbpf_insn **out, size_t *n, char *why, size_t whylen)
{
	struct bpf_program prog = {0};
	pcap_t *p;
	int err = 0;

	*out = NULL;
	*n = 0;
	pthread_mutex_lock(&compile_lock);
	p = pcap_open_dead(DLT_EN10MB, EBPF_PCAP_SNAPLEN);
	if (!p) {
		pthread_mutex_unlock(&compile_lock);
		snprintf(why, whylen, "libpcap cannot start a compiler");
		return -ENOMEM;
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(why, whylen, "%s", pcap_geterr(p));
		err = -EINVAL;
	} else if (prog.bf_len == 0) {
		snprintf(why, whylen, "libpcap compiled it to an empty program");
		err = -EINVAL;
	} else {
		*out = malloc(prog.bf_len * sizeof(**out));
		if (!*out) {
			err = -ENOMEM;
			snprintf(why, whylen, "out of memory");
		} else {
			memcpy(*out, prog.bf_insns, prog.bf_len * sizeof(**out));
			*n = prog.bf_len;
		}
	}
	pcap_freecode(&prog);
	pcap_close(p);
	pthread_mutex_unlock(&compile_lock);
	return err;
}

uint32_t ebpf_pcap_run(const struct ebpf_cbpf_insn *insns, size_t n, const void *pkt, size_t len)
{
	struct bpf_program prog = {.bf_len = (u_int)n, .bf_insns = (struct bpf_insn *)insns};
	struct pcap_pkthdr hdr = {.caplen = (bpf_u_int32)len, .len = (bpf_u_int32)len};

	return (uint32_t)pcap_offline_filter(&prog, &hdr, pkt);
}
