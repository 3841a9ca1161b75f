/* pcapng blocks (see pcapng.h). Layout of every block:
 *   u32 type, u32 total length, body, options, u32 total length
 * where body and each option value are padded to 4 bytes with zeros, and
 * options (when there are any) end with opt_endofopt. */
#include <string.h>

#include "output/pcapng.h"

#define PAD4(n)       (((n) + 3u) & ~(size_t)3u)
#define OPT_VALUE_MAX 0xFFFFu
#define BLOCK_MAX     0xFFFFFFF0u /* a u32 total length, multiple of 4 */

static size_t opt_value_len(const struct pcapng_opt *o)
{
	return o->len > OPT_VALUE_MAX ? OPT_VALUE_MAX : o->len;
}

static size_t opts_len(const struct pcapng_opt *opts, size_t nopts)
{
	size_t n = 0;

	for (size_t i = 0; i < nopts; i++)
		n += 4 + PAD4(opt_value_len(&opts[i]));
	return nopts ? n + 4 : 0; /* opt_endofopt */
}

/* type, length, body (already padded), options, length */
static size_t block_len(size_t body, const struct pcapng_opt *opts, size_t nopts)
{
	size_t n = 12 + body + opts_len(opts, nopts);

	return n > BLOCK_MAX ? 0 : n;
}

size_t pcapng_shb_len(const struct pcapng_opt *opts, size_t nopts)
{
	return block_len(16, opts, nopts);
}

size_t pcapng_idb_len(const struct pcapng_opt *opts, size_t nopts)
{
	return block_len(8, opts, nopts);
}

size_t pcapng_epb_len(uint32_t caplen, const struct pcapng_opt *opts, size_t nopts)
{
	return block_len(20 + PAD4((size_t)caplen), opts, nopts);
}

static char *put32(char *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return p + 4;
}

static char *put16(char *p, uint16_t v)
{
	memcpy(p, &v, 2);
	return p + 2;
}

/* n bytes of data, then zeros up to a multiple of 4 */
static char *put_padded(char *p, const void *data, size_t n)
{
	size_t padded = PAD4(n);

	if (n)
		memcpy(p, data, n);
	memset(p + n, 0, padded - n);
	return p + padded;
}

static char *put_opts(char *p, const struct pcapng_opt *opts, size_t nopts)
{
	for (size_t i = 0; i < nopts; i++) {
		size_t n = opt_value_len(&opts[i]);

		p = put16(p, opts[i].code);
		p = put16(p, (uint16_t)n);
		p = put_padded(p, opts[i].value, n);
	}
	if (nopts)
		p = put32(p, 0); /* opt_endofopt: code 0, length 0 */
	return p;
}

/* Reserves a block of len bytes and writes its head; NULL without room. */
static char *block_begin(struct sonde_outbuf *ob, uint32_t type, size_t len)
{
	char *p;

	if (!len)
		return NULL;
	p = outbuf_reserve(ob, len);
	if (!p)
		return NULL;
	p = put32(p, type);
	return put32(p, (uint32_t)len);
}

static size_t block_end(struct sonde_outbuf *ob, char *p, size_t len)
{
	put32(p, (uint32_t)len);
	outbuf_commit(ob, len);
	return len;
}

size_t pcapng_write_shb(struct sonde_outbuf *ob, const struct pcapng_opt *opts, size_t nopts)
{
	size_t len = pcapng_shb_len(opts, nopts);
	char *p = block_begin(ob, PCAPNG_BT_SHB, len);
	uint64_t section_len = UINT64_MAX;

	if (!p)
		return 0;
	p = put32(p, PCAPNG_MAGIC);
	p = put16(p, 1); /* version 1.0 */
	p = put16(p, 0);
	memcpy(p, &section_len, 8);
	p = put_opts(p + 8, opts, nopts);
	return block_end(ob, p, len);
}

size_t pcapng_write_idb(struct sonde_outbuf *ob, uint16_t linktype, uint32_t snaplen,
                        const struct pcapng_opt *opts, size_t nopts)
{
	size_t len = pcapng_idb_len(opts, nopts);
	char *p = block_begin(ob, PCAPNG_BT_IDB, len);

	if (!p)
		return 0;
	p = put16(p, linktype);
	p = put16(p, 0); /* reserved */
	p = put32(p, snaplen);
	p = put_opts(p, opts, nopts);
	return block_end(ob, p, len);
}

size_t pcapng_write_epb(struct sonde_outbuf *ob, uint32_t ifid, uint64_t ts, const void *data,
                        uint32_t caplen, uint32_t origlen, const struct pcapng_opt *opts, size_t nopts)
{
	size_t len = pcapng_epb_len(caplen, opts, nopts);
	char *p = block_begin(ob, PCAPNG_BT_EPB, len);

	if (!p)
		return 0;
	p = put32(p, ifid);
	p = put32(p, (uint32_t)(ts >> 32));
	p = put32(p, (uint32_t)ts);
	p = put32(p, caplen);
	p = put32(p, origlen);
	p = put_padded(p, data, caplen);
	p = put_opts(p, opts, nopts);
	return block_end(ob, p, len);
}
