/* The runtimes' state files, which a container's runtime writes and whose
 * content (ids, annotations, labels) the container's creator controls:
 * runc state.json, crun status and the OCI config.json next to them.
 *
 * The first byte picks the parser ('r' runc, 'c' crun, 'o' OCI config, any
 * other byte by its value), the rest is the document. A parsed document goes
 * on the way runtime_load takes it: annotations applied to names and k8s.*. */
#include <sonde/containers.h>

#include "fuzz_input.h"

typedef int (*parse_fn)(const char *text, size_t len, struct sonde_container *c);

static parse_fn pick(uint8_t b)
{
	static const parse_fn parsers[] = {sonde_runc_state_parse, sonde_crun_status_parse,
	                                   sonde_oci_config_parse};

	switch (b) {
	case 'r':
		return sonde_runc_state_parse;
	case 'c':
		return sonde_crun_status_parse;
	case 'o':
		return sonde_oci_config_parse;
	default:
		return parsers[b % 3];
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct sonde_container *c;

	fuzz_init_once();
	if (len == 0)
		return 0;
	c = sonde_container_new("fuzz", "runc");
	if (!c)
		return 0;
	/* no copy: the parsers take a length, and libFuzzer's buffer ends exactly
	 * there, so ASan sees any read past it */
	if (pick(data[0])((const char *)data + 1, len - 1, c) == 0) {
		sonde_container_apply_annotations(c);
		free(sonde_container_labels_string(c));
	}
	sonde_container_free(c);
	return 0;
}
