/* Unit tests: cd-push's tag scheme and stamp, and the blobs of a manifest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "registry/transfer.h"
#include "stage/push.h"
#include "unit.h"
#include "core/banned.h"

static char *tags_of(const char *rec_json, const char *stamp)
{
	jv rec = jv_parse(rec_json);
	jv tags = cd_push_tags(rec, stamp);
	jv s = jv_dump_string(tags, 0);
	char *out = strdup(jv_string_value(s));
	jv_free(s);
	jv_free(rec);
	return out;
}

static void test_tags(void)
{
	char *t = tags_of("{\"version\":\"41\",\"tags\":[\"41-1.4\"],\"latest\":true}", "2611270512");
	CHECK_STR(t, "[\"41-2611270512\",\"41-1.4\",\"41\",\"latest\"]");
	free(t);
	/* duplicates dropped, no latest unless true, non-strings ignored */
	t = tags_of("{\"version\":\"9\",\"tags\":[\"9\",7,\"9-a\",\"9-a\"],\"latest\":false}", "0001010000");
	CHECK_STR(t, "[\"9-0001010000\",\"9\",\"9-a\"]");
	free(t);
	t = tags_of("{\"name\":\"x\"}", "0001010000");
	CHECK_STR(t, "[]");
	free(t);
}

static void test_stamp(void)
{
	char s[11];
	cd_push_stamp(1795756320LL, s); /* 2026-11-27 05:12:00 UTC */
	CHECK_STR(s, "2611270512");
	cd_push_stamp(0, s);
	CHECK_STR(s, "7001010000");
}

static void test_manifest_blobs(void)
{
	const char *m = "{\"config\":{\"digest\":\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"size\":10},"
			"\"layers\":[{\"digest\":\"sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"size\":536870912}]}";
	struct cd_xfer_blob b[4];
	size_t n = 0;
	CHECK(cd_xfer_manifest_blobs(m, strlen(m), b, 4, &n) == 0);
	CHECK(n == 2);
	CHECK(b[0].size == 10);
	CHECK(b[1].size == 536870912LL);
	CHECK_STR(b[1].digest, "sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	CHECK(cd_xfer_manifest_blobs(m, strlen(m), b, 1, &n) == -1);       /* bounded */
	const char *bad = "{\"config\":{\"digest\":\"sha256:xyz\",\"size\":1},\"layers\":[]}";
	CHECK(cd_xfer_manifest_blobs(bad, strlen(bad), b, 4, &n) == -1);
	CHECK(cd_xfer_manifest_blobs("[1]", 3, b, 4, &n) == -1);
	const char *neg = "{\"config\":{\"digest\":\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"size\":-1},\"layers\":[]}";
	CHECK(cd_xfer_manifest_blobs(neg, strlen(neg), b, 4, &n) == -1);
}

int main(int argc, char **argv)
{
	cd_msg_init(argv[0]);
	test_tags();
	test_stamp();
	test_manifest_blobs();
	return unit_done("push");
}
