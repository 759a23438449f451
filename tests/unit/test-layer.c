/*
 * Unit tests for the layer writer: digests recomputed independently, the
 * tar read back with libarchive, gzip checked with zlib's inflate (and
 * gzip -t), zstd with libzstd, reproducibility, and the failures.
 *
 * layer.c is included so its static tar helpers can be tested too; the
 * linker then takes nothing from libcd.a's layer.o.  Built with
 * CD_NO_ISAL (test-layer-zlib), it tests the zlib-only layer writer.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "../../tools/lib/image/layer.c"
#include "unit.h"
#include "core/banned.h"

struct blob {
	unsigned char *p;
	size_t n;
};

static void blob_free(struct blob *b)
{
	free(b->p);
	b->p = NULL;
	b->n = 0;
}

/* Deterministic pseudo-random bytes (xorshift), incompressible to deflate. */
static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

/* Text-like, compressible bytes. */
static void fill_text(unsigned char *p, size_t n)
{
	static const char *w[] = { "qemu ", "disk ", "layer ", "cloud ", "image\n", "kubevirt ", "0123 " };
	size_t i = 0, k = 0;
	while (i < n) {
		const char *s = w[(k * 7 + k / 3) % 7];
		for (; *s && i < n; s++)
			p[i++] = (unsigned char)*s;
		k++;
	}
}

static int make_disk(const unsigned char *p, size_t n)
{
	char path[] = "/tmp/test-layer-disk-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	unlink(path);
	if (n && write(fd, p, n) != (ssize_t)n) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int read_fd(int fd, struct blob *b)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -1;
	b->n = (size_t)st.st_size;
	b->p = malloc(b->n + 1);
	if (!b->p || pread(fd, b->p, b->n, 0) != (ssize_t)b->n)
		return -1;
	return 0;
}

/* Write a layer of disk[0..n) with opts and hand back the blob bytes. */
static int write_layer_opts(const unsigned char *disk, size_t n, const struct cd_layer_opts *o,
			    struct cd_layer_result *res, struct blob *out)
{
	char path[] = "/tmp/test-layer-blob-XXXXXX";
	int dfd = make_disk(disk, n), ofd = mkstemp(path), ret = -1;
	unlink(path);
	if (dfd >= 0 && ofd >= 0 && cd_layer_write(dfd, (long long)n, ofd, o, NULL, res) == 0)
		ret = read_fd(ofd, out);
	else
		fprintf(stderr, "layer: %s\n", cd_errmsg());
	if (dfd >= 0)
		close(dfd);
	if (ofd >= 0)
		close(ofd);
	return ret;
}

/* The same with the default engine and level. */
static int write_layer(const unsigned char *disk, size_t n, enum cd_compression comp, int threads,
		       struct cd_layer_result *res, struct blob *out)
{
	struct cd_layer_opts o = { .comp = comp, .threads = threads, .mtime = 1700000000 };
	return write_layer_opts(disk, n, &o, res, out);
}

static int gunzip(const struct blob *in, struct blob *out, size_t cap)
{
	z_stream z;
	int r;
	memset(&z, 0, sizeof(z));
	out->p = malloc(cap);
	out->n = 0;
	if (!out->p || inflateInit2(&z, 16 + 15) != Z_OK)
		return -1;
	z.next_in = in->p;
	z.avail_in = (uInt)in->n;
	z.next_out = out->p;
	z.avail_out = (uInt)cap;
	r = inflate(&z, Z_FINISH);
	out->n = cap - z.avail_out;
	/* one member, nothing after it */
	r = r == Z_STREAM_END && z.avail_in == 0 ? 0 : -1;
	inflateEnd(&z);
	return r;
}

static int unzstd(const struct blob *in, struct blob *out, size_t cap)
{
	size_t r;
	out->p = malloc(cap);
	if (!out->p)
		return -1;
	r = ZSTD_decompress(out->p, cap, in->p, in->n);
	if (ZSTD_isError(r))
		return -1;
	out->n = r;
	return 0;
}

static int gzip_t(const struct blob *b)
{
	char path[] = "/tmp/test-layer-gz-XXXXXX";
	int fd = mkstemp(path), st;
	if (fd < 0)
		return -1;
	st = write(fd, b->p, b->n) == (ssize_t)b->n ? 0 : -1;
	close(fd);
	if (st == 0) {
		char cmd[128];
		if (cd_snprintf(cmd, sizeof(cmd), "gzip -t < %s", path) < 0)
			st = -1;
		else
			st = system(cmd);
	}
	unlink(path);
	return st;
}

