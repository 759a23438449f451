/*
 * Unit tests for net/http: response headers as libcurl keeps them
 * (cd_http_header over curl_easy_header), from a canned answer served on
 * loopback by a thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/msg.h"
#include "net/http.h"
#include "canned.h"
#include "unit.h"
#include "core/banned.h"

static void test_headers(void)
{
	static const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
				"Content-Type:  application/json ; x \t\r\nLocation:\r\n"
				"X-Empty:\r\nX-Blank:   \r\nLink: <a>\r\nlink: <b>\r\n\r\n";
	struct cd_http_req q;
	char url[64], v[64];
	CHECK(get_canned(&q, h, sizeof(h) - 1, url, sizeof(url)) == 0 && q.status == 200);
	CHECK(cd_http_header(&q, "content-type", v, sizeof(v)) == 1);
	CHECK_STR(v, "application/json ; x");
	CHECK(cd_http_header(&q, "Content-Type", v, 8) == 0); /* too long for out */
	CHECK(cd_http_header(&q, "Location", v, sizeof(v)) == 1 && !v[0]);
	CHECK(cd_http_header(&q, "Range", v, sizeof(v)) == 0);
	CHECK(cd_http_header(&q, "X-Blank", v, sizeof(v)) == 1 && !v[0]);
	CHECK(cd_http_header(&q, "Link", v, sizeof(v)) == 1); /* the last one */
	CHECK_STR(v, "<b>");
	cd_http_req_release(&q);
}

/* A NUL inside a header value: never a value cut short where C strings read it. */
static void test_header_nul(void)
{
	static const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
				"Docker-Content-Digest: sha256:ab\0cd\r\n\r\n";
	struct cd_http_req q;
	char url[64], v[64];
	int r = get_canned(&q, h, sizeof(h) - 1, url, sizeof(url));
	CHECK(r == -1 || cd_http_header(&q, "Docker-Content-Digest", v, sizeof(v)) == 0);
	cd_http_req_release(&q);
}

/* The header block stays bounded (CD_HTTP_HEADERS_MAX) though libcurl keeps it. */
static void test_header_bound(void)
{
	struct cd_buf b;
	cd_buf_init(&b, 0);
	CHECK(cd_buf_adds(&b, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n") == 0);
	int added = 0;
	for (int i = 0; i < 2000; i++)
		added += cd_buf_addf(&b, "X-Filler-%d: %064d\r\n", i, i) == 0;
	CHECK(added == 2000);
	CHECK(cd_buf_adds(&b, "\r\n") == 0);
	struct cd_http_req q;
	char url[64];
	CHECK(get_canned(&q, b.p, b.len, url, sizeof(url)) == -1);
	cd_http_req_release(&q);
	cd_buf_release(&b);
}

int main(int argc, char **argv)
{
	cd_msg_init(argv[0]);
	cd_http_global_init();
	test_headers();
	test_header_nul();
	test_header_bound();
	cd_http_global_cleanup();
	return unit_done("http");
}
