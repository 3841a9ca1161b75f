/* The limiter operator (spec §5.2, §5.5): keeps the first N elements of each
 * Array packet (after sorting, which runs before it).
 *
 * Data operator "limiter", priority 9600, active when the gadget has an
 * Array DataSource; it then offers the instance param
 * operator.limiter.max-entries:
 *   `N`             for every Array DataSource (-1, the default, is off)
 *   `ds:N,ds2:M`    per DataSource (mixing both forms is an error)
 * N must be -1 or more; 0 empties every packet. */
#ifndef SONDE_OPERATORS_LIMITER_H
#define SONDE_OPERATORS_LIMITER_H

#include <sonde/operator.h>

extern const struct sonde_operator limiter_operator;

#endif
