/* The pcap-ng sink: the packets of a DataSource as a pcapng stream, for
 * `sonde run tcpdump -o pcap-ng | tcpdump -r -` (upstream's cli pcap-ng mode).
 *
 * The DataSource says where things are (upstream's annotations):
 *   pcap.payload        the field with the captured bytes (from the Ethernet header)
 *   pcap.timestamp      the capture time (a gadget_timestamp: its raw field,
 *                       which the formatters make wall-clock nanoseconds)
 *   pcap.packet-length  the original length of the packet
 * and its fields annotated pcap.interface-key=true or pcap.interface-var=NAME
 * tell packets of different interfaces apart: each new combination of their
 * values gets an Interface Description Block, described as upstream does
 * ("NAME=urlencoded(value);..." of the interface-var fields). Unlike
 * upstream, the interface is named after the ifindex key field when the host
 * has that interface ("virtual" otherwise), and times have nanosecond
 * resolution (if_tsresol 9).
 *
 * The section header goes out before the first packet (at start, or at the
 * first flush), so a reader sees a valid, empty capture while nothing came;
 * every block is whole in the buffer, and the caller flushes after each
 * batch, so a pipe reader gets the packets as they arrive. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "output/pcapng.h"
#include "output/sinks.h"

#define NANOSECONDS 9 /* if_tsresol: 10^-9 s */

struct pcap_iface {
	uint64_t hash;
	char *key;
	size_t keylen;
};

struct pcap_var {
	struct sonde_field *f;
	const char *name; /* the variable's name in the description */
};

struct psink {
	struct sonde_ds *ds;
	struct sonde_outbuf *ob;
	struct sonde_field *payload, *ts, *length, *ifindex;
	struct sonde_field **keys; /* the interface key, in field order */
	size_t nkeys;
	struct pcap_var *vars;
	size_t nvars;
	struct pcap_iface *ifaces; /* index = the IDB's interface id */
	size_t nifaces, capifaces;
	char *key; /* scratch: the key of the packet at hand */
	size_t keycap;
	bool header_done;
};

static bool is_string(const struct sonde_field *f)
{
	enum sonde_kind k = sonde_field_kind(f);

	return k == SONDE_KIND_STRING || k == SONDE_KIND_CSTRING;
}

static bool is_int(const struct sonde_field *f)
{
	return sonde_kind_is_int(sonde_field_kind(f));
}

/* The field a DataSource annotation names; logs what is missing. */
static struct sonde_field *named_field(struct sonde_ds *ds, const char *annotation)
{
	const char *name = sonde_ds_annotation(ds, annotation);
	struct sonde_field *f = name && *name ? sonde_ds_field(ds, name) : NULL;

	if (!name || !*name)
		sonde_err("pcap-ng: data source \"%s\" has no %s annotation: it has no packets to write",
		          sonde_ds_name(ds), annotation);
	else if (!f)
		sonde_err("pcap-ng: data source \"%s\": %s names field \"%s\", which it does not have",
		          sonde_ds_name(ds), annotation, name);
	return f;
}

/* A formatted timestamp (a string) comes from its raw field "<name>_raw":
 * that one holds the number. */
static struct sonde_field *timestamp_source(struct sonde_ds *ds, struct sonde_field *f)
{
	char raw[256];
	struct sonde_field *r;

	if (is_int(f))
		return f;
	snprintf(raw, sizeof(raw), "%s_raw", sonde_field_full_name(f));
	r = sonde_ds_field(ds, raw);
	if (r && is_int(r))
		return r;
	sonde_err("pcap-ng: data source \"%s\": the timestamp field \"%s\" is not a number",
	          sonde_ds_name(ds), sonde_field_full_name(f));
	return NULL;
}

static bool annotated_true(const struct sonde_field *f, const char *key)
{
	const char *v = sonde_field_annotation(f, key);

	return v && strcmp(v, "true") == 0;
}

static int find_interface_fields(struct psink *s)
{
	size_t n = sonde_ds_nfields(s->ds);

	s->keys = calloc(n + 1, sizeof(*s->keys));
	s->vars = calloc(n + 1, sizeof(*s->vars));
	if (!s->keys || !s->vars)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct sonde_field *f = sonde_ds_field_at(s->ds, i);
		const char *var = sonde_field_annotation(f, "pcap.interface-var");

		if (sonde_field_flags(f) & SONDE_FIELD_UNREFERENCED)
			continue;
		if (var && *var && !is_string(f)) {
			sonde_err("pcap-ng: field \"%s\" cannot be an interface variable: only string "
			          "fields can",
			          sonde_field_full_name(f));
			return -EINVAL;
		}
		if (var && *var)
			s->vars[s->nvars++] = (struct pcap_var){.f = f, .name = var};
		if ((var && *var) || annotated_true(f, "pcap.interface-key"))
			s->keys[s->nkeys++] = f;
		if (annotated_true(f, "pcap.interface-key") && is_int(f) &&
		    strcmp(sonde_field_full_name(f), "ifindex") == 0)
			s->ifindex = f;
	}
	return 0;
}

