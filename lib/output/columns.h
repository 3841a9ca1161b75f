/* Column (table) output of DataSource records, as `-o columns` prints them.
 *
 * Columns: by default the referenced fields that are not hidden, not EMPTY and
 * not CONTAINER, stable-sorted by their order. A selection string changes
 * that: `f1,f2` (explicit list, may name hidden fields), `+f` / `-f` (add to /
 * remove from the default or the explicit list). Names are full names.
 *
 * Layout per column, from field annotations:
 *   header      `columns.alias` or the full name, upper-cased (ASCII), cut with `…`
 *   width       `columns.width` (integer or `type`); default: the widest decimal
 *               of an integer kind (int8 4 … uint64 20), 16 for everything else
 *   min / max   `columns.minwidth` / `columns.maxwidth` (integer or `type`);
 *               the configured width is clamped into [min, max]
 *   fixed       `columns.fixed=true`: not scaled when fitting a terminal
 *   alignment   `columns.alignment` left (default) / right
 *   ellipsis    `columns.ellipsis` end (default) / start / middle / none
 *   hex         `columns.hex=true`: integers as 0x + upper-case hex
 *   precision   `columns.precision`: float digits (default 2)
 *   replace     `columns.replace=<full name>`: show that field's value here
 * Invalid annotation values are warned about once and the default is used.
 *
 * Cells: integers in decimal, floats with fixed precision (NaN, +Inf, -Inf),
 * bools true/false, strings escaped like Go strconv.Quote without the quotes,
 * anything else `<N bytes>`. Each cell is cut (ellipsis counted in code
 * points, not bytes) or padded with spaces to exactly its width; one space
 * separates columns; rows end with a newline (trailing padding is kept). */
#ifndef SONDE_OUTPUT_COLUMNS_H
#define SONDE_OUTPUT_COLUMNS_H

#include <stddef.h>

#include <sonde/datasource.h>

#include "outbuf.h"

struct columns;

/* `fields`: NULL or "" for the default columns. Returns 0, -EINVAL (unknown
 * or unprintable field, logged with its name) or -ENOMEM. */
int columns_new(const struct sonde_ds *ds, const char *fields, struct columns **out);
void columns_free(struct columns *c);

size_t columns_count(const struct columns *c);
/* Field shown in column i (the header field, not a columns.replace source). */
struct sonde_field *columns_field(const struct columns *c, size_t i);
/* Marks the shown fields (and columns.replace sources) as requested. */
void columns_request(const struct columns *c);

/* Scales the widths to a terminal `term_width` characters wide (fixed columns
 * keep their width, others stay within min/max); 0 = configured widths. */
void columns_fit(struct columns *c, int term_width);
int columns_width(const struct columns *c, size_t i);

void columns_write_header(struct columns *c, struct sonde_outbuf *ob);
void columns_write_row(struct columns *c, struct sonde_outbuf *ob, const struct sonde_record *rec);

#endif
