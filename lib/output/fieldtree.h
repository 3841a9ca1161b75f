/* The field tree that JSON and YAML output walk: every printable field of a
 * DataSource, nested by parent, children sorted by name. Built once per
 * DataSource and format, then used for every record.
 *
 * Included: all referenced fields, hidden ones too; excluded: UNREFERENCED
 * fields and fields annotated `json.skip=true` (with their subtrees).
 * CONTAINER fields are transparent: their children take their place. A field
 * with children (or the EMPTY flag) becomes an object of its children; its own
 * value (e.g. the bytes of a nested struct) is not printed. */
#ifndef SONDE_OUTPUT_FIELDTREE_H
#define SONDE_OUTPUT_FIELDTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sonde/datasource.h>

enum ftree_order {
	FTREE_BYTEWISE, /* Go strings.Compare: JSON */
	FTREE_YAML,     /* go-yaml v2 key order (numbers by value, non-letters first) */
};

struct ftree_node {
	struct sonde_field *field; /* NULL for the root */
	const char *name;
	uint32_t first_child; /* index of the first child in nodes[] */
	uint32_t nchildren;
	uint32_t depth; /* root 0, top-level fields 1 */
	bool object;    /* printed as an object of its children */
};

struct ftree {
	struct ftree_node *nodes; /* nodes[0] is the root; siblings are contiguous */
	size_t n;
};

int ftree_build(struct ftree *t, const struct sonde_ds *ds, enum ftree_order order);
void ftree_destroy(struct ftree *t);
/* Marks the printed fields (the leaves; their parents follow) as requested. */
void ftree_request(const struct ftree *t);

#endif