static void psink_close(void *state)
{
	struct psink *s = state;

	if (!s)
		return;
	for (size_t i = 0; i < s->nifaces; i++)
		free(s->ifaces[i].key);
	free(s->ifaces);
	free(s->keys);
	free(s->vars);
	free(s->key);
	free(s);
}

static int psink_open(struct sonde_ds *ds, const struct sonde_sink_opts *opts, void **state)
{
	struct psink *s = calloc(1, sizeof(*s));
	struct sonde_field *ts;
	int err = -EINVAL;

	if (!s)
		return -ENOMEM;
	s->ds = ds;
	s->ob = opts->env->out;
	s->payload = named_field(ds, "pcap.payload");
	ts = s->payload ? named_field(ds, "pcap.timestamp") : NULL;
	s->ts = ts ? timestamp_source(ds, ts) : NULL;
	s->length = s->ts ? named_field(ds, "pcap.packet-length") : NULL;
	if (s->length && !is_int(s->length))
		sonde_err("pcap-ng: data source \"%s\": the packet length field \"%s\" is not a number",
		          sonde_ds_name(ds), sonde_field_full_name(s->length));
	else if (s->length)
		err = find_interface_fields(s);
	if (err) {
		if (err == -ENOMEM)
			sonde_err("pcap-ng: out of memory");
		psink_close(s);
		return err;
	}
	*state = s;
	return 0;
}

static void psink_declare(void *state, struct sonde_ds *ds)
{
	struct psink *s = state;

	sonde_field_set_requested(s->payload, true);
	sonde_field_set_requested(s->ts, true);
	sonde_field_set_requested(s->length, true);
	for (size_t i = 0; i < s->nkeys; i++)
		sonde_field_set_requested(s->keys[i], true);
}

static void write_header(struct psink *s)
{
	static const char appl[] = "sonde";
	const struct pcapng_opt opts[] = {{PCAPNG_SHB_USERAPPL, sizeof(appl) - 1, appl}};

	if (s->header_done)
		return;
	s->header_done = pcapng_write_shb(s->ob, opts, 1) != 0;
}

static void psink_start(void *state)
{
	write_header(state);
}

static void psink_flush(void *state)
{
	write_header(state);
}

/* ---- interfaces ---- */

