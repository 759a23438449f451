/*
 * The tar layer checker (cdcheck.c cd_cdcheck_layer): a layer blob read
 * from a file descriptor, as cd-verify streams it.  Byte 0 picks the
 * compression the media type names, and whether disk.img is extracted.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "core/digest.h"
#include "image/disk.h"
#include "image/layer-check.h"
#include "fuzz.h"
#include "core/banned.h"

static int memfd_with(const uint8_t *p, size_t n)
{
	int fd = memfd_create("layer", MFD_CLOEXEC);
	FUZZ_ASSERT(fd >= 0);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, p + off, n - off);
		FUZZ_ASSERT(w > 0);
		off += (size_t)w;
	}
	FUZZ_ASSERT(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum cd_layer_filter filters[] = { CD_FILTER_ANY, CD_FILTER_NONE, CD_FILTER_GZIP, CD_FILTER_ZSTD };
	if (size < 1)
		return 0;
	enum cd_layer_filter want = filters[data[0] & 3];
	int extract = (data[0] & 4) != 0;
	int fd = memfd_with(data + 1, size - 1);
	int out = extract ? memfd_create("disk", MFD_CLOEXEC) : -1;
	struct cd_layer_check res;
	int r = cd_layer_check(fd, want, out, &res);
	/* the caller's digest saw every byte: the blob was read to its end */
	FUZZ_ASSERT(lseek(fd, 0, SEEK_CUR) == (off_t)(size - 1));
	if (r == 0) {
		FUZZ_ASSERT(!strncmp(res.diff_id, "sha256:", 7) && fuzz_digest_ok(res.diff_id));
		FUZZ_ASSERT(res.disk.format == CD_DISK_QCOW2 || res.disk.format == CD_DISK_RAW);
		FUZZ_ASSERT(res.disk_bytes > 0);
		if (want == CD_FILTER_NONE) {
			char d[CD_DIGEST_MAX];
			cd_sha256_digest(data + 1, size - 1, d);
			FUZZ_ASSERT(!strcmp(d, res.diff_id));
		}
		if (extract)
			FUZZ_ASSERT(lseek(out, 0, SEEK_END) == (off_t)res.disk_bytes);
	}
	if (out >= 0)
		close(out);
	close(fd);
	return 0;
}
