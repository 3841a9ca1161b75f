/* Param values of every type hint (command-line flags and remote requests). */
#include <sonde/params.h>

#include "fuzz_input.h"

static const char *const hints[] = {"bool",   "string",  "int",     "int8",     "int64", "uint",    "uint8",
                                    "uint64", "float32", "float64", "duration", "ip",    "[]string"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const choices[] = {"a", "b", NULL};
	struct sonde_params *ps;
	char err[512], *value;

	fuzz_init_once();
	value = fuzz_cstring(data, len);
	ps = value ? sonde_params_new() : NULL;
	for (size_t i = 0; ps && i < sizeof(hints) / sizeof(hints[0]); i++) {
		struct sonde_param_desc d = {.key = hints[i], .type_hint = hints[i]};
		struct sonde_param *p = sonde_params_add(ps, "operator.fuzz.", &d);

		if (p)
			sonde_param_set(p, value, err, sizeof(err));
	}
	if (ps) {
		struct sonde_param_desc d = {.key = "choice", .possible_values = choices};

		sonde_params_add(ps, "operator.fuzz.", &d);
		sonde_params_set(ps, "operator.fuzz.choice", value, err, sizeof(err));
		sonde_params_set(ps, value, "1", err, sizeof(err)); /* as a name, too */
		sonde_params_validate(ps, err, sizeof(err));
	}
	sonde_params_free(ps);
	free(value);
	return 0;
}
