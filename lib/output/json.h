/* Streaming JSON of DataSource records, as `-o json` / `-o jsonpretty` print them.
 *
 * Keys are field names (not full names), sorted bytewise per level; nested
 * fields become nested objects (see fieldtree.h for which fields appear).
 * Values: integers in decimal; floats in the shortest form that reads back
 * (Go encoding/json style, `1e+21`, `1e-7`), NaN and infinities as null;
 * bools; strings escaped like Go (CString up to the first NUL, invalid UTF-8
 * bytes become \ufffd, U+2028/U+2029 escaped); arrays of integers or floats as
 * JSON arrays; bytes and any other kind as a lowercase hex string.
 * Pretty output indents by two spaces; empty objects and arrays print as {} and [].
 *
 * The plan (key literals, value writers, separators) is computed once per
 * DataSource; writing a record does no allocation and no lookups by name. */
#ifndef SONDE_OUTPUT_JSON_H
#define SONDE_OUTPUT_JSON_H

#include <stddef.h>

#include <sonde/datasource.h>

#include "outbuf.h"

enum json_flags {
	JSON_PRETTY = 1u << 0,
	/* records are elements of an array (pretty output indents them one level) */
	JSON_IN_ARRAY = 1u << 1,
};

struct json_plan;

/* NULL on allocation failure (logged). */
struct json_plan *json_plan_new(const struct sonde_ds *ds, unsigned flags);
void json_plan_free(struct json_plan *plan);
/* Marks every field the plan prints as requested. */
void json_plan_request(const struct json_plan *plan);

/* One object, no trailing newline. */
void output_json_write_record(const struct json_plan *plan, struct sonde_outbuf *ob,
                              const struct sonde_record *rec);
/* One array of objects, no trailing newline; [] when empty. Use a plan built
 * with JSON_IN_ARRAY for correct pretty indentation. */
void output_json_write_array(const struct json_plan *plan, struct sonde_outbuf *ob,
                             const struct sonde_array *arr);

/* A JSON string literal (with quotes) of arbitrary bytes. */
void json_write_string(struct sonde_outbuf *ob, const char *s, size_t n);

#endif
