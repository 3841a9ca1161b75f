/* Pod labels text per container (see labels_cache.h). A host has tens of
 * containers: a small array, scanned, with the last hit remembered since
 * events come in runs from one container. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "containers/labels_cache.h"
#include "util/array.h"

struct entry {
	const struct sonde_container *c; /* compared, never dereferenced after a sweep */
	char *id;                        /* to ask the set whether c is still its container */
	char *text;
};

struct labels_cache {
	struct entry *entries;
	size_t n;
	size_t last; /* index of the last hit */
};

struct labels_cache *labels_cache_new(void)
{
	return calloc(1, sizeof(struct labels_cache));
}

static void entry_clear(struct entry *e)
{
	free(e->id);
	free(e->text);
}

void labels_cache_free(struct labels_cache *lc)
{
	if (!lc)
		return;
	for (size_t i = 0; i < lc->n; i++)
		entry_clear(&lc->entries[i]);
	free(lc->entries);
	free(lc);
}

static struct entry *find(struct labels_cache *lc, const struct sonde_container *c)
{
	if (lc->last < lc->n && lc->entries[lc->last].c == c)
		return &lc->entries[lc->last];
	for (size_t i = 0; i < lc->n; i++) {
		if (lc->entries[i].c == c) {
			lc->last = i;
			return &lc->entries[i];
		}
	}
	return NULL;
}

int labels_cache_update(struct labels_cache *lc, const struct sonde_container *c)
{
	struct entry *e = find(lc, c);
	char *text = sonde_container_labels_string(c), *id = strdup(c->id);

	if (text && id && !e) {
		if (grow_array_by_len((void **)&lc->entries, lc->n, sizeof(*lc->entries)) == 0) {
			e = &lc->entries[lc->n++];
			*e = (struct entry){.c = c};
		}
	}
	if (!text || !id || !e) {
		/* an old entry at this address belongs to a freed container */
		if (e) {
			entry_clear(e);
			*e = lc->entries[--lc->n];
		}
		free(text);
		free(id);
		return -ENOMEM;
	}
	entry_clear(e);
	e->id = id;
	e->text = text;
	return 0;
}

void labels_cache_sweep(struct labels_cache *lc, struct sonde_containers *set)
{
	size_t k = 0;

	for (size_t i = 0; i < lc->n; i++) {
		if (sonde_containers_by_id(set, lc->entries[i].id) == lc->entries[i].c)
			lc->entries[k++] = lc->entries[i];
		else
			entry_clear(&lc->entries[i]);
	}
	lc->n = k;
	lc->last = 0;
}

const char *labels_cache_get(struct labels_cache *lc, const struct sonde_container *c)
{
	struct entry *e = c ? find(lc, c) : NULL;

	return e ? e->text : "";
}
