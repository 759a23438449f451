/* Unit tests for the foundation: mirror map, record reader, buffers, digests, retry timing. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/json.h"
#include "core/loop.h"
#include "core/msg.h"
#include "core/record.h"
#include "core/url.h"
#include "net/http.h"
#include "net/mirror.h"
#include "unit.h"
#include "core/banned.h"

static void test_mirror(void)
{
	struct cd_mirror_map m = { 0 };
	char *u;
	CHECK(cd_mirror_add(&m, "https://a.example/=http://127.0.0.1:1/a/") == 0);
	CHECK(cd_mirror_add(&m, "https://a.example/deep/=http://127.0.0.1:2/") == 0);
	u = cd_mirror_rewrite(&m, "https://a.example/deep/x.qcow2");
	CHECK_STR(u, "http://127.0.0.1:2/x.qcow2"); /* longest prefix wins */
	free(u);
	u = cd_mirror_rewrite(&m, "https://a.example/other");
	CHECK_STR(u, "http://127.0.0.1:1/a/other");
	free(u);
	u = cd_mirror_rewrite(&m, "https://b.example/x");
	CHECK_STR(u, "https://b.example/x");
	free(u);
	CHECK(cd_mirror_add(&m, "no-equals-sign") == -1);
	CHECK(cd_mirror_add(&m, "=http://x/") == -1);
	CHECK(cd_mirror_add(&m, "https://x/=") == -1);
	cd_mirror_release(&m);

	CHECK(cd_mirror_add_list(&m, "  https://p/=http://q/ \n\thttps://r/=http://s/  ") == 0);
	CHECK(m.n == 2);
	CHECK(cd_mirror_add_list(&m, "https://ok/=http://ok/ broken") == -1);
	cd_mirror_release(&m);

	u = cd_url_redact("https://user:secret@host.example/path@x");
	CHECK_STR(u, "https://***@host.example/path@x");
	free(u);
	u = cd_url_redact("http://127.0.0.1:5000/v2/");
	CHECK_STR(u, "http://127.0.0.1:5000/v2/");
	free(u);

	/* A mirror spec is shown with both sides redacted, and refused without its password. */
	u = cd_mirror_redact("https://u:p1@up.example/=http://m:p2@127.0.0.1:1/");
	CHECK_STR(u, "https://***@up.example/=http://***@127.0.0.1:1/");
	free(u);
	CHECK(cd_mirror_add(&m, "http://bob:hunter2@mirror.example/") == -1);
	CHECK(!strstr(cd_errmsg(), "hunter2"));
	size_t off, len;
	CHECK(cd_url_userinfo("http://bob:pw@h/x", &off, &len) == 1 && off == 7 && len == 6);
	CHECK(cd_url_userinfo("http://h/x@y", &off, &len) == 0);
	CHECK(cd_url_userinfo("no scheme", &off, &len) == 0);
}

static int read_all(const char *input, int *records, int *malformed)
{
	FILE *fp = fmemopen((void *)input, strlen(input), "r");
	struct cd_reader r;
	jv rec;
	int got;
	cd_reader_init(&r, fp, "test");
	r.max = 64;
	*records = 0;
	while ((got = cd_reader_next(&r, &rec)) > 0) {
		(*records)++;
		jv_free(rec);
	}
	*malformed = r.malformed;
	cd_reader_release(&r);
	fclose(fp);
	return got;
}

static void test_reader(void)
{
	int n, bad;
	CHECK(read_all("", &n, &bad) == 0 && n == 0 && bad == 0);
	CHECK(read_all("{\"a\":1}\n{\"b\":2}\n", &n, &bad) == 0 && n == 2 && bad == 0);
	/* missing final newline */
	CHECK(read_all("{\"a\":1}\n{\"b\":2}", &n, &bad) == 0 && n == 2 && bad == 0);
	/* malformed line in the middle: skipped, the others read */
	CHECK(read_all("{\"a\":1}\n{oops\n{\"b\":2}\n", &n, &bad) == 0 && n == 2 && bad == 1);
	/* not an object */
	CHECK(read_all("[1,2]\n{\"b\":2}\n", &n, &bad) == 0 && n == 1 && bad == 1);
	/* over-long line (limit 64 here) */
	CHECK(read_all("{\"a\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}\n{\"b\":2}\n",
		       &n, &bad) == 0 && n == 1 && bad == 1);
	/* blank lines are not records and not errors */
	CHECK(read_all("\n  \n{\"a\":1}\n\n", &n, &bad) == 0 && n == 1 && bad == 0);
}

static void test_records(void)
{
	jv rec = jv_parse("{\"name\":\"fedora\",\"version\":\"41\"}");
	CHECK(!cd_record_has_error(rec));
	char *id = cd_record_id(rec);
	CHECK_STR(id, "fedora:41");
	free(id);
	rec = cd_record_set_error(rec, "arm64", "boom %d", 7);
	CHECK(cd_record_has_error(rec));
	jv e = jv_object_get(jv_copy(rec), jv_string("error"));
	CHECK_STR(cd_jv_str(e, "message"), "boom 7");
	CHECK_STR(cd_jv_str(e, "arch"), "arm64");
	jv_free(e);
	jv_free(rec);
}