/* The tar has exactly disk/ and disk/disk.img, as layer.h says. */
static void check_tar(const struct blob *tar, const unsigned char *disk, size_t n)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	unsigned char *got = malloc(n + 1);
	size_t have = 0;
	archive_read_support_format_tar(a);
	CHECK(archive_read_open_memory(a, tar->p, tar->n) == ARCHIVE_OK);

	CHECK(archive_read_next_header(a, &e) == ARCHIVE_OK);
	CHECK_STR(archive_entry_pathname(e), "disk/");
	CHECK(archive_entry_filetype(e) == AE_IFDIR);
	CHECK((archive_entry_perm(e) & 07777) == 0555);
	CHECK(archive_entry_uid(e) == 107 && archive_entry_gid(e) == 107);
	CHECK_STR(archive_entry_uname(e), "qemu");
	CHECK_STR(archive_entry_gname(e), "qemu");
	CHECK(archive_entry_mtime(e) == 1700000000);

	CHECK(archive_read_next_header(a, &e) == ARCHIVE_OK);
	CHECK_STR(archive_entry_pathname(e), "disk/disk.img");
	CHECK(archive_entry_filetype(e) == AE_IFREG);
	CHECK((archive_entry_perm(e) & 07777) == 0444);
	CHECK(archive_entry_uid(e) == 107 && archive_entry_gid(e) == 107);
	CHECK_STR(archive_entry_uname(e), "qemu");
	CHECK_STR(archive_entry_gname(e), "qemu");
	CHECK(archive_entry_size(e) == (la_int64_t)n);
	for (;;) {
		la_ssize_t r = archive_read_data(a, got + have, n + 1 - have);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	CHECK(have == n && (n == 0 || memcmp(got, disk, n) == 0));
	CHECK(archive_read_next_header(a, &e) == ARCHIVE_EOF);
	archive_read_free(a);
	free(got);
}

static void check_layer(const char *what, const unsigned char *disk, size_t n, enum cd_compression comp)
{
	struct cd_layer_result res, res2;
	struct blob b = { 0 }, b2 = { 0 }, tar = { 0 };
	char d[CD_DIGEST_MAX];
	size_t cap = n + 64 * 1024;

	fprintf(stderr, "layer: %s, %s\n", what, cd_compression_name(comp));
	if (write_layer(disk, n, comp, 2, &res, &b) < 0) {
		CHECK(!"layer written");
		return;
	}
	cd_sha256_digest(b.p, b.n, d);
	CHECK_STR(res.digest, d);
	CHECK(res.size == (long long)b.n);
	if (comp == CD_COMP_GZIP) {
		CHECK(b.n >= 18 && b.p[0] == 0x1f && b.p[1] == 0x8b);
		CHECK(gunzip(&b, &tar, cap) == 0);
		CHECK(gzip_t(&b) == 0);
	} else if (comp == CD_COMP_ZSTD) {
		CHECK(unzstd(&b, &tar, cap) == 0);
	} else {
		tar.p = malloc(b.n);
		memcpy(tar.p, b.p, b.n);
		tar.n = b.n;
		CHECK_STR(res.diff_id, res.digest);
	}
	CHECK(tar.n % 512 == 0);
	cd_sha256_digest(tar.p, tar.n, d);
	CHECK_STR(res.diff_id, d);
	check_tar(&tar, disk, n);

	/* reproducible, whatever the thread count */
	int tc[] = { 1, 3 };
	for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		if (write_layer(disk, n, comp, tc[i], &res2, &b2) == 0) {
			CHECK(b2.n == b.n && memcmp(b2.p, b.p, b.n) == 0);
			CHECK_STR(res2.digest, res.digest);
			CHECK_STR(res2.diff_id, res.diff_id);
		} else {
			CHECK(!"layer written again");
		}
		blob_free(&b2);
	}
	blob_free(&b);
	blob_free(&tar);
}

static void test_layers(void)
{
	size_t big = 3 * (1 << 20) + 12345; /* not a multiple of 512 or of a block */
	unsigned char *p = malloc(big);
	enum cd_compression comps[] = { CD_COMP_GZIP, CD_COMP_ZSTD, CD_COMP_NONE };

	for (size_t c = 0; c < 3; c++) {
		enum cd_compression comp = comps[c];
		check_layer("empty", p, 0, comp);
		fill_text(p, 1);
		check_layer("one byte", p, 1, comp);
		fill_random(p, 512, 1);
		check_layer("512 random", p, 512, comp);
		memset(p, 0, big);
		check_layer("zeros", p, big, comp);
		fill_random(p, big, 2);
		check_layer("random", p, big, comp);
		/* a mix: text, random, zeros, text, in uneven pieces */
		fill_text(p, big);
		fill_random(p + 100000, 1500000, 3);
		memset(p + 1700000, 0, 300000);
		check_layer("mixed", p, big, comp);
	}
	free(p);
}

