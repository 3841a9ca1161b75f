/* Lookup of the gadgets compiled into the binary (the table is generated at build time). */
#include <string.h>

#include <sonde/gadget.h>

const struct sonde_gadget_image *sonde_builtin_gadget(const char *name)
{
	for (size_t i = 0; i < sonde_builtin_gadget_count(); i++) {
		const struct sonde_gadget_image *g = sonde_builtin_gadget_at(i);
		if (strcmp(g->name, name) == 0)
			return g;
	}
	return NULL;
}
