/* Byte counts → go-humanize's SI rendering ("999 B", "1.0 kB", "18 EB"). */
#ifndef SONDE_FORMAT_BYTES_H
#define SONDE_FORMAT_BYTES_H

#include <stddef.h>
#include <stdint.h>

#define FMT_BYTES_MAX 16

/* The gadget_bytes rendering, humanize.Bytes(n): below 10 "N B"; else the
 * value in the largest power of 1000 below it, rounded to one decimal, shown
 * with one decimal under 10 and none above ("1.5 MB", "999 kB", "1000 kB").
 * Returns the length. */
size_t fmt_bytes(uint64_t n, char *buf, size_t cap);

#endif
