/* Comma-separated option lists ("columns, json"), read in place. */
#ifndef SONDE_UTIL_LIST_H
#define SONDE_UTIL_LIST_H

#include <stdbool.h>

/* Whether `name` is an item of the comma list `list` (NULL: none), items
 * compared with their blanks (spaces, tabs) trimmed; ASCII case ignored when
 * `ignore_case`. No allocation. */
bool util_list_has(const char *list, const char *name, bool ignore_case);

#endif
