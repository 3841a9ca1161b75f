/* Config trees: gadget.yaml parsed into maps, sequences and scalars with
 * case-insensitive map lookups (upstream reads metadata through viper). */
#ifndef SONDE_CONFIG_H
#define SONDE_CONFIG_H

#include <stddef.h>

enum sonde_config_type {
	SONDE_CONFIG_NULL = 0,
	SONDE_CONFIG_SCALAR,
	SONDE_CONFIG_MAP,
	SONDE_CONFIG_SEQ,
};

struct sonde_config;

/* Parses YAML text; on error returns NULL and writes a reason with line/column. */
struct sonde_config *sonde_config_parse(const char *text, size_t len, char *err, size_t errlen);
struct sonde_config *sonde_config_new_map(void);
void sonde_config_free(struct sonde_config *c);

enum sonde_config_type sonde_config_type(const struct sonde_config *c);
/* Scalar text (YAML booleans and numbers as written); NULL for non-scalars. */
const char *sonde_config_scalar(const struct sonde_config *c);
size_t sonde_config_len(const struct sonde_config *c); /* entries of a map or seq */
/* Map entry i: key and value. */
const char *sonde_config_key_at(const struct sonde_config *c, size_t i);
struct sonde_config *sonde_config_value_at(const struct sonde_config *c, size_t i);
/* Case-insensitive map lookup of one key (keys may contain dots). */
struct sonde_config *sonde_config_get(const struct sonde_config *c, const char *key);
/* Walks keys; the list ends with NULL. */
struct sonde_config *sonde_config_path(const struct sonde_config *c, ...) __attribute__((sentinel));
/* Scalar at a path, or NULL. */
const char *sonde_config_str(const struct sonde_config *c, ...) __attribute__((sentinel));

/* Sets a scalar at a path, creating maps on the way (used by --annotate). */
int sonde_config_set(struct sonde_config *c, const char *const *keys, size_t nkeys, const char *value);

#endif
