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
 * Its bytes also depend on the deflate engine and level: zlib's, or ISA-L's
 * igzip (the default where the build has it), whose output at some levels
 * also depends on the CPU's instruction set (see README, "Reproducible").
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

/* The deflate engine of gzip layers. */
enum cd_deflate {
	CD_DEFLATE_DEFAULT, /* ISA-L where the build has it, else zlib */
	CD_DEFLATE_ZLIB,
	CD_DEFLATE_ISAL,    /* an error in a build without ISA-L */
};

/*
 * ISA-L's level for gzip layers: on a disk of binaries, level 2 deflates
 * about as fast as level 1, at 1.6% more bytes than gzip -1 against 3.1%;
 * level 3 takes twice the time, and its output differs between CPUs with
 * AVX2 and without (bench/run prints the figures).
 */
#define CD_LAYER_ISAL_LEVEL 2

struct cd_layer_opts {
	enum cd_compression comp;
	int threads;        /* 0: number of online CPUs */
	long long mtime;    /* tar mtime of both entries (SOURCE_DATE_EPOCH or 0) */
	int level;          /* 0: the fast default; gzip: zlib 1-9, ISA-L 1-3 (CD_LAYER_ISAL_LEVEL) */
	enum cd_deflate deflate; /* gzip only */
};

struct cd_layer_result {
	char digest[CD_DIGEST_MAX];  /* "sha256:..." of the blob */
	char diff_id[CD_DIGEST_MAX]; /* "sha256:..." of the uncompressed tar */
	long long size;              /* blob bytes written */
};

/* "gzip", "zstd", "none" -> enum; -1 if unknown. */
int cd_compression_parse(const char *s, enum cd_compression *out);
const char *cd_compression_name(enum cd_compression c);

/* "zlib", "isal" -> enum; -1 if unknown or not in this build.  Only tests and bench/layer-bench.c call it. */
int cd_deflate_parse(const char *s, enum cd_deflate *out);

/*
 * What CD_DEFLATE_DEFAULT deflates with in this build, the things the
 * bytes of a gzip layer depend on: "isa-l 2.30.0 level 2" (the version of
 * the headers built against) or "zlib 1.2.13 level 1".  A static string.
 * Only tests and bench/layer-bench.c call it.
 */
const char *cd_layer_gzip_engine(void);

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
