/* The process operator (spec §5.2): a periodic table of the host's processes.
 *
 * Data operator "process", priority -1000. Active when gadget.yaml sets
 * `operator.process.emitstats: true`; then it registers the Array DataSource
 * `processes` and, every interval, emits one packet with one element per
 * process read from /proc ($HOST_ROOT/proc).
 *
 * gadget.yaml keys under operator.process:
 *   emitstats       true to activate
 *   interval        time between packets (Go duration; default 60s)
 *   first-interval  time to the first packet (default: interval)
 *   count           packets before the gadget is done (default 0: unlimited)
 *   fields          list of optional fields (default: all) among ppid, comm,
 *                   priority, nice, cpuUsage, cpuUsageRelative, memoryRSS,
 *                   memoryVirtual, memoryShared, memoryRelative, threadCount,
 *                   state, uid, startTime, cpuTime; pid and mountnsid are
 *                   always there.
 * When active it also declares the instance params operator.process.interval
 * and operator.process.count (defaults from gadget.yaml), so runs can change
 * them with --interval / --count.
 *
 * cpuUsage is the CPU time used since the previous packet over the wall time
 * since then, in percent of one CPU; for a process not in the previous packet
 * (and in the first packet) it is the average since the process started.
 * cpuUsageRelative divides it by the number of online CPUs. Memory sizes are
 * `*_raw` uint64 byte counts tagged `type:gadget_bytes` for the formatters. */
#ifndef SONDE_OPERATORS_PROCESS_H
#define SONDE_OPERATORS_PROCESS_H

#include <sonde/operator.h>

extern const struct sonde_operator process_operator;

#endif
