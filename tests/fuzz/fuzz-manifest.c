/*
 * What a registry returns, parsed without the network: indexes and
 * manifest lists (regparse.c cd_manifest_index_find), image manifests
 * (cd_manifest_config), error bodies (cd_registry_error_body) and image
 * configs (published.c cd_current_shasum).  The same bytes go to each.
 */
#include <ctype.h>
#include <jv.h>

#include "core/digest.h"
#include "core/error.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "stage/current.h"
#include "fuzz.h"
#include "core/banned.h"

static void check_descriptor(const struct cd_descriptor *d)
{
	enum cd_hash alg;
	const char *hex;
	FUZZ_ASSERT(memchr(d->media_type, '\0', sizeof(d->media_type)));
	FUZZ_ASSERT(memchr(d->digest, '\0', sizeof(d->digest)));
	FUZZ_ASSERT(cd_digest_parse(d->digest, &alg, &hex) == 0);
	/* a size is a byte count, or -1 for unknown */
	FUZZ_ASSERT(d->size >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	static const char *const arches[] = { "amd64", "arm64", "s390x", "" };
	struct cd_descriptor d;
	for (size_t i = 0; i < sizeof(arches) / sizeof(*arches); i++) {
		int r = cd_manifest_index_find(body, size, arches[i], &d);
		FUZZ_ASSERT(r >= -1 && r <= 1);
		if (r == 1)
			check_descriptor(&d);
	}
	if (cd_manifest_config(body, size, &d) == 0)
		check_descriptor(&d);

	char msg[256];
	int kind = cd_registry_error_body(body, size, msg, sizeof(msg));
	FUZZ_ASSERT(kind >= -1 && kind <= CD_ERR_OTHER);
	FUZZ_ASSERT(memchr(msg, '\0', sizeof(msg)));
	for (const char *p = msg; *p; p++)
		FUZZ_ASSERT(isprint((unsigned char)*p)); /* registry text is printed */
	if (kind >= 0)
		FUZZ_ASSERT(*msg);

	jv config = jv_parse_sized(body, (int)size);
	jv sum = cd_current_shasum(config);
	FUZZ_ASSERT(jv_get_kind(sum) == JV_KIND_NULL || jv_get_kind(sum) == JV_KIND_STRING);
	jv_free(sum);
	jv_free(config);
	return 0;
}
