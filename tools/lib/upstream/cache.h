#ifndef CD_CACHE_H
#define CD_CACHE_H
/*
 * The content-addressed download cache (--cache DIR).
 *
 *   DIR/sha256/<hex>        a file whose bytes hash to <hex>: an upstream
 *                           file, or the decompressed disk of one
 *   DIR/sha256/<hex>.disk   for a compressed upstream file whose sha256 is
 *                           <hex>: a symbolic link to the entry of its
 *                           decompressed disk, "../sha256/<disk hex>" (the
 *                           compressed bytes are not kept)
 *   DIR/sha512/...          the same for sha512 checksums (the disks they
 *                           link to are under sha256/)
 *   DIR/tmp/<x>.part        files being written: never looked up, renamed
 *                           into place only once complete and hashed;
 *                           flock()ed while in use, so that cd_cache_open()
 *                           removes those of killed runs
 *   DIR/tmp/<alg>-<hex>.resume
 *                           the download of a file whose checksum is known,
 *                           while it runs (flock()ed) and after the run was
 *                           killed (Ctrl-C, SIGTERM): the next run takes it
 *                           up where it stopped.  Removed when the download
 *                           fails or once renamed into place; its bytes are
 *                           hashed again before they count (download.h)
 *
 * A file under sha256/ or sha512/ is named by the digest of its own bytes,
 * hashed as they were written, and the name is only ever created by
 * rename(2) of the complete file once that hash matched: a file found there
 * is whole, and right unless something changed it since (a disk fault, an
 * old bug).  So that such a file is never used, a reader that reuses it
 * hashes it again in the pass that reads it anyway (cd-build's layer
 * writer) and removes it with cd_cache_remove() when it is wrong: the next
 * run fetches it afresh.
 * Several processes may share one cache: the last rename of identical
 * content wins.
 */
#include "core/digest.h"

struct cd_cache {
	char *dir;
};

/* $XDG_CACHE_HOME/cdkit, else $HOME/.cache/cdkit.  Caller frees; NULL if neither is set. */
char *cd_cache_default_dir(void);

/* Create DIR and its subfolders as needed.  -1 and cd_seterr() on failure. */
int cd_cache_open(struct cd_cache *c, const char *dir);
void cd_cache_release(struct cd_cache *c);

/* DIR/<alg>/<hex>.  Caller frees. */
char *cd_cache_path(const struct cd_cache *c, enum cd_hash alg, const char *hex);
/* Is that entry there (a regular file)? */
int cd_cache_has(const struct cd_cache *c, enum cd_hash alg, const char *hex);
/* Remove that entry: its bytes turned out not to hash to its name. */
void cd_cache_remove(const struct cd_cache *c, enum cd_hash alg, const char *hex);

/*
 * A new empty temporary file DIR/tmp/<hint>.XXXXXX.part, open read-write
 * and locked.  Returns the fd and sets *path (caller frees, and unlinks it
 * unless it was committed).  -1 and cd_seterr() on failure.
 */
int cd_cache_tmp(const struct cd_cache *c, const char *hint, char **path);
/*
 * The resumable temporary file of the download of alg:hex, open read-write
 * at its end and locked; *have = the bytes an interrupted run left in it
 * (0: new).  When another run holds it (fetching the same file now), a
 * fresh cd_cache_tmp() file instead, *have 0.  *path as cd_cache_tmp().
 * -1 and cd_seterr() on failure.
 */
int cd_cache_resumable(const struct cd_cache *c, enum cd_hash alg, const char *hex,
		       char **path, long long *have);
/*
 * Rename a finished temporary file to the entry DIR/<alg>/<hex>; the caller
 * hashed its bytes to hex as it wrote them.  -1 and cd_seterr().
 */
int cd_cache_commit(const struct cd_cache *c, const char *tmp, enum cd_hash alg, const char *hex);

/*
 * The disk of the compressed upstream file alg:hex.  1 with disk_hex (its
 * sha256) when DIR/<alg>/<hex>.disk links to an entry that is there, else
 * 0.  A .disk name that is no such link (an older cdkit kept the disk
 * itself there, named by the compressed digest: nothing can check it) is
 * removed.
 */
int cd_cache_disk_find(const struct cd_cache *c, enum cd_hash alg, const char *hex,
		       char disk_hex[CD_HEX_MAX]);
/* Link DIR/<alg>/<hex>.disk to the entry sha256/<disk_hex>.  -1 and cd_seterr(). */
int cd_cache_disk_link(const struct cd_cache *c, enum cd_hash alg, const char *hex, const char *disk_hex);

/* Total bytes and number of entries in the cache (temporary files not counted). */
void cd_cache_usage(const struct cd_cache *c, long long *bytes, long *files);

#endif
