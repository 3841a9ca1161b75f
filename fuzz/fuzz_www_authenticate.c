/* A registry's WWW-Authenticate header (the answer to a 401), as the
 * registry client parses it before asking the token server. Oracles: every
 * field is NUL-terminated inside its buffer and a success names a scheme. */
#include <errno.h>

#include "fuzz_input.h"
#include "image/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct registry_challenge ch;
	char *s;
	int r;

	fuzz_init_once();
	s = fuzz_cstring(data, len);
	if (!s)
		return 0;
	memset(&ch, 0x55, sizeof(ch));
	r = registry_challenge_parse(s, &ch);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	FUZZ_CHECK(strnlen(ch.realm, sizeof(ch.realm)) < sizeof(ch.realm));
	FUZZ_CHECK(strnlen(ch.service, sizeof(ch.service)) < sizeof(ch.service));
	FUZZ_CHECK(strnlen(ch.scope, sizeof(ch.scope)) < sizeof(ch.scope));
	FUZZ_CHECK(strnlen(ch.error, sizeof(ch.error)) < sizeof(ch.error));
	FUZZ_CHECK(r != 0 || ch.scheme == REGISTRY_AUTH_BASIC || ch.scheme == REGISTRY_AUTH_BEARER);
	free(s);
	return 0;
}
