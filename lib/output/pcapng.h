/* The blocks of a pcapng stream (RFC draft "PCAP Next Generation Dump File
 * Format", draft-ietf-opsawg-pcapng): Section Header, Interface Description
 * and Enhanced Packet blocks, in host byte order (readers learn it from the
 * section header's byte-order magic), appended to a sonde_outbuf.
 *
 * Each block is reserved whole and filled in place, so a reader of the
 * stream never sees half a block between two flushes of complete ones. */
#ifndef SONDE_OUTPUT_PCAPNG_H
#define SONDE_OUTPUT_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#include "output/outbuf.h"

#define PCAPNG_BT_SHB 0x0A0D0D0Au
#define PCAPNG_BT_IDB 0x00000001u
#define PCAPNG_BT_EPB 0x00000006u
#define PCAPNG_MAGIC  0x1A2B3C4Du

#define PCAPNG_LINKTYPE_ETHERNET 1

/* Option codes used here. */
#define PCAPNG_OPT_ENDOFOPT   0
#define PCAPNG_OPT_COMMENT    1
#define PCAPNG_SHB_USERAPPL   4
#define PCAPNG_IF_NAME        2
#define PCAPNG_IF_DESCRIPTION 3
#define PCAPNG_IF_TSRESOL     9
#define PCAPNG_IF_OS          12

/* An option: value of len bytes (padded to 4 in the block). A longer value
 * than an option can hold (65535) is cut. */
struct pcapng_opt {
	uint16_t code;
	uint32_t len;
	const void *value;
};

/* Block total lengths (0 when the block cannot hold that much: over 4 GiB). */
size_t pcapng_shb_len(const struct pcapng_opt *opts, size_t nopts);
size_t pcapng_idb_len(const struct pcapng_opt *opts, size_t nopts);
size_t pcapng_epb_len(uint32_t caplen, const struct pcapng_opt *opts, size_t nopts);

/* Append one block; return its length, 0 when it could not be (no memory,
 * too big). The section length of the SHB is -1 (unknown: a stream). */
size_t pcapng_write_shb(struct sonde_outbuf *ob, const struct pcapng_opt *opts, size_t nopts);
size_t pcapng_write_idb(struct sonde_outbuf *ob, uint16_t linktype, uint32_t snaplen,
                        const struct pcapng_opt *opts, size_t nopts);
/* ts in units of the interface's if_tsresol (default microseconds). */
size_t pcapng_write_epb(struct sonde_outbuf *ob, uint32_t ifid, uint64_t ts, const void *data,
                        uint32_t caplen, uint32_t origlen, const struct pcapng_opt *opts, size_t nopts);

#endif
