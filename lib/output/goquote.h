/* Escaping of cell text like Go's strconv.Quote, without the surrounding
 * quotes: `"` and `\` get a backslash, \a \b \f \n \r \t \v short escapes,
 * other control bytes and invalid UTF-8 bytes \xHH, non-printable runes
 * \uHHHH / \UHHHHHHHH; printable runes (also non-ASCII) are kept. */
#ifndef SONDE_OUTPUT_GOQUOTE_H
#define SONDE_OUTPUT_GOQUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outbuf.h"

/* Approximates Go's unicode.IsPrint without the Unicode tables: controls,
 * separators other than ' ', format characters, private use, surrogates and
 * noncharacters are non-printable; unassigned code points count as printable. */
bool go_isprint(uint32_t r);

/* True when the bytes are printable ASCII without `"` and `\` (escaping is a no-op). */
bool goquote_is_plain(const char *s, size_t n);

/* Appends the escaped text; returns the number of code points appended. */
size_t goquote(struct sonde_outbuf *ob, const char *s, size_t n);

#endif