/* The one focus parser and matcher every --focus goes through. */
static void test_focus(void)
{
	const char *focus[] = { "fedora:41", "ubuntu:*", "alma:9" };
	unsigned char hit[3] = { 0 };

	CHECK(cd_record_focus_check("fedora:41") == 0);
	CHECK(cd_record_focus_check("fedora:*") == 0);
	CHECK(cd_record_focus_check("fedora") < 0);
	CHECK_STR(cd_errmsg(), "malformed focus 'fedora': want name:version or 'name:*'");
	CHECK(cd_record_focus_check(":41") < 0);
	CHECK(cd_record_focus_check("fedora:") < 0);
	CHECK(cd_record_focus_check("fedora:4:1") < 0);

	CHECK(cd_record_in_focus(focus, 0, "debian", "12", NULL)); /* no focus: every image */
	CHECK(cd_record_in_focus(focus, 3, "fedora", "41", hit) && hit[0] && !hit[1] && !hit[2]);
	CHECK(!cd_record_in_focus(focus, 3, "fedora", "40", NULL));
	CHECK(!cd_record_in_focus(focus, 3, "fedor", "41", NULL));
	CHECK(!cd_record_in_focus(focus, 3, "fedora4", "1", NULL));
	CHECK(cd_record_in_focus(focus, 3, "ubuntu", "24.04", hit) && hit[1]);
	CHECK(cd_record_in_focus(focus, 3, "ubuntu", "", NULL)); /* name:* takes a record without one */
	CHECK(!cd_record_in_focus(focus, 3, "alma", "", NULL));
	CHECK(cd_record_in_focus(focus, 3, "alma", NULL, hit) && hit[2]); /* NULL: at any version */
	CHECK(!cd_record_in_focus(focus, 3, NULL, "41", NULL));
}

static void test_buf_and_digest(void)
{
	struct cd_buf b;
	cd_buf_init(&b, 8);
	CHECK(cd_buf_adds(&b, "12345678") == 0);
	CHECK(cd_buf_adds(&b, "9") == -1); /* over the limit */
	CHECK(b.len == 8);
	cd_buf_release(&b);

	char d[CD_DIGEST_MAX];
	cd_sha256_digest("abc", 3, d);
	CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	CHECK(cd_digest_check(d, "abc", 3) == 1);
	CHECK(cd_digest_check(d, "abd", 3) == 0);
	CHECK(cd_digest_check("sha256:XYZ", "abc", 3) == -1);
	CHECK(cd_digest_check("md5:900150983cd24fb0d6963f7d28e17f72", "abc", 3) == -1);
	enum cd_hash alg;
	const char *hex;
	CHECK(cd_digest_parse("sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f", &alg, &hex) == 0 && alg == CD_HASH_SHA512);
	CHECK(cd_digest_parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", &alg, &hex) == -1);
}

/* References resolved through libcurl's URL API. */
static void test_url_resolve(void)
{
	static const char base[] = "https://r.example:5000/v2/a/tags/list?n=2";
	static const struct { const char *ref, *want; } t[] = {
		{ "/v2/a/tags/list?last=b", "https://r.example:5000/v2/a/tags/list?last=b" },
		{ "list?last=c", "https://r.example:5000/v2/a/tags/list?last=c" },
		{ "../b/x", "https://r.example:5000/v2/a/b/x" },
		{ "http://other.example/y", "http://other.example/y" },
		{ "ftp://other.example/y", NULL },
		{ "file:///etc/passwd", NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++) {
		char *u = cd_url_resolve(base, t[i].ref, strlen(t[i].ref));
		if (t[i].want)
			CHECK_STR(u, t[i].want);
		else
			CHECK(u == NULL);
		free(u);
	}
	CHECK(cd_url_resolve("not-a-url", "/x", 2) == NULL);
	char *u = cd_url_resolve(base, "/x>junk", 2); /* len bytes only */
	CHECK_STR(u, "https://r.example:5000/x");
	free(u);
}

static void test_retry_timing(void)
{
	cd_http_cfg.retry_base_ms = 1000;
	cd_http_cfg.retry_max_ms = 60000;
	CHECK(cd_http_backoff_ms(1, -1) == 1000);
	CHECK(cd_http_backoff_ms(3, -1) == 4000);
	CHECK(cd_http_backoff_ms(1, 5) == 5000);      /* Retry-After wins when longer */
	CHECK(cd_http_backoff_ms(30, -1) == 60000);   /* capped */
	CHECK(cd_http_backoff_ms(1, 100000) == 60000);
	/* The server's number is clamped before it is multiplied (UBSan watches). */
	CHECK(cd_http_backoff_ms(1, LLONG_MAX) == 60000);
	CHECK(cd_http_backoff_ms(1, 9223372036854776LL) == 60000);
	CHECK(cd_http_backoff_ms(1, 0) == 1000);      /* none */
	CHECK(cd_http_backoff_ms(2, -5) == 2000);     /* a date in the past */
	CHECK(cd_http_backoff_ms(1, LLONG_MIN) == 1000);
}

int main(int argc, char **argv)
{
	cd_msg_init(argv[0]);
	test_mirror();
	test_reader();
	test_records();
	test_focus();
	test_buf_and_digest();
	test_retry_timing();
	test_url_resolve();
	return unit_done("foundation");
}
