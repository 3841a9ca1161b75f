/* Sorted field tree for JSON and YAML output. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sonde/log.h>

#include "fieldtree.h"
#include "utf8.h"

static bool excluded(const struct sonde_field *f)
{
	const char *skip;

	if (sonde_field_flags(f) & SONDE_FIELD_UNREFERENCED)
		return true;
	skip = sonde_field_annotation(f, "json.skip");
	return skip && strcmp(skip, "true") == 0;
}

static bool has_referenced_child(const struct sonde_field *f)
{
	for (size_t i = 0; i < sonde_field_nchildren(f); i++)
		if (!(sonde_field_flags(sonde_field_child(f, i)) & SONDE_FIELD_UNREFERENCED))
			return true;
	return false;
}

/* ---- key order of go-yaml v2 (sorter.go): runs of digits compare by value,
 * non-letters sort before letters. Non-ASCII code points count as letters. ---- */

#define MAX_KEY_RUNES 256

static size_t to_runes(const char *s, int32_t *out)
{
	size_t n = strlen(s), k = 0;

	for (size_t i = 0; i < n && k < MAX_KEY_RUNES;) {
		int size;
		int32_t r = utf8_decode((const unsigned char *)s + i, n - i, &size);

		out[k++] = r == UTF8_ERROR ? 0xFFFD : r;
		i += (size_t)size;
	}
	return k;
}

static bool is_letter(int32_t r)
{
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || r >= 0x80;
}

static bool is_digit(int32_t r)
{
	return r >= '0' && r <= '9';
}

static bool yaml_less(const char *a, const char *b)
{
	int32_t ar[MAX_KEY_RUNES], br[MAX_KEY_RUNES];
	size_t al = to_runes(a, ar), bl = to_runes(b, br);

	for (size_t i = 0; i < al && i < bl; i++) {
		bool alet, blet;
		uint64_t an = 0, bn = 0;
		size_t ai, bi;

		if (ar[i] == br[i])
			continue;
		alet = is_letter(ar[i]);
		blet = is_letter(br[i]);
		if (alet && blet)
			return ar[i] < br[i];
		if (alet || blet)
			return blet;
		if (ar[i] == '0' || br[i] == '0') {
			for (size_t j = i; j-- > 0 && is_digit(ar[j]);) {
				if (ar[j] != '0') {
					an = 1;
					bn = 1;
					break;
				}
			}
		}
		for (ai = i; ai < al && is_digit(ar[ai]); ai++)
			an = an * 10 + (uint64_t)(ar[ai] - '0');
		for (bi = i; bi < bl && is_digit(br[bi]); bi++)
			bn = bn * 10 + (uint64_t)(br[bi] - '0');
		if (an != bn)
			return (int64_t)an < (int64_t)bn;
		if (ai != bi)
			return ai < bi;
		return ar[i] < br[i];
	}
	return al < bl;
}

static int cmp_nodes(const void *pa, const void *pb, void *arg)
{
	const struct ftree_node *a = pa, *b = pb;
	const enum ftree_order *order = arg;
	int c;

	if (*order == FTREE_YAML)
		c = yaml_less(a->name, b->name) ? -1 : yaml_less(b->name, a->name) ? 1 : 0;
	else
		c = strcmp(a->name, b->name);
	if (c)
		return c;
	/* stable: keep DataSource order for equal names */
	return sonde_field_index(a->field) < sonde_field_index(b->field) ? -1 : 1;
}

/* Appends the printable children of `parent` (NULL = root), looking through containers. */
static void collect(const struct sonde_ds *ds, struct sonde_field *parent, struct ftree *t, uint32_t depth)
{
	size_t n = parent ? sonde_field_nchildren(parent) : sonde_ds_nfields(ds);

	for (size_t i = 0; i < n; i++) {
		struct sonde_field *f = parent ? sonde_field_child(parent, i) : sonde_ds_field_at(ds, i);
		struct ftree_node *node;

		if (!parent && sonde_field_parent(f))
			continue;
		if (excluded(f))
			continue;
		if (sonde_field_flags(f) & SONDE_FIELD_CONTAINER) {
			collect(ds, f, t, depth);
			continue;
		}
		node = &t->nodes[t->n++];
		node->field = f;
		node->name = sonde_field_name(f);
		node->depth = depth;
		node->object = (sonde_field_flags(f) & SONDE_FIELD_EMPTY) || has_referenced_child(f);
	}
}

int ftree_build(struct ftree *t, const struct sonde_ds *ds, enum ftree_order order)
{
	size_t cap = sonde_ds_nfields(ds) + 1;

	memset(t, 0, sizeof(*t));
	t->nodes = calloc(cap, sizeof(*t->nodes));
	if (!t->nodes) {
		sonde_err("output: out of memory building the field tree of %s", sonde_ds_name(ds));
		return -ENOMEM;
	}
	t->n = 1;
	/* breadth first: the children of node i are appended as one sorted block */
	for (size_t i = 0; i < t->n; i++) {
		struct ftree_node *node = &t->nodes[i];
		size_t first = t->n;

		if (i > 0 && !node->object)
			continue;
		collect(ds, node->field, t, node->depth + 1);
		node = &t->nodes[i];
		node->first_child = (uint32_t)first;
		node->nchildren = (uint32_t)(t->n - first);
		qsort_r(&t->nodes[first], node->nchildren, sizeof(*t->nodes), cmp_nodes, &order);
	}
	return 0;
}

void ftree_destroy(struct ftree *t)
{
	free(t->nodes);
	t->nodes = NULL;
	t->n = 0;
}

void ftree_request(const struct ftree *t)
{
	/* leaves only: marking a parent would also request its skipped children */
	for (size_t i = 1; i < t->n; i++)
		if (!t->nodes[i].object)
			sonde_field_set_requested(t->nodes[i].field, true);
}
