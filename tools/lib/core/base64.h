#ifndef CD_BASE64_H
#define CD_BASE64_H
/*
 * Base64 through OpenSSL (EVP_EncodeBlock, EVP_DecodeBlock): the "auth"
 * of auth files, Basic credentials, base64 checksum values.
 */
#include <stddef.h>

enum cd_base64_flags {
	CD_BASE64_URL = 1 << 0, /* also take the URL alphabet's '-' and '_' (RFC 4648 5) */
};

/* Standard alphabet, padded; caller frees. */
char *cd_base64_encode(const void *p, size_t n);

/*
 * Decode base64 of len bytes (padding optional, no whitespace, the
 * standard alphabet, and the URL one's with CD_BASE64_URL); *out is
 * NUL-terminated, caller frees (and wipes when it held a secret).  -1 and
 * cd_seterr("malformed base64") when malformed.
 */
int cd_base64_decode_flags(const char *s, size_t len, unsigned flags, char **out, size_t *outlen);
/* cd_base64_decode_flags() with the standard alphabet only. */
int cd_base64_decode(const char *s, size_t len, char **out, size_t *outlen);

#endif
