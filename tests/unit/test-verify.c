/*
 * Unit tests for cd-verify's checks of what a registry returns, run on
 * documents without a registry (verify.h cd_verify_documents): sizes from
 * outside that are not byte counts are refused, not cast.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jv.h>

#include "core/digest.h"
#include "core/msg.h"
#include "core/oci.h"
#include "registry/manifest.h"
#include "stage/verify.h"
#include "unit.h"
#include "core/banned.h"

static const char record[] =
	"{\"name\":\"fedora\",\"version\":\"41\",\"artifacts\":[{\"arch\":\"amd64\","
	"\"checksum\":\"sha256:abababababababababababababababababababababababababababababababab\"}]}";
static const char config[] =
	"{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"shasum\":"
	"\"abababababababababababababababababababababababababababababababab\"}},"
	"\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:"
	"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\"]}}";

static void doc(struct cd_manifest *m, const char *mt, const char *body)
{
	memset(m, 0, sizeof(*m));
	m->body = strdup(body);
	m->len = strlen(body);
	snprintf(m->media_type, sizeof(m->media_type), "%s", mt);
	cd_sha256_digest(body, m->len, m->digest);
}

/* An OCI image manifest whose config descriptor has size cfg_size. */
static void image(struct cd_manifest *m, const char *cfg_size)
{
	char cd[CD_DIGEST_MAX], body[2048];
	cd_sha256_digest(config, strlen(config), cd);
	snprintf(body, sizeof(body),
		 "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\","
		 "\"digest\":\"%s\",\"size\":%s},\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"sha256:"
		 "efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef\",\"size\":1000}]}",
		 CD_MT_OCI_MANIFEST, CD_MT_OCI_CONFIG, cd, cfg_size, CD_MT_OCI_LAYER_GZIP);
	doc(m, CD_MT_OCI_MANIFEST, body);
}

/* Verify top (and image) against record; "" when ok, else the failure. */
static const char *run(const struct cd_manifest *top, const struct cd_manifest *img)
{
	static struct cd_verify_failure fail;
	jv rec = jv_parse(record);
	jv v = cd_verify_documents(rec, top, img, config, strlen(config), &fail);
	jv ok = jv_object_get(v, jv_string("ok"));
	const char *r = jv_get_kind(ok) == JV_KIND_TRUE ? "" : fail.message;
	jv_free(ok);
	jv_free(rec);
	return r;
}

static void test_single(void)
{
	struct cd_manifest m;
	char n[32];
	snprintf(n, sizeof(n), "%zu", strlen(config));
	image(&m, n);
	CHECK_STR(run(&m, &m), "");
	cd_manifest_release(&m);

	static const char *const bad[] = { "1e308", "1e19", "-1", "0.5", "\"12\"" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		image(&m, bad[i]);
		const char *why = run(&m, &m);
		CHECK(strstr(why, "config descriptor missing or not") != NULL);
		cd_manifest_release(&m);
	}
}

static void test_index(void)
{
	static const char *const sizes[] = { "1e308", "-1e308", "1e19", "-1", "1.5" };
	struct cd_manifest img, top;
	char n[32], body[2048];
	snprintf(n, sizeof(n), "%zu", strlen(config));
	image(&img, n);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes) + 1; i++) {
		char good[32];
		snprintf(good, sizeof(good), "%zu", img.len);
		const char *size = i < sizeof(sizes) / sizeof(*sizes) ? sizes[i] : good;
		snprintf(body, sizeof(body),
			 "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[{\"mediaType\":\"%s\","
			 "\"digest\":\"%s\",\"size\":%s,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}]}",
			 CD_MT_OCI_INDEX, CD_MT_OCI_MANIFEST, img.digest, size);
		doc(&top, CD_MT_OCI_INDEX, body);
		const char *why = run(&top, &img);
		if (size == good)
			CHECK_STR(why, "");
		else
			CHECK(strstr(why, "has no digest or size") != NULL);
		cd_manifest_release(&top);
	}
	cd_manifest_release(&img);
}

int main(int argc, char **argv)
{
	cd_msg_init(argv[0]);
	test_single();
	test_index();
	return unit_done("test-verify");
}
