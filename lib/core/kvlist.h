/* Small ordered string lists and key/value lists used for tags and annotations. */
#ifndef SONDE_KVLIST_H
#define SONDE_KVLIST_H

#include <stdbool.h>
#include <stddef.h>

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

/* Grows *items (of elem_size) to hold at least `need`; returns 0 or -ENOMEM. */
int grow_array(void **items, size_t *cap, size_t need, size_t elem_size);

#endif
