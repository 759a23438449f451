/*
 * Link headers of tag list pages (regparse.c cd_registry_link_next): the
 * header value, a NUL, then the URL of the page that carried it (a
 * default one when absent).
 */
#include <strings.h>

#include "fuzz.h"
#include "registry/tags.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t ln, bn;
	const uint8_t *l = fuzz_part(&data, &size, &ln), *b = fuzz_part(&data, &size, &bn);
	char *link = fuzz_strndup(l, ln);
	char *base = bn ? fuzz_strndup(b, bn) : strdup("https://registry.example.com:5000/v2/org/x/tags/list?n=10");
	char *next = NULL;
	int r = cd_registry_link_next(link, base, &next);
	FUZZ_ASSERT(r >= -1 && r <= 1);
	if (r == 1) {
		FUZZ_ASSERT(next && *next);
		/* the URL part came from the header: no space, quote or control byte */
		FUZZ_ASSERT(strstr(next, "://"));
		free(next);
	} else {
		FUZZ_ASSERT(!next);
	}
	free(link);
	free(base);
	return 0;
}
