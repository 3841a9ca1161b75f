/* A member written aside: how a record changes a small member of a static
 * block that is still a view of foreign memory (a ring buffer event).
 *
 * Copying a 1 KiB event into owned storage to change 8 bytes of it (the
 * formatters' wall-clock timestamp of every event) cost more than the rest
 * of the event's formatting, so the new bytes go aside, one member per
 * record. sonde_field_get returns them for that member and copies block and
 * member together for a read across it. The aside is valid while the slot
 * still points at the memory it was written for (re-pointing `data` drops it).
 *
 * Internal to libsonde: readers that take members straight from a block
 * (json.c) ask record_aside() which range they must read through
 * sonde_field_get instead. */
#ifndef CORE_RECORD_ASIDE_H
#define CORE_RECORD_ASIDE_H

#include <stdbool.h>
#include <stdint.h>

#include <sonde/datasource.h>

struct record_aside {
	const void *base; /* payloads[slot].data when written */
	uint32_t slot;
	uint32_t off, len; /* len 0: none */
	unsigned char bytes[16];
};

/* What core allocates for every record: the public part first. */
struct record_impl {
	struct sonde_record pub;
	struct record_aside aside;
};

static inline struct record_aside *record_aside_of(const struct sonde_record *rec)
{
	return &((struct record_impl *)rec)->aside;
}

/* The aside of `slot` if it is valid, else NULL. */
static inline const struct record_aside *record_aside(const struct sonde_record *rec, uint32_t slot)
{
	const struct record_aside *a = record_aside_of(rec);

	return a->len && a->slot == slot && a->base == rec->payloads[slot].data ? a : NULL;
}

#endif
