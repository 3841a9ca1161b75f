/* A registry's error body (any bytes: JSON per the distribution spec, HTML
 * from a proxy, garbage) turned into the one line an error message quotes.
 * The first byte picks the output buffer's size (1..256). Oracles: the line
 * fits the buffer and is printable ASCII only (it goes to a terminal). */
#include "fuzz_input.h"
#include "image/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char out[257];
	size_t n;

	fuzz_init_once();
	if (len < 1)
		return 0;
	n = (size_t)data[0] + 1;
	memset(out, 0x55, sizeof(out));
	registry_error_text((const char *)data + 1, len - 1, out, n);
	FUZZ_CHECK(strnlen(out, n) < n);
	for (size_t i = 0; out[i]; i++)
		FUZZ_CHECK((unsigned char)out[i] >= 0x20 && (unsigned char)out[i] < 0x7f);
	return 0;
}
