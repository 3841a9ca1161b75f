/* The sinks built into libsonde, registered once per process at start-up. */
#include "output/field_templates.h"
#include "output/sinks.h"

void sonde_register_builtin_sinks(void)
{
	/* registration order is the order `--output` errors list them in */
	static const struct sonde_sink *const builtin[] = {
	    &columns_sink, &json_sink, &jsonpretty_sink, &yaml_sink, &none_sink, &pcapng_sink,
	};
	static int done;

	if (done)
		return;
	done = 1;
	/* the templates say how well-known fields are shown (widths, descriptions) */
	output_field_templates_register();
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		sonde_sink_register(builtin[i]);
}
