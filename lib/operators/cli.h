/* The cli operator: writes every referenced DataSource to stdout through a
 * sink (include/sonde/sink.h) chosen by name.
 *
 * Data operator "cli", phase SONDE_PHASE_SINK. It keeps the CLI concerns:
 * its params, the terminal (width, clear screen), flushing, and a broken
 * output cancelling the run; what the bytes look like is the sink's.
 * Instance params (operator.cli.*):
 *   output / -o  `mode` for every DataSource or `ds:mode,ds2:mode`; modes:
 *                a registered sink (columns (default), json, jsonpretty,
 *                yaml, none, pcap-ng: binary, refused on a terminal), or
 *                a custom mode a DataSource lists in
 *                `cli.supported-output-modes` (custom modes print the
 *                record's string fields as they are).
 *                Without the flag each DataSource uses its
 *                `cli.default-output-mode`, else columns, else its first
 *                supported mode. A mode a DataSource does not support skips
 *                that DataSource with a warning.
 *   fields       columns to show (sinks that select fields: columns): `f1,f2`, `+f`, `-f`;
 *                per DataSource `ds:f1,f2;ds2:f3`.
 * Unknown modes, data sources or fields fail pre-start with -EINVAL.
 *
 * Output goes to the fd in the context variable "cli.fd" (an int *), else 1,
 * buffered and flushed after each batch of the event loop and at stop. When
 * the reader goes away (EPIPE) output stops and the run is cancelled. */
#ifndef SONDE_OPERATORS_CLI_H
#define SONDE_OPERATORS_CLI_H

#include <sonde/operator.h>

extern const struct sonde_operator cli_operator;

#endif
