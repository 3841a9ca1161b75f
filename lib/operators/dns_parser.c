/* The DNS parser operator (see dns_parser.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "net/dns_message.h"
#include "operators/dns_parser.h"
#include "util/array.h"

/* The fields added, in upstream's order (its wasm's AddField calls). */
enum out {
	O_ID,
	O_QR_RAW,
	O_QR,
	O_QTYPE_RAW,
	O_QTYPE,
	O_NAME,
	O_RCODE_RAW,
	O_RCODE,
	O_NUM_ANSWERS,
	O_ADDRESSES,
	O_TC,
	O_RA,
	O_RD,
	O_COUNT,
};

static const struct {
	const char *name;
	enum sonde_kind kind;
	const char *description; /* gadget.yaml's, if it has one, wins */
} outs[O_COUNT] = {
    [O_ID] = {"id", SONDE_KIND_STRING, "DNS query/response ID, used to match queries with responses"},
    [O_QR_RAW] = {"qr_raw", SONDE_KIND_BOOL, "Raw numeric qr value (0=Q, 1=R)"},
    [O_QR] = {"qr", SONDE_KIND_STRING, "Specifies whether this message is a query (Q), or a response (R)."},
    [O_QTYPE_RAW] = {"qtype_raw", SONDE_KIND_UINT16, "Raw numeric qtype value"},
    [O_QTYPE] = {"qtype", SONDE_KIND_STRING, "Query type"},
    [O_NAME] = {"name", SONDE_KIND_STRING, "Domain name being queried in the DNS request or response."},
    [O_RCODE_RAW] = {"rcode_raw", SONDE_KIND_UINT16, "Raw numeric rcode value"},
    [O_RCODE] = {"rcode", SONDE_KIND_STRING,
                 "Response code indicating the status of the DNS response. Empty for queries."},
    [O_NUM_ANSWERS] = {"num_answers", SONDE_KIND_INT32, "Number of answers in the DNS response."},
    [O_ADDRESSES] = {"addresses", SONDE_KIND_STRING,
                     "Comma-separated list of IP addresses returned in the DNS responses"},
    [O_TC] = {"tc", SONDE_KIND_BOOL, "Truncated Flag"},
    [O_RA] = {"ra", SONDE_KIND_BOOL, "Recursion Available Flag"},
    [O_RD] = {"rd", SONDE_KIND_BOOL, "Recursion Desired Flag"},
};

struct dns_ds {
	struct sonde_ds *ds;
	struct sonde_field *data, *offset; /* offset may be NULL */
	struct sonde_field *out[O_COUNT];
	char *addrs; /* grows to dns_addresses_cap() of the largest message */
	size_t addrs_cap;
	uint64_t parsed, bad;
	const char *last_error;
};

struct dns_parser {
	struct dns_ds **dss;
	size_t ndss;
};

static bool any_requested(const struct dns_ds *d)
{
	for (int i = 0; i < O_COUNT; i++)
		if (sonde_field_is_requested(d->out[i]))
			return true;
	return false;
}

static void put_str(const struct sonde_field *f, struct sonde_record *rec, const char *s)
{
	sonde_field_put_string(f, rec, s, (uint32_t)strlen(s));
}

/* The name from the table, else the number (Go's %d of the type). */
static void put_code(const struct sonde_field *f, struct sonde_record *rec, const char *name, unsigned v)
{
	char num[8];

	if (!name) {
		snprintf(num, sizeof(num), "%u", v);
		name = num;
	}
	put_str(f, rec, name);
}

static int on_record(struct sonde_ds *ds, struct sonde_record *rec, void *arg)
{
	struct dns_ds *d = arg;
	struct dns_message m;
	const uint8_t *pkt;
	uint64_t off = 0;
	uint32_t len;
	size_t need;
	char id[8];

	if (!any_requested(d))
		return 0;
	pkt = sonde_field_get(d->data, rec, &len);
	if (!pkt || len == 0)
		return 0;
	if (d->offset && !sonde_field_as_uint64(d->offset, rec, &off))
		return 0;
	if (off > len) {
		d->bad++;
		d->last_error = "DNS offset past the end of the packet";
		return 0;
	}
	len -= (uint32_t)off;
	need = dns_addresses_cap(len);
	if (need > d->addrs_cap) {
		char *p = realloc(d->addrs, need);

		if (p) {
			d->addrs = p;
			d->addrs_cap = need;
		}
	}
	m.addrs = d->addrs;
	m.addrs_cap = d->addrs_cap;
	if (dns_message_parse(pkt + off, len, &m)) {
		d->bad++;
		d->last_error = m.error;
		sonde_debug("dnsparser: %s: packet of %u bytes not parsed: %s", sonde_ds_name(ds), len,
		            m.error);
		return 0;
	}
	d->parsed++;

	snprintf(id, sizeof(id), "%.4x", m.id);
	put_str(d->out[O_ID], rec, id);
	sonde_field_put_bool(d->out[O_QR_RAW], rec, m.qr);
	put_str(d->out[O_QR], rec, m.qr ? "R" : "Q");
	if (m.qr) {
		sonde_field_put_uint(d->out[O_RCODE_RAW], rec, m.rcode);
		put_code(d->out[O_RCODE], rec, dns_rcode_name(m.rcode), m.rcode);
	}
	sonde_field_put_bool(d->out[O_TC], rec, m.tc);
	sonde_field_put_bool(d->out[O_RA], rec, m.ra);
	sonde_field_put_bool(d->out[O_RD], rec, m.rd);
	if (m.has_question) {
		sonde_field_put_uint(d->out[O_QTYPE_RAW], rec, m.qtype);
		put_code(d->out[O_QTYPE], rec, dns_type_name(m.qtype), m.qtype);
		sonde_field_put_string(d->out[O_NAME], rec, m.name, m.name_len);
	}
	sonde_field_put_int(d->out[O_NUM_ANSWERS], rec, m.ancount);
	sonde_field_put_string(d->out[O_ADDRESSES], rec, m.addrs_len ? m.addrs : "", (uint32_t)m.addrs_len);
	return 0;
}

