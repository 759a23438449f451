#ifndef CD_URL_H
#define CD_URL_H
/*
 * URLs as messages show them: a user:password in one (a mirror's, a
 * registry given with it) is never printed.
 */
#include <stddef.h>

/* A copy of url fit for messages: any user:password@ is replaced by "***@". */
char *cd_url_redact(const char *url);
/*
 * Where url's "user:password" (before the '@' of its authority) is: 1 with
 * its offset and length, 0 when it has none.  For wiping it in place.
 */
int cd_url_userinfo(const char *url, size_t *off, size_t *len);

#endif
