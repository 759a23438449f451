#include <string.h>
#include <openssl/crypto.h>

#include "core/digest.h"
#include "core/error.h"
#include "core/banned.h"

const char *cd_hash_name(enum cd_hash alg)
{
	return alg == CD_HASH_SHA512 ? "sha512" : "sha256";
}

size_t cd_hash_hexlen(enum cd_hash alg)
{
	return alg == CD_HASH_SHA512 ? 128 : 64;
}

int cd_hasher_init(struct cd_hasher *h, enum cd_hash alg)
{
	h->alg = alg;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || !EVP_DigestInit_ex(h->ctx, alg == CD_HASH_SHA512 ? EVP_sha512() : EVP_sha256(), NULL))
		return cd_seterr("cannot initialise %s", cd_hash_name(alg));
	return 0;
}

void cd_hasher_update(struct cd_hasher *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->ctx, p, n);
}

void cd_hex(const unsigned char *in, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[in[i] >> 4];
		out[2 * i + 1] = x[in[i] & 15];
	}
	out[2 * n] = '\0';
}

void cd_hasher_final_hex(struct cd_hasher *h, char hex[CD_HEX_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	cd_hex(md, n, hex);
}

void cd_hasher_release(struct cd_hasher *h)
{
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}

int cd_digest_parse(const char *s, enum cd_hash *alg, const char **hex)
{
	const char *h;
	if (!strncmp(s, "sha256:", 7)) {
		*alg = CD_HASH_SHA256;
		h = s + 7;
	} else if (!strncmp(s, "sha512:", 7)) {
		*alg = CD_HASH_SHA512;
		h = s + 7;
	} else {
		return cd_seterr("unsupported digest '%.80s'", s);
	}
	size_t n = strspn(h, "0123456789abcdef");
	if (n != cd_hash_hexlen(*alg) || h[n])
		return cd_seterr("malformed digest '%.80s'", s);
	*hex = h;
	return 0;
}

void cd_sha256_digest(const void *p, size_t n, char out[CD_DIGEST_MAX])
{
	unsigned char md[32];
	EVP_Digest(p, n, md, NULL, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	cd_hex(md, 32, out + 7);
}

int cd_digest_check(const char *want, const void *p, size_t n)
{
	enum cd_hash alg;
	const char *hex;
	char got[CD_HEX_MAX];
	struct cd_hasher h;
	if (cd_digest_parse(want, &alg, &hex) < 0)
		return -1;
	if (cd_hasher_init(&h, alg) < 0)
		return -1;
	cd_hasher_update(&h, p, n);
	cd_hasher_final_hex(&h, got);
	cd_hasher_release(&h);
	return CRYPTO_memcmp(got, hex, cd_hash_hexlen(alg)) == 0;
}
