#ifndef CD_LAYER_CHECK_H
#define CD_LAYER_CHECK_H
/*
 * Checks a containerdisk layer the way KubeVirt consumes it.
 *
 * KubeVirt's container-disk runs as the qemu user (uid/gid 107) and hands
 * /disk/disk.img to qemu, which probes the format.  So a layer is good when:
 *   - it is a tar (gzip, zstd or uncompressed, as its media type says) whose
 *     entries are disk/ (optional) and disk/disk.img, nothing else;
 *   - both belong to uid and gid 107 and the qemu user can read them;
 *   - disk.img is a regular file holding a disk image disk.h accepts.
 *
 * Everything here parses untrusted bytes: sizes and offsets are checked
 * before use, and memory kept per image is bounded.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/digest.h"
#include "image/disk.h"

enum cd_layer_filter { CD_FILTER_ANY, CD_FILTER_NONE, CD_FILTER_GZIP, CD_FILTER_ZSTD };

struct cd_layer_check {
	char diff_id[CD_DIGEST_MAX]; /* "sha256:<hex>" of the uncompressed tar */
	struct cd_disk_info disk;
	uint64_t disk_bytes;      /* size of disk/disk.img */
	int have_dir;             /* a disk/ entry was there */
	unsigned long unchecked;  /* qcow2 tables the scan could not reach */
};

/*
 * Read a layer blob from fd to its end (the caller's digest sees every
 * byte) and check it as above, computing its diff_id on the way.  want:
 * the compression its media type names.  extract_fd >= 0: disk.img is also written there (for booting).
 * 0 when the layer is good; -1 and cd_seterr() with the first problem.
 */
int cd_layer_check(int fd, enum cd_layer_filter want, int extract_fd, struct cd_layer_check *res);

#endif
