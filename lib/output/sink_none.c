/* The "none" sink: prints nothing. It declares that it needs no field, so
 * enrichers skip their work; with no write hook the caller does not even
 * subscribe. */
#include "output/sinks.h"

static void none_declare(void *state, struct sonde_ds *ds)
{
	sonde_ds_declare_requests(ds);
}

const struct sonde_sink none_sink = {
    .name = "none",
    .declare = none_declare,
};
