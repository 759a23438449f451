/* WWW-Authenticate header values (auth.c cd_challenge_parse). */
#include "registry/auth.h"
#include "fuzz.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memchr(data, '\0', size))
		return 0; /* header values come as C strings */
	char *v = fuzz_strndup(data, size);
	struct cd_challenge c;
	if (cd_challenge_parse(&c, v) == 0) {
		FUZZ_ASSERT(c.scheme != CD_AUTH_NONE);
		char *f[] = { c.realm, c.service, c.scope, c.error };
		for (size_t i = 0; i < 4; i++)
			FUZZ_ASSERT(!f[i] || strlen(f[i]) <= 4096);
		cd_challenge_release(&c);
	} else {
		FUZZ_ASSERT(!c.realm && !c.service && !c.scope && !c.error);
	}
	free(v);
	return 0;
}
