/* Decorates fields as they are added: annotation templates and the
 * gadget.yaml `datasources.<ds>.fields.<field>` configuration (spec §3.4/3.5).
 * What a template holds (column widths, descriptions) is not core's business:
 * the table comes from lib/output/field_templates.c. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <sonde/config.h>
#include <sonde/log.h>

#include "field_config.h"

/* Set once at start-up by the presentation side (lib/output registers the
 * built-in table); only read during runs. */
static const struct field_template *templates;
static size_t ntemplates;

void field_templates_set(const struct field_template *table, size_t n)
{
	templates = table;
	ntemplates = n;
}

const char *const *template_annotations(const char *name)
{
	for (size_t i = 0; i < ntemplates; i++)
		if (strcmp(templates[i].name, name) == 0)
			return templates[i].annotations;
	return NULL;
}

static void apply_template(struct sonde_field *f, const char *name)
{
	const char *const *ann = template_annotations(name);

	if (!ann) {
		sonde_warn("field %s: unknown annotation template \"%s\"", sonde_field_full_name(f), name);
		return;
	}
	for (size_t i = 0; ann[i]; i += 2)
		sonde_field_set_annotation(f, ann[i], ann[i + 1]);
}

/* Config keys are case-insensitive (upstream lowercases them), so annotation keys are lowercased. */
static const char *lower_key(const char *key, char *buf, size_t len)
{
	size_t i = 0;

	for (; key[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)key[i]);
	buf[i] = 0;
	return buf;
}

/* Every scalar under `node` as annotation (YAML numbers and booleans are kept as written).
 * A sequence where the map belongs has no keys: its items are skipped. */
static void apply_annotations(struct sonde_field *f, const struct sonde_config *node)
{
	char key[256];

	for (size_t i = 0; i < sonde_config_len(node); i++) {
		const char *value = sonde_config_scalar(sonde_config_value_at(node, i));
		const char *k = sonde_config_key_at(node, i);
		if (value && k)
			sonde_field_set_annotation(f, lower_key(k, key, sizeof(key)), value);
	}
}

/* The v0.28-era gadget.yaml (upstream until its DataSources arrived): a
 * DataSource named in tracers/toppers/snapshotters.<ds>.structName, its
 * fields listed under structs.<struct>.fields[] by top-level member name. */
static const struct sonde_config *legacy_field(const struct sonde_config *config, const char *ds,
                                               const char *field)
{
	static const char *const kinds[] = {"tracers", "toppers", "snapshotters"};
	const struct sonde_config *fields;
	const char *sname = NULL;

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !sname; i++)
		sname = sonde_config_str(config, kinds[i], ds, "structName", NULL);
	if (!sname)
		return NULL;
	fields = sonde_config_path(config, "structs", sname, "fields", NULL);
	if (sonde_config_type(fields) != SONDE_CONFIG_SEQ)
		return NULL;
	for (size_t i = 0; i < sonde_config_len(fields); i++) {
		const struct sonde_config *item = sonde_config_value_at(fields, i);
		const char *name = sonde_config_str(item, "name", NULL);
		if (name && strcmp(name, field) == 0)
			return item;
	}
	return NULL;
}

/* Legacy `attributes` as the annotations upstream rewrote them into
 * (v0.28 pkg/operators/ebpf/struct.go): a zero width is "unset", hidden only
 * when true; the template first so the attributes beside it win. */
static void apply_legacy_field(struct sonde_field *f, const struct sonde_config *lf)
{
	static const char *const attr_map[][2] = {
	    {"width", "columns.width"},       {"minWidth", "columns.minwidth"},
	    {"maxWidth", "columns.maxwidth"}, {"alignment", "columns.alignment"},
	    {"ellipsis", "columns.ellipsis"},
	};
	const struct sonde_config *attrs = sonde_config_get(lf, "attributes");
	const char *v;

	v = sonde_config_str(attrs, "template", NULL);
	if (v && *v)
		apply_template(f, v);
	apply_annotations(f, sonde_config_get(lf, "annotations"));
	v = sonde_config_str(lf, "description", NULL);
	if (v && *v)
		sonde_field_set_annotation(f, "description", v);
	for (size_t i = 0; i < sizeof(attr_map) / sizeof(attr_map[0]); i++) {
		v = sonde_config_str(attrs, attr_map[i][0], NULL);
		if (v && *v && strcmp(v, "0") != 0)
			sonde_field_set_annotation(f, attr_map[i][1], v);
	}
	v = sonde_config_str(attrs, "hidden", NULL);
	if (v && strcasecmp(v, "true") == 0)
		sonde_field_set_annotation(f, "columns.hidden", "true");
}

void field_apply_config(struct sonde_ds *ds, struct sonde_field *f, const struct sonde_config *config)
{
	const struct sonde_config *fc, *ann, *tags, *lf;
	const char *tmpl = sonde_field_annotation(f, "template");

	if (tmpl)
		apply_template(f, tmpl);
	/* Legacy keys first: a current datasources.<ds> entry overrides them. */
	lf = legacy_field(config, sonde_ds_name(ds), sonde_field_full_name(f));
	if (lf)
		apply_legacy_field(f, lf);
	fc = sonde_config_path(config, "datasources", sonde_ds_name(ds), "fields", sonde_field_full_name(f),
	                       NULL);
	if (!fc)
		return;
	tags = sonde_config_get(fc, "tags");
	for (size_t i = 0; i < sonde_config_len(tags); i++) {
		const char *t = sonde_config_scalar(sonde_config_value_at(tags, i));
		if (t)
			sonde_field_add_tag(f, t);
	}
	ann = sonde_config_get(fc, "annotations");
	tmpl = sonde_config_str(ann, "template", NULL);
	if (tmpl)
		apply_template(f, tmpl);
	apply_annotations(f, ann);
}

void ds_apply_config(struct sonde_ds *ds, const struct sonde_config *config)
{
	const struct sonde_config *dc = sonde_config_path(config, "datasources", sonde_ds_name(ds), NULL);
	const struct sonde_config *ann = sonde_config_get(dc, "annotations");
	const struct sonde_config *tags = sonde_config_get(dc, "tags");

	for (size_t i = 0; i < sonde_config_len(ann); i++) {
		const char *value = sonde_config_scalar(sonde_config_value_at(ann, i));
		const char *k = sonde_config_key_at(ann, i); /* NULL in a sequence */
		char key[256];
		if (value && k)
			sonde_ds_add_annotation(ds, lower_key(k, key, sizeof(key)), value);
	}
	for (size_t i = 0; i < sonde_config_len(tags); i++) {
		const char *t = sonde_config_scalar(sonde_config_value_at(tags, i));
		if (t)
			sonde_ds_add_tag(ds, t);
	}
}
