/* The filter operator (spec §5.2, §5.4): drops records that do not match
 * `--filter` rules (syntax in filter/rules.h).
 *
 * Data operator "filter", priority 9000, active whenever the gadget has a
 * DataSource. Params (operator.filter.*), added at instantiate:
 *   filter / -F    rules for the only DataSource (offered when there is one)
 *   filter.<ds>    rules for DataSource <ds> (always, one per DataSource)
 * Both apply when given. Rules are parsed in pre-start: a bad rule fails the
 * run before anything starts, with one error line naming it. A Single record
 * that does not match is discarded; in an Array the element is removed (the
 * remaining ones keep their order, the packet goes on even when empty).
 *
 * Push-down (filter/pushdown.c): an `==` rule on a process field that a
 * well-known eBPF param already filters in the kernel sets that param, so the
 * kernel drops the other events early; the rule still runs in userspace.
 *
 * `--filter-expr` (expr-lang expressions) is not implemented. */
#ifndef SONDE_OPERATORS_FILTER_H
#define SONDE_OPERATORS_FILTER_H

#include <sonde/operator.h>

extern const struct sonde_operator filter_operator;

#endif
