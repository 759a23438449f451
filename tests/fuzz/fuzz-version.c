/*
 * Version ordering (version.c): up to three NUL-separated versions.  The
 * order sorts releases with qsort, so it must be a total order: reflexive,
 * antisymmetric, transitive.  Normalised versions (the tag form) compare
 * equal to what they came from and are normal already.
 */
#include "fuzz.h"
#include "upstream/version.h"
#include "core/banned.h"

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

static void check_normalize(const char *v)
{
	char *n = cd_version_normalize(v);
	if (!n)
		return;
	size_t len = strlen(n);
	FUZZ_ASSERT(len >= 1 && len <= 64);
	FUZZ_ASSERT(n[0] != '-' && n[0] != '.' && n[len - 1] != '-');
	for (size_t i = 0; i < len; i++)
		FUZZ_ASSERT((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') ||
			    n[i] == '.' || n[i] == '-');
	FUZZ_ASSERT(cd_version_cmp(v, n) == 0);
	char *again = cd_version_normalize(n);
	FUZZ_ASSERT(again && !strcmp(again, n));
	free(again);
	if (cd_version_is_stable(n))
		FUZZ_ASSERT(strspn(n, "0123456789.") == len);
	free(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v[3];
	for (int i = 0; i < 3; i++) {
		size_t n;
		const uint8_t *p = fuzz_part(&data, &size, &n);
		v[i] = fuzz_strndup(p, n);
	}
	for (int i = 0; i < 3; i++) {
		FUZZ_ASSERT(cd_version_cmp(v[i], v[i]) == 0);
		for (int j = 0; j < 3; j++)
			FUZZ_ASSERT(sign(cd_version_cmp(v[i], v[j])) == -sign(cd_version_cmp(v[j], v[i])));
		check_normalize(v[i]);
		(void)cd_version_is_stable(v[i]);
	}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			for (int k = 0; k < 3; k++)
				if (cd_version_cmp(v[i], v[j]) <= 0 && cd_version_cmp(v[j], v[k]) <= 0)
					FUZZ_ASSERT(cd_version_cmp(v[i], v[k]) <= 0);
	for (int i = 0; i < 3; i++)
		free(v[i]);
	return 0;
}
