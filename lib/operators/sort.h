/* The sort operator (spec §5.2, §5.5): sorts the elements of Array packets.
 *
 * Data operator "sort", priority 9500, active when the gadget has an Array
 * DataSource; it then offers the instance param operator.sort.sort:
 *   `f1,-f2`            for every Array DataSource (a `-` sorts descending)
 *   `ds:f1,f2;ds2:f3`   per DataSource (mixing both forms is an error)
 * Keys are numeric or string fields; the order is the one of successive
 * stable sorts from the last key to the first (ties keep their order). Bad
 * specs fail pre-start with one error line. Sorting reorders the packet's
 * record pointers with a merge sort whose scratch buffer is reused. */
#ifndef SONDE_OPERATORS_SORT_H
#define SONDE_OPERATORS_SORT_H

#include <sonde/operator.h>

extern const struct sonde_operator sort_operator;

#endif
