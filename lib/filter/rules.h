/* Filter rules (spec §5.4): `--filter` strings parsed into typed comparisons
 * against the fields of one DataSource, evaluated per record.
 *
 * Syntax: comma-separated rules that must ALL match; `\,` is a comma inside a
 * value (any other backslash is kept as it is, e.g. for regexes). A rule is
 * `<field full name><op><value>`; the field name ends at the first character
 * of `!~><=` and the operator is the longest of `==`, `=`, `!=`, `<`, `<=`,
 * `>`, `>=`, `~`, `!~` found there. Values are parsed once by the field's
 * kind: integers base 10 within the field's bit size and sign, floats in the
 * field's precision, bools (`true|1|false|0`, only == and !=), strings
 * compared byte-wise (lexicographically); `~` / `!~` are PCRE2 searches on
 * string fields (compiled once, JIT when available; `$` only matches at the
 * very end, as in RE2). Empty rules are ignored; `f==` compares with the
 * empty string. */
#ifndef SONDE_FILTER_RULES_H
#define SONDE_FILTER_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include <sonde/datasource.h>

enum filter_op {
	FILTER_EQ,
	FILTER_NE,
	FILTER_LT,
	FILTER_LE,
	FILTER_GT,
	FILTER_GE,
	FILTER_MATCH,   /* ~ */
	FILTER_NOMATCH, /* !~ */
};

struct filter_rules;

/* An empty rule set for the fields of `ds` (NULL when out of memory). */
struct filter_rules *filter_rules_new(const struct sonde_ds *ds);
void filter_rules_free(struct filter_rules *rules);

/* Parses `spec` and appends its rules. On a bad rule nothing is appended,
 * -EINVAL (or -ENOMEM) is returned and `err` gets one line naming the culprit,
 * e.g. `unknown field "nope" in "nope==1"`. */
int filter_rules_add(struct filter_rules *rules, const char *spec, char *err, size_t errlen);

size_t filter_rules_count(const struct filter_rules *rules);
struct sonde_field *filter_rule_field(const struct filter_rules *rules, size_t i);
enum filter_op filter_rule_op(const struct filter_rules *rules, size_t i);
/* The value: canonical decimal for integers, as written (unescaped) otherwise. */
const char *filter_rule_value(const struct filter_rules *rules, size_t i);

/* "field<op>value" of rule i, for messages (snprintf semantics). */
int filter_rule_format(const struct filter_rules *rules, size_t i, char *out, size_t outlen);

/* Whether the record satisfies every rule (true for an empty set). Not
 * reentrant: regex rules reuse one match block. */
bool filter_rules_match(struct filter_rules *rules, const struct sonde_record *rec);

#endif
