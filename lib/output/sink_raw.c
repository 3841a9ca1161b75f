/* The raw sink: a record's string fields as they are, one after the other,
 * for output modes that only a DataSource knows (a gadget that renders its
 * own text). The caller uses it for a mode no registered sink has. */
#include <errno.h>
#include <stdlib.h>

#include "output/outbuf.h"
#include "output/sinks.h"

struct raw {
	struct sonde_ds *ds;
	struct sonde_outbuf *ob;
	const char *clear;
};

static bool printed(const struct sonde_field *f)
{
	enum sonde_kind k = sonde_field_kind(f);

	return (k == SONDE_KIND_STRING || k == SONDE_KIND_CSTRING) &&
	       !(sonde_field_flags(f) &
	         (SONDE_FIELD_UNREFERENCED | SONDE_FIELD_EMPTY | SONDE_FIELD_CONTAINER));
}

static int raw_open(struct sonde_ds *ds, const struct sonde_sink_opts *opts, void **state)
{
	struct raw *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	*r = (struct raw){.ds = ds, .ob = opts->env->out, .clear = opts->clear_screen};
	*state = r;
	return 0;
}

static void raw_declare(void *state, struct sonde_ds *ds)
{
	for (size_t i = 0; i < sonde_ds_nfields(ds); i++) {
		struct sonde_field *f = sonde_ds_field_at(ds, i);
		enum sonde_kind k = sonde_field_kind(f);

		if (!(sonde_field_flags(f) & SONDE_FIELD_UNREFERENCED) &&
		    (k == SONDE_KIND_STRING || k == SONDE_KIND_CSTRING))
			sonde_field_set_requested(f, true);
	}
}

static void raw_write_record(void *state, const struct sonde_record *rec)
{
	struct raw *r = state;

	if (r->clear)
		outbuf_puts(r->ob, r->clear);
	for (size_t i = 0; i < sonde_ds_nfields(r->ds); i++) {
		struct sonde_field *f = sonde_ds_field_at(r->ds, i);
		const char *s;
		uint32_t len;

		if (!printed(f))
			continue;
		s = sonde_field_string(f, rec, &len);
		outbuf_write(r->ob, s, len);
	}
}

const struct sonde_sink raw_sink = {
    .name = "raw",
    .open = raw_open,
    .declare = raw_declare,
    .write_record = raw_write_record,
    .close = free,
};
