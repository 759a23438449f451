/*
 * Image references (ref.c cd_ref_parse) and --source-registry values
 * (published.c cd_ref_parse_registry).  A parsed reference formats
 * back into a string that parses to the same parts.
 */
#include "fuzz.h"
#include "core/digest.h"
#include "core/ref.h"
#include "core/banned.h"

static int same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memchr(data, '\0', size))
		return 0; /* references come as C strings */
	char *s = fuzz_strndup(data, size);
	struct cd_ref ref, again;
	if (cd_ref_parse(&ref, s) == 0) {
		FUZZ_ASSERT(ref.host && *ref.host && ref.path);
		FUZZ_ASSERT(cd_ref_valid_path(ref.path));
		FUZZ_ASSERT(!ref.tag || cd_ref_valid_tag(ref.tag));
		if (ref.digest) {
			enum cd_hash alg;
			const char *hex;
			FUZZ_ASSERT(cd_digest_parse(ref.digest, &alg, &hex) == 0);
		}
		char *f = cd_ref_format(&ref);
		FUZZ_ASSERT(cd_ref_parse(&again, f) == 0);
		FUZZ_ASSERT(same(ref.host, again.host) && same(ref.path, again.path) &&
			    same(ref.tag, again.tag) && same(ref.digest, again.digest));
		(void)cd_ref_api_host(ref.host);
		(void)cd_ref_host_is_loopback(ref.host);
		cd_ref_release(&again);
		free(f);
		cd_ref_release(&ref);
	} else {
		FUZZ_ASSERT(!ref.host && !ref.path && !ref.tag && !ref.digest);
	}
	(void)cd_ref_host_is_loopback(s);

	char *host, *prefix;
	if (cd_ref_parse_registry(s, &host, &prefix) == 0) {
		FUZZ_ASSERT(host && *host && prefix);
		FUZZ_ASSERT(!*prefix || cd_ref_valid_path(prefix));
		free(host);
		free(prefix);
	} else {
		FUZZ_ASSERT(!host && !prefix);
	}
	free(s);
	return 0;
}
