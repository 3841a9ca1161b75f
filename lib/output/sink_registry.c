/* The table of sinks by name (see include/sonde/sink.h): written only by
 * registration at start-up, read by lookups during runs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <sonde/log.h>
#include <sonde/sink.h>

#define MAX_SINKS 32

static const struct sonde_sink *sinks[MAX_SINKS];
static size_t nsinks;

int sonde_sink_register(const struct sonde_sink *sink)
{
	if (!sink || !sink->name || !*sink->name)
		return -EINVAL;
	if (sonde_sink_find(sink->name)) {
		sonde_err("sink %s is already registered", sink->name);
		return -EEXIST;
	}
	if (nsinks == MAX_SINKS)
		return -ENOSPC;
	sinks[nsinks++] = sink;
	return 0;
}

const struct sonde_sink *sonde_sink_find(const char *name)
{
	for (size_t i = 0; i < nsinks; i++)
		if (strcmp(sinks[i]->name, name) == 0)
			return sinks[i];
	return NULL;
}

size_t sonde_sink_count(void)
{
	return nsinks;
}

const struct sonde_sink *sonde_sink_at(size_t i)
{
	return i < nsinks ? sinks[i] : NULL;
}

int sonde_sink_names(char *buf, size_t len)
{
	size_t n = 0;
	int w;

	if (len)
		*buf = 0;
	for (size_t i = 0; i < nsinks; i++) {
		const char *sep = i == 0 ? "" : i + 1 == nsinks ? " or " : ", ";

		w = snprintf(n < len ? buf + n : NULL, n < len ? len - n : 0, "%s%s", sep, sinks[i]->name);
		if (w < 0)
			return w;
		n += (size_t)w;
	}
	return (int)n;
}

void sonde_sink_unregister_all(void)
{
	nsinks = 0;
}
