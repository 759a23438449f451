/*
 * The catalog programs' inputs: the real jq programs of
 * pipelines/catalog/ (Fedora's releases.json, Debian's image JSON,
 * the checksum files of the others) run over a fuzzed upstream file,
 * through catalog.c's discovery (cd_catalog_discover_body).  The input is
 * the catalog entry ("fedora", "debian:12": name, and version for an
 * "images" entry), a NUL, then what its upstream URLs serve.
 */
#include <jv.h>

#include "core/error.h"
#include "core/json.h"
#include "core/record.h"
#include "upstream/catalog-run.h"
#include "upstream/catalog.h"
#include "fuzz.h"
#include "core/banned.h"

#ifndef CD_FUZZ_CATALOG
#define CD_FUZZ_CATALOG "pipelines/catalog"
#endif

static struct cd_catalog cat;
static size_t errors;

static void release(void)
{
	cd_catalog_release(&cat);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("CD_FUZZ_CATALOG") ? getenv("CD_FUZZ_CATALOG") : CD_FUZZ_CATALOG;
	if (cd_catalog_load(&cat, dir) < 0 || !cat.n) {
		fprintf(stderr, "fuzz-catalog: %s\n", cd_errmsg());
		exit(2);
	}
	atexit(release); /* before LeakSanitizer looks, at exit */
	return 0;
}

static int checksum_ok(jv c)
{
	return jv_get_kind(c) == JV_KIND_NULL ||
	       (jv_get_kind(c) == JV_KIND_STRING && fuzz_digest_ok(jv_string_value(c)));
}

static void emit(jv rec, void *ctx)
{
	if (getenv("FUZZ_DEBUG")) { /* FUZZ_DEBUG=1 build/fuzz/fuzz-catalog FILE: see the records */
		jv_dumpf(jv_copy(rec), stderr, 0);
		fputc('\n', stderr);
	}
	FUZZ_ASSERT(jv_get_kind(rec) == JV_KIND_OBJECT);
	FUZZ_ASSERT(cd_jv_str(rec, "name") && cd_jv_str(rec, "version"));
	if (cd_record_has_error(rec))
		errors++;
	jv arts = jv_object_get(jv_copy(rec), jv_string("artifacts"));
	FUZZ_ASSERT(jv_get_kind(arts) == JV_KIND_ARRAY);
	jv_array_foreach(arts, i, a) {
		const char *url = cd_jv_str(a, "url");
		FUZZ_ASSERT(cd_jv_str(a, "arch"));
		FUZZ_ASSERT(url && (!strncmp(url, "https://", 8) || !strncmp(url, "http://", 7)));
		jv c = jv_object_get(jv_copy(a), jv_string("checksum"));
		FUZZ_ASSERT(checksum_ok(c));
		jv_free(c);
		/* a size is a byte count cd-build can do arithmetic on */
		jv s = jv_object_get(jv_copy(a), jv_string("size"));
		double d = jv_get_kind(s) == JV_KIND_NUMBER ? jv_number_value(s) : 1;
		FUZZ_ASSERT(jv_get_kind(s) == JV_KIND_INVALID ||
			    (jv_get_kind(s) == JV_KIND_NUMBER && d > 0 && d <= 9007199254740992.0 && d == (double)(long long)d));
		jv_free(s);
		jv_free(a);
	}
	jv_free(arts);
	jv_free(rec);
}

/* The entry named name[:version], or -1. */
static long entry(const char *want)
{
	for (size_t i = 0; i < cat.n; i++) {
		char id[256];
		snprintf(id, sizeof(id), "%s%s%s", cat.v[i].name, cat.v[i].version ? ":" : "",
			 cat.v[i].version ? cat.v[i].version : "");
		if (!strcmp(id, want))
			return (long)i;
	}
	return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n, failed = 0;
	const uint8_t *p = fuzz_part(&data, &size, &n);
	char *want = fuzz_strndup(p, n);
	long pick = entry(want);
	free(want);
	if (pick < 0)
		return 0;
	for (size_t i = 0; i < cat.n; i++)
		cat.v[i].wanted = i == (size_t)pick;
	errors = 0;
	int r = cd_catalog_discover_body(&cat, (const char *)data, size, NULL, 0, emit, NULL, NULL, &failed);
	FUZZ_ASSERT(r == 0);
	FUZZ_ASSERT(failed == errors);
	return 0;
}
