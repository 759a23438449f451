/*
 * The disk probe and the qcow2 table scan (cdcheck.c cd_disk_probe,
 * cd_qcow2_scan_*): the input is a whole disk.image.  The scan sees the
 * file as it streams out of a tar, so its verdict must not depend on how
 * the stream is cut: it runs once in one piece and once in pieces of a
 * size the last byte picks, and both must agree.
 */
#include "core/limits.h"
#include "image/disk.h"
#include "fuzz.h"
#include "core/banned.h"

struct verdict {
	int ret;
	uint64_t need;
	unsigned long unchecked;
};

static struct verdict scan(const struct cd_disk_info *info, const uint8_t *data, size_t size, size_t piece)
{
	struct cd_qcow2_scan s;
	struct verdict v = { 0, 0, 0 };
	cd_qcow2_scan_init(&s, info);
	for (size_t off = 0; off < size && v.ret == 0; off += piece)
		v.ret = cd_qcow2_scan_feed(&s, data + off, size - off < piece ? size - off : piece);
	if (v.ret == 0)
		v.ret = cd_qcow2_scan_finish(&s);
	v.need = s.need;
	v.unchecked = s.unchecked;
	FUZZ_ASSERT(s.held <= CD_QCOW2_MAX_TABLES);
	cd_qcow2_scan_release(&s);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cd_disk_info info;
	size_t n = size < CD_DISK_PROBE_LEN ? size : CD_DISK_PROBE_LEN;
	if (cd_disk_probe(data, n, size, &info) < 0)
		return 0;
	FUZZ_ASSERT(info.format == CD_DISK_QCOW2 || info.format == CD_DISK_RAW);
	FUZZ_ASSERT(info.virtual_size > 0 && info.virtual_size <= CD_DISK_MAX_VSIZE);
	if (info.format != CD_DISK_QCOW2)
		return 0;
	FUZZ_ASSERT(info.version == 2 || info.version == 3);
	FUZZ_ASSERT(info.cluster_bits >= 9 && info.cluster_bits <= 21);
	struct verdict whole = scan(&info, data, size, size ? size : 1);
	struct verdict cut = scan(&info, data, size, 1 + data[size - 1] % 97);
	FUZZ_ASSERT((whole.ret == 0) == (cut.ret == 0));
	if (whole.ret == 0)
		FUZZ_ASSERT(whole.need == cut.need && whole.unchecked == cut.unchecked);
	return 0;
}
