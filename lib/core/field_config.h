/* Field and DataSource decoration from templates and gadget.yaml. */
#ifndef SONDE_FIELD_CONFIG_H
#define SONDE_FIELD_CONFIG_H

#include <sonde/config.h>
#include <sonde/datasource.h>
#include <stddef.h>

/* A named set of annotations that `template: <name>` expands to. */
struct field_template {
	const char *name;
	const char *const *annotations; /* key, value pairs, NULL-terminated */
};

/* The table templates come from; set at start-up, before runs (the output
 * side sets the built-in one: sonde_register_builtin_sinks). The table must
 * outlive every run. Without a table no template is known. */
void field_templates_set(const struct field_template *table, size_t n);
/* Annotations of a named template (key, value, ..., NULL) or NULL if unknown. */
const char *const *template_annotations(const char *name);
/* Expands the field's template, then applies datasources.<ds>.fields.<full name>. */
void field_apply_config(struct sonde_ds *ds, struct sonde_field *f, const struct sonde_config *config);
/* Applies datasources.<ds>.annotations and tags. */
void ds_apply_config(struct sonde_ds *ds, const struct sonde_config *config);

#endif
