/* An eBPF gadget object (an OCI layer: untrusted when pulled) through the
 * ebpf operator's instantiate: ELF and BTF checks, libbpf open, discovery of
 * tracers/params/iterators, BTF field inference. Nothing is loaded. */
#include <sonde/sonde.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct sonde_layer layer = {SONDE_MEDIA_TYPE_EBPF, data, len};
	const struct sonde_gadget_image image = {"fuzz", NULL, 0, &layer, 1};
	struct sonde_gadget_ctx *ctx;

	fuzz_init_once();
	sonde_register_builtin_operators();
	ctx = sonde_gadget_ctx_new(&image);
	if (ctx)
		sonde_gadget_instantiate(ctx);
	sonde_gadget_ctx_free(ctx);
	return 0;
}
