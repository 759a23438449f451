/*
 * Unit tests for the record contract (cd_record_check) and for what makes
 * messages safe to print (cd_utf8_seq, cd_msg_escape).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/contract.h"
#include "core/error.h"
#include "core/msg.h"
#include "unit.h"
#include "core/banned.h"

#define S64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define ART "{\"arch\":\"amd64\",\"url\":\"https://u.example/a.qcow2\",\"checksum\":\"sha256:" S64 "\"}"
#define REC(extra) "{\"name\":\"fedora\",\"version\":\"41\",\"artifacts\":[" ART "]" extra "}"

/* The message cd_record_check gives for line (n bytes), or "ok". */
static const char *check(const char *line, size_t n)
{
	static char msg[1024];
	jv rec = jv_parse_sized(line, (int)n);
	if (!jv_is_valid(rec)) {
		jv_free(rec);
		return "unparsable";
	}
	int r = cd_record_check(rec, line, n);
	jv_free(rec);
	snprintf(msg, sizeof(msg), "%s", r ? cd_errmsg() : "ok");
	return msg;
}
#define CHECK_REC(line, want) CHECK_STR(check(line, sizeof(line) - 1), want)

static void test_valid(void)
{
	CHECK_REC(REC(""), "ok");
	CHECK_REC(REC(",\"stable\":true,\"latest\":false,\"docs\":null,\"tags\":[\"41-1.4\"],\"action\":\"skip\""), "ok");
	CHECK_REC(REC(",\"changed\":[\"amd64\"],\"published\":{\"amd64\":{\"shasum\":null,\"digest\":\"sha256:" S64 "\"}}"), "ok");
	CHECK_REC(REC(",\"layout\":\"/x/fedora-41\",\"digest\":\"sha256:" S64 "\",\"pushed\":{\"repository\":\"r/o/fedora\","
		      "\"digest\":\"sha256:" S64 "\",\"tags\":[\"41\"]},\"verified\":{\"ok\":false}"), "ok");
	CHECK_REC("{\"name\":\"a.b__c--d\",\"version\":\"_1.x-Y\",\"artifacts\":[{\"arch\":\"s390x\",\"url\":\"http://h/x\","
		  "\"checksum\":null,\"compression\":\"zstd\",\"size\":12,\"env\":{\"A\":\"b\"}}],\"env\":{}}", "ok");
	/* fields no stage reads pass as they are, and U+FFFD sent as text is text */
	CHECK_REC(REC(",\"user\":[1,{\"x\":\"\xef\xbf\xbd\"}],\"reason\":7"), "ok");
}

static void test_raw(void)
{
	CHECK_REC(REC(",\"x\":\"a\\u0000b\""), "x: holds a NUL character");
	CHECK_REC("{\"name\":\"fedora\",\"version\":\"1\\u0000/../../evil\",\"artifacts\":[" ART "]}",
		  "version: holds a NUL character");
	CHECK_REC(REC(",\"x\":\"a\0b\""), "x: holds a NUL character");
	CHECK_REC(REC(",\"x\":{\"y\":[1,\"\xff\"]}"), "x.y[1]: not valid UTF-8");
	CHECK_REC(REC(",\"x\":\"\xc0\xaf\""), "x: not valid UTF-8");           /* overlong '/' */
	CHECK_REC(REC(",\"x\":\"\xed\xa0\x80\""), "x: not valid UTF-8");       /* a surrogate */
	CHECK_REC(REC(",\"x\":\"\xf4\x90\x80\x80\""), "x: not valid UTF-8");   /* past U+10FFFF */
	CHECK_REC(REC(",\"a \\\"b\":{\"c\xff\":1}"), "[\"a \\\"b\"]: a key is not valid UTF-8");
	CHECK_REC("{\"name\":\"a\",\"name\":\"b\",\"version\":\"1\",\"artifacts\":[" ART "]}", "name: duplicate key");
	CHECK_REC("{\"n\\u0061me\":\"a\",\"name\":\"b\",\"version\":\"1\",\"artifacts\":[" ART "]}", "name: duplicate key");
	CHECK_REC(REC(",\"published\":{\"amd64\":{\"digest\":1,\"digest\":2}}"), "published.amd64.digest: duplicate key");
	/* the same key in two objects is fine */
	CHECK_REC(REC(",\"x\":[{\"k\":1},{\"k\":2}]"), "ok");
}