/* Bytes, or a byte array of the event struct. */
static bool is_bytes(enum sonde_kind k)
{
	return k == SONDE_KIND_BYTES || (SONDE_KIND_IS_ARRAY(k) && (SONDE_KIND_ELEM(k) == SONDE_KIND_UINT8 ||
	                                                            SONDE_KIND_ELEM(k) == SONDE_KIND_INT8));
}

/* The packet and offset fields of ds, if it carries DNS packets (see the
 * header); false otherwise. An explicit annotation naming what is not
 * there is an error. */
static int find_input(struct sonde_ds *ds, struct sonde_field **data, struct sonde_field **offset)
{
	const char *ann = sonde_ds_annotation(ds, "dns.parse");
	const char *off_ann = sonde_ds_annotation(ds, "dns.offset");
	struct sonde_field *len;

	*data = *offset = NULL;
	if (ann && *ann) {
		*data = sonde_ds_field(ds, ann);
		if (off_ann && *off_ann)
			*offset = sonde_ds_field(ds, off_ann);
		if (!*data || !is_bytes(sonde_field_kind(*data))) {
			sonde_err(
			    "dnsparser: datasource %s: dns.parse names \"%s\", which is not a bytes field",
			    sonde_ds_name(ds), ann);
			return -EINVAL;
		}
		if (off_ann && *off_ann && (!*offset || !sonde_kind_is_int(sonde_field_kind(*offset)))) {
			sonde_err("dnsparser: datasource %s: dns.offset names \"%s\", which is not an "
			          "integer field",
			          sonde_ds_name(ds), off_ann);
			return -EINVAL;
		}
		return 1;
	}
	*data = sonde_ds_field(ds, "data");
	*offset = sonde_ds_field(ds, "dns_off");
	len = sonde_ds_field(ds, "data_len");
	if (*data && *offset && len && sonde_field_kind(*data) == SONDE_KIND_BYTES &&
	    sonde_kind_is_int(sonde_field_kind(*offset)) && sonde_kind_is_int(sonde_field_kind(len)))
		return 1;
	*data = *offset = NULL;
	return 0;
}

static int add_ds(struct dns_parser *p, struct sonde_ds *ds)
{
	struct sonde_field *data, *offset;
	struct dns_ds *d;
	int found;

	found = find_input(ds, &data, &offset);
	if (found <= 0)
		return found;
	if (sonde_ds_field(ds, "qr")) {
		sonde_debug("dnsparser: datasource %s already has a qr field; left alone", sonde_ds_name(ds));
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d || grow_array_by_len((void **)&p->dss, p->ndss, sizeof(*p->dss))) {
		free(d);
		return -ENOMEM;
	}
	p->dss[p->ndss++] = d;
	d->ds = ds;
	d->data = data;
	d->offset = offset;
	for (int i = 0; i < O_COUNT; i++) {
		struct sonde_field_opts opts = {.sz = sizeof(opts)};

		opts.annotations = (const char *const[]){"description", outs[i].description, NULL};
		d->out[i] = sonde_ds_add_field(ds, outs[i].name, outs[i].kind, &opts);
		if (!d->out[i]) {
			sonde_err("dnsparser: datasource %s: cannot add field \"%s\" (name taken?)",
			          sonde_ds_name(ds), outs[i].name);
			return -EINVAL;
		}
	}
	sonde_debug("dnsparser: parsing DNS messages of %s.%s%s%s", sonde_ds_name(ds), sonde_field_name(data),
	            offset ? " from offset " : "", offset ? sonde_field_name(offset) : "");
	return sonde_ds_subscribe(ds, on_record, d, SONDE_PHASE_ENRICH);
}

static void parser_free(struct dns_parser *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ndss; i++) {
		free(p->dss[i]->addrs);
		free(p->dss[i]);
	}
	free(p->dss);
	free(p);
}

static int parser_instantiate(struct sonde_gadget_ctx *ctx, const struct sonde_layer *layer, void **state)
{
	struct dns_parser *p = calloc(1, sizeof(*p));
	int err = 0;

	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < sonde_gadget_nds(ctx) && !err; i++)
		err = add_ds(p, sonde_gadget_ds_at(ctx, i));
	if (err || p->ndss == 0) {
		parser_free(p);
		return err;
	}
	*state = p;
	return 0;
}

static int parser_stop(struct sonde_gadget_ctx *ctx, void *state)
{
	struct dns_parser *p = state;

	for (size_t i = 0; i < p->ndss; i++) {
		struct dns_ds *d = p->dss[i];

		if (d->bad)
			sonde_warn("dnsparser: %s: %llu of %llu packets held no DNS message that parses "
			           "(last: %s); their DNS fields are empty",
			           sonde_ds_name(d->ds), (unsigned long long)d->bad,
			           (unsigned long long)(d->bad + d->parsed), d->last_error);
	}
	return 0;
}

static void parser_close(struct sonde_gadget_ctx *ctx, void *state)
{
	parser_free(state);
}

const struct sonde_operator dns_parser_operator = {
    .name = "dnsparser",
    .kind = SONDE_OP_DATA,
    .priority = SONDE_PHASE_ENRICH,
    .instantiate = parser_instantiate,
    .stop = parser_stop,
    .close = parser_close,
};
