/* Ordered string lists and key/value lists. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvlist.h"

int strlist_add(struct strlist *l, const char *s)
{
	char *dup;

	if (grow_array((void **)&l->items, &l->cap, l->len + 1, sizeof(*l->items)))
		return -ENOMEM;
	dup = strdup(s);
	if (!dup)
		return -ENOMEM;
	l->items[l->len++] = dup;
	return 0;
}

bool strlist_has(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->len; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

int strlist_add_unique(struct strlist *l, const char *s)
{
	return strlist_has(l, s) ? 0 : strlist_add(l, s);
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->len; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

int kvlist_set(struct kvlist *l, const char *key, const char *value)
{
	char *v = strdup(value ? value : "");
	size_t kcap = l->cap, vcap = l->cap;
	char *k;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->len; i++) {
		if (strcmp(l->keys[i], key) == 0) {
			free(l->values[i]);
			l->values[i] = v;
			return 0;
		}
	}
	/* keys and values share l->cap, raised only once both have grown */
	if (grow_array((void **)&l->keys, &kcap, l->len + 1, sizeof(char *)) ||
	    grow_array((void **)&l->values, &vcap, l->len + 1, sizeof(char *)))
		goto nomem;
	l->cap = kcap < vcap ? kcap : vcap;
	k = strdup(key);
	if (!k)
		goto nomem;
	l->keys[l->len] = k;
	l->values[l->len] = v;
	l->len++;
	return 0;
nomem:
	free(v);
	return -ENOMEM;
}

const char *kvlist_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->len; i++)
		if (strcmp(l->keys[i], key) == 0)
			return l->values[i];
	return NULL;
}

void kvlist_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->len; i++) {
		free(l->keys[i]);
		free(l->values[i]);
	}
	free(l->keys);
	free(l->values);
	memset(l, 0, sizeof(*l));
}
