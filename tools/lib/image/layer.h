#ifndef CD_LAYER_H
#define CD_LAYER_H
/*
 * The containerdisk layer, written in one pass over the disk file:
 *
 *   disk/          dir, mode 0555, uid/gid 107, uname/gname qemu
 *   disk/disk.img  file, mode 0444, uid/gid 107, uname/gname qemu
 *
 * The tar stream, its compression and both digests (diff_id: sha256 of the
 * tar; digest: sha256 of the blob as written) are produced as the bytes go
 * by.  Output is reproducible: the same disk bytes and options give the same
 * blob on every run and machine (fixed mtime, fixed block layout).
 *
 * Gzip output is one valid gzip member any gunzip reads; it is compressed
 * on opts->threads threads, and blocks that do not compress are stored.
 */
#include "core/digest.h"

/* Owner of both entries: the qemu user KubeVirt's container-disk runs as. */
#define CD_DISK_UID 107
#define CD_DISK_GID 107

enum cd_compression {
	CD_COMP_GZIP,
	CD_COMP_ZSTD,
	CD_COMP_NONE,
};

struct cd_layer_opts {
	enum cd_compression comp;
	int threads;        /* 0: number of online CPUs */
	long long mtime;    /* tar mtime of both entries (SOURCE_DATE_EPOCH or 0) */
	int level;          /* 0: the compression's fast default */
};

struct cd_layer_result {
	char digest[CD_DIGEST_MAX];  /* "sha256:..." of the blob */
	char diff_id[CD_DIGEST_MAX]; /* "sha256:..." of the uncompressed tar */
	long long size;              /* blob bytes written */
};

/* "gzip", "zstd", "none" -> enum; -1 if unknown. */
int cd_compression_parse(const char *s, enum cd_compression *out);
const char *cd_compression_name(enum cd_compression c);

/*
 * Read exactly disk_size bytes from disk_fd (a file or a pipe) and write the
 * layer blob to out_fd.  disk, when not NULL, is an initialised hasher of
 * the caller's that gets every disk byte in order, in the same pass (so a
 * disk is checked against its expected digest without a second read); the
 * caller finalises it.  -1 and cd_seterr() on any read, write or
 * compression error (a short disk, ENOSPC); the caller removes the output.
 */
int cd_layer_write(int disk_fd, long long disk_size, int out_fd, const struct cd_layer_opts *opts,
		   struct cd_hasher *disk, struct cd_layer_result *res);

#endif
