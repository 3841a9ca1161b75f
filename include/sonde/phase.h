/* Phases: where a subscriber runs in a DataSource's pipeline, and in which
 * order data operators instantiate (struct sonde_operator.priority).
 *
 * sonde_ds_subscribe / sonde_ds_subscribe_array take a phase as their
 * priority: subscribers run in ascending value, ties in subscription order.
 * An operator uses the phase of the work it does as its priority too, so its
 * pre_start (where it subscribes) runs in the same order. The values are
 * plain ints with gaps, so a phase between two (e.g. SONDE_PHASE_ENRICH + 1)
 * is allowed; tests use values outside the list for producers.
 *
 * A record goes, in order:
 *   ANNOTATE      (operator order only) --annotate decorates DataSources and
 *                 fields before any other operator reads their annotations
 *   FILTER_EARLY  filters on nothing but the producer's own fields, so a
 *                 dropped record costs no enrichment
 *   SOURCE        (operator order only) operators that create DataSources
 *                 that later operators subscribe to (process)
 *   CONTAINERS    (operator order only) LocalManager: selects containers and
 *                 sets the variables enrichers and the eBPF filter read
 *   ENRICH        enrichers and formatters deriving fields from the event
 *                 (container data, timestamps, enums, stacks); FORMAT is the
 *                 same slot: they run in subscription order
 *   FORMAT_LATE   formatters that read what ENRICH wrote (L4 endpoints)
 *   RESOLVE       name lookups of ids (uid/gid to user/group names)
 *   FILTER        --filter on any field, enriched ones included
 *   SORT          --sort of array DataSources
 *   LIMIT         --max-entries of sorted arrays
 *   SINK          output (the cli operator writing through a sink): sees
 *                 only what passed every phase before
 */
#ifndef SONDE_PHASE_H
#define SONDE_PHASE_H

enum sonde_phase {
	SONDE_PHASE_ANNOTATE = -1000000,
	SONDE_PHASE_FILTER_EARLY = -5000,
	SONDE_PHASE_SOURCE = -1000,
	SONDE_PHASE_CONTAINERS = -1,
	SONDE_PHASE_ENRICH = 0,
	SONDE_PHASE_FORMAT = SONDE_PHASE_ENRICH,
	SONDE_PHASE_FORMAT_LATE = 1,
	SONDE_PHASE_RESOLVE = 5,
	SONDE_PHASE_FILTER = 9000,
	SONDE_PHASE_SORT = 9500,
	SONDE_PHASE_LIMIT = 9600,
	SONDE_PHASE_SINK = 10000,
};

#endif
