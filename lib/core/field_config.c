/* Decorates fields as they are added: annotation templates and the
 * gadget.yaml `datasources.<ds>.fields.<field>` configuration (spec §3.4/3.5). */
#include <ctype.h>
#include <string.h>

#include <sonde/config.h>
#include <sonde/log.h>

#include "field_config.h"

struct template
{
	const char *name;
	const char *const *annotations; /* key, value pairs, NULL-terminated */
};

#define ANN(...)                                                                                             \
	(const char *const[])                                                                                \
	{                                                                                                    \
		__VA_ARGS__, NULL                                                                            \
	}

static const struct template templates[] = {
    {"timestamp", ANN("columns.width", "35", "columns.maxwidth", "35", "columns.ellipsis", "end",
                      "columns.hidden", "true", "description", "Microseconds since Unix epoch")},
    {"bytes", ANN("columns.width", "10", "columns.alignment", "right")},
    {"duration", ANN("columns.width", "20", "columns.alignment", "right")},
    {"node", ANN("columns.width", "30", "columns.ellipsis", "middle")},
    {"pod", ANN("columns.width", "30", "columns.ellipsis", "middle")},
    {"container", ANN("columns.width", "30")},
    {"namespace", ANN("columns.width", "30")},
    {"containerImageName", ANN("columns.width", "30")},
    {"containerImageDigest", ANN("columns.width", "30")},
    {"containerPid", ANN("columns.width", "6", "columns.hidden", "true", "columns.alignment", "right")},
    {"containerStartedAt", ANN("columns.hidden", "true", "columns.width", "35")},
    {"comm", ANN("description", "Process name", "columns.maxwidth", "16")},
    {"pcomm", ANN("description", "Parent process name", "columns.maxwidth", "16", "columns.hidden", "true")},
    {"pid", ANN("description", "Process ID", "columns.minwidth", "7", "columns.alignment", "right")},
    {"tid", ANN("description", "Thread ID", "columns.minwidth", "7", "columns.alignment", "right")},
    {"ppid", ANN("description", "Parent process ID", "columns.minwidth", "7", "columns.alignment", "right",
                 "columns.hidden", "true")},
    {"ptid", ANN("description", "Parent thread ID", "columns.minwidth", "7", "columns.alignment", "right",
                 "columns.hidden", "true")},
    {"uid", ANN("description", "User ID", "columns.minwidth", "8", "columns.alignment", "right")},
    {"gid", ANN("description", "Group ID", "columns.minwidth", "8", "columns.alignment", "right")},
    {"ns", ANN("columns.hidden", "true", "columns.width", "12", "columns.alignment", "right")},
    {"mntns_id", ANN("description", "Mount namespace ID", "columns.hidden", "true", "columns.width", "12",
                     "columns.alignment", "right")},
    {"netns_id", ANN("description", "Network namespace ID", "columns.hidden", "true", "columns.width", "12",
                     "columns.alignment", "right")},
    {"l4endpoint", ANN("columns.minwidth", "22", "columns.width", "40", "columns.maxwidth", "52",
                       "columns.ellipsis", "middle")},
    {"syscall", ANN("description", "Syscall", "columns.width", "18", "columns.maxwidth", "28")},
    {"errorString", ANN("columns.width", "12")},
    {"user_stack", ANN("description", "User stack trace", "columns.hidden", "true")},
};

const char *const *sonde_template_annotations(const char *name)
{
	for (size_t i = 0; i < sizeof(templates) / sizeof(templates[0]); i++)
		if (strcmp(templates[i].name, name) == 0)
			return templates[i].annotations;
	return NULL;
}

static void apply_template(struct sonde_field *f, const char *name)
{
	const char *const *ann = sonde_template_annotations(name);

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

void sonde_field_apply_config(struct sonde_ds *ds, struct sonde_field *f, const struct sonde_config *config)
{
	const struct sonde_config *fc, *ann, *tags;
	const char *tmpl = sonde_field_annotation(f, "template");

	if (tmpl)
		apply_template(f, tmpl);
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

void sonde_ds_apply_config(struct sonde_ds *ds, const struct sonde_config *config)
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
