/* Per-DataSource option values, as sort and limiter take them: one value for
 * every DataSource ("f1,-f2", "10") or one per DataSource ("ds:f1;ds2:f2",
 * "ds:10,ds2:5"), parts split on an operator-specific separator. */
#ifndef SONDE_CORE_DS_SPEC_H
#define SONDE_CORE_DS_SPEC_H

#include <stddef.h>

struct sonde_gadget_ctx;

struct ds_spec_part {
	const char *ds; /* NULL: applies to every DataSource */
	const char *value;
};

struct ds_spec {
	char *buf; /* the parts point into it */
	struct ds_spec_part *parts;
	size_t n;
	size_t nprefixed, nplain;
};

/* Splits `spec` on `sep`, trims blanks, skips empty parts and cuts each at its
 * first ':' into DataSource name and value. 0 or -ENOMEM. */
int ds_spec_parse(const char *spec, char sep, struct ds_spec *out);
void ds_spec_free(struct ds_spec *s);
/* The error for a part naming no usable DataSource: not an array, or unknown. */
void ds_spec_report_bad_ds(struct sonde_gadget_ctx *ctx, const char *op, const char *name, const char *spec);

#endif
