/*
 * cd-verify's checks of what a registry returns (verify.c
 * cd_verify_documents): the record, the top manifest or index, the image
 * manifest and the config blob, NUL-separated.  Bytes 0 and 1 pick the
 * media types the registry announced for the top and the image manifest.
 */
#include <jv.h>

#include "core/digest.h"
#include "core/oci.h"
#include "registry/manifest.h"
#include "stage/verify.h"
#include "fuzz.h"
#include "core/banned.h"

static const char *const types[] = {
	CD_MT_OCI_INDEX, CD_MT_OCI_MANIFEST, CD_MT_DOCKER_LIST, CD_MT_DOCKER_MANIFEST,
	"application/json", "",
};
#define NTYPES (sizeof(types) / sizeof(*types))

static void manifest(struct cd_manifest *m, const char *mt, const uint8_t *p, size_t n)
{
	memset(m, 0, sizeof(*m));
	m->body = fuzz_strndup(p, n);
	m->len = n;
	memcpy(m->media_type, mt, strlen(mt) + 1);
	cd_sha256_digest(p, n, m->digest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const char *top_mt = types[data[0] % NTYPES], *image_mt = types[data[1] % NTYPES];
	data += 2;
	size -= 2;
	size_t rn, tn, in, cn;
	const uint8_t *rp = fuzz_part(&data, &size, &rn), *tp = fuzz_part(&data, &size, &tn);
	const uint8_t *ip = fuzz_part(&data, &size, &in), *cp = fuzz_part(&data, &size, &cn);

	jv rec = jv_parse_sized((const char *)rp, (int)rn);
	struct cd_manifest top, image;
	manifest(&top, top_mt, tp, tn);
	manifest(&image, image_mt, ip, in);
	struct cd_verify_failure fail;
	jv v = cd_verify_documents(rec, &top, &image, (const char *)cp, cn, &fail);

	FUZZ_ASSERT(jv_get_kind(v) == JV_KIND_OBJECT);
	jv ok = jv_object_get(jv_copy(v), jv_string("ok"));
	jv checks = jv_object_get(jv_copy(v), jv_string("checks"));
	FUZZ_ASSERT(jv_get_kind(ok) == JV_KIND_TRUE || jv_get_kind(ok) == JV_KIND_FALSE);
	FUZZ_ASSERT(jv_get_kind(checks) == JV_KIND_ARRAY && jv_array_length(jv_copy(checks)) > 0);
	if (jv_get_kind(ok) == JV_KIND_FALSE)
		FUZZ_ASSERT(fail.message[0]);
	else
		FUZZ_ASSERT(!fail.message[0]);
	FUZZ_ASSERT(memchr(fail.arch, '\0', sizeof(fail.arch)));
	FUZZ_ASSERT(memchr(fail.message, '\0', sizeof(fail.message)));
	jv_free(ok);
	jv_free(checks);
	jv_free(v);
	jv_free(rec);
	cd_manifest_release(&top);
	cd_manifest_release(&image);
	return 0;
}
