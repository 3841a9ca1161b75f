/* YAML of DataSource records, as `-o yaml` prints them: a `---` line, then the
 * record as a block mapping with the same fields as the JSON output.
 *
 * Upstream converts its JSON text to YAML with go-yaml v2; this writer
 * produces the same text directly: keys in go-yaml's order (runs of digits by
 * value, non-letters before letters), nested objects indented by two spaces,
 * arrays as `- item` lines at the key's indentation, empty ones as {} / [].
 * Strings are plain when YAML would read them back as the same string, else
 * double-quoted (numbers, booleans, null, timestamps, `1:20`, ...),
 * single-quoted (indicators, leading/trailing spaces), double-quoted with
 * escapes (non-printable characters), or literal blocks `|-` (multi-line).
 * Long plain and quoted scalars fold at spaces past column 80, like go-yaml.
 * Floats use Go's %g shortest form (1.5e+06); integral floats print as
 * integers; NaN and infinities as null (the JSON value). Invalid UTF-8 bytes
 * become U+FFFD. */
#ifndef SONDE_OUTPUT_YAML_H
#define SONDE_OUTPUT_YAML_H

#include <sonde/datasource.h>

#include "outbuf.h"

struct sonde_yaml_plan;

/* NULL on allocation failure (logged). */
struct sonde_yaml_plan *sonde_yaml_plan_new(const struct sonde_ds *ds);
void sonde_yaml_plan_free(struct sonde_yaml_plan *plan);
void sonde_yaml_plan_request(const struct sonde_yaml_plan *plan);

/* `---` line and the record, ending with a newline. Not thread-safe per plan
 * (it keeps a scratch buffer). */
void sonde_yaml_write_record(struct sonde_yaml_plan *plan, struct sonde_outbuf *ob,
                             const struct sonde_record *rec);

#endif
