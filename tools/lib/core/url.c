/* URLs: resolution (libcurl) and redaction for messages (url.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>

#include "core/buf.h"
#include "core/msg.h"
#include "core/url.h"
#include "core/banned.h"

int cd_url_userinfo(const char *url, size_t *off, size_t *len)
{
	const char *scheme = strstr(url, "://");
	if (!scheme)
		return 0;
	const char *host = scheme + 3;
	const char *end = host + strcspn(host, "/?#");
	const char *at = memrchr(host, '@', (size_t)(end - host));
	if (!at)
		return 0;
	*off = (size_t)(host - url);
	*len = (size_t)(at - host);
	return 1;
}

char *cd_url_redact(const char *url)
{
	size_t off, len;
	if (!cd_url_userinfo(url, &off, &len))
		return cd_xstrdup(url);
	return cd_xasprintf("%.*s***%s", (int)off, url, url + off + len);
}

char *cd_url_resolve(const char *base, const char *ref, size_t len)
{
	CURLU *u = curl_url();
	char *r = cd_xstrndup(ref, len), *scheme = NULL, *got = NULL, *out = NULL;
	if (!u)
		cd_oom();
	if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, r, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    (!strcasecmp(scheme, "http") || !strcasecmp(scheme, "https")) &&
	    curl_url_get(u, CURLUPART_URL, &got, 0) == CURLUE_OK)
		out = cd_xstrdup(got);
	curl_free(scheme);
	curl_free(got);
	curl_url_cleanup(u);
	free(r);
	return out;
}
