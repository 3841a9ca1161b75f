/* The annotate operator: the `--annotate` param of upstream's oci operator
 * (spec §5.2, §5.7), which decorates DataSources and fields for one run.
 *
 * Data operator "annotate", priority SONDE_PHASE_ANNOTATE (lower than any other
 * operator, so its pre-start runs first and every later operator, e.g. cli,
 * sees the result). Instance param operator.annotate.annotate (--annotate):
 * comma-separated entries (`\,` escapes a comma inside a value)
 *   ds:key=value          DataSource annotation, e.g. open:cli.clear-screen-before=true
 *   ds.field:key=value    field annotation (full field name), e.g. open.fname:columns.width=50
 * Keys are lowercased (gadget.yaml keys are case-insensitive). A field's
 * `columns.hidden` also sets or clears its hidden flag; `template=<name>`
 * expands an annotation template. An unknown DataSource, field or template,
 * or a malformed entry, fails pre-start with one error naming it. */
#ifndef SONDE_OPERATORS_ANNOTATE_H
#define SONDE_OPERATORS_ANNOTATE_H

#include <sonde/operator.h>
#include <sonde/phase.h>

extern const struct sonde_operator annotate_operator;

#endif
