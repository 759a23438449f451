#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/msg.h"
#include "core/banned.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *cd_base64_encode(const void *p, size_t n)
{
	if (n > (size_t)INT_MAX / 4 * 3)
		cd_oom();
	char *out = cd_xmalloc((n + 2) / 3 * 4 + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

int cd_base64_decode_flags(const char *s, size_t len, unsigned flags, char **out, size_t *outlen)
{
	while (len && s[len - 1] == '=')
		len--;
	/* EVP_DecodeBlock skips whitespace and takes '=' inside: check the alphabet first */
	if (len % 4 == 1 || len > (size_t)INT_MAX / 2)
		return cd_seterr("malformed base64");
	size_t padded = (len + 3) / 4 * 4;
	char *in = cd_xmalloc(padded + 1);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (flags & CD_BASE64_URL)
			c = c == '-' ? '+' : c == '_' ? '/' : c;
		if (!c || !strchr(alphabet, c)) {
			OPENSSL_cleanse(in, i);
			free(in);
			return cd_seterr("malformed base64");
		}
		in[i] = c;
	}
	memset(in + len, '=', padded - len);
	unsigned char *o = cd_xmalloc(padded / 4 * 3 + 1);
	int n = EVP_DecodeBlock(o, (const unsigned char *)in, (int)padded);
	OPENSSL_cleanse(in, padded);
	free(in);
	if (n < 0) {
		free(o);
		return cd_seterr("malformed base64");
	}
	/* EVP_DecodeBlock counts the padding's bytes as zeros */
	size_t k = (size_t)n - (padded - len);
	o[k] = '\0';
	*out = (char *)o;
	if (outlen)
		*outlen = k;
	return 0;
}

int cd_base64_decode(const char *s, size_t len, char **out, size_t *outlen)
{
	return cd_base64_decode_flags(s, len, 0, out, outlen);
}
