/*
 * HTTP response headers as registries and upstreams send them: the raw
 * answer (status line and header block), served on loopback to
 * cd_http_perform(), so that libcurl parses and keeps it and
 * cd_http_header() reads it (curl_easy_header()); then what is read from
 * it: Retry-After and the backoff it sets (cd_http_backoff_ms), Range
 * (cd_http_byte_range), WWW-Authenticate (auth.c) and Link (tags.c).
 */
#include <stdlib.h>

#include "core/buf.h"
#include "net/http.h"
#include "../unit/canned.h"
#include "registry/auth.h"
#include "registry/tags.h"
#include "fuzz.h"
#include "core/banned.h"

/* cd_http_header into a buffer of outlen bytes; the value or NULL. */
static const char *header(const struct cd_http_req *q, const char *name, char *out, size_t outlen)
{
	if (!cd_http_header(q, name, out, outlen))
		return NULL;
	size_t n = strlen(out);
	FUZZ_ASSERT(n < outlen);
	FUZZ_ASSERT(!strchr(out, '\n'));
	FUZZ_ASSERT(!n || (out[0] != ' ' && out[0] != '\t' && out[n - 1] != '\r'));
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		cd_http_global_init();
		cd_http_cfg.connect_timeout = 2;
		cd_http_cfg.timeout = 2;
		init = 1;
	}
	struct cd_http_req q;
	char url[64];
	(void)get_canned(&q, (const char *)data, size, url, sizeof(url));
	char v[8192];
	const char *s;
	static const char *const names[] = { "Content-Type", "Content-Length", "Docker-Content-Digest",
					     "Location", "Range", "Content-Range" };
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		(void)header(&q, names[i], v, sizeof(v));
		(void)header(&q, names[i], v, 64);
	}
	if ((s = header(&q, "Retry-After", v, 64))) {
		/* libcurl parses Retry-After in the tools; the backoff takes any number */
		char *end;
		long after = strtol(s, &end, 10);
		for (int attempt = 1; attempt <= 8; attempt++) {
			long ms = cd_http_backoff_ms(attempt, after);
			FUZZ_ASSERT(ms >= 0 && ms <= cd_http_cfg.retry_max_ms);
		}
	}
	if ((s = header(&q, "WWW-Authenticate", v, sizeof(v)))) {
		struct cd_challenge c;
		if (cd_challenge_parse(&c, s) == 0)
			cd_challenge_release(&c);
	}
	if ((s = header(&q, "Range", v, sizeof(v)))) {
		long long first, last;
		if (cd_http_byte_range(s, "bytes=", &first, &last) == 0)
			FUZZ_ASSERT(first >= 0 && first <= last);
	}
	if ((s = header(&q, "Link", v, sizeof(v)))) {
		char *next;
		if (cd_registry_link_next(s, "https://registry.example.com/v2/x/tags/list", &next) == 1)
			free(next);
	}
	cd_http_req_release(&q);
	return 0;
}
