/* /etc/passwd and /etc/group as the uid/gid resolver parses them (host files,
 * or a container's, which the container controls). */
#include "host/name_cache.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct id_names *t;

	fuzz_init_once();
	t = id_names_parse((const char *)data, len);
	if (t) {
		id_names_get(t, 0);
		id_names_get(t, 65534);
		id_names_count(t);
	}
	id_names_free(t);
	return 0;
}
