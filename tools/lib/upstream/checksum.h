#ifndef CD_CHECKSUM_H
#define CD_CHECKSUM_H
/*
 * Checksum files as distributions publish them.  Pure functions: no I/O.
 *
 * Understood line forms (one entry per line, file order kept):
 *   BSD     "SHA256 (name) = hex"   (also SHA512)
 *   GNU     "hex  name", "hex *name", "hex name"
 *   single  "hex" alone (name "")
 * and the comment "# name: N bytes" (CentOS) gives the size of name.
 *
 * Everything else -- comments, wget logs, PGP armour, blank lines -- is
 * ignored.  A hex string whose length does not fit its algorithm (sha256:
 * 64, sha512: 128; GNU lines are told apart by length) is ignored too, so
 * a truncated line is never misread as a checksum.
 */
#include <stddef.h>

struct cd_checksum_entry {
	char *name;             /* owned; "" for a bare checksum line */
	char digest[7 + 129];   /* "sha256:<hex>" or "sha512:<hex>", lowercase */
	long long size;         /* -1 when the file does not say */
};

struct cd_checksum_list {
	struct cd_checksum_entry *v;
	size_t n, alloc;
};

/* Parse text (len bytes, need not be NUL-terminated) into out (appends). */
void cd_checksum_parse(const char *text, size_t len, struct cd_checksum_list *out);
void cd_checksum_list_release(struct cd_checksum_list *l);
/* The first entry named name, or NULL.  Only tests call it (tests/unit/test-checksum.c, tests/fuzz/fuzz-checksum.c). */
const struct cd_checksum_entry *cd_checksum_find(const struct cd_checksum_list *l,
						 const char *name);

/*
 * Normalise "<alg>:<value>" into "<alg>:<lowercase hex>" (out holds 137
 * bytes): value is hex, or base64 (padded or not, standard or URL
 * alphabet, as Debian publishes sha512).  -1 and cd_seterr() when the
 * algorithm is unknown or the value does not have the algorithm's length.
 */
int cd_checksum_normalize(const char *in, char *out, size_t outlen);

#endif