/* Stored blocks for random data: the gzip layer is barely bigger than the tar. */
static void test_gzip_stores_random(void)
{
	size_t n = 4 << 20;
	unsigned char *p = malloc(n);
	struct cd_layer_result res;
	struct blob b = { 0 };
	fill_random(p, n, 9);
	CHECK(write_layer(p, n, CD_COMP_GZIP, 2, &res, &b) == 0);
	CHECK(b.n < n + n / 100);
	blob_free(&b);
	fill_text(p, n);
	CHECK(write_layer(p, n, CD_COMP_GZIP, 2, &res, &b) == 0);
	CHECK(b.n < n / 10);
	blob_free(&b);
	free(p);
}

/* Raw-inflate gz_block's output (plus a final empty block) and compare. */
static int block_roundtrip(struct gz_coder *g, const unsigned char *in, size_t n, size_t *olen)
{
	size_t cap = gz_out_max(n) + 2;
	unsigned char *out = malloc(cap), *back = malloc(n + 1);
	struct gz_out *o = malloc(sizeof(*o));
	z_stream z;
	int ok;
	o->buf = malloc(gz_out_max(n));
	gz_out_reset(o);
	gz_block(g, in, n, 0, o);
	CHECK(o->niov <= GZ_IOV_MAX && (size_t)(o->end - o->buf) <= gz_out_max(n));
	*olen = 0;
	for (int i = 0; i < o->niov; i++) {
		memcpy(out + *olen, o->iov[i].iov_base, o->iov[i].iov_len);
		*olen += o->iov[i].iov_len;
	}
	CHECK(*olen == o->len);
	free(o->buf);
	free(o);
	out[(*olen)++] = 0x03;
	out[(*olen)++] = 0x00;
	memset(&z, 0, sizeof(z));
	inflateInit2(&z, -15);
	z.next_in = out;
	z.avail_in = (uInt)*olen;
	z.next_out = back;
	z.avail_out = (uInt)n + 1;
	ok = inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == n && memcmp(back, in, n) == 0;
	inflateEnd(&z);
	free(out);
	free(back);
	return ok;
}

/* The block encoder's runs, its stored fallback and its output bound, on one engine. */
static void test_gz_block(enum cd_deflate engine, int level)
{
	size_t n = GZ_BLOCK, olen;
	unsigned char *p = malloc(n);
	struct gz_coder g;
	fprintf(stderr, "gz_block: %s level %d\n", engine == CD_DEFLATE_ISAL ? "isa-l" : "zlib", level);
	CHECK(gz_coder_init(&g, engine, level) == 0);

	/* alternating sub-blocks: a run each, stored and deflated in turn */
	for (size_t i = 0; i < n / GZ_SUB; i++) {
		if (i % 2)
			fill_random(p + i * GZ_SUB, GZ_SUB, i);
		else
			fill_text(p + i * GZ_SUB, GZ_SUB);
	}
	CHECK(block_roundtrip(&g, p, n, &olen));
	CHECK(olen < n / 2 + n / 8);

	/* random data whose sampled slices look compressible: deflate is
	 * tried, loses, and the run is stored after all */
	fill_random(p, n, 7);
	for (size_t i = 0; i < n; i += GZ_SUB / 8)
		for (size_t j = 0; j < 1024; j++)
			p[i + j] &= 0x3f;
	CHECK(!gz_looks_random(p, GZ_SUB));
	CHECK(block_roundtrip(&g, p, n, &olen));
	CHECK(olen <= gz_stored_size(n) + 10 * (n / GZ_SUB));

	/* pure random: deflate cannot beat storing it; stored, 5 bytes a 64 KiB */
	fill_random(p, n, 8);
	CHECK(gz_looks_random(p, GZ_SUB));
	unsigned char *o = malloc(gz_stored_size(GZ_SUB));
	CHECK(gz_deflate_run(&g, NULL, 0, p, GZ_SUB, o) == NULL);
	free(o);
	CHECK(block_roundtrip(&g, p, n, &olen));
	CHECK(olen == gz_stored_size(n) + 2);

	/* odd sizes: shorter than a sub-block, not a multiple of it */
	CHECK(block_roundtrip(&g, p, 1000, &olen));
	fill_text(p, n);
	CHECK(block_roundtrip(&g, p, GZ_SUB * 3 + 17, &olen));
	gz_coder_release(&g);
	free(p);
}

