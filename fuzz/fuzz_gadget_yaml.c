/* gadget.yaml (the OCI config blob of a gadget: untrusted when pulled). */
#include <sonde/config.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char err[256];
	struct sonde_config *c;

	fuzz_init_once();
	c = sonde_config_parse((const char *)data, len, err, sizeof(err));
	sonde_config_free(c);
	return 0;
}
