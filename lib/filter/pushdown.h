/* Kernel push-down of filter rules into the eBPF operator's well-known
 * process params (`operator.oci.ebpf.{pid,tid,uid,gid,comm}`, tag
 * group:Process).
 *
 * A rule `<process field>==<value>` is pushed down when:
 *  - the field is the one the kernel param filters: `pid`/`tid`/`comm`
 *    (tags type:gadget_pid/tid/comm) directly in a struct gadget_process
 *    (a field tagged type:gadget_process, or the event itself when its root
 *    holds the creds and parent blocks), `uid`/`gid` in its creds block; so
 *    `proc.pid` is pushed down, `proc.parent.pid` never;
 *  - the param exists, carries group:Process and was not set by the user;
 *  - the value is not the param's "any" value (its default);
 *  - every DataSource the eBPF program feeds has the same rule (the params
 *    filter all of them);
 *  - for `tid` and `comm` the field is annotated `filter.pushdown: true`:
 *    both may change between the kernel's check and the recorded value (an
 *    exec renames the process and makes the exec'ing thread the leader),
 *    e.g. trace_exec checks at sys_enter and records at sys_exit, so only the
 *    gadget can promise they are the same. `filter.pushdown: false` disables
 *    any push-down of a field.
 * Must run in pre-start: the eBPF operator writes the params at start. */
#ifndef SONDE_FILTER_PUSHDOWN_H
#define SONDE_FILTER_PUSHDOWN_H

#include <stddef.h>

#include <sonde/gadget.h>

#include "filter/rules.h"

/* `dss[i]` has the rules `rules[i]` (NULL: none). DataSources of the context
 * not listed count as having no rules. Returns the number of params set. */
int filter_pushdown(struct sonde_gadget_ctx *ctx, struct sonde_ds *const *dss,
                    struct filter_rules *const *rules, size_t n);

#endif
