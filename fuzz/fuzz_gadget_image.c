/* A pulled image's gadget.yaml over a real eBPF object: the config decorates
 * what the object declares (datasource and field annotations, templates,
 * params.ebpf.<var> metadata, operator settings), paths that neither the
 * gadget_yaml target (no object) nor ebpf_object (no config) reach.
 *
 * Input: the first byte picks a built-in gadget (its object, as embedded),
 * the rest is the gadget.yaml. All operators instantiate, as for
 * `sonde run` up to pre-start or for gadget info; nothing is loaded. */
#include <sonde/sonde.h>

#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct sonde_gadget_image *builtin;
	struct sonde_gadget_image image;
	struct sonde_gadget_ctx *ctx;
	size_t n;

	fuzz_init_once();
	sonde_register_builtin_operators();
	n = sonde_builtin_gadget_count();
	if (len == 0 || n == 0)
		return 0;
	builtin = sonde_builtin_gadget_at(data[0] % n);
	image = *builtin;
	image.config_yaml = (const char *)data + 1;
	image.config_len = len - 1;
	ctx = sonde_gadget_ctx_new(&image);
	if (ctx)
		sonde_gadget_instantiate(ctx);
	sonde_gadget_ctx_free(ctx);
	return 0;
}
