/*
 * Token service answers (regparse.c cd_registry_token_answer): the token
 * goes into an Authorization header line, its lifetime into clock
 * arithmetic.
 */
#include "fuzz.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *token;
	long long ttl;
	if (cd_registry_token_answer((const char *)data, size, &token, &ttl) < 0) {
		FUZZ_ASSERT(!token);
		return 0;
	}
	FUZZ_ASSERT(token && *token);
	for (const char *p = token; *p; p++)
		FUZZ_ASSERT((unsigned char)*p > ' ' && (unsigned char)*p < 0x7f);
	/* usable for a while, and not for ever: a day at most */
	FUZZ_ASSERT(ttl > 0 && ttl <= 86400LL * 1000);
	free(token);
	return 0;
}
