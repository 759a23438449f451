#ifndef CD_URL_H
#define CD_URL_H
/*
 * URLs: resolving a reference against a base through libcurl's URL API
 * (curl_url()), and URLs as messages show them: a user:password in one (a
 * mirror's, a registry given with it) is never printed.
 *
 * Redaction stays by hand, on purpose: it must hide a password in any
 * string a user gave, URL or not (curl_url() refuses many), show the rest
 * as given (curl_url() normalises what it prints back) and find the
 * offset of the password to wipe it in place (cd_url_userinfo), which
 * curl_url() does not tell.
 */
#include <stddef.h>

/*
 * ref (len bytes) resolved against the absolute http(s) URL base as a
 * browser would (RFC 3986): an absolute http(s) URL as it is, "/path" on
 * base's origin, "path" in base's folder.  A new string, or NULL when base
 * or ref is not a URL or the result's scheme is not http or https.
 */
char *cd_url_resolve(const char *base, const char *ref, size_t len);

/* A copy of url fit for messages: any user:password@ is replaced by "***@". */
char *cd_url_redact(const char *url);
/*
 * Where url's "user:password" (before the '@' of its authority) is: 1 with
 * its offset and length, 0 when it has none.  For wiping it in place.
 */
int cd_url_userinfo(const char *url, size_t *off, size_t *len);

#endif
