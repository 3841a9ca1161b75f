/* The ustack operator (spec §2.4; upstream pkg/operators/ustack): user stacks
 * of struct gadget_user_stack fields, as addresses, build ids and symbols.
 *
 * Data operator "ustack", phase ENRICH. For every field tagged
 * `type:gadget_user_stack` (whose members carry upstream's names: stack_id,
 * tgid_level0, pid_level0, …) it hides the struct and adds three hidden
 * string sub-fields, upstream's names and renderings:
 *   <field>.addresses  "0x%016x; " per frame, innermost first
 *   <field>.buildid    "<40 hex digits> +<offset hex>; " per frame, or
 *                      "<ip hex>; " where the kernel had no build id; empty
 *                      without --collect-build-id
 *   <field>.symbols    "<name>; " per frame, "0x<addr hex>; " when unknown;
 *                      empty when the process had exited before its memory
 *                      map could be read (and it was not seen before)
 * The addresses come from the gadget's ig_ustack map (context variable
 * "map/ig_ustack", published by the ebpf operator after load), build ids from
 * ig_build_id, names from host/ustack_symbolizer. A record with inode 0 (the
 * gadget ran without collect-ustack) gets nothing. Nothing is read while no
 * sink requests one of the three fields.
 *
 * Instance param `symbolizers` (upstream's): "auto" (default) or "symtab"
 * name frames from ELF symbol tables, "none" leaves symbols empty; upstream's
 * "debuginfod-cache", "debuginfod-cache-on-ig-server" and
 * "otel-ebpf-profiler" are accepted but not implemented (a warning says so),
 * and so is `debuginfod-cache-path`.
 * The host's /proc is $HOST_ROOT/proc. */
#ifndef SONDE_OPERATORS_USTACK_H
#define SONDE_OPERATORS_USTACK_H

#include <sonde/operator.h>

extern const struct sonde_operator ustack_operator;

#endif
