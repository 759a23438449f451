/*
 * Token service answers (regparse.c cd_registry_token_answer): the token
 * goes into an Authorization header line, its lifetime into clock
 * arithmetic.
 */
#include <jv.h>

#include "fuzz.h"
#include "registry/token.h"
#include "core/banned.h"

/* Borrow doc: is token exactly doc[key], every byte of it? */
static int is_member(jv doc, const char *key, const char *token)
{
	if (jv_get_kind(doc) != JV_KIND_OBJECT)
		return 0;
	jv v = jv_object_get(jv_copy(doc), jv_string(key));
	int same = jv_get_kind(v) == JV_KIND_STRING &&
		   (size_t)jv_string_length_bytes(jv_copy(v)) == strlen(token) &&
		   !memcmp(jv_string_value(v), token, strlen(token));
	jv_free(v);
	return same;
}

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
	/* the token the service sent, not a cut or mended one */
	jv doc = jv_parse_sized((const char *)data, (int)size);
	FUZZ_ASSERT(is_member(doc, "token", token) || is_member(doc, "access_token", token));
	jv_free(doc);
	/* usable for a while, and not for ever: a day at most */
	FUZZ_ASSERT(ttl > 0 && ttl <= 86400LL * 1000);
	free(token);
	return 0;
}
