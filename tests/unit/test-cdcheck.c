/* Unit tests for the containerdisk checks: qcow2 and raw headers, hostile ones included, and the table scan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdcheck.h"
#include "msg.h"
#include "unit.h"

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

int main(void)
{
	cd_msg_init("test-cdcheck");
	test_probe_qcow2();
	test_probe_other();
	test_scan();
	return unit_done("test-cdcheck");
}
