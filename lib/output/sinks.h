/* The sinks built into libsonde (see include/sonde/sink.h). */
#ifndef OUTPUT_SINKS_H
#define OUTPUT_SINKS_H

#include <sonde/sink.h>

extern const struct sonde_sink columns_sink;
extern const struct sonde_sink json_sink;
extern const struct sonde_sink jsonpretty_sink;
extern const struct sonde_sink yaml_sink;
extern const struct sonde_sink none_sink;
/* Packets of a DataSource with pcap.* annotations as a pcapng stream. */
extern const struct sonde_sink pcapng_sink;
/* Not registered: prints the string fields of a record as they are, for
 * output modes that only a DataSource knows (`cli.supported-output-modes`). */
extern const struct sonde_sink raw_sink;

#endif
