#ifndef CD_DOWNLOAD_H
#define CD_DOWNLOAD_H
/*
 * Upstream disk images into the cache (cache.h), verified on the way in.
 *
 * - Each file is fetched through cd_http (mirror map, timeouts, retries with
 *   backoff) and hashed with the upstream checksum's algorithm while the
 *   bytes arrive: no second read.
 * - A transfer cut in the middle resumes with a Range request from the last
 *   byte written; the hash goes on from where it was.  A server that ignores
 *   the range and sends the whole file again is taken from the start.
 * - A run that was killed (Ctrl-C, SIGTERM) leaves the file it was fetching
 *   in the cache (cache.h, .resume): the next run with the same checksum
 *   hashes those bytes again and asks for the rest only, so the whole file
 *   is still checked against the checksum.  A file without a checksum is
 *   always fetched whole.
 * - A checksum mismatch is an error naming the URL, the expected and the
 *   actual digest; nothing of the file is kept.
 * - A compressed upstream file (gzip, xz, bzip2, zstd) is decompressed with
 *   libarchive's raw reader right after it was verified (the checksum is of
 *   the compressed bytes: nothing unverified reaches the decompressor),
 *   hashed as it is written; the cache keeps only the disk, under its own
 *   sha256, and a link to it from the compressed file's checksum.
 * - A file already in the cache under its checksum is not fetched again.
 *   Its bytes are not read here: the caller, who reads them anyway, checks
 *   them against disk_alg:disk_hex and removes the entry when they differ
 *   (cache.h).
 * - Progress: one bar per running transfer on a terminal, else one line per
 *   finished step (progress.h).
 */
#include <stddef.h>

#include "core/digest.h"
#include "upstream/cache.h"

struct cd_download {
	/* in, borrowed for the call */
	const char *url;          /* upstream URL (the mirror map rewrites the fetch) */
	const char *checksum;     /* "sha256:<hex>" or "sha512:<hex>"; NULL: none published */
	const char *compression;  /* NULL, "none", "gzip", "xz", "bzip2" or "zstd" */
	const char *label;        /* names the file in progress lines, e.g. "fedora:41 amd64" */
	long long size_hint;      /* expected bytes for the progress bar, 0 if unknown */
	/* out, owned by the struct */
	char *path;               /* the disk file in the cache, ready for the layer */
	char hex[CD_HEX_MAX];     /* the verified checksum (computed sha256 if none was given) */
	enum cd_hash disk_alg;    /* what path's bytes hash to (its cache name): */
	char disk_hex[CD_HEX_MAX]; /*   hex itself, or the decompressed disk's sha256 */
	int from_cache;           /* 1: found in the cache, nothing fetched */
	char *error;              /* why this one failed, or NULL */
};

void cd_download_init(struct cd_download *d);
void cd_download_release(struct cd_download *d);

/* "gzip", "xz", "bzip2", "zstd" -> 1; NULL, "" and "none" -> 0; else -1 (cd_seterr). */
int cd_download_compressed(const char *compression);

/*
 * Fill each d[i].path from the cache, or fetch, verify and store it;
 * up to `parallel` transfers at once.  Returns how many failed (their
 * d[i].error says why); the others are complete.
 */
size_t cd_download_all(const struct cd_cache *c, struct cd_download *d, size_t n, int parallel);

/*
 * Decompress the whole of in_fd (compressed as named) into out_fd, giving
 * every byte written to out (an initialised hasher, or NULL).  -1 and
 * cd_seterr() on a corrupt stream, a different compression or a write error.
 */
int cd_decompress_fd(int in_fd, int out_fd, const char *compression, struct cd_hasher *out);

#endif
