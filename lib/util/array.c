#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

/* No C object may be larger: pointer differences must fit a ptrdiff_t. */
#define MAX_BYTES ((size_t)PTRDIFF_MAX)

int grow_array(void **items, size_t *cap, size_t need, size_t elem_size)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	if (elem_size == 0 || need > MAX_BYTES / elem_size)
		return -EOVERFLOW;
	ncap = *cap ? *cap : 4;
	while (ncap < need)
		/* doubling past the limit: settle for exactly what is needed */
		ncap = ncap > MAX_BYTES / 2 / elem_size ? need : ncap * 2;
	p = realloc(*items, ncap * elem_size);
	if (!p)
		return -ENOMEM;
	*items = p;
	*cap = ncap;
	return 0;
}

int grow_array_by_len(void **items, size_t len, size_t elem_size)
{
	size_t cap = len ? 4 : 0;
	void *p;

	while (cap < len && cap <= MAX_BYTES / 2)
		cap *= 2;
	if (len < cap)
		return 0;
	/* full (len == cap): double; the implied capacity is allocated exactly */
	if (cap > MAX_BYTES / 2)
		return -EOVERFLOW;
	cap = cap ? cap * 2 : 4;
	if (elem_size == 0 || cap > MAX_BYTES / elem_size)
		return -EOVERFLOW;
	p = realloc(*items, cap * elem_size);
	if (!p)
		return -ENOMEM;
	*items = p;
	return 0;
}

int append_array(void *items_p, size_t *len, const void *elem, size_t elem_size)
{
	void **items = items_p;
	int err = grow_array_by_len(items, *len, elem_size);

	if (err)
		return err;
	memcpy((char *)*items + *len * elem_size, elem, elem_size);
	(*len)++;
	return 0;
}
