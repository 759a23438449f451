/* URLs in messages (url.h). */
#include <string.h>

#include "core/buf.h"
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