struct feeder {
	int fd;
	const unsigned char *p;
	size_t n;
};

/* Write the disk into a pipe in odd-sized pieces, so reads come short. */
static void *feed(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0, k = 1;
	while (off < f->n) {
		size_t m = f->n - off < k ? f->n - off : k;
		ssize_t w = write(f->fd, f->p + off, m);
		if (w <= 0)
			break;
		off += (size_t)w;
		k = k * 7 % 100003 + 1;
	}
	close(f->fd);
	return NULL;
}

struct drain {
	int fd;
	char digest[CD_DIGEST_MAX];
	long long n;
};

/* Read the layer from a pipe in small pieces and hash it. */
static void *drain(void *arg)
{
	struct drain *d = arg;
	struct cd_hasher h;
	unsigned char buf[3000];
	char hex[CD_HEX_MAX];
	ssize_t r;
	cd_hasher_init(&h, CD_HASH_SHA256);
	while ((r = read(d->fd, buf, sizeof(buf))) > 0) {
		cd_hasher_update(&h, buf, (size_t)r);
		d->n += r;
	}
	cd_hasher_final_hex(&h, hex);
	cd_hasher_release(&h);
	CHECK(cd_snprintf(d->digest, sizeof(d->digest), "sha256:%s", hex) >= 0);
	close(d->fd);
	return NULL;
}

/* A disk read from a pipe, a layer written to one: the same layer as with files. */
static void test_pipe_input(void)
{
	size_t n = 2 * (1 << 20) + 777;
	unsigned char *p = malloc(n);
	struct cd_layer_opts o = { .comp = CD_COMP_GZIP, .threads = 2, .mtime = 1700000000 };
	struct cd_layer_result want, got;
	struct blob b = { 0 };
	struct feeder f;
	struct drain d = { 0 };
	pthread_t t, u;
	int fds[2], ofds[2], ofd;

	fill_text(p, n);
	fill_random(p + 500000, 700000, 11);
	CHECK(write_layer(p, n, CD_COMP_GZIP, 2, &want, &b) == 0);
	blob_free(&b);
	CHECK(pipe(fds) == 0);
	f = (struct feeder){ .fd = fds[1], .p = p, .n = n };
	CHECK(pipe(ofds) == 0);
	ofd = ofds[1];
	d.fd = ofds[0];
	CHECK(pthread_create(&t, NULL, feed, &f) == 0);
	CHECK(pthread_create(&u, NULL, drain, &d) == 0);
	CHECK(cd_layer_write(fds[0], (long long)n, ofd, &o, NULL, &got) == 0);
	pthread_join(t, NULL);
	close(fds[0]);
	close(ofd);
	pthread_join(u, NULL);
	CHECK_STR(got.digest, want.digest);
	CHECK_STR(got.diff_id, want.diff_id);
	CHECK(got.size == want.size);
	CHECK_STR(d.digest, want.digest);
	CHECK(d.n == want.size);
	free(p);
}

/* The caller's disk hasher sees exactly the disk bytes: none of the tar around them. */
static void test_disk_hash(void)
{
	size_t sizes[] = { 0, 1, 511, 3 * (1 << 20) + 123 };
	enum cd_compression comps[] = { CD_COMP_GZIP, CD_COMP_ZSTD, CD_COMP_NONE };
	unsigned char *p = malloc(sizes[3]);
	fill_random(p, sizes[3], 21);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		char want[CD_DIGEST_MAX], got[CD_HEX_MAX];
		cd_sha256_digest(p, sizes[i], want);
		for (size_t c = 0; c < 3; c++) {
			struct cd_layer_opts o = { .comp = comps[c], .threads = 2 };
			struct cd_layer_result res;
			struct cd_hasher h;
			int dfd = make_disk(p, sizes[i]), ofd = open("/dev/null", O_WRONLY);
			CHECK(cd_hasher_init(&h, CD_HASH_SHA256) == 0);
			CHECK(cd_layer_write(dfd, (long long)sizes[i], ofd, &o, &h, &res) == 0);
			cd_hasher_final_hex(&h, got);
			cd_hasher_release(&h);
			CHECK_STR(got, want + 7);
			close(dfd);
			close(ofd);
		}
	}
	free(p);
}

