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

enum sonde_ftree_order {
	SONDE_FTREE_BYTEWISE, /* Go strings.Compare: JSON */
	SONDE_FTREE_YAML,     /* go-yaml v2 key order (numbers by value, non-letters first) */
};

struct sonde_ftree_node {
	struct sonde_field *field; /* NULL for the root */
	const char *name;
	uint32_t first_child; /* index of the first child in nodes[] */
	uint32_t nchildren;
	uint32_t depth; /* root 0, top-level fields 1 */
	bool object;    /* printed as an object of its children */
};

struct sonde_ftree {
	struct sonde_ftree_node *nodes; /* nodes[0] is the root; siblings are contiguous */
	size_t n;
};

int sonde_ftree_build(struct sonde_ftree *t, const struct sonde_ds *ds, enum sonde_ftree_order order);
void sonde_ftree_destroy(struct sonde_ftree *t);
/* Marks the printed fields (the leaves; their parents follow) as requested. */
void sonde_ftree_request(const struct sonde_ftree *t);

#endif