static uint64_t fnv1a(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static bool append(char **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (!n)
		return true; /* p may be NULL (an empty value) */
	if (*len + n > *cap) {
		size_t ncap = (*len + n) * 2 + 64;
		char *nb = realloc(*buf, ncap);

		if (!nb)
			return false;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return true;
}

/* The interface key of a record: each key field's value, length first so
 * that no two different combinations read the same. */
static bool record_key(struct psink *s, const struct sonde_record *rec, size_t *len)
{
	*len = 0;
	for (size_t i = 0; i < s->nkeys; i++) {
		uint32_t n = 0;
		const void *v = sonde_field_get(s->keys[i], rec, &n);

		if (!v)
			n = 0;
		if (!append(&s->key, len, &s->keycap, &n, sizeof(n)) ||
		    !append(&s->key, len, &s->keycap, v, n))
			return false;
	}
	return true;
}

/* Go's url.QueryEscape: unreserved bytes as they are, space as '+', the rest %XX. */
static bool query_escape(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	bool ok = true;

	for (size_t i = 0; i < n && ok; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[3] = {'%', hex[c >> 4], hex[c & 15]};

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '_' || c == '.' || c == '~')
			ok = append(buf, len, cap, &c, 1);
		else if (c == ' ')
			ok = append(buf, len, cap, "+", 1);
		else
			ok = append(buf, len, cap, esc, 3);
	}
	return ok;
}

/* "var=value;var2=value2" of the record's interface variables. */
static char *describe(struct psink *s, const struct sonde_record *rec, size_t *len)
{
	char *d = NULL;
	size_t cap = 0;
	bool ok = true;

	*len = 0;
	for (size_t i = 0; i < s->nvars && ok; i++) {
		uint32_t n = 0;
		const char *v = sonde_field_string(s->vars[i].f, rec, &n);

		ok = (i == 0 || append(&d, len, &cap, ";", 1)) &&
		     append(&d, len, &cap, s->vars[i].name, strlen(s->vars[i].name)) &&
		     append(&d, len, &cap, "=", 1) && query_escape(&d, len, &cap, v ? v : "", v ? n : 0);
	}
	if (!ok) {
		free(d);
		return NULL;
	}
	return d ? d : strdup("");
}

/* Writes the IDB of a new interface; false when out of memory. */
static bool add_interface(struct psink *s, const struct sonde_record *rec, uint64_t hash, size_t keylen)
{
	static const char os[] = "linux";
	static const uint8_t tsresol = NANOSECONDS;
	char name[IF_NAMESIZE] = "virtual";
	uint64_t idx = 0;
	size_t desclen;
	char *desc, *key;
	struct pcapng_opt opts[4];
	bool ok;

	if (s->nifaces == s->capifaces) {
		size_t ncap = s->capifaces ? s->capifaces * 2 : 8;
		struct pcap_iface *n = realloc(s->ifaces, ncap * sizeof(*n));

		if (!n)
			return false;
		s->ifaces = n;
		s->capifaces = ncap;
	}
	key = malloc(keylen ? keylen : 1);
	desc = key ? describe(s, rec, &desclen) : NULL;
	if (!desc) {
		free(key);
		return false;
	}
	if (keylen)
		memcpy(key, s->key, keylen);
	/* the name the host gives the interface, while it still has it */
	if (s->ifindex && sonde_field_as_uint64(s->ifindex, rec, &idx) && idx && idx <= UINT32_MAX &&
	    !if_indextoname((unsigned)idx, name))
		snprintf(name, sizeof(name), "virtual");
	opts[0] = (struct pcapng_opt){PCAPNG_IF_NAME, (uint32_t)strlen(name), name};
	opts[1] = (struct pcapng_opt){PCAPNG_IF_DESCRIPTION, (uint32_t)desclen, desc};
	opts[2] = (struct pcapng_opt){PCAPNG_IF_TSRESOL, 1, &tsresol};
	opts[3] = (struct pcapng_opt){PCAPNG_IF_OS, sizeof(os) - 1, os};
	/* no description option when there are no interface variables */
	if (desclen == 0)
		opts[1] = opts[3];
	ok = pcapng_write_idb(s->ob, PCAPNG_LINKTYPE_ETHERNET, 0, opts, desclen ? 4 : 3) != 0;
	free(desc);
	if (!ok) {
		free(key);
		return false;
	}
	s->ifaces[s->nifaces++] = (struct pcap_iface){.hash = hash, .key = key, .keylen = keylen};
	return true;
}

/* The interface id of the record's key, adding the interface when new;
 * -1 when out of memory. */
static int64_t interface_of(struct psink *s, const struct sonde_record *rec)
{
	size_t keylen;
	uint64_t hash;

	if (!record_key(s, rec, &keylen))
		return -1;
	hash = fnv1a(s->key, keylen);
	/* newest first: a capture mostly goes on on the interfaces it last saw */
	for (size_t i = s->nifaces; i-- > 0;) {
		const struct pcap_iface *f = &s->ifaces[i];

		if (f->hash == hash && f->keylen == keylen &&
		    (!keylen || memcmp(f->key, s->key, keylen) == 0))
			return (int64_t)i;
	}
	if (s->nifaces >= UINT32_MAX || !add_interface(s, rec, hash, keylen))
		return -1;
	return (int64_t)s->nifaces - 1;
}

static void psink_write_record(void *state, const struct sonde_record *rec)
{
	struct psink *s = state;
	uint32_t caplen = 0;
	const void *data = sonde_field_get(s->payload, rec, &caplen);
	uint64_t ts = 0, origlen = 0;
	int64_t ifid;

	write_header(s);
	if (!data)
		caplen = 0;
	sonde_field_as_uint64(s->ts, rec, &ts);
	if (!sonde_field_as_uint64(s->length, rec, &origlen) || origlen < caplen)
		origlen = caplen;
	if (origlen > UINT32_MAX)
		origlen = UINT32_MAX;
	ifid = interface_of(s, rec);
	if (ifid < 0) {
		sonde_err("pcap-ng: out of memory; a packet is not written");
		return;
	}
	pcapng_write_epb(s->ob, (uint32_t)ifid, ts, data, caplen, (uint32_t)origlen, NULL, 0);
}

const struct sonde_sink pcapng_sink = {
    .name = "pcap-ng",
    .flags = SONDE_SINK_BINARY,
    .open = psink_open,
    .declare = psink_declare,
    .start = psink_start,
    .write_record = psink_write_record,
    .flush = psink_flush,
    .close = psink_close,
};
