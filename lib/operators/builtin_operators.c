/* The operators built into libsonde, registered once per process. */
#include <sonde/operator.h>

#include "ebpf/ebpf.h"
#include "operators/cli.h"

void sonde_register_builtin_operators(void)
{
	static const struct sonde_operator *const builtin[] = {
	    &sonde_ebpf_operator,
	    &sonde_cli_operator,
	};
	static int done;

	if (done)
		return;
	done = 1;
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		sonde_operator_register(builtin[i]);
}
