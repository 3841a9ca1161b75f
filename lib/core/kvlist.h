/* Small ordered string lists and key/value lists used for tags and annotations. */
#ifndef SONDE_KVLIST_H
#define SONDE_KVLIST_H

#include <stdbool.h>
#include <stddef.h>

/* the lists grow with grow_array; so do the callers' arrays */
#include "util/array.h"

struct strlist {
	char **items;
	size_t len, cap;
};

struct kvlist {
	char **keys;
	char **values;
	size_t len, cap;
};

int strlist_add(struct strlist *l, const char *s);
int strlist_add_unique(struct strlist *l, const char *s);
bool strlist_has(const struct strlist *l, const char *s);
void strlist_free(struct strlist *l);

/* Replaces the value when the key exists (keys compared exactly). */
int kvlist_set(struct kvlist *l, const char *key, const char *value);
const char *kvlist_get(const struct kvlist *l, const char *key);
void kvlist_free(struct kvlist *l);

#endif
