/* Sinks: where the records of a DataSource go (columns, JSON, YAML, nothing;
 * later a gRPC stream, metrics, logs, OTLP).
 *
 * A sink is a table of optional hooks with a name. Whoever delivers records
 * (the cli operator for `--output <name>`) looks the sink up by name, opens
 * it once per DataSource at pre-start, subscribes at SONDE_PHASE_SINK and
 * calls write_record / write_array for what arrives. The sink writes bytes
 * into the output writer it is given and never flushes it, knows nothing of
 * params or terminals, and reports nothing but allocation failures: the
 * caller owns the writer, flushes it, and watches it for errors.
 *
 * How to add a sink: write lib/output/sink_<name>.c defining a
 * `const struct sonde_sink` with the hooks it needs, declare it in
 * lib/output/sinks.h and add it to the list in lib/output/builtin_sinks.c
 * (one line). `sonde run -o <name>` then finds it. A sink outside libsonde
 * registers itself with sonde_sink_register() at start-up, before any run.
 *
 * The registry is a fixed table written only by registration at start-up
 * (before runs start); lookups during runs only read it.
 */
#ifndef SONDE_SINK_H
#define SONDE_SINK_H

#include <stdbool.h>
#include <stddef.h>

#include <sonde/datasource.h>

struct sonde_outbuf; /* the buffered writer of lib/output/outbuf.h */

/* Where output goes, as the caller knows it. Lives as long as the run. */
struct sonde_sink_env {
	struct sonde_outbuf *out;
	/* Width of the terminal now (it may be resized between calls), 0 when
	 * the output is not a terminal. NULL means 0. */
	int (*term_width)(const struct sonde_sink_env *env);
	void *arg; /* for term_width */
};

/* What a sink is opened with, per DataSource. Zero fields mean "nothing". */
struct sonde_sink_opts {
	const struct sonde_sink_env *env;
	/* Field selection ("f1,f2", "+f", "-f") for sinks with
	 * SONDE_SINK_SELECTS_FIELDS; NULL: the sink's default. */
	const char *fields;
	/* Bytes that clear the screen, written where a screenful starts (a
	 * header, a packet); NULL when the screen is not to be cleared. */
	const char *clear_screen;
};

enum sonde_sink_flags {
	/* The sink takes a field selection (opts.fields, `--fields`). */
	SONDE_SINK_SELECTS_FIELDS = 1u << 0,
	/* The sink writes binary data (pcap-ng): the caller refuses a terminal
	 * as its output, as `tcpdump -w -` does. */
	SONDE_SINK_BINARY = 1u << 1,
};

struct sonde_sink {
	const char *name; /* the `--output` mode */
	unsigned flags;   /* enum sonde_sink_flags */
	/* Per-DataSource state. Returns 0, -EINVAL (bad selection; logged with
	 * what is wrong) or -ENOMEM. Without open, state is NULL. */
	int (*open)(struct sonde_ds *ds, const struct sonde_sink_opts *opts, void **state);
	/* Marks the fields the sink reads as requested (sonde_field_set_requested),
	 * so enrichers may skip the others. Without it every field is requested. */
	void (*declare)(void *state, struct sonde_ds *ds);
	/* The run starts and this DataSource is the only one printed: a sink may
	 * write a preamble now (columns: the header, so the user sees the run is
	 * live before the first event). */
	void (*start)(void *state);
	/* One record; one whole packet of an array DataSource. Without
	 * write_array the records of a packet go through write_record. */
	void (*write_record)(void *state, const struct sonde_record *rec);
	void (*write_array)(void *state, const struct sonde_array *arr);
	/* Called before the caller flushes the writer (batch end, stop). */
	void (*flush)(void *state);
	void (*close)(void *state);
};

/* The run is being stopped (SIGINT, SIGTERM): call from the signal handler,
 * after sonde_gadget_cancel; async-signal-safe. From then on output waits at
 * most a second for a reader that takes nothing, then is dropped (warned
 * once), so that such a reader cannot keep the process from exiting. fd is
 * the pipe or socket the output goes to (-1: none); it is made non-blocking,
 * the caller restores its flags after the run. */
void sonde_output_stopping(int fd);

/* Adds a sink. -EINVAL without a name, -EEXIST (logged) when the name is
 * taken, -ENOSPC when the table is full. */
int sonde_sink_register(const struct sonde_sink *sink);
/* NULL when no sink has that name. */
const struct sonde_sink *sonde_sink_find(const char *name);
size_t sonde_sink_count(void);
const struct sonde_sink *sonde_sink_at(size_t i); /* registration order */
/* The registered names for an error message, "a, b or c", into buf;
 * returns what snprintf would. */
int sonde_sink_names(char *buf, size_t len);
/* For tests: empties the table. */
void sonde_sink_unregister_all(void);

/* Registers the sinks built into libsonde (idempotent): columns, json,
 * jsonpretty, yaml, none, pcap-ng, and the built-in annotation templates of
 * well-known fields (gadget.yaml `template: pid`: widths, descriptions).
 * sonde_register_builtin_operators calls it. */
void sonde_register_builtin_sinks(void);

#endif