static void test_fields(void)
{
	CHECK_REC("{\"version\":\"1\",\"artifacts\":[" ART "]}", "name: missing");
	CHECK_REC("{\"name\":7,\"version\":\"1\",\"artifacts\":[" ART "]}", "name: a number, not a string");
	CHECK_REC("{\"name\":\"../x\",\"version\":\"1\",\"artifacts\":[" ART "]}",
		  "name: '../x' is not a repository name component (lowercase letters and digits, joined by '.', '_', '__' or '-')");
	CHECK_REC("{\"name\":\"a/b\",\"version\":\"1\",\"artifacts\":[" ART "]}",
		  "name: 'a/b' is not a repository name component (lowercase letters and digits, joined by '.', '_', '__' or '-')");
	CHECK_REC("{\"name\":\"Fedora\",\"version\":\"1\",\"artifacts\":[" ART "]}",
		  "name: 'Fedora' is not a repository name component (lowercase letters and digits, joined by '.', '_', '__' or '-')");
	CHECK_REC("{\"name\":\"" S64 S64 "\",\"version\":\"1\",\"artifacts\":[" ART "]}", "name: longer than 100 bytes");
	CHECK_REC("{\"name\":\"a\",\"version\":\".1\",\"artifacts\":[" ART "]}",
		  "version: '.1' is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
	CHECK_REC("{\"name\":\"a\",\"version\":\"" S64 S64 "x\",\"artifacts\":[" ART "]}",
		  "version: '" S64 S64 "x' is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\"}", "artifacts: missing");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":{}}", "artifacts: an object, not an array");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[]}", "artifacts: empty");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[" ART "," ART "]}", "artifacts[1].arch: 'amd64' twice");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[1]}", "artifacts[0]: a number, not an object");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[{\"arch\":\"sparc\",\"url\":\"https://x/\"}]}",
		  "artifacts[0].arch: unknown architecture 'sparc' (amd64, arm64 or s390x)");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[{\"arch\":\"arm64\"}]}", "artifacts[0].url: missing");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[{\"arch\":\"arm64\",\"url\":\"file:///etc/shadow\"}]}",
		  "artifacts[0].url: not an http(s) URL");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[{\"arch\":\"arm64\",\"url\":\"https://x/a b\"}]}",
		  "artifacts[0].url: holds a space, a control character or a non-ASCII byte");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[{\"arch\":\"arm64\",\"url\":\"https://x/\",\"checksum\":\"sha256:ABC\"}]}",
		  "artifacts[0].checksum: 'sha256:ABC' is not sha256:<64 hex> or sha512:<128 hex>");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[{\"arch\":\"arm64\",\"url\":\"https://x/\",\"checksum\":\"md5:" S64 "\"}]}",
		  "artifacts[0].checksum: 'md5:" S64 "' is not sha256:<64 hex> or sha512:<128 hex>");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[{\"arch\":\"arm64\",\"url\":\"https://x/\",\"size\":1e308}]}",
		  "artifacts[0].size: not a whole number of bytes from 0 to 2^53");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[{\"arch\":\"arm64\",\"url\":\"https://x/\",\"compression\":\"lz4\"}]}",
		  "artifacts[0].compression: unknown compression 'lz4' (gzip, xz, bzip2 or zstd)");
	CHECK_REC("{\"name\":\"a\",\"version\":\"1\",\"artifacts\":[{\"arch\":\"arm64\",\"url\":\"https://x/\",\"env\":{\"A\":1}}]}",
		  "artifacts[0].env.A: a number, not a string");
	CHECK_REC(REC(",\"env\":{\"A=B\":\"c\"}"), "env: 'A=B' is not a variable name");
	CHECK_REC(REC(",\"stable\":\"yes\""), "stable: a string, not a boolean");
	CHECK_REC(REC(",\"tags\":[\"ok\",\"../x\"]"), "tags[1]: '../x' is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})");
	CHECK_REC(REC(",\"action\":\"rebuild\""), "action: 'rebuild' is neither \"build\" nor \"skip\"");
	CHECK_REC(REC(",\"changed\":[\"sparc\"]"), "changed[0]: unknown architecture 'sparc' (amd64, arm64 or s390x)");
	CHECK_REC(REC(",\"published\":{\"sparc\":{}}"), "published: unknown architecture 'sparc' (amd64, arm64 or s390x)");
	CHECK_REC(REC(",\"published\":{\"amd64\":{\"digest\":\"sha256:x\"}}"),
		  "published.amd64.digest: 'sha256:x' is not sha256:<64 hex> or sha512:<128 hex>");
	CHECK_REC(REC(",\"layout\":\"\""), "layout: empty");
	CHECK_REC(REC(",\"digest\":\"../../x\""), "digest: '../../x' is not sha256:<64 hex> or sha512:<128 hex>");
	CHECK_REC(REC(",\"pushed\":{\"digest\":\"sha256:" S64 "\"}"), "pushed.repository: missing");
	CHECK_REC(REC(",\"pushed\":{\"repository\":\"r/x\",\"digest\":\"sha256:" S64 "\",\"tags\":\"41\"}"),
		  "pushed.tags: a string, not an array");
	CHECK_REC(REC(",\"verified\":{\"ok\":1}"), "verified.ok: a number, not a boolean");
	jv s = jv_string("x");
	CHECK(cd_record_check(s, NULL, 0) == -1);
	CHECK_STR(cd_errmsg(), "not a JSON object");
	jv_free(s);
}

static void test_escape(void)
{
	char out[64];
	CHECK(cd_utf8_seq("a", 1) == 1);
	CHECK(cd_utf8_seq("\xc3\xa9", 2) == 2);
	CHECK(cd_utf8_seq("\xc3", 1) == 0);
	CHECK(cd_utf8_seq("\xe2\x82\xac", 3) == 3);
	CHECK(cd_utf8_seq("\xf0\x9f\x98\x80", 4) == 4);
	CHECK(cd_utf8_seq("\xe0\x80\xaf", 3) == 0); /* overlong */
	CHECK(cd_utf8_seq("\x80", 1) == 0);
	CHECK_STR(cd_msg_escape("plain: caf\xc3\xa9", out, sizeof(out)), "plain: caf\xc3\xa9");
	CHECK_STR(cd_msg_escape("a\033[2Jb\r\n\t\x7f", out, sizeof(out)), "a\\x1b[2Jb\\x0d\\x0a\\x09\\x7f");
	CHECK_STR(cd_msg_escape("\xff\xc2\x9b" "1m", out, sizeof(out)), "\\xff\\xc2\\x9b1m"); /* invalid, C1 CSI */
	/* cut at a whole character or escape */
	CHECK_STR(cd_msg_escape("abc\033", out, 7), "abc");
	CHECK_STR(cd_msg_escape("ab\xc3\xa9", out, 4), "ab");
}

int main(void)
{
	cd_msg_init("cd-test");
	test_valid();
	test_raw();
	test_fields();
	test_escape();
	return unit_done("contract");
}
