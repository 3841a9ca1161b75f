/* Params: typed, validated key/value settings of operators and gadgets.
 *
 * A param has a short key (`pid`, the CLI flag --pid) and a prefix that makes
 * its full name (`operator.oci.ebpf.` + `pid`). Values are kept as strings and
 * validated against the type hint when set.
 */
#ifndef SONDE_PARAMS_H
#define SONDE_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sonde_param_desc {
	const char *key;
	const char *alias; /* one-letter shorthand, may be NULL */
	/* A second key (and full name) that sets this same param, as upstream's
	 * AlternativeKey (`runtime-containername` for `containername`); may be NULL. */
	const char *alt_key;
	const char *description;
	const char *default_value;
	/* bool, string, int, int8..int64, uint, uint8..uint64, float32, float64,
	 * duration, ip, []string; NULL = string */
	const char *type_hint;
	const char *const *possible_values; /* NULL-terminated, may be NULL */
	bool mandatory;
	const char *const *tags;
};

struct sonde_param;
struct sonde_params;

struct sonde_params *sonde_params_new(void);
void sonde_params_free(struct sonde_params *ps);

/* Copies the descriptor. `prefix` may be NULL or e.g. "operator.oci.ebpf.". Fails on a duplicate full name.
 */
struct sonde_param *sonde_params_add(struct sonde_params *ps, const char *prefix,
                                     const struct sonde_param_desc *desc);
size_t sonde_params_count(const struct sonde_params *ps);
struct sonde_param *sonde_params_at(const struct sonde_params *ps, size_t i);

/* Lookup by full name, or by key when `name` has no prefix and the key is unique
 * (alternative keys count as the param's own). */
struct sonde_param *sonde_params_find(const struct sonde_params *ps, const char *name);
/* Lookup by key, alias or alternative key (for CLI flags). Ambiguous keys
 * return NULL and set *ambiguous. */
struct sonde_param *sonde_params_find_key(const struct sonde_params *ps, const char *key, bool *ambiguous);

/* Validates and stores. On error returns -EINVAL and writes a one-line reason to err. */
int sonde_param_set(struct sonde_param *p, const char *value, char *err, size_t errlen);
/* Sets by name (full or key); unknown names give -ENOENT with a reason. */
int sonde_params_set(struct sonde_params *ps, const char *name, const char *value, char *err, size_t errlen);
/* Checks mandatory params have values. */
int sonde_params_validate(const struct sonde_params *ps, char *err, size_t errlen);

const char *sonde_param_key(const struct sonde_param *p);
const char *sonde_param_full_name(const struct sonde_param *p);
const char *sonde_param_prefix(const struct sonde_param *p);
const struct sonde_param_desc *sonde_param_desc(const struct sonde_param *p);
/* Current value: the set value, else the default, else "". */
const char *sonde_param_value(const struct sonde_param *p);
bool sonde_param_is_set(const struct sonde_param *p);
int sonde_param_set_default(struct sonde_param *p, const char *value);

/* Typed reads of the current value (already validated). */
bool sonde_param_bool(const struct sonde_param *p);
int64_t sonde_param_int(const struct sonde_param *p);
uint64_t sonde_param_uint(const struct sonde_param *p);
double sonde_param_float(const struct sonde_param *p);
/* Durations accept Go syntax (`500ms`, `1m30s`) and bare seconds; result in ns. */
int64_t sonde_param_duration_ns(const struct sonde_param *p);

/* Validation helpers usable on their own. */
int sonde_value_check(const char *type_hint, const char *value, char *err, size_t errlen);
int sonde_parse_duration_ns(const char *s, int64_t *out);
int sonde_parse_bool(const char *s, bool *out);

#endif
