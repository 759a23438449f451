#ifndef CD_CACHE_H
#define CD_CACHE_H
/*
 * The content-addressed download cache (--cache DIR).
 *
 *   DIR/sha256/<hex>        an upstream file whose sha256 is <hex>, verified
 *   DIR/sha256/<hex>.disk   the decompressed disk of a compressed upstream
 *                           file whose sha256 is <hex> (the compressed bytes
 *                           are not kept)
 *   DIR/sha512/...          the same for sha512 checksums
 *   DIR/tmp/<x>.part        files being written: never looked up, renamed
 *                           into place only once verified and complete;
 *                           flock()ed while in use, so that cd_cache_open()
 *                           removes those of killed runs
 *
 * A name under sha256/ or sha512/ is only ever created by rename(2) of a
 * complete, verified file, so a file found there is whole.  Several
 * processes may share one cache: the last rename of identical content wins.
 */
#include "digest.h"

struct cd_cache {
	char *dir;
};

/* $XDG_CACHE_HOME/cdkit, else $HOME/.cache/cdkit.  Caller frees; NULL if neither is set. */
char *cd_cache_default_dir(void);

/* Create DIR and its subfolders as needed.  -1 and cd_seterr() on failure. */
int cd_cache_open(struct cd_cache *c, const char *dir);
void cd_cache_release(struct cd_cache *c);

/* DIR/<alg>/<hex><suffix> (suffix "" or ".disk").  Caller frees. */
char *cd_cache_path(const struct cd_cache *c, enum cd_hash alg, const char *hex, const char *suffix);
/* Is that entry there (a regular file)? */
int cd_cache_has(const struct cd_cache *c, enum cd_hash alg, const char *hex, const char *suffix);

/*
 * A new empty temporary file DIR/tmp/<hint>.XXXXXX.part, open read-write.
 * Returns the fd and sets *path (caller frees, and unlinks it unless it
 * was committed).  -1 and cd_seterr() on failure.
 */
int cd_cache_tmp(const struct cd_cache *c, const char *hint, char **path);
/* Rename a finished temporary file to its entry name.  -1 and cd_seterr(). */
int cd_cache_commit(const struct cd_cache *c, const char *tmp, enum cd_hash alg,
		    const char *hex, const char *suffix);

/* Total bytes and number of entries in the cache (temporary files not counted). */
void cd_cache_usage(const struct cd_cache *c, long long *bytes, long *files);

#endif