static void test_failures(void)
{
	unsigned char p[4096];
	struct cd_layer_opts o = { .comp = CD_COMP_GZIP, .threads = 2 };
	struct cd_layer_result res;
	enum cd_compression comps[] = { CD_COMP_GZIP, CD_COMP_ZSTD, CD_COMP_NONE };
	int dfd, ofd;

	fill_random(p, sizeof(p), 4);
	for (size_t c = 0; c < 3; c++) {
		o.comp = comps[c];
		/* a short disk: 4096 bytes where 10000 were promised */
		dfd = make_disk(p, sizeof(p));
		ofd = open("/dev/null", O_WRONLY);
		CHECK(cd_layer_write(dfd, 10000, ofd, &o, NULL, &res) == -1);
		CHECK(strstr(cd_errmsg(), "disk ended after 4096 of 10000 bytes") != NULL);
		close(dfd);
		close(ofd);

		/* a full disk for the output */
		dfd = make_disk(p, sizeof(p));
		ofd = open("/dev/full", O_WRONLY);
		CHECK(cd_layer_write(dfd, sizeof(p), ofd, &o, NULL, &res) == -1);
		CHECK(strstr(cd_errmsg(), "No space left on device") != NULL);
		close(dfd);
		close(ofd);

		/* a read error: the disk fd is write-only */
		ofd = open("/dev/null", O_WRONLY);
		dfd = open("/dev/null", O_WRONLY);
		CHECK(cd_layer_write(dfd, 10, ofd, &o, NULL, &res) == -1);
		CHECK(strstr(cd_errmsg(), "cannot read disk") != NULL);
		close(dfd);
		close(ofd);
	}
}

/* Over 8 GiB the size goes in a pax record; check the headers alone. */
static void test_pax_size(void)
{
	unsigned char buf[4 * TAR_BLOCK];
	long long big = 9LL << 30;
	size_t n = tar_prefix(buf, big, 0);
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	CHECK(n == 4 * TAR_BLOCK);
	archive_read_support_format_tar(a);
	CHECK(archive_read_open_memory(a, buf, n) == ARCHIVE_OK);
	CHECK(archive_read_next_header(a, &e) == ARCHIVE_OK);
	CHECK_STR(archive_entry_pathname(e), "disk/");
	CHECK(archive_read_next_header(a, &e) == ARCHIVE_OK);
	CHECK_STR(archive_entry_pathname(e), "disk/disk.img");
	CHECK(archive_entry_size(e) == big);
	CHECK((archive_entry_perm(e) & 07777) == 0444);
	archive_read_free(a);
	CHECK(tar_prefix(buf, TAR_USTAR_MAX, 0) == 2 * TAR_BLOCK);
}

static void test_names(void)
{
	enum cd_compression c;
	CHECK(cd_compression_parse("gzip", &c) == 0 && c == CD_COMP_GZIP);
	CHECK(cd_compression_parse("zstd", &c) == 0 && c == CD_COMP_ZSTD);
	CHECK(cd_compression_parse("none", &c) == 0 && c == CD_COMP_NONE);
	CHECK(cd_compression_parse("xz", &c) == -1);
	CHECK_STR(cd_compression_name(CD_COMP_ZSTD), "zstd");
}

#ifndef CD_NO_ISAL
/*
 * An ISA-L layer at each level against the zlib one: other bytes, the same
 * tar (so the same diff_id) once decompressed, a valid gzip stream, the
 * same bytes whatever the thread count; the default is ISA-L.
 */
