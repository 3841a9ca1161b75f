/* File modes → Go's fs.FileMode string ("-rw-r--r--"). */
#ifndef SONDE_FORMAT_FILE_MODE_H
#define SONDE_FORMAT_FILE_MODE_H

#include <stddef.h>
#include <stdint.h>

/* 13 type letters + 9 permission letters + NUL. */
#define FMT_FILE_MODE_MAX 24

/* The gadget_file_mode rendering: exactly Go's fs.FileMode(mode).String().
 * Bits 31..19 are Go's type letters "dalTLDpSugct?" (a '-' when none is set),
 * bits 8..0 the rwx permissions; bits 18..9 (where st_mode keeps S_IFMT,
 * setuid, setgid and sticky) are not shown, as in Go. Returns the length. */
size_t fmt_file_mode(uint32_t mode, char *buf, size_t cap);

#endif
