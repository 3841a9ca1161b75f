/* The formatters operator: human-readable strings for the special types of
 * spec §2.4, next to the raw fields they come from.
 *
 * Data operator "formatters", priority 0, no params. At instantiate it looks
 * in every referenced DataSource for fields tagged
 *   type:gadget_timestamp   → string in a Go time layout (default
 *                             2006-01-02T15:04:05.000000000Z07:00, or the
 *                             source's formatters.timestamp.format); the raw
 *                             boot-time value is rewritten to wall-clock ns
 *   type:gadget_errno       → ENOENT, "" for 0, error#N      (template errorString)
 *   type:gadget_signal      → SIGKILL, signal#N
 *   type:gadget_syscall     → SYS_OPENAT, SYS_UNKNOWN (x86_64 numbers)
 *   type:gadget_file_flags  → O_WRONLY|O_CREAT|O_TRUNC
 *   type:gadget_file_mode   → -rw-r----- (Go fs.FileMode)
 *   type:gadget_bytes       → 1.5 MB (go-humanize, SI)        (template bytes)
 *   type:gadget_duration    → 1.50ms, 1m2s                    (template duration)
 * and adds a string field named by the source's formatters.<kind>.target
 * annotation, else the source name minus "_raw" (neither: the field is left
 * alone). The source is hidden unless its own columns.hidden says otherwise.
 * Endpoint structs (type:gadget_l3endpoint_t / gadget_l4endpoint_t) get a
 * sub-field `addr` (and for L4 a hidden `proto` and a hidden, JSON-skipped
 * `endpoint` "addr:port" shown in the struct's column); addr_raw leaves the
 * output.
 *
 * Records are formatted by subscribers at priority 0 (L4 endpoints: 1), into
 * stack buffers; targets no sink requested are skipped. */
#ifndef SONDE_OPERATORS_FORMATTERS_H
#define SONDE_OPERATORS_FORMATTERS_H

#include <sonde/operator.h>

extern const struct sonde_operator formatters_operator;

#endif
