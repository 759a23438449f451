/*
 * The one-pass layer writer (see layer.h for the contract).
 *
 * The tar stream is virtual: a few header blocks made here, the disk bytes
 * as read, and zero padding.  It is cut into fixed blocks of GZ_BLOCK
 * bytes; the block layout, never the timing, decides the output bytes.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>
#ifndef CD_NO_ISAL
#include <isa-l.h>
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#endif

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "image/layer.h"
#include "core/banned.h"

#define TAR_BLOCK 512
#define TAR_USTAR_MAX 077777777777LL /* largest size in 11 octal digits */

#define GZ_BLOCK (1 << 20)  /* input bytes per block */
#define GZ_SUB (1 << 16)    /* granularity of the store-or-deflate choice */
#define GZ_DICT 32768       /* deflate window carried between blocks */
#define GZ_STORED_MAX 65535 /* bytes in one stored deflate block */

int cd_compression_parse(const char *s, enum cd_compression *out)
{
	if (!strcmp(s, "gzip"))
		*out = CD_COMP_GZIP;
	else if (!strcmp(s, "zstd"))
		*out = CD_COMP_ZSTD;
	else if (!strcmp(s, "none"))
		*out = CD_COMP_NONE;
	else
		return -1;
	return 0;
}

const char *cd_compression_name(enum cd_compression c)
{
	switch (c) {
	case CD_COMP_GZIP: return "gzip";
	case CD_COMP_ZSTD: return "zstd";
	case CD_COMP_NONE: return "none";
	}
	return "unknown";
}

#define STR_(x) #x
#define STR(x) STR_(x)

int cd_deflate_parse(const char *s, enum cd_deflate *out)
{
	if (!strcmp(s, "zlib"))
		*out = CD_DEFLATE_ZLIB;
#ifndef CD_NO_ISAL
	else if (!strcmp(s, "isal"))
		*out = CD_DEFLATE_ISAL;
#endif
	else
		return -1;
	return 0;
}

const char *cd_layer_gzip_engine(void)
{
#ifndef CD_NO_ISAL
	return "isa-l " STR(ISAL_MAJOR_VERSION) "." STR(ISAL_MINOR_VERSION) "." STR(ISAL_PATCH_VERSION)
		" level " STR(CD_LAYER_ISAL_LEVEL);
#else
	return "zlib " ZLIB_VERSION " level 1";
#endif
}

/* ---- tar headers ---- */

/* width counts the field's final NUL. */
static void tar_octal(unsigned char *field, size_t width, unsigned long long v)
{
	field[width - 1] = '\0';
	for (size_t i = width - 1; i-- > 0; v >>= 3)
		field[i] = (unsigned char)('0' + (v & 7));
}

static void tar_header(unsigned char h[TAR_BLOCK], const char *name, char type,
		       unsigned mode, unsigned long long size, long long mtime)
{
	unsigned sum = 0;
	memset(h, 0, TAR_BLOCK);
	memcpy(h, name, strlen(name));           /* name[100]; ours are short */
	tar_octal(h + 100, 8, mode);
	tar_octal(h + 108, 8, CD_DISK_UID);
	tar_octal(h + 116, 8, CD_DISK_GID);
	tar_octal(h + 124, 12, size);
	tar_octal(h + 136, 12, (unsigned long long)mtime);
	memset(h + 148, ' ', 8);                 /* checksum, counted as spaces */
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar\0" "00", 8);
	memcpy(h + 265, "qemu", 4);              /* uname[32] */
	memcpy(h + 297, "qemu", 4);              /* gname[32] */
	tar_octal(h + 329, 8, 0);                /* devmajor */
	tar_octal(h + 337, 8, 0);                /* devminor */
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += h[i];
	tar_octal(h + 148, 7, sum);
	h[155] = ' ';
}

/*
 * The bytes before the disk: disk/, then (over 8 GiB) a pax header giving
 * the size, then disk/disk.img.  buf holds 4 blocks.  Returns the length.
 */
static size_t tar_prefix(unsigned char *buf, long long size, long long mtime)
{
	size_t len = 0;
	tar_header(buf, "disk/", '5', 0555, 0, mtime);
	len += TAR_BLOCK;
	if (size > TAR_USTAR_MAX) {
		char rec[64];
		int n = 0, total;
		/* A pax record counts its own length digits: iterate to the fixed point. */
		do {
			total = n;
			n = snprintf(rec, sizeof(rec), "%d size=%lld\n", total, size);
		} while (n != total);
		tar_header(buf + len, "disk/PaxHeaders/disk.img", 'x', 0444, (unsigned long long)n, mtime);
		len += TAR_BLOCK;
		memset(buf + len, 0, TAR_BLOCK);
		memcpy(buf + len, rec, (size_t)n);
		len += TAR_BLOCK;
		size = 0; /* the pax record wins; ustar readers see 0 */
	}
	tar_header(buf + len, "disk/disk.img", '0', 0444, (unsigned long long)size, mtime);
	return len + TAR_BLOCK;
}

