/* Growable arrays: capacity doubles, so appending n items costs O(n). */
#ifndef SONDE_UTIL_ARRAY_H
#define SONDE_UTIL_ARRAY_H

#include <stddef.h>

/* Grows *items (elements of elem_size) to hold at least `need`; *items and
 * *cap are unchanged on failure. Returns 0, -ENOMEM, or -EOVERFLOW when
 * need * elem_size exceeds PTRDIFF_MAX (the largest valid object). */
int grow_array(void **items, size_t *cap, size_t need, size_t elem_size);

/* Makes room for (*items)[len] in an array that keeps no capacity: the
 * capacity is implied by len (0, then powers of two from 4). Only for arrays
 * grown by this function and append_array alone; removing elements is fine. */
int grow_array_by_len(void **items, size_t len, size_t elem_size);

/* Copies *elem to the end of the array *items_p of *len elements (see
 * grow_array_by_len) and counts it. */
int append_array(void *items_p, size_t *len, const void *elem, size_t elem_size);

#endif
