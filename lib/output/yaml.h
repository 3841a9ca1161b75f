/* YAML of DataSource records, as `-o yaml` prints them: a `---` line, then the
 * record as a block mapping with the same fields as the JSON output.
 *
 * Upstream converts its JSON text to YAML with go-yaml v2, a port of
 * libyaml's emitter; this writer hands the record to libyaml's emitter as
 * events, with go-yaml's settings (80 columns, indent 2, UTF-8 as is) and
 * go-yaml's encoder decisions: keys in go-yaml's order (runs of digits by
 * value, non-letters before letters), strings double-quoted when YAML would
 * read them back as something else (numbers, booleans, null, timestamps,
 * `1:20`, ...), multi-line strings as literal blocks; the emitter falls back
 * to single or double quotes where the text needs it, folds long scalars and
 * writes empty objects and arrays as {} / []. Floats use Go's %g shortest
 * form (1.5e+06); integral floats print as integers; NaN and infinities as
 * null (the JSON value). Invalid UTF-8 bytes become U+FFFD.
 * Where libyaml 0.2.5 differs from go-yaml the text is equivalent: an empty
 * record is `--- {}`, and a keep-chomped block (`|+`) is not followed by `...`. */
#ifndef SONDE_OUTPUT_YAML_H
#define SONDE_OUTPUT_YAML_H

#include <yaml.h>

#include <sonde/datasource.h>

#include "outbuf.h"

struct yaml_plan;

/* NULL on allocation failure (logged). */
struct yaml_plan *yaml_plan_new(const struct sonde_ds *ds);
void yaml_plan_free(struct yaml_plan *plan);
void yaml_plan_request(const struct yaml_plan *plan);

/* `---` line and the record, ending with a newline. Not thread-safe per plan
 * (it keeps a scratch buffer and the emitter). An emitter failure is logged
 * once and drops that record. */
void output_yaml_write_record(struct yaml_plan *plan, struct sonde_outbuf *ob,
                              const struct sonde_record *rec);

/* The scalar style go-yaml's encoder picks for string s (n bytes, valid
 * UTF-8): double quotes for text YAML would read as something else
 * ("true", "1.5", ""), literal for multi-line text, else plain. For other
 * writers of upstream-shaped YAML (NetworkPolicies). */
yaml_scalar_style_t output_yaml_string_style(const char *s, size_t n);

#endif