static void test_isal_vs_zlib(void)
{
	size_t n = 5 * (1 << 20) + 777, cap = n + 64 * 1024;
	unsigned char *p = malloc(n);
	struct cd_layer_opts zo = { .comp = CD_COMP_GZIP, .threads = 2, .mtime = 1700000000,
				    .deflate = CD_DEFLATE_ZLIB };
	struct cd_layer_result zres, res, res2;
	struct blob zb = { 0 }, ztar = { 0 }, b = { 0 }, b2 = { 0 }, tar = { 0 };
	char d[CD_DIGEST_MAX];

	/* text, random, zeros and text again, a block boundary inside each */
	fill_text(p, n);
	fill_random(p + 900000, 1300000, 11);
	memset(p + 2500000, 0, 1000000);
	CHECK(write_layer_opts(p, n, &zo, &zres, &zb) == 0);
	CHECK(gunzip(&zb, &ztar, cap) == 0);
	for (int level = 1; level <= ISAL_DEF_MAX_LEVEL; level++) {
		struct cd_layer_opts o = { .comp = CD_COMP_GZIP, .threads = 2, .mtime = 1700000000,
					   .deflate = CD_DEFLATE_ISAL, .level = level };
		fprintf(stderr, "layer: isa-l level %d against zlib\n", level);
		if (write_layer_opts(p, n, &o, &res, &b) < 0) {
			CHECK(!"isa-l layer written");
			continue;
		}
		CHECK(b.n != zb.n || memcmp(b.p, zb.p, b.n) != 0);
		CHECK(strcmp(res.digest, zres.digest) != 0);
		CHECK_STR(res.diff_id, zres.diff_id);
		CHECK(gunzip(&b, &tar, cap) == 0);
		CHECK(tar.n == ztar.n && memcmp(tar.p, ztar.p, tar.n) == 0);
		cd_sha256_digest(tar.p, tar.n, d);
		CHECK_STR(res.diff_id, d);
		cd_sha256_digest(b.p, b.n, d);
		CHECK_STR(res.digest, d);
		CHECK(gzip_t(&b) == 0);
		check_tar(&tar, p, n);
		o.threads = 3;
		CHECK(write_layer_opts(p, n, &o, &res2, &b2) == 0);
		CHECK(b2.n == b.n && memcmp(b2.p, b.p, b.n) == 0);
		CHECK_STR(res2.digest, res.digest);
		blob_free(&b2);
		if (level == CD_LAYER_ISAL_LEVEL) {
			CHECK(write_layer(p, n, CD_COMP_GZIP, 1, &res2, &b2) == 0);
			CHECK_STR(res2.digest, res.digest);
			blob_free(&b2);
		}
		blob_free(&b);
		blob_free(&tar);
	}
	blob_free(&zb);
	blob_free(&ztar);
	free(p);
}
#endif

/* The engine names, and what a build without ISA-L says to a request for it. */
static void test_engines(void)
{
	enum cd_deflate e;
	struct cd_layer_opts o = { .comp = CD_COMP_GZIP, .mtime = 1700000000, .deflate = CD_DEFLATE_ISAL };
	struct cd_layer_result res;
	struct blob b = { 0 };
	unsigned char text[4096];

	CHECK(cd_deflate_parse("zlib", &e) == 0 && e == CD_DEFLATE_ZLIB);
	CHECK(cd_deflate_parse("gzip", &e) == -1);
	fill_text(text, sizeof(text));
#ifndef CD_NO_ISAL
	CHECK(cd_deflate_parse("isal", &e) == 0 && e == CD_DEFLATE_ISAL);
	CHECK(!strncmp(cd_layer_gzip_engine(), "isa-l 2.", 8));
	o.level = ISAL_DEF_MAX_LEVEL + 1;
	CHECK(write_layer_opts(text, sizeof(text), &o, &res, &b) == -1);
	CHECK_STR(cd_errmsg(), "bad ISA-L gzip level 4");
#else
	CHECK(cd_deflate_parse("isal", &e) == -1);
	CHECK(!strncmp(cd_layer_gzip_engine(), "zlib ", 5));
	CHECK(write_layer_opts(text, sizeof(text), &o, &res, &b) == -1);
	CHECK_STR(cd_errmsg(), "this build has no ISA-L");
	/* the default is zlib at level 1 */
	struct blob zb = { 0 };
	struct cd_layer_result zres;
	o.deflate = CD_DEFLATE_ZLIB;
	o.level = 1;
	CHECK(write_layer_opts(text, sizeof(text), &o, &zres, &zb) == 0);
	CHECK(write_layer(text, sizeof(text), CD_COMP_GZIP, 1, &res, &b) == 0);
	CHECK_STR(res.digest, zres.digest);
	blob_free(&zb);
#endif
	blob_free(&b);
}

int main(void)
{
	test_names();
	test_engines();
	test_pax_size();
	test_gz_block(CD_DEFLATE_ZLIB, 1);
#ifndef CD_NO_ISAL
	for (int level = 1; level <= ISAL_DEF_MAX_LEVEL; level++)
		test_gz_block(CD_DEFLATE_ISAL, level);
	test_isal_vs_zlib();
#endif
	test_layers();
	test_gzip_stores_random();
	test_pipe_input();
	test_disk_hash();
	test_failures();
#ifndef CD_NO_ISAL
	return unit_done("test-layer");
#else
	return unit_done("test-layer (zlib only)");
#endif
}