/* ---- the tar byte source ---- */

struct tar_src {
	unsigned char prefix[4 * TAR_BLOCK];
	size_t prefix_len, prefix_pos;
	int fd;
	long long disk_size, disk_read;
	long long zeros;              /* padding and end-of-archive left */
	long long total;              /* tar bytes in all */
};

static void tar_src_init(struct tar_src *s, int fd, long long disk_size, long long mtime)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->disk_size = disk_size;
	s->prefix_len = tar_prefix(s->prefix, disk_size, mtime);
	s->zeros = (TAR_BLOCK - disk_size % TAR_BLOCK) % TAR_BLOCK + 2 * TAR_BLOCK;
	s->total = (long long)s->prefix_len + disk_size + s->zeros;
}

/* Fill buf with up to n tar bytes; 0 at the end, -1 on a read error or short disk. */
static ssize_t tar_src_fill(struct tar_src *s, unsigned char *buf, size_t n)
{
	size_t got = 0;
	if (s->prefix_pos < s->prefix_len) {
		size_t k = s->prefix_len - s->prefix_pos;
		if (k > n)
			k = n;
		memcpy(buf, s->prefix + s->prefix_pos, k);
		s->prefix_pos += k;
		got += k;
	}
	while (got < n && s->disk_read < s->disk_size) {
		size_t want = n - got;
		ssize_t r;
		if ((long long)want > s->disk_size - s->disk_read)
			want = (size_t)(s->disk_size - s->disk_read);
		r = read(s->fd, buf + got, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cd_seterr("cannot read disk: %s", strerror(errno));
		if (r == 0)
			return cd_seterr("disk ended after %lld of %lld bytes", s->disk_read, s->disk_size);
		s->disk_read += r;
		got += (size_t)r;
	}
	if (got < n && s->zeros > 0) {
		size_t k = n - got;
		if ((long long)k > s->zeros)
			k = (size_t)s->zeros;
		memset(buf + got, 0, k);
		s->zeros -= (long long)k;
		got += k;
	}
	return (ssize_t)got;
}

/* ---- output ---- */

struct sink {
	int fd;
	struct cd_hasher blob;
	long long size;
};

/* Write without hashing: the caller hashes these bytes elsewhere. */
static int sink_put(struct sink *o, const void *p, size_t n)
{
	const unsigned char *c = p;
	o->size += (long long)n;
	while (n > 0) {
		ssize_t w = write(o->fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return cd_seterr("cannot write layer: %s", strerror(errno));
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The same for a vector (the iovecs are used up). */
static int sink_putv(struct sink *o, struct iovec *v, int n)
{
	while (n > 0) {
		ssize_t w = writev(o->fd, v, n > IOV_MAX ? IOV_MAX : n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return cd_seterr("cannot write layer: %s", strerror(errno));
		o->size += (long long)w;
		while (n > 0 && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	return 0;
}

static int sink_write(struct sink *o, const void *p, size_t n)
{
	cd_hasher_update(&o->blob, p, n);
	return sink_put(o, p, n);
}

/* ---- gzip: blocks of deflate, stored where the data does not compress ---- */

/* Stored encoding of n bytes: 5 header bytes per GZ_STORED_MAX. */
static size_t gz_stored_size(size_t n)
{
	return n + 5 * ((n + GZ_STORED_MAX - 1) / GZ_STORED_MAX);
}

/*
 * Bytes a block's output can take: each run (of whole sub-blocks but the
 * last) is at most its stored size, which rounds its 5-byte headers up:
 * at most n / GZ_STORED_MAX + 1 headers per run, a run per sub-block.
 */
static size_t gz_out_max(size_t n)
{
	return n + 10 * (n / GZ_SUB + 1);
}

/*
 * A block's output, without copying what is stored: the headers and the
 * deflated runs go to buf, stored bytes are pointed at in the input.  At
 * most 2 iovecs per stored piece (a run of k sub-blocks has k + 1) and
 * one per deflated run.
 */
#define GZ_IOV_MAX (5 * (GZ_BLOCK / GZ_SUB + 1))

struct gz_out {
	unsigned char *buf, *end;   /* buf holds gz_out_max(GZ_BLOCK); end: first free byte */
	struct iovec iov[GZ_IOV_MAX];
	int niov;
	size_t len;                 /* bytes in all */
};

static void gz_out_reset(struct gz_out *o)
{
	o->end = o->buf;
	o->niov = 0;
	o->len = 0;
}

static void gz_out_add(struct gz_out *o, const unsigned char *p, size_t k)
{
	struct iovec *last = o->niov ? &o->iov[o->niov - 1] : NULL;
	if (last && (const unsigned char *)last->iov_base + last->iov_len == p) {
		last->iov_len += k;
	} else {
		o->iov[o->niov].iov_base = (void *)p;
		o->iov[o->niov].iov_len = k;
		o->niov++;
	}
	o->len += k;
}

static void gz_store(struct gz_out *o, const unsigned char *in, size_t n)
{
	while (n > 0) {
		size_t k = n > GZ_STORED_MAX ? GZ_STORED_MAX : n;
		unsigned char *h = o->end;
		h[0] = 0; /* BFINAL 0, BTYPE 00; we are on a byte boundary */
		h[1] = (unsigned char)(k & 0xff);
		h[2] = (unsigned char)(k >> 8);
		h[3] = (unsigned char)(~k & 0xff);
		h[4] = (unsigned char)((~k >> 8) & 0xff);
		o->end += 5;
		gz_out_add(o, h, 5);
		gz_out_add(o, in, k);
		in += k;
		n -= k;
	}
}

/*
 * Would deflate waste its time here?  Compressed data (most of a cloud
 * qcow2) has a flat byte histogram.  The test is on a sample of 8 KiB: its
 * collision entropy -log2(sum p^2), a lower bound of the Shannon entropy,
 * above 7.8 bits a byte, where deflate could save 2.5% at best.  Integers
 * only, so every machine decides alike.  Random data sits near
 * sum c^2 = 270000; the bound is N^2 * 2^-7.8 = 301000.
 * NEEDSWORK: data with a flat histogram but long repeats (a copied random
 * block) is stored too; deflate would have found the repeat.
 */
static int gz_looks_random(const unsigned char *p, size_t n)
{
	enum { SLICES = 8, SLICE = 1024, N = SLICES * SLICE };
	uint32_t c[4][256];
	uint64_t sq = 0;
	size_t step;

	if (n < N)
		return 0; /* small: deflate tries, stored is the fallback */
	memset(c, 0, sizeof(c));
	step = n / SLICES;
	for (size_t s = 0; s < SLICES; s++) {
		const unsigned char *q = p + s * step;
		for (size_t i = 0; i < SLICE; i += 4) {
			c[0][q[i]]++;
			c[1][q[i + 1]]++;
			c[2][q[i + 2]]++;
			c[3][q[i + 3]]++;
		}
	}
	for (int b = 0; b < 256; b++) {
		uint64_t k = c[0][b] + c[1][b] + c[2][b] + c[3][b];
		sq += k * k;
	}
	/* sum p^2 < 2^-7.8 (= 10 / 2228.6) */
	return sq * 2229 < (uint64_t)N * N * 10;
}

/*
 * One worker's deflate: zlib's z_stream, or ISA-L's stream (82 KiB, on the
 * heap) and the level buffer its levels 1-3 need.  Both take the previous
 * GZ_DICT bytes as their window and end each run with a sync flush.
 */
struct gz_coder {
	int isal;
	int level;
	int ready;
	z_stream zs;
#ifndef CD_NO_ISAL
	struct isal_zstream *is;
	unsigned char *lvlbuf;
	uint32_t lvlbuf_size;
#endif
};

#ifndef CD_NO_ISAL
/* ISA-L's suggested ("large") level buffer; its size sets the deflate block sizes. */
static uint32_t isal_lvlbuf_size(int level)
{
	switch (level) {
	case 1: return ISAL_DEF_LVL1_DEFAULT;
	case 2: return ISAL_DEF_LVL2_DEFAULT;
	default: return ISAL_DEF_LVL3_DEFAULT;
	}
}
#endif

/* engine: CD_DEFLATE_ZLIB or CD_DEFLATE_ISAL; level in its range (cd_layer_write checks). */
static int gz_coder_init(struct gz_coder *g, enum cd_deflate engine, int level)
{
	memset(g, 0, sizeof(*g));
	g->level = level;
	g->isal = engine == CD_DEFLATE_ISAL;
	if (!g->isal) {
		if (deflateInit2(&g->zs, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return cd_seterr("cannot initialise deflate");
		g->ready = 1;
		return 0;
	}
#ifndef CD_NO_ISAL
	g->lvlbuf_size = isal_lvlbuf_size(level);
	g->is = malloc(sizeof(*g->is));
	g->lvlbuf = malloc(g->lvlbuf_size);
	g->ready = 1;
	if (!g->is || !g->lvlbuf)
		return cd_seterr("out of memory for deflate");
	return 0;
#else
	return cd_seterr("this build has no ISA-L");
#endif
}

static void gz_coder_release(struct gz_coder *g)
{
	if (g->ready && !g->isal)
		deflateEnd(&g->zs);
#ifndef CD_NO_ISAL
	free(g->is);
	free(g->lvlbuf);
	g->is = NULL;
	g->lvlbuf = NULL;
#endif
	g->ready = 0;
}

#ifndef CD_NO_ISAL
/* gz_deflate_run on ISA-L's stateful deflate (the stateless one takes no window). */
static unsigned char *gz_isal_run(struct gz_coder *g, const unsigned char *dict, size_t dictlen,
				  const unsigned char *in, size_t n, unsigned char *out, size_t room)
{
	struct isal_zstream *z = g->is;
	isal_deflate_init(z);
	z->level = (uint32_t)g->level;
	z->level_buf = g->lvlbuf;
	z->level_buf_size = g->lvlbuf_size;
	z->flush = SYNC_FLUSH;
	z->end_of_stream = 0;
	z->gzip_flag = IGZIP_DEFLATE;
	if (dictlen && isal_deflate_set_dict(z, (uint8_t *)dict, (uint32_t)dictlen) != COMP_OK)
		return NULL;
	z->next_in = (uint8_t *)in;
	z->avail_in = (uint32_t)n;
	z->next_out = out;
	z->avail_out = (uint32_t)room;
	/* all input in and flushed only if the output fit */
	if (isal_deflate(z) != COMP_OK || z->avail_in != 0 || z->internal_state.state != ZSTATE_NEW_HDR)
		return NULL;
	return z->next_out;
}
#endif

/*
 * Deflate in[0..n) (the dict bytes before it are the window) into out,
 * ending on a byte boundary.  NULL if it does not fit in the stored size.
 */
static unsigned char *gz_deflate_run(struct gz_coder *g, const unsigned char *dict, size_t dictlen,
				     const unsigned char *in, size_t n, unsigned char *out)
{
	z_stream *z = &g->zs;
	size_t room = gz_stored_size(n);
#ifndef CD_NO_ISAL
	if (g->isal)
		return gz_isal_run(g, dict, dictlen, in, n, out, room);
#endif
	deflateReset(z);
	if (dictlen)
		deflateSetDictionary(z, dict, (uInt)dictlen);
	z->next_in = (unsigned char *)in;
	z->avail_in = (uInt)n;
	z->next_out = out;
	z->avail_out = (uInt)room;
	deflate(z, Z_SYNC_FLUSH);
	if (z->avail_in != 0 || z->avail_out == 0)
		return NULL;
	return z->next_out;
}

/* The gzip trailer's crc32 (RFC 1952), ISA-L's where built in: a few times zlib's speed. */
static uint32_t gz_crc32(const unsigned char *p, size_t n)
{
#ifndef CD_NO_ISAL
	return crc32_gzip_refl(0, p, n);
#else
	return (uint32_t)crc32(0, p, (uInt)n);
#endif
}

/*
 * Encode one block: runs of sub-blocks that look random are stored, the
 * others deflated (and stored after all if deflate did not win).  The
 * GZ_DICT bytes before in are readable (the previous block's tail), or
 * dictlen says how many are.  out points into in: keep in until written.
 */
static void gz_block(struct gz_coder *g, const unsigned char *in, size_t n, size_t dictlen,
		     struct gz_out *out)
{
	char rnd[GZ_BLOCK / GZ_SUB + 1];
	size_t nsub = (n + GZ_SUB - 1) / GZ_SUB, s = 0;

	for (size_t i = 0; i < nsub; i++) {
		size_t off = i * GZ_SUB;
		rnd[i] = (char)gz_looks_random(in + off, n - off < GZ_SUB ? n - off : GZ_SUB);
	}
	while (s < nsub) {
		size_t e = s + 1, pos = s * GZ_SUB, end;
		unsigned char *d = NULL;
		while (e < nsub && rnd[e] == rnd[s])
			e++;
		end = e * GZ_SUB < n ? e * GZ_SUB : n;
		if (!rnd[s]) {
			size_t back = pos + dictlen < GZ_DICT ? pos + dictlen : GZ_DICT;
			d = gz_deflate_run(g, in + pos - back, back, in + pos, end - pos, out->end);
		}
		if (d) {
			gz_out_add(out, out->end, (size_t)(d - out->end));
			out->end = d;
		} else {
			gz_store(out, in + pos, end - pos);
		}
		s = e;
	}
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/*
 * ---- the pipeline ----
 *
 * A reader thread fills slots with consecutive tar blocks; a hasher thread
 * takes the diff_id over them in order (and another, when the caller asks,
 * the digest of the disk bytes among them); gzip workers encode any filled
 * block (crc32, then deflate or store) and another hasher takes the blob
 * digest over their output in order; the calling thread, the writer,
 * writes the blocks in order (encoding zstd itself, hashing as it goes:
 * libzstd has its own workers).  With none the diff_id is the digest.  A
 * slot is reused once written and hashed.  One mutex; a condition
 * variable per event, so that only the threads it concerns wake up.
 *
 * Memory, whatever the disk size: slots of GZ_DICT + GZ_BLOCK input and,
 * for gzip, gz_out_max(GZ_BLOCK) output: 2 per gzip worker + 4, at most
 * PIPE_MAX_SLOTS (about 2.06 MiB each: 16.5 MiB with 2 workers, 25 MiB at
 * most), plus a deflate state per worker (zlib's about 270 KiB, ISA-L's
 * about 410 KiB with its level buffer); none and zstd
 * take 6 MiB of slots, and libzstd 15 to 25 MiB more (2 to 4 workers).
 */

#define PIPE_MAX_WORKERS 8
#define PIPE_MAX_SLOTS 12
#define ZSTD_MAX_WORKERS 4
#define ZSTD_JOB_SIZE (1 << 20)

struct slot {
	unsigned char *in;   /* GZ_DICT bytes of the previous block's tail, then the block */
	struct gz_out out;    /* gzip only */
	size_t n, dictlen;
	uint32_t crc;
	int filled, hashed, coded, bhashed, dhashed, written;
};

struct pipe {
	pthread_mutex_t mu;
	/* a slot was freed (the reader waits), a block read, a block encoded */
	pthread_cond_t freed, filled, coded;
	struct slot slots[PIPE_MAX_SLOTS];
	int nslots;
	enum cd_compression comp;
	struct tar_src *src;
	struct cd_hasher *tar;  /* diff_id, over the tar blocks */
	struct cd_hasher *blob; /* digest, over gzip's blocks; else NULL */
	struct cd_hasher *disk; /* the caller's, over the disk bytes; or NULL */
	long long disk_from, disk_to; /* where the disk is in the tar stream */
	long long nread;        /* blocks filled so far */
	long long nclaimed;     /* blocks taken by gzip workers */
	int eof;                /* the reader is done: nread is the block count */
	int failed;
	char err[512];
};

struct gz_worker {
	struct pipe *p;
	struct gz_coder coder;
	pthread_t tid;
	int started;
};

static struct slot *pipe_slot(struct pipe *p, long long seq)
{
	return &p->slots[seq % p->nslots];
}

/* Record this thread's cd_errmsg() as the pipeline's failure; the first one wins. */
static void pipe_fail(struct pipe *p)
{
	pthread_mutex_lock(&p->mu);
	if (!p->failed) {
		size_t n = strlen(cd_errmsg());
		if (n >= sizeof(p->err))
			n = sizeof(p->err) - 1;
		memcpy(p->err, cd_errmsg(), n);
		p->err[n] = '\0';
		p->failed = 1;
	}
	pthread_cond_broadcast(&p->freed);
	pthread_cond_broadcast(&p->filled);
	pthread_cond_broadcast(&p->coded);
	pthread_mutex_unlock(&p->mu);
}

static void *pipe_reader(void *arg)
{
	struct pipe *p = arg;
	unsigned char tail[GZ_DICT];
	size_t taillen = 0;

	for (long long seq = 0;; seq++) {
		struct slot *s = pipe_slot(p, seq);
		ssize_t n;
		int stop;

		pthread_mutex_lock(&p->mu);
		while (s->filled && !(s->written && s->hashed && s->bhashed && s->dhashed) && !p->failed)
			pthread_cond_wait(&p->freed, &p->mu);
		stop = p->failed;
		pthread_mutex_unlock(&p->mu);
		if (stop)
			break;
		n = tar_src_fill(p->src, s->in + GZ_DICT, GZ_BLOCK);
		if (n < 0) {
			pipe_fail(p);
			break;
		}
		if (n > 0) {
			memcpy(s->in + GZ_DICT - taillen, tail, taillen);
			s->dictlen = taillen;
			s->n = (size_t)n;
			/* only the last block is short: nothing needs its tail */
			taillen = (size_t)n >= GZ_DICT ? GZ_DICT : 0;
			memcpy(tail, s->in + GZ_DICT + n - taillen, taillen);
		}
		pthread_mutex_lock(&p->mu);
		if (n == 0) {
			p->eof = 1;
			pthread_cond_broadcast(&p->coded);
		} else {
			s->filled = 1;
			s->bhashed = p->blob == NULL;
			s->dhashed = p->disk == NULL;
			s->hashed = s->coded = s->written = 0;
			p->nread = seq + 1;
		}
		pthread_cond_broadcast(&p->filled);
		pthread_mutex_unlock(&p->mu);
		if (n == 0)
			break;
	}
	return NULL;
}

/* Block seq is read (and, for want_coded, encoded): 1, 0 the end, -1 failed. */
static int pipe_wait(struct pipe *p, long long seq, int want_coded)
{
	struct slot *s = pipe_slot(p, seq);
	int r;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->failed) {
			r = -1;
			break;
		}
		if (p->nread > seq && (!want_coded || s->coded)) {
			r = 1;
			break;
		}
		if (p->eof && p->nread <= seq) {
			r = 0;
			break;
		}
		pthread_cond_wait(want_coded ? &p->coded : &p->filled, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

static void *pipe_tar_hasher(void *arg)
{
	struct pipe *p = arg;
	for (long long seq = 0; pipe_wait(p, seq, 0) > 0; seq++) {
		struct slot *s = pipe_slot(p, seq);
		cd_hasher_update(p->tar, s->in + GZ_DICT, s->n);
		pthread_mutex_lock(&p->mu);
		s->hashed = 1;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

/* Block seq holds tar bytes [seq * GZ_BLOCK, + n): hash the part that is disk. */
static void *pipe_disk_hasher(void *arg)
{
	struct pipe *p = arg;
	for (long long seq = 0; pipe_wait(p, seq, 0) > 0; seq++) {
		struct slot *s = pipe_slot(p, seq);
		long long at = seq * GZ_BLOCK, end = at + (long long)s->n;
		long long from = at > p->disk_from ? at : p->disk_from;
		long long to = end < p->disk_to ? end : p->disk_to;
		if (to > from)
			cd_hasher_update(p->disk, s->in + GZ_DICT + (from - at), (size_t)(to - from));
		pthread_mutex_lock(&p->mu);
		s->dhashed = 1;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

static void *pipe_blob_hasher(void *arg)
{
	struct pipe *p = arg;
	for (long long seq = 0; pipe_wait(p, seq, 1) > 0; seq++) {
		struct slot *s = pipe_slot(p, seq);
		for (int i = 0; i < s->out.niov; i++)
			cd_hasher_update(p->blob, s->out.iov[i].iov_base, s->out.iov[i].iov_len);
		pthread_mutex_lock(&p->mu);
		s->bhashed = 1;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

static void *pipe_gzip_worker(void *arg)
{
	struct gz_worker *w = arg;
	struct pipe *p = w->p;
	for (;;) {
		struct slot *s;
		long long seq;
		pthread_mutex_lock(&p->mu);
		while (p->nclaimed >= p->nread && !p->eof && !p->failed)
			pthread_cond_wait(&p->filled, &p->mu);
		if (p->failed || p->nclaimed >= p->nread) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		seq = p->nclaimed++;
		pthread_mutex_unlock(&p->mu);
		s = pipe_slot(p, seq);
		s->crc = gz_crc32(s->in + GZ_DICT, s->n);
		gz_out_reset(&s->out);
		gz_block(&w->coder, s->in + GZ_DICT, s->n, s->dictlen, &s->out);
		pthread_mutex_lock(&p->mu);
		s->coded = 1;
		pthread_cond_broadcast(&p->coded);
		pthread_mutex_unlock(&p->mu);
	}
	return NULL;
}

static void pipe_written(struct pipe *p, long long seq)
{
	pthread_mutex_lock(&p->mu);
	pipe_slot(p, seq)->written = 1;
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->mu);
}

struct zs {
	ZSTD_CCtx *cc;
	unsigned char *out;
	size_t cap;
};

static int zs_init(struct zs *z, int level, int threads)
{
	z->cap = ZSTD_CStreamOutSize();
	z->out = malloc(z->cap);
	z->cc = ZSTD_createCCtx();
	if (!z->out || !z->cc)
		return cd_seterr("cannot initialise zstd");
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cc, ZSTD_c_compressionLevel, level)))
		return cd_seterr("bad zstd level %d", level);
	/* nbWorkers >= 1 gives the same bytes whatever the count */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cc, ZSTD_c_nbWorkers,
						threads > ZSTD_MAX_WORKERS ? ZSTD_MAX_WORKERS : threads)))
		return cd_seterr("libzstd has no multithreading");
	ZSTD_CCtx_setParameter(z->cc, ZSTD_c_checksumFlag, 1);
	/*
	 * libzstd buffers a few jobs per worker, 4 windows each by default:
	 * over 100 MiB at level 3.  Fixed 1 MiB jobs bound that (and, fixed,
	 * keep the output the same on every machine).
	 */
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z->cc, ZSTD_c_jobSize, ZSTD_JOB_SIZE)))
		return cd_seterr("cannot set the zstd job size");
	return 0;
}

static void zs_release(struct zs *z)
{
	ZSTD_freeCCtx(z->cc);
	free(z->out);
}

static int zs_feed(struct zs *z, struct sink *o, const void *p, size_t n, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer ib = { p, n, 0 };
	for (;;) {
		ZSTD_outBuffer ob = { z->out, z->cap, 0 };
		size_t left = ZSTD_compressStream2(z->cc, &ob, &ib, mode);
		if (ZSTD_isError(left))
			return cd_seterr("zstd: %s", ZSTD_getErrorName(left));
		if (ob.pos && sink_write(o, z->out, ob.pos) < 0)
			return -1;
		if (mode == ZSTD_e_end ? left == 0 : ib.pos == ib.size)
			return 0;
	}
}

static const unsigned char gz_head[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };

/*
 * The writer's side: blocks in order to the sink, the gzip crc32 into *crc
 * (the trailer waits for the blob hasher).  0 or -1 (cd_errmsg).
 */
static int pipe_write(struct pipe *p, struct sink *o, struct zs *z, uLong *crc)
{
	struct iovec iov[GZ_IOV_MAX];
	long long seq;
	int r;

	if (p->comp == CD_COMP_GZIP && sink_put(o, gz_head, sizeof(gz_head)) < 0)
		return -1;
	for (seq = 0; (r = pipe_wait(p, seq, p->comp == CD_COMP_GZIP)) > 0; seq++) {
		struct slot *s = pipe_slot(p, seq);
		const unsigned char *in = s->in + GZ_DICT;
		switch (p->comp) {
		case CD_COMP_GZIP:
			*crc = crc32_combine(*crc, s->crc, (z_off_t)s->n);
			/* sink_putv consumes its iovecs; the blob hasher reads these */
			memcpy(iov, s->out.iov, (size_t)s->out.niov * sizeof(*iov));
			r = sink_putv(o, iov, s->out.niov);
			break;
		case CD_COMP_ZSTD:
			r = zs_feed(z, o, in, s->n, ZSTD_e_continue);
			break;
		case CD_COMP_NONE:
			r = sink_put(o, in, s->n);
			break;
		}
		if (r < 0)
			return -1;
		pipe_written(p, seq);
	}
	if (r < 0)
		return cd_seterr("%s", p->err);
	if (p->comp == CD_COMP_ZSTD)
		return zs_feed(z, o, NULL, 0, ZSTD_e_end);
	return 0;
}

/* The ring for nw gzip workers (0: none or zstd).  -1 (cd_seterr) without memory. */
static int pipe_init(struct pipe *p, enum cd_compression comp, int nw)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->freed, NULL);
	pthread_cond_init(&p->filled, NULL);
	pthread_cond_init(&p->coded, NULL);
	p->comp = comp;
	p->nslots = comp == CD_COMP_GZIP ? 2 * nw + 4 : 6;
	if (p->nslots > PIPE_MAX_SLOTS)
		p->nslots = PIPE_MAX_SLOTS;
	for (int i = 0; i < p->nslots; i++) {
		p->slots[i].in = malloc(GZ_DICT + GZ_BLOCK);
		if (comp == CD_COMP_GZIP)
			p->slots[i].out.buf = malloc(gz_out_max(GZ_BLOCK));
		if (!p->slots[i].in || (comp == CD_COMP_GZIP && !p->slots[i].out.buf))
			return cd_seterr("out of memory for the layer buffers");
	}
	return 0;
}

static void pipe_release(struct pipe *p)
{
	for (int i = 0; i < p->nslots; i++) {
		free(p->slots[i].in);
		free(p->slots[i].out.buf);
	}
	pthread_cond_destroy(&p->freed);
	pthread_cond_destroy(&p->filled);
	pthread_cond_destroy(&p->coded);
	pthread_mutex_destroy(&p->mu);
}

/* engine: the gzip workers' deflate (CD_DEFLATE_ZLIB or CD_DEFLATE_ISAL). */
static int layer_run(struct tar_src *src, struct cd_hasher *tar, struct cd_hasher *disk,
		     struct sink *o, enum cd_compression comp, enum cd_deflate engine, int level,
		     int threads)
{
	struct pipe p;
	struct gz_worker w[PIPE_MAX_WORKERS];
	struct zs z = { 0 };
	uLong crc = crc32(0, NULL, 0);
	pthread_t reader, hasher, bhasher, dhasher;
	int nw = comp == CD_COMP_GZIP ? (threads > PIPE_MAX_WORKERS ? PIPE_MAX_WORKERS : threads) : 0;
	int have_reader = 0, have_hasher = 0, have_bhasher = 0, have_dhasher = 0, ret = -1;

	memset(w, 0, sizeof(w));
	if (pipe_init(&p, comp, nw) < 0)
		goto out;
	p.src = src;
	p.tar = tar;
	p.blob = comp == CD_COMP_GZIP ? &o->blob : NULL;
	p.disk = disk;
	p.disk_from = (long long)src->prefix_len;
	p.disk_to = p.disk_from + src->disk_size;
	if (comp == CD_COMP_ZSTD && zs_init(&z, level, threads) < 0)
		goto out;
	for (int i = 0; i < nw; i++) {
		w[i].p = &p;
		if (gz_coder_init(&w[i].coder, engine, level) < 0)
			goto out;
	}
	if (pthread_create(&reader, NULL, pipe_reader, &p) != 0) {
		cd_seterr("cannot start the reader thread");
		goto out;
	}
	have_reader = 1;
	if (pthread_create(&hasher, NULL, pipe_tar_hasher, &p) != 0) {
		cd_seterr("cannot start the hasher thread");
		pipe_fail(&p);
		goto out;
	}
	have_hasher = 1;
	if (p.disk) {
		if (pthread_create(&dhasher, NULL, pipe_disk_hasher, &p) != 0) {
			cd_seterr("cannot start the hasher thread");
			pipe_fail(&p);
			goto out;
		}
		have_dhasher = 1;
	}
	if (p.blob) {
		cd_hasher_update(p.blob, gz_head, sizeof(gz_head));
		if (pthread_create(&bhasher, NULL, pipe_blob_hasher, &p) != 0) {
			cd_seterr("cannot start the hasher thread");
			pipe_fail(&p);
			goto out;
		}
		have_bhasher = 1;
	}
	for (int i = 0; i < nw; i++) {
		if (pthread_create(&w[i].tid, NULL, pipe_gzip_worker, &w[i]) != 0) {
			cd_seterr("cannot start a compression thread");
			pipe_fail(&p);
			goto out;
		}
		w[i].started = 1;
	}
	ret = pipe_write(&p, o, &z, &crc);
	if (ret < 0)
		pipe_fail(&p); /* stop the others; our message stays in cd_errmsg() */
out:
	if (have_bhasher)
		pthread_join(bhasher, NULL);
	if (ret == 0 && comp == CD_COMP_GZIP) {
		/* empty final fixed block, then RFC 1952's crc32 and size mod 2^32 */
		unsigned char tail[2 + 8] = { 0x03, 0x00 };
		put_le32(tail + 2, (uint32_t)crc);
		put_le32(tail + 6, (uint32_t)src->total);
		ret = sink_write(o, tail, sizeof(tail));
	}
	if (have_reader)
		pthread_join(reader, NULL);
	if (have_hasher)
		pthread_join(hasher, NULL);
	if (have_dhasher)
		pthread_join(dhasher, NULL);
	for (int i = 0; i < nw; i++) {
		if (w[i].started)
			pthread_join(w[i].tid, NULL);
		gz_coder_release(&w[i].coder);
	}
	if (comp == CD_COMP_ZSTD)
		zs_release(&z);
	pipe_release(&p);
	return ret;
}

/* The deflate engine and level of opts; -1 (cd_seterr) for one this build cannot do. */
static int gz_engine(const struct cd_layer_opts *opts, enum cd_deflate *engine, int *level)
{
	*engine = opts->deflate;
	if (*engine == CD_DEFLATE_DEFAULT)
#ifndef CD_NO_ISAL
		*engine = CD_DEFLATE_ISAL;
#else
		*engine = CD_DEFLATE_ZLIB;
#endif
	switch (*engine) {
	case CD_DEFLATE_ZLIB:
		if (opts->level < 0 || opts->level > 9)
			return cd_seterr("bad gzip level %d", opts->level);
		*level = opts->level ? opts->level : 1;
		return 0;
	case CD_DEFLATE_ISAL:
#ifndef CD_NO_ISAL
		if (opts->level < 0 || opts->level > ISAL_DEF_MAX_LEVEL)
			return cd_seterr("bad ISA-L gzip level %d", opts->level);
		*level = opts->level ? opts->level : CD_LAYER_ISAL_LEVEL;
		return 0;
#else
		return cd_seterr("this build has no ISA-L");
#endif
	default:
		return cd_seterr("unknown deflate engine %d", (int)*engine);
	}
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int cd_layer_write(int disk_fd, long long disk_size, int out_fd,
		   const struct cd_layer_opts *opts, struct cd_hasher *disk, struct cd_layer_result *res)
{
	struct tar_src src;
	struct cd_hasher tar;
	struct sink o = { .fd = out_fd };
	char hex[CD_HEX_MAX];
	int threads = opts->threads > 0 ? opts->threads : online_cpus();
	enum cd_deflate engine = CD_DEFLATE_ZLIB;
	int level = 0, ret;

	if (disk_size < 0)
		return cd_seterr("bad disk size %lld", disk_size);
	if (opts->mtime < 0 || opts->mtime > TAR_USTAR_MAX)
		return cd_seterr("mtime %lld out of the tar range", opts->mtime);
	tar_src_init(&src, disk_fd, disk_size, opts->mtime);
	if (cd_hasher_init(&tar, CD_HASH_SHA256) < 0)
		return -1;
	if (cd_hasher_init(&o.blob, CD_HASH_SHA256) < 0) {
		cd_hasher_release(&tar);
		return -1;
	}
	switch (opts->comp) {
	case CD_COMP_GZIP:
		if (gz_engine(opts, &engine, &level) < 0)
			ret = -1;
		else
			ret = layer_run(&src, &tar, disk, &o, opts->comp, engine, level, threads);
		break;
	case CD_COMP_ZSTD:
		ret = layer_run(&src, &tar, disk, &o, opts->comp, engine, opts->level ? opts->level : 3,
				threads);
		break;
	case CD_COMP_NONE:
		ret = layer_run(&src, &tar, disk, &o, opts->comp, engine, 0, threads);
		break;
	default:
		ret = cd_seterr("unknown compression %d", (int)opts->comp);
	}
	if (ret == 0) {
		cd_hasher_final_hex(&tar, hex);
		if (cd_snprintf(res->diff_id, sizeof(res->diff_id), "sha256:%s", hex) < 0)
			ret = -1;
		if (opts->comp == CD_COMP_NONE) {
			memcpy(res->digest, res->diff_id, sizeof(res->digest));
		} else {
			cd_hasher_final_hex(&o.blob, hex);
			if (cd_snprintf(res->digest, sizeof(res->digest), "sha256:%s", hex) < 0)
				ret = -1;
		}
		res->size = o.size;
	}
	cd_hasher_release(&tar);
	cd_hasher_release(&o.blob);
	return ret;
}
