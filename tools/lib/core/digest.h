#ifndef CD_DIGEST_H
#define CD_DIGEST_H
/*
 * Digests with OpenSSL EVP (SHA instructions where the CPU has them).
 * Digest strings are "<alg>:<lowercase hex>", alg sha256 or sha512.
 */
#include <stddef.h>
#include <openssl/evp.h>

enum cd_hash { CD_HASH_SHA256, CD_HASH_SHA512 };

#define CD_HEX_MAX 129 /* sha512 hex + NUL */
#define CD_DIGEST_MAX (7 + CD_HEX_MAX)

struct cd_hasher {
	EVP_MD_CTX *ctx;
	enum cd_hash alg;
};

int cd_hasher_init(struct cd_hasher *h, enum cd_hash alg);
void cd_hasher_update(struct cd_hasher *h, const void *p, size_t n);
/* Write the lowercase hex digest (and reset nothing: call release after). */
void cd_hasher_final_hex(struct cd_hasher *h, char hex[CD_HEX_MAX]);
void cd_hasher_release(struct cd_hasher *h);

const char *cd_hash_name(enum cd_hash alg);
size_t cd_hash_hexlen(enum cd_hash alg);
/*
 * Split and check "<alg>:<hex>": known alg, right length, lowercase hex.
 * *hex points into s.  -1 and cd_seterr() when malformed.
 */
int cd_digest_parse(const char *s, enum cd_hash *alg, const char **hex);
/* "sha256:<hex>" of a buffer into out (CD_DIGEST_MAX). */
void cd_sha256_digest(const void *p, size_t n, char out[CD_DIGEST_MAX]);
/* Does the buffer have this digest?  Constant-time compare.  -1 if want is malformed. */
int cd_digest_check(const char *want, const void *p, size_t n);
void cd_hex(const unsigned char *in, size_t n, char *out);

#endif
