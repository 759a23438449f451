#ifndef CD_DISK_H
#define CD_DISK_H
/*
 * What a disk image is, read from its bytes: a qcow2 image (version 2 or
 * 3, sane cluster size, no backing file, no external data file, not
 * encrypted, not marked corrupt, every table and data cluster inside the
 * file) or a raw disk with a boot signature, of a sane virtual size.
 *
 * Everything here parses untrusted bytes: sizes and offsets are checked
 * before use, and memory kept per image is bounded.
 */
#include <stddef.h>
#include <stdint.h>


enum cd_disk_format { CD_DISK_UNKNOWN, CD_DISK_QCOW2, CD_DISK_RAW };

struct cd_disk_info {
	enum cd_disk_format format;
	unsigned version;         /* qcow2 version */
	unsigned cluster_bits;
	uint64_t virtual_size;
	/* qcow2 tables, for the scan */
	uint64_t l1_offset;
	uint32_t l1_size;
	uint64_t refcount_offset;
	uint32_t refcount_clusters;
	uint64_t incompatible;
	uint32_t header_length;
};

/* Bytes of a disk's start that cd_disk_probe() wants to see. */
#define CD_DISK_PROBE_LEN 4096

/*
 * Parse the first n bytes of a disk image of file_size bytes (n may be less
 * than CD_DISK_PROBE_LEN only when the file is that short).  Fills *out and
 * returns 0 for a sane qcow2 or raw disk; -1 and cd_seterr() with the
 * reason otherwise ("not a disk image: xz-compressed data", "qcow2 has a
 * backing file", ...).
 */
int cd_disk_probe(const unsigned char *p, size_t n, uint64_t file_size,
		  struct cd_disk_info *out);

/*
 * Follows a qcow2 file as it streams by (offset order) and checks that every
 * L1 and L2 table entry points inside the file, which catches a truncated
 * image.  Tables met before the L1 table says where they are cannot be
 * checked in a single pass; `unchecked` counts them.
 */
struct cd_qcow2_scan {
	struct cd_disk_info info;
	uint64_t pos;             /* bytes seen */
	uint64_t need;            /* the file must be at least this long */
	unsigned char *l1;        /* the L1 table once captured */
	struct cd_qcow2_range {
		uint64_t off;
		uint32_t len, got;
		unsigned char *buf;
	} *ranges;                /* tables still wanted, sorted by offset */
	size_t nranges, first;
	uint64_t held;            /* bytes of table buffers alive */
	unsigned long unchecked;
	int failed;
};

/* info is a qcow2 from cd_disk_probe().  Borrowed values copied. */
void cd_qcow2_scan_init(struct cd_qcow2_scan *s, const struct cd_disk_info *info);
/* Feed the next n bytes of the file.  -1 and cd_seterr() on a bad table. */
int cd_qcow2_scan_feed(struct cd_qcow2_scan *s, const void *p, size_t n);
/* At the end of the file: -1 and cd_seterr() if it is too short. */
int cd_qcow2_scan_finish(struct cd_qcow2_scan *s);
void cd_qcow2_scan_release(struct cd_qcow2_scan *s);

#endif
