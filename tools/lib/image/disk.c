#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/limits.h"
#include "image/disk.h"
#include "core/banned.h"

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_V2_HEADER 72
#define QCOW2_V3_HEADER 104
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ULL
#define QCOW2_COMPRESSED (1ULL << 62)
#define QCOW2_MAX_L1_BYTES (32u << 20)  /* qemu's QCOW_MAX_L1_SIZE */
#define QCOW2_MAX_L2_TABLES 65536       /* 32 TiB of 64 KiB clusters */

enum {
	QCOW2_INCOMPAT_DIRTY = 1 << 0,
	QCOW2_INCOMPAT_CORRUPT = 1 << 1,
	QCOW2_INCOMPAT_DATA_FILE = 1 << 2,
	QCOW2_INCOMPAT_COMPRESSION = 1 << 3,
	QCOW2_INCOMPAT_EXTL2 = 1 << 4,
	QCOW2_INCOMPAT_KNOWN = (1 << 5) - 1,
};

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* Does [off, off+len) fit in size bytes, without overflow? */
static int fits(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* Well-known non-disk formats, so that the message says what the file is. */
static const char *known_other(const unsigned char *p, size_t n)
{
	static const struct { const char *magic; size_t len; const char *what; } m[] = {
		{ "\xfd" "7zXZ\0", 6, "xz-compressed data" },
		{ "\x1f\x8b", 2, "gzip-compressed data" },
		{ "\x28\xb5\x2f\xfd", 4, "zstd-compressed data" },
		{ "BZh", 3, "bzip2-compressed data" },
		{ "KDMV", 4, "a VMDK image" },
		{ "vhdxfile", 8, "a VHDX image" },
		{ "conectix", 8, "a VHD image" },
		{ "<<< ", 4, "a VDI image" },
		{ "QED\0", 4, "a QED image" },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (n >= m[i].len && !memcmp(p, m[i].magic, m[i].len))
			return m[i].what;
	return NULL;
}

static int probe_qcow2(const unsigned char *p, size_t n, uint64_t file_size,
		       struct cd_disk_info *d)
{
	if (n < QCOW2_V2_HEADER)
		return cd_seterr("qcow2 header truncated (%zu bytes)", n);
	d->format = CD_DISK_QCOW2;
	d->version = be32(p + 4);
	if (d->version != 2 && d->version != 3)
		return cd_seterr("unsupported qcow2 version %u", d->version);
	d->cluster_bits = be32(p + 20);
	if (d->cluster_bits < 9 || d->cluster_bits > 21)
		return cd_seterr("qcow2 cluster bits %u out of range 9..21", d->cluster_bits);
	uint64_t cluster = 1ULL << d->cluster_bits;
	d->virtual_size = be64(p + 24);
	if (d->virtual_size == 0)
		return cd_seterr("qcow2 virtual size is 0");
	if (d->virtual_size > CD_DISK_MAX_VSIZE)
		return cd_seterr("qcow2 virtual size %llu is beyond 16 TiB",
				 (unsigned long long)d->virtual_size);
	if (be64(p + 8) != 0)
		return cd_seterr("qcow2 has a backing file: a containerdisk must stand alone");
	if (be32(p + 32) != 0)
		return cd_seterr("qcow2 is encrypted");
	d->l1_size = be32(p + 36);
	d->l1_offset = be64(p + 40);
	d->refcount_offset = be64(p + 48);
	d->refcount_clusters = be32(p + 56);
	d->header_length = QCOW2_V2_HEADER;
	if (d->version == 3) {
		if (n < QCOW2_V3_HEADER)
			return cd_seterr("qcow2 v3 header truncated (%zu bytes)", n);
		d->incompatible = be64(p + 72);
		d->header_length = be32(p + 100);
		if (d->header_length < QCOW2_V3_HEADER || d->header_length > cluster)
			return cd_seterr("qcow2 header length %u is not sane", d->header_length);
		if (d->incompatible & QCOW2_INCOMPAT_CORRUPT)
			return cd_seterr("qcow2 is marked corrupt");
		if (d->incompatible & QCOW2_INCOMPAT_DATA_FILE)
			return cd_seterr("qcow2 keeps its data in an external file");
		if (d->incompatible & ~(uint64_t)QCOW2_INCOMPAT_KNOWN)
			return cd_seterr("qcow2 has unknown incompatible features 0x%llx",
					 (unsigned long long)d->incompatible);
	}

	uint64_t entry = d->incompatible & QCOW2_INCOMPAT_EXTL2 ? 16 : 8;
	uint64_t per_l1 = (cluster / entry) * cluster; /* bytes one L1 entry covers */
	uint64_t l1_need = (d->virtual_size + per_l1 - 1) / per_l1;
	if ((uint64_t)d->l1_size * 8 > QCOW2_MAX_L1_BYTES)
		return cd_seterr("qcow2 L1 table of %u entries is too large", d->l1_size);
	if (d->l1_size < l1_need)
		return cd_seterr("qcow2 L1 table of %u entries cannot map %llu bytes",
				 d->l1_size, (unsigned long long)d->virtual_size);
	if (d->l1_offset == 0 || d->l1_offset & (cluster - 1))
		return cd_seterr("qcow2 L1 table offset %llu is not cluster aligned",
				 (unsigned long long)d->l1_offset);
	if (!fits(d->l1_offset, (uint64_t)d->l1_size * 8, file_size))
		return cd_seterr("qcow2 L1 table lies beyond the end of the file (%llu bytes): truncated",
				 (unsigned long long)file_size);
	if (d->refcount_offset == 0 || d->refcount_offset & (cluster - 1) || d->refcount_clusters == 0)
		return cd_seterr("qcow2 refcount table is not sane");
	if (!fits(d->refcount_offset, (uint64_t)d->refcount_clusters << d->cluster_bits, file_size))
		return cd_seterr("qcow2 refcount table lies beyond the end of the file (%llu bytes): truncated",
				 (unsigned long long)file_size);
	return 0;
}

int cd_disk_probe(const unsigned char *p, size_t n, uint64_t file_size,
		  struct cd_disk_info *d)
{
	memset(d, 0, sizeof(*d));
	if (n > file_size)
		n = (size_t)file_size;
	if (file_size == 0)
		return cd_seterr("disk image is empty");
	if (n >= 4 && be32(p) == QCOW2_MAGIC)
		return probe_qcow2(p, n, file_size, d);
	const char *other = known_other(p, n);
	if (other)
		return cd_seterr("not a disk image qemu should boot: %s", other);
	if (n < 512 || p[510] != 0x55 || p[511] != 0xaa)
		return cd_seterr("not a disk image: neither qcow2 nor a raw disk with a boot signature");
	if (file_size % 512)
		return cd_seterr("raw disk of %llu bytes is not a whole number of sectors",
				 (unsigned long long)file_size);
	if (file_size > CD_DISK_MAX_VSIZE)
		return cd_seterr("raw disk of %llu bytes is beyond 16 TiB", (unsigned long long)file_size);
	d->format = CD_DISK_RAW;
	d->virtual_size = file_size;
	return 0;
}

/* ---- the qcow2 table scan ---- */

static void need(struct cd_qcow2_scan *s, uint64_t end)
{
	if (end > s->need)
		s->need = end;
}

void cd_qcow2_scan_init(struct cd_qcow2_scan *s, const struct cd_disk_info *info)
{
	memset(s, 0, sizeof(*s));
	s->info = *info;
	uint32_t len = info->l1_size * 8;
	need(s, info->l1_offset + len);
	need(s, info->refcount_offset + ((uint64_t)info->refcount_clusters << info->cluster_bits));
	if (len) {
		s->ranges = cd_xcalloc(1, sizeof(*s->ranges));
		s->ranges[0].off = info->l1_offset;
		s->ranges[0].len = len;
		s->nranges = 1;
	}
}

static int cmp_off(const void *a, const void *b)
{
	const struct cd_qcow2_range *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* The L1 table is complete at file position done: want every L2 table after it. */
static int take_l1(struct cd_qcow2_scan *s, const unsigned char *l1, uint64_t done)
{
	uint64_t cluster = 1ULL << s->info.cluster_bits;
	struct cd_qcow2_range *r = NULL;
	size_t n = 0;
	for (uint32_t i = 0; i < s->info.l1_size; i++) {
		uint64_t off = be64(l1 + 8 * (size_t)i) & QCOW2_OFFSET_MASK;
		if (!off)
			continue;
		if (off & (cluster - 1)) {
			free(r);
			return cd_seterr("qcow2 L1 entry %u is not cluster aligned", i);
		}
		need(s, off + cluster);
		if (off < done || n >= QCOW2_MAX_L2_TABLES) {
			s->unchecked++;
			continue;
		}
		if (!r)
			r = cd_xcalloc(s->info.l1_size, sizeof(*r));
		r[n].off = off;
		r[n].len = (uint32_t)cluster;
		n++;
	}
	if (n)
		qsort(r, n, sizeof(*r), cmp_off);
	size_t k = 0; /* two L1 entries sharing one L2 table: check it once */
	for (size_t i = 0; i < n; i++)
		if (!k || r[k - 1].off != r[i].off)
			r[k++] = r[i];
	free(s->ranges);
	s->ranges = r;
	s->nranges = k;
	s->first = 0;
	return 0;
}

static int take_l2(struct cd_qcow2_scan *s, const unsigned char *l2, uint32_t len)
{
	unsigned bits = s->info.cluster_bits;
	uint64_t cluster = 1ULL << bits;
	size_t entry = s->info.incompatible & QCOW2_INCOMPAT_EXTL2 ? 16 : 8;
	for (size_t i = 0; i + entry <= len; i += entry) {
		uint64_t e = be64(l2 + i);
		if (e & QCOW2_COMPRESSED) {
			unsigned x = 62 - (bits - 8);
			uint64_t off = e & ((1ULL << x) - 1);
			need(s, off + 1);
			continue;
		}
		uint64_t off = e & QCOW2_OFFSET_MASK;
		if (!off)
			continue;
		if (off & (cluster - 1))
			return cd_seterr("qcow2 data cluster at %llu is not cluster aligned",
					 (unsigned long long)off);
		need(s, off + cluster);
	}
	return 0;
}

static int complete(struct cd_qcow2_scan *s, struct cd_qcow2_range *r, int *replaced)
{
	int ret;
	unsigned char *buf = r->buf;
	uint64_t end = r->off + r->len;
	r->buf = NULL;
	s->held -= r->len;
	if (!s->l1 && r->off == s->info.l1_offset && r->len == s->info.l1_size * 8) {
		s->l1 = buf;
		ret = take_l1(s, buf, end);
		*replaced = 1;
		return ret;
	}
	ret = take_l2(s, buf, r->len);
	free(buf);
	return ret;
}

int cd_qcow2_scan_feed(struct cd_qcow2_scan *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t start = s->pos, stop = s->pos + n;
	if (s->failed)
		return -1;
	s->pos = stop;
again:
	for (size_t i = s->first; i < s->nranges && s->ranges[i].off < stop; i++) {
		struct cd_qcow2_range *r = &s->ranges[i];
		uint64_t rend = r->off + r->len;
		if (r->got == r->len || rend <= start)
			continue;
		uint64_t from = r->off > start ? r->off : start;
		uint64_t to = rend < stop ? rend : stop;
		if (r->off + r->got != from)
			continue; /* began before we were told to look: cannot happen once sorted */
		if (!r->buf) {
			if (s->held + r->len > CD_QCOW2_MAX_TABLES) {
				s->failed = 1;
				return cd_seterr("qcow2 tables overlap beyond %u bytes", CD_QCOW2_MAX_TABLES);
			}
			r->buf = cd_xmalloc(r->len);
			s->held += r->len;
		}
		memcpy(r->buf + r->got, p + (from - start), (size_t)(to - from));
		r->got += (uint32_t)(to - from);
		if (r->got < r->len)
			continue;
		int replaced = 0;
		if (complete(s, r, &replaced) < 0) {
			s->failed = 1;
			return -1;
		}
		if (replaced)
			goto again;
	}
	while (s->first < s->nranges && s->ranges[s->first].got == s->ranges[s->first].len &&
	       !s->ranges[s->first].buf)
		s->first++;
	return 0;
}

int cd_qcow2_scan_finish(struct cd_qcow2_scan *s)
{
	if (s->failed)
		return -1;
	if (s->pos < s->need)
		return cd_seterr("qcow2 is truncated: it needs at least %llu bytes, the file has %llu",
				 (unsigned long long)s->need, (unsigned long long)s->pos);
	return 0;
}

void cd_qcow2_scan_release(struct cd_qcow2_scan *s)
{
	for (size_t i = 0; i < s->nranges; i++)
		free(s->ranges[i].buf);
	free(s->ranges);
	free(s->l1);
	memset(s, 0, sizeof(*s));
}
