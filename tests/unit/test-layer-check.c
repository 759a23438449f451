/* Unit tests for the containerdisk checks: qcow2 and raw headers, hostile ones included, and the table scan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "core/digest.h"
#include "core/error.h"
#include "core/msg.h"
#include "image/disk.h"
#include "image/layer-check.h"
#include "unit.h"
#include "core/banned.h"

#define CL 0x10000u          /* 64 KiB clusters */
#define IMG (5 * CL)         /* header, refcount table, L1, L2, one data cluster */

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void put64(unsigned char *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

/* A small valid qcow2 v3: 1 MiB virtual, one data cluster mapped. */
static unsigned char *mkqcow2(void)
{
	unsigned char *p = calloc(1, IMG);
	put32(p, 0x514649fb);
	put32(p + 4, 3);
	put32(p + 20, 16);
	put64(p + 24, 1 << 20);
	put32(p + 36, 1);            /* l1_size */
	put64(p + 40, 2 * CL);       /* l1 offset */
	put64(p + 48, 1 * CL);       /* refcount table */
	put32(p + 56, 1);
	put32(p + 96, 4);
	put32(p + 100, 104);
	put64(p + 2 * CL, (3ULL * CL) | (1ULL << 63));   /* L1[0] -> L2 */
	put64(p + 3 * CL, (4ULL * CL) | (1ULL << 63));   /* L2[0] -> data */
	return p;
}

static int probe(const unsigned char *p, uint64_t size, const char *want_err)
{
	struct cd_disk_info d;
	int r = cd_disk_probe(p, size < CD_DISK_PROBE_LEN ? (size_t)size : CD_DISK_PROBE_LEN, size, &d);
	if (want_err) {
		if (r == 0 || !strstr(cd_errmsg(), want_err)) {
			fprintf(stderr, "want error '%s', got %d '%s'\n", want_err, r, r ? cd_errmsg() : "");
			return 0;
		}
		return 1;
	}
	if (r)
		fprintf(stderr, "unexpected error: %s\n", cd_errmsg());
	return r == 0;
}

static void test_probe_qcow2(void)
{
	unsigned char *p = mkqcow2();
	struct cd_disk_info d;
	CHECK(cd_disk_probe(p, CD_DISK_PROBE_LEN, IMG, &d) == 0);
	CHECK(d.format == CD_DISK_QCOW2 && d.version == 3 && d.cluster_bits == 16);
	CHECK(d.virtual_size == 1 << 20);

	/* hostile headers, one field at a time */
	CHECK(probe(p, 50, "header truncated"));
	put32(p + 4, 4);
	CHECK(probe(p, IMG, "unsupported qcow2 version 4"));
	put32(p + 4, 3);
	put32(p + 20, 30);
	CHECK(probe(p, IMG, "cluster bits 30"));
	put32(p + 20, 8);
	CHECK(probe(p, IMG, "cluster bits 8"));
	put32(p + 20, 16);
	put64(p + 24, 0);
	CHECK(probe(p, IMG, "virtual size is 0"));
	put64(p + 24, UINT64_MAX);
	CHECK(probe(p, IMG, "beyond 16 TiB"));
	put64(p + 24, 1 << 20);
	put64(p + 8, 512);
	CHECK(probe(p, IMG, "backing file"));
	put64(p + 8, 0);
	put32(p + 32, 1);
	CHECK(probe(p, IMG, "encrypted"));
	put32(p + 32, 0);
	put64(p + 72, 2);
	CHECK(probe(p, IMG, "marked corrupt"));
	put64(p + 72, 4);
	CHECK(probe(p, IMG, "external file"));
	put64(p + 72, 1ULL << 40);
	CHECK(probe(p, IMG, "unknown incompatible"));
	put64(p + 72, 1);            /* dirty: qemu repairs it, fine */
	CHECK(probe(p, IMG, NULL));
	put64(p + 72, 0);
	put32(p + 100, 0xffffffff);
	CHECK(probe(p, IMG, "header length"));
	put32(p + 100, 104);
	put64(p + 40, 2 * CL + 8);
	CHECK(probe(p, IMG, "not cluster aligned"));
	put64(p + 40, UINT64_MAX & ~(uint64_t)(CL - 1));
	CHECK(probe(p, IMG, "beyond the end"));
	put64(p + 40, 2 * CL);
	put32(p + 36, 0);
	CHECK(probe(p, IMG, "cannot map"));
	put32(p + 36, 0xffffffff);
	CHECK(probe(p, IMG, "too large"));
	put32(p + 36, 1);
	put32(p + 56, 0xffffffff);
	CHECK(probe(p, IMG, "refcount table lies beyond"));
	put32(p + 56, 1);
	CHECK(probe(p, 2 * CL, "L1 table lies beyond the end of the file"));
	CHECK(probe(p, IMG, NULL));
	/* version 2 has no v3 fields */
	put32(p + 4, 2);
	CHECK(probe(p, IMG, NULL));
	free(p);
}

static void test_probe_other(void)
{
	unsigned char *p = calloc(1, 8192);
	CHECK(probe(p, 8192, "neither qcow2 nor a raw disk"));
	p[510] = 0x55;
	p[511] = 0xaa;
	CHECK(probe(p, 8192, NULL));
	CHECK(probe(p, 8193, "whole number of sectors"));
	CHECK(probe(p, 0, "empty"));
	memcpy(p, "\xfd" "7zXZ\0", 6);
	CHECK(probe(p, 8192, "xz-compressed"));
	memcpy(p, "KDMV", 4);
	CHECK(probe(p, 8192, "VMDK"));
	memcpy(p, "hello world\n", 12);
	CHECK(probe(p, 12, "neither qcow2"));
	free(p);
}

/* Feed the image in odd-sized pieces, as a stream would. */
static int scan(const unsigned char *p, size_t len, size_t piece, const char *want_err)
{
	struct cd_disk_info d;
	struct cd_qcow2_scan s;
	int r = cd_disk_probe(p, CD_DISK_PROBE_LEN, len, &d);
	if (r == 0) {
		cd_qcow2_scan_init(&s, &d);
		for (size_t off = 0; r == 0 && off < len; off += piece)
			r = cd_qcow2_scan_feed(&s, p + off, len - off < piece ? len - off : piece);
		if (r == 0)
			r = cd_qcow2_scan_finish(&s);
		cd_qcow2_scan_release(&s);
	}
	if (!want_err)
		return r == 0;
	return r < 0 && strstr(cd_errmsg(), want_err);
}

static void test_scan(void)
{
	unsigned char *p = mkqcow2();
	CHECK(scan(p, IMG, IMG, NULL));
	CHECK(scan(p, IMG, 4097, NULL));
	CHECK(scan(p, IMG, 1, NULL));
	CHECK(scan(p, IMG, 333, NULL));
	/* cut in the data cluster: header and tables still fit, the data does not */
	CHECK(scan(p, 4 * CL + 100, 1000, "truncated"));
	CHECK(scan(p, 4 * CL, 4096, "truncated"));
	/* an L2 table pointing far beyond the end */
	put64(p + 3 * CL + 8, (1ULL << 40) | (1ULL << 63));
	CHECK(scan(p, IMG, 4096, "truncated"));
	/* an unaligned data cluster */
	put64(p + 3 * CL + 8, 4ULL * CL + 512);
	CHECK(scan(p, IMG, 4096, "not cluster aligned"));
	put64(p + 3 * CL + 8, 0);
	/* an unaligned L2 table */
	put64(p + 2 * CL, 3ULL * CL + 512);
	CHECK(scan(p, IMG, 4096, "L1 entry 0 is not cluster aligned"));
	/* an L2 table before the L1 one cannot be read in one pass: counted, not failed */
	put64(p + 2 * CL, 1ULL * CL);
	CHECK(scan(p, IMG, 4096, NULL));
	free(p);
}

/* Layer entries to write: name, type, uid, mode, content (NULL: the qcow2). */
struct ent {
	const char *name;
	unsigned type;
	int uid, mode;
	const char *content;
	const char *link;
};

/* Write a tar (gzip when gz) of the entries to a temp file; its fd at offset 0. */
static int mklayer(const struct ent *e, size_t n, int gz)
{
	char path[] = "/tmp/test-layer-check.XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	archive_write_open_fd(a, fd);
	unsigned char *img = mkqcow2();
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		const void *data = e[i].content ? (const void *)e[i].content : img;
		size_t len = e[i].type != AE_IFREG ? 0 : e[i].content ? strlen(e[i].content) : IMG;
		archive_entry_set_pathname(ae, e[i].name);
		archive_entry_set_filetype(ae, e[i].type);
		archive_entry_set_perm(ae, e[i].mode);
		archive_entry_set_uid(ae, e[i].uid);
		archive_entry_set_gid(ae, e[i].uid);
		archive_entry_set_size(ae, len);
		if (e[i].link)
			archive_entry_set_symlink(ae, e[i].link);
		archive_write_header(a, ae);
		if (len)
			archive_write_data(a, data, len);
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
	free(img);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int layer(const struct ent *e, size_t n, int gz, enum cd_layer_filter want, const char *want_err)
{
	struct cd_layer_check res;
	int fd = mklayer(e, n, gz);
	int r = cd_layer_check(fd, want, -1, &res);
	/* the whole blob was read: nothing left for the caller's digest to miss */
	char c;
	int drained = read(fd, &c, 1) == 0;
	close(fd);
	if (!drained)
		return 0;
	if (!want_err) {
		if (r)
			fprintf(stderr, "unexpected error: %s\n", cd_errmsg());
		return r == 0 && res.disk.format == CD_DISK_QCOW2 && res.disk_bytes == IMG;
	}
	if (r == 0 || !strstr(cd_errmsg(), want_err)) {
		fprintf(stderr, "want error '%s', got %d '%s'\n", want_err, r, r ? cd_errmsg() : "");
		return 0;
	}
	return 1;
}

static void test_layer(void)
{
	const struct ent dir = { "disk/", AE_IFDIR, 107, 0555, NULL, NULL };
	const struct ent img = { "disk/disk.img", AE_IFREG, 107, 0444, NULL, NULL };
	struct ent e[3] = { dir, img };

	CHECK(layer(e, 2, 1, CD_FILTER_GZIP, NULL));
	CHECK(layer(e + 1, 1, 0, CD_FILTER_NONE, NULL));   /* disk/ itself is optional */
	e[1].name = "./disk/disk.img";
	CHECK(layer(e, 2, 0, CD_FILTER_ANY, NULL));
	e[1] = img;
	CHECK(layer(e, 2, 0, CD_FILTER_GZIP, "layer is uncompressed but its media type says gzip"));
	CHECK(layer(e, 2, 1, CD_FILTER_ZSTD, "layer is gzip but its media type says zstd"));
	e[2] = (struct ent){ "etc/passwd", AE_IFREG, 0, 0644, "root::0:0::/:/bin/sh\n", NULL };
	CHECK(layer(e, 3, 1, CD_FILTER_GZIP, "unexpected entry 'etc/passwd'"));
	e[2] = img;
	CHECK(layer(e, 3, 1, CD_FILTER_GZIP, "disk/disk.img appears twice"));
	CHECK(layer(e, 1, 1, CD_FILTER_GZIP, "the layer has no disk/disk.img"));
	e[1] = (struct ent){ "disk/disk.img", AE_IFLNK, 107, 0777, NULL, "/etc/shadow" };
	CHECK(layer(e, 2, 1, CD_FILTER_GZIP, "disk/disk.img is not a regular file"));
	e[1] = img;
	e[1].uid = 0;
	CHECK(layer(e, 2, 1, CD_FILTER_GZIP, "'disk/disk.img' belongs to uid 0 gid 0"));
	e[1] = img;
	e[1].mode = 0200;
	CHECK(layer(e, 2, 1, CD_FILTER_GZIP, "has mode 0200: the qemu user cannot read it"));
	e[0].mode = 0444;
	e[1] = img;
	CHECK(layer(e, 2, 1, CD_FILTER_GZIP, "'disk/' has mode 0444: the qemu user cannot open it"));
	e[0] = dir;
	e[1].content = "";
	CHECK(layer(e, 2, 1, CD_FILTER_GZIP, "disk/disk.img is empty"));

	/* the disk extracted for booting is the disk */
	struct cd_layer_check res;
	e[1] = img;
	char path[] = "/tmp/test-layer-check.XXXXXX";
	int out = mkstemp(path), fd = mklayer(e, 2, 1);
	unlink(path);
	CHECK(cd_layer_check(fd, CD_FILTER_GZIP, out, &res) == 0);
	close(fd);
	unsigned char *want = mkqcow2(), *got = malloc(IMG + 1);
	CHECK(pread(out, got, IMG + 1, 0) == IMG && !memcmp(got, want, IMG));
	free(want);
	free(got);
	close(out);

	/* the diff_id is the sha256 of the tar inside the gzip */
	char tar[IMG + 8192], diff_id[CD_DIGEST_MAX];
	fd = mklayer(e, 2, 0);
	ssize_t tn = read(fd, tar, sizeof(tar));
	close(fd);
	CHECK(tn > IMG && tn < (ssize_t)sizeof(tar));
	cd_sha256_digest(tar, (size_t)tn, diff_id);
	CHECK_STR(res.diff_id, diff_id);

	/* not a tar at all, and the bytes are still all read */
	char path2[] = "/tmp/test-layer-check.XXXXXX";
	fd = mkstemp(path2);
	unlink(path2);
	CHECK(write(fd, "plain text, not a layer\n", 24) == 24);
	lseek(fd, 0, SEEK_SET);
	CHECK(cd_layer_check(fd, CD_FILTER_ANY, -1, &res) == -1);
	CHECK(strstr(cd_errmsg(), "layer is not a readable tar") != NULL);
	close(fd);
}

int main(void)
{
	cd_msg_init("test-layer-check");
	test_probe_qcow2();
	test_probe_other();
	test_scan();
	test_layer();
	return unit_done("test-layer-check");
}
