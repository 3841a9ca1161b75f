/* Field and DataSource decoration from templates and gadget.yaml. */
#ifndef SONDE_FIELD_CONFIG_H
#define SONDE_FIELD_CONFIG_H

#include <sonde/config.h>
#include <sonde/datasource.h>

/* Annotations of a named template (key, value, ..., NULL) or NULL if unknown. */
const char *const *sonde_template_annotations(const char *name);
/* Expands the field's template, then applies datasources.<ds>.fields.<full name>. */
void sonde_field_apply_config(struct sonde_ds *ds, struct sonde_field *f, const struct sonde_config *config);
/* Applies datasources.<ds>.annotations and tags. */
void sonde_ds_apply_config(struct sonde_ds *ds, const struct sonde_config *config);

#endif
