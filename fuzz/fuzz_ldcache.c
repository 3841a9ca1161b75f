/* /etc/ld.so.cache as uprobe targets resolve `uprobe/libc:malloc`: for a
 * container the file is read from the container's root, so whoever built the
 * image wrote it (offsets, counts and strings included).
 *
 * The input is the whole file, no copy: libFuzzer's buffer ends exactly at
 * the file's end, so ASan sees any read past it, as it would past the
 * malloc'ed copy the lookup reads. */
#include <string.h>

#include "ebpf/internal.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	/* both in the ldconfig seeds, where libzstd.so must not match "libz" */
	static const char *const names[] = {"libc", "libz"};
	char **paths;
	size_t n;

	fuzz_init_once();
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (ebpf_ldcache_parse((const char *)data, len, names[i], &paths, &n) != 0)
			continue;
		/* the result is what the uprobe code trusts: n paths, NULL-terminated */
		for (size_t k = 0; k < n; k++)
			FUZZ_CHECK(paths[k] != NULL);
		FUZZ_CHECK(n == 0 ? paths == NULL : paths[n] == NULL);
		ebpf_ldcache_free(paths);
	}
	return 0;
}
