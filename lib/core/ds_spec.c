/* Splitting per-DataSource option values (see ds_spec.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/gadget.h>
#include <sonde/log.h>

#include "core/trim.h"
#include "core/ds_spec.h"

int ds_spec_parse(const char *spec, char sep, struct ds_spec *out)
{
	char seps[2] = {sep, 0}, *save = NULL;

	*out = (struct ds_spec){0};
	out->buf = strdup(spec);
	/* at most one part per separator, plus one */
	out->parts = calloc(strlen(spec) / 2 + 2, sizeof(*out->parts));
	if (!out->buf || !out->parts) {
		ds_spec_free(out);
		return -ENOMEM;
	}
	for (char *tok = strtok_r(out->buf, seps, &save); tok; tok = strtok_r(NULL, seps, &save)) {
		char *colon;

		tok = trim_blanks(tok);
		if (!*tok)
			continue;
		colon = strchr(tok, ':');
		if (colon) {
			*colon = 0;
			out->parts[out->n++] =
			    (struct ds_spec_part){trim_blanks(tok), trim_blanks(colon + 1)};
			out->nprefixed++;
		} else {
			out->parts[out->n++] = (struct ds_spec_part){NULL, tok};
			out->nplain++;
		}
	}
	return 0;
}

void ds_spec_free(struct ds_spec *s)
{
	free(s->buf);
	free(s->parts);
	*s = (struct ds_spec){0};
}

void ds_spec_report_bad_ds(struct sonde_gadget_ctx *ctx, const char *op, const char *name, const char *spec)
{
	struct sonde_ds *ds = sonde_gadget_ds(ctx, name);

	if (ds && sonde_ds_is_referenced(ds))
		sonde_err("%s: data source \"%s\" is not an array; %s only applies to arrays", op, name, op);
	else
		sonde_err("%s: unknown data source \"%s\" in \"%s\"", op, name, spec);
}
