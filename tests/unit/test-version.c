/* Unit tests for version ordering (version.h). */
#include <stdlib.h>

#include "upstream/version.h"
#include "unit.h"
#include "core/banned.h"

#define LT(a, b) do { CHECK(cd_version_cmp(a, b) < 0); CHECK(cd_version_cmp(b, a) > 0); } while (0)

static void check_norm(const char *in, const char *want)
{
	char *got = cd_version_normalize(in);
	CHECK_STR(got, want);
	free(got);
}

int main(void)
{
	LT("9", "10");
	LT("38", "40");
	LT("20.04", "22.04");
	LT("24.04", "26.04");
	LT("15.5", "15.6");
	LT("15.6", "16.0");
	LT("9.8", "9.10");
	LT("44-beta", "44");
	LT("44 Beta", "44");
	LT("43", "44-beta");
	LT("44-beta", "44.1");
	LT("44-alpha", "44-beta");
	LT("20240311.0", "20240311.1");
	LT("20240311.9", "20240312.0");
	LT("1.0.0", "16.0.0");
	LT("9-20211119.0", "9-20211222.0");
	CHECK(cd_version_cmp("44", "44") == 0);
	CHECK(cd_version_cmp("44-Beta", "44 beta") == 0);
	CHECK(cd_version_cmp("007", "7") == 0);
	CHECK(cd_version_cmp("", "") == 0);
	LT("", "1");
	LT("99999999999999999999998", "99999999999999999999999"); /* no overflow */

	CHECK(cd_version_is_stable("44"));
	CHECK(cd_version_is_stable("24.04"));
	CHECK(cd_version_is_stable("1.0.0"));
	CHECK(!cd_version_is_stable("44-beta"));
	CHECK(!cd_version_is_stable("44 Beta"));
	CHECK(!cd_version_is_stable(""));
	CHECK(!cd_version_is_stable(".1"));

	check_norm("44 Beta", "44-beta");
	check_norm("41_Beta", "41-beta");
	check_norm("40", "40");
	check_norm("45  RC ", "45-rc");
	CHECK(cd_version_normalize("4/4") == NULL);
	CHECK(cd_version_normalize("  ") == NULL);
	CHECK(cd_version_normalize("x:y") == NULL);
	CHECK(cd_version_normalize("11111111111111111111111111111111111111111111111111111111111111111") == NULL);
	return unit_done("test-version");
}
