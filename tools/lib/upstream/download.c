#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/io.h"
#include "core/msg.h"
#include "core/progress.h"
#include "core/url.h"
#include "net/http.h"
#include "upstream/cache.h"
#include "upstream/download.h"
#include "core/banned.h"

#define IO_BUF (256u << 10)

/* One transfer in flight. */
struct fetch {
	struct cd_download *d;
	struct cd_http_req req;
	struct cd_hasher h;
	enum cd_hash alg;
	const char *want;         /* expected hex, or NULL */
	int fd;
	char *tmp;
	long long written;
	int write_errno;
	int bad_range;
	struct cd_progress_bar *bar;
};

void cd_download_init(struct cd_download *d)
{
	memset(d, 0, sizeof(*d));
}

void cd_download_release(struct cd_download *d)
{
	free(d->path);
	free(d->error);
	d->path = d->error = NULL;
}

int cd_download_compressed(const char *c)
{
	if (!c || !*c || !strcmp(c, "none"))
		return 0;
	if (!strcmp(c, "gzip") || !strcmp(c, "xz") || !strcmp(c, "bzip2") || !strcmp(c, "zstd"))
		return 1;
	return cd_seterr("unsupported compression '%.40s' (gzip, xz, bzip2, zstd or none)", c);
}

static void fail(struct cd_download *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct cd_download *d, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(d->error);
	d->error = cd_xstrdup(msg);
}

/*
 * The first bytes of a resumed attempt: is this the part we asked for?
 * (A 200 to a Range request never gets here: libcurl stops it with
 * CURLE_RANGE_ERROR, and cd_download_all() starts that file over.)
 */
static int check_resume(struct fetch *f)
{
	char cr[128];
	if (!cd_http_header(&f->req, "Content-Range", cr, sizeof(cr)) ||
	    strncmp(cr, "bytes ", 6) || strtoll(cr + 6, NULL, 10) != f->written) {
		f->bad_range = 1;
		return -1;
	}
	return 0;
}

/* Throw away what was fetched and ask for the whole file again. */
static int start_over(struct fetch *f)
{
	if (ftruncate(f->fd, 0) < 0 || lseek(f->fd, 0, SEEK_SET) < 0) {
		f->write_errno = errno;
		return -1;
	}
	cd_hasher_release(&f->h);
	if (cd_hasher_init(&f->h, f->alg) < 0)
		return -1;
	f->written = 0;
	f->req.range_from = 0;
	cd_progress_note("%s: the server cannot resume; downloading again from the start", f->d->label);
	return 0;
}

static size_t on_data(const char *p, size_t n, void *ctx)
{
	struct fetch *f = ctx;
	if (f->req.streamed == 0 && f->req.range_from > 0 && check_resume(f) < 0)
		return 0;
	if (cd_write_all(f->fd, p, n) < 0) {
		f->write_errno = errno;
		return 0;
	}
	cd_hasher_update(&f->h, p, n);
	f->written += (long long)n;
	return n;
}

static int on_restart(void *ctx, struct cd_http_req *r)
{
	struct fetch *f = ctx;
	r->range_from = f->written;
	cd_debug("%s: resuming at byte %lld", f->d->label, f->written);
	return 0;
}

static void on_progress(void *ctx, long long now, long long total)
{
	struct fetch *f = ctx;
	cd_progress_update(f->bar, now, total);
}

/* A transfer of d that owns nothing yet: fetch_release() is safe on it. */
static void fetch_init(struct fetch *f, struct cd_download *d)
{
	memset(f, 0, sizeof(*f));
	f->d = d;
	f->fd = -1;
	f->alg = CD_HASH_SHA256;
}

/*
 * The bytes an interrupted run left (have of them, in f->fd) go into the
 * hash as if they had just arrived, and the transfer asks for the rest.
 * Unreadable: they are dropped and the file is fetched from the start.
 */
static int take_up(struct fetch *f, long long have)
{
	char *buf = cd_xmalloc(IO_BUF);
	long long at = 0;
	while (at < have) {
		ssize_t n = pread(f->fd, buf, IO_BUF, (off_t)at);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		cd_hasher_update(&f->h, buf, (size_t)n);
		at += n;
	}
	free(buf);
	if (at != have) {
		cd_hasher_release(&f->h);
		if (cd_hasher_init(&f->h, f->alg) < 0)
			return -1;
		if (ftruncate(f->fd, 0) < 0 || lseek(f->fd, 0, SEEK_SET) < 0)
			return cd_seterr("cannot reuse '%s': %s", f->tmp, strerror(errno));
		return 0;
	}
	char size[32];
	cd_progress_human(have, size, sizeof(size));
	cd_progress_note("%s: resuming an interrupted download at %s", f->d->label, size);
	f->written = have;
	f->req.range_from = have;
	return 0;
}

static int fetch_start(const struct cd_cache *c, struct fetch *f, struct cd_download *d)
{
	long long have = 0;
	fetch_init(f, d);
	if (d->checksum && cd_digest_parse(d->checksum, &f->alg, &f->want) < 0)
		return -1;
	/* Only a file with a checksum is resumed: nothing else could vouch for the old bytes. */
	f->fd = f->want ? cd_cache_resumable(c, f->alg, f->want, &f->tmp, &have)
			: cd_cache_tmp(c, "download", &f->tmp);
	if (f->fd < 0)
		return -1;
	if (cd_hasher_init(&f->h, f->alg) < 0)
		return -1;
	cd_http_req_init(&f->req, d->url);
	if (have > 0 && take_up(f, have) < 0)
		return -1;
	f->req.write_fn = on_data;
	f->req.restart_fn = on_restart;
	f->req.write_ctx = f;
	f->req.progress_fn = on_progress;
	f->req.progress_ctx = f;
	f->bar = cd_progress_start(d->label, d->size_hint);
	return 0;
}

static void fetch_release(struct fetch *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp)
		unlink(f->tmp); /* nothing once committed */
	free(f->tmp);
	f->tmp = NULL;
	if (f->h.ctx)
		cd_hasher_release(&f->h);
	if (f->bar)
		cd_progress_abort(f->bar);
	cd_http_req_release(&f->req);
}

/* After the transfer: the error, if any, of the HTTP exchange itself. */
static int transfer_error(struct fetch *f)
{
	char *u = cd_url_redact(f->d->url);
	int r = 0;
	if (f->write_errno)
		r = cd_seterr("cannot write '%s': %s", f->tmp, strerror(f->write_errno));
	else if (f->bad_range)
		r = cd_seterr("GET %s: the server did not resume at byte %lld", u, f->written);
	else if (cd_http_req_error(&f->req))
		r = cd_seterr("%s", cd_http_req_error(&f->req));
	else if (f->req.status < 200 || f->req.status > 299)
		r = cd_http_status_error(&f->req);
	free(u);
	return r;
}

/*
 * Decompress the verified file into a cache entry named by the disk's own
 * sha256 (hashed as written), and link the compressed checksum to it.
 */
static int store_disk(const struct cd_cache *c, struct fetch *f)
{
	struct cd_download *d = f->d;
	struct cd_hasher h = { 0 };
	char *out, *named = NULL;
	int ofd = cd_cache_tmp(c, d->hex, &out), r = 0, committed = 0;
	if (ofd < 0)
		return -1;
	if (cd_hasher_init(&h, CD_HASH_SHA256) < 0)
		r = -1;
	else if (lseek(f->fd, 0, SEEK_SET) < 0)
		r = cd_seterr("cannot rewind '%s': %s", f->tmp, strerror(errno));
	else if (cd_decompress_fd(f->fd, ofd, d->compression, &h) < 0) {
		char *u = cd_url_redact(d->url);
		r = cd_adderr("cannot decompress '%s' (%s)", u, d->compression);
		free(u);
	}
	if (!r) {
		cd_hasher_final_hex(&h, d->disk_hex);
		d->disk_alg = CD_HASH_SHA256;
		named = cd_cache_path(c, CD_HASH_SHA256, d->disk_hex);
		/* Named while still open: the open file's lock keeps other runs' sweeps off it. */
		r = cd_cache_commit(c, out, CD_HASH_SHA256, d->disk_hex);
		committed = !r;
	}
	if (h.ctx)
		cd_hasher_release(&h);
	if (close(ofd) < 0 && !r) {
		r = cd_seterr("cannot write '%s': %s", named, strerror(errno));
		unlink(named);
	}
	if (!r)
		r = cd_cache_disk_link(c, f->alg, d->hex, d->disk_hex);
	if (!committed)
		unlink(out);
	free(out);
	if (r) {
		free(named);
		return -1;
	}
	struct stat st;
	char size[32];
	cd_progress_human(stat(named, &st) == 0 ? (long long)st.st_size : 0, size, sizeof(size));
	cd_progress_note("%s: decompressed (%s) to %s", d->label, d->compression, size);
	d->path = named;
	return 0;
}

/* Verify, decompress if needed, and name the file in the cache. */
static int fetch_finish(const struct cd_cache *c, struct fetch *f)
{
	struct cd_download *d = f->d;
	char got[CD_HEX_MAX];
	int compressed = cd_download_compressed(d->compression) == 1;

	if (transfer_error(f) < 0)
		return -1;
	cd_hasher_final_hex(&f->h, got);
	if (f->want && CRYPTO_memcmp(got, f->want, cd_hash_hexlen(f->alg))) {
		char *u = cd_url_redact(d->url);
		cd_seterr("checksum mismatch for '%s': expected %s:%s, got %s:%s",
			  u, cd_hash_name(f->alg), f->want, cd_hash_name(f->alg), got);
		free(u);
		return -1;
	}
	memcpy(d->hex, got, sizeof(got));
	cd_progress_done(f->bar, f->want ? "downloaded and verified" : "downloaded (no upstream checksum to verify)");
	f->bar = NULL;
	if (compressed)
		return store_disk(c, f);
	if (cd_cache_commit(c, f->tmp, f->alg, got) < 0)
		return -1;
	d->disk_alg = f->alg;
	memcpy(d->disk_hex, got, sizeof(got));
	d->path = cd_cache_path(c, f->alg, got);
	return 0;
}

/* Already in the cache?  Fills d->path, d->hex and d->disk_* when it is. */
static int lookup(const struct cd_cache *c, struct cd_download *d)
{
	enum cd_hash alg;
	const char *hex;
	if (!d->checksum || cd_digest_parse(d->checksum, &alg, &hex) < 0)
		return 0;
	if (cd_download_compressed(d->compression) == 1) {
		if (!cd_cache_disk_find(c, alg, hex, d->disk_hex))
			return 0;
		d->disk_alg = CD_HASH_SHA256;
	} else {
		if (!cd_cache_has(c, alg, hex))
			return 0;
		d->disk_alg = alg;
		memcpy(d->disk_hex, hex, cd_hash_hexlen(alg) + 1);
	}
	d->path = cd_cache_path(c, d->disk_alg, d->disk_hex);
	memcpy(d->hex, hex, cd_hash_hexlen(alg) + 1);
	d->from_cache = 1;
	return 1;
}

size_t cd_download_all(const struct cd_cache *c, struct cd_download *d, size_t n, int parallel)
{
	struct fetch *f = cd_xcalloc(n ? n : 1, sizeof(*f));
	struct cd_http_req **reqs = cd_xcalloc(n ? n : 1, sizeof(*reqs));
	size_t nreq = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		fetch_init(&f[i], NULL);
		if (cd_download_compressed(d[i].compression) < 0) {
			fail(&d[i], "%s", cd_errmsg());
			continue;
		}
		if (lookup(c, &d[i])) {
			cd_progress_note("%s: in the cache", d[i].label);
			continue;
		}
		if (fetch_start(c, &f[i], &d[i]) < 0) {
			fail(&d[i], "%s", cd_errmsg());
			continue;
		}
		reqs[nreq++] = &f[i].req;
	}
	cd_http_perform_all(reqs, nreq, parallel);
	size_t again = 0;
	for (size_t i = 0; i < n; i++)
		/* a refused range, or one past the end (a complete file a killed run left) */
		if (f[i].d && f[i].req.range_from > 0 &&
		    (f[i].req.result == CURLE_RANGE_ERROR || f[i].req.status == 416) && start_over(&f[i]) == 0)
			reqs[again++] = &f[i].req;
	if (again)
		cd_http_perform_all(reqs, again, parallel);
	for (size_t i = 0; i < n; i++) {
		if (f[i].d && !d[i].error && fetch_finish(c, &f[i]) < 0)
			fail(&d[i], "%s", cd_errmsg());
		if (d[i].error)
			failed++;
		if (f[i].d)
			fetch_release(&f[i]);
	}
	free(reqs);
	free(f);
	return failed;
}

static int filter_code(const char *c)
{
	if (!strcmp(c, "gzip"))
		return ARCHIVE_FILTER_GZIP;
	if (!strcmp(c, "xz"))
		return ARCHIVE_FILTER_XZ;
	if (!strcmp(c, "bzip2"))
		return ARCHIVE_FILTER_BZIP2;
	return ARCHIVE_FILTER_ZSTD;
}

static int archive_fail(struct archive *a, const char *what)
{
	const char *e = archive_error_string(a);
	return cd_seterr("%s: %s", what, e ? e : "unknown error");
}

/* Copy the raw entry's data out.  -1 and cd_seterr() on error. */
static int copy_data(struct archive *a, int out_fd, struct cd_hasher *h)
{
	char *buf = cd_xmalloc(IO_BUF);
	int r = 0;
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, IO_BUF);
		if (n == 0)
			break;
		if (n == ARCHIVE_WARN)
			continue; /* noted by libarchive; the data goes on */
		if (n < 0) {
			r = archive_fail(a, "corrupt stream");
			break;
		}
		if (cd_write_all(out_fd, buf, (size_t)n) < 0) {
			r = cd_seterr("cannot write the disk: %s", strerror(errno));
			break;
		}
		if (h)
			cd_hasher_update(h, buf, (size_t)n);
	}
	free(buf);
	return r;
}

int cd_decompress_fd(int in_fd, int out_fd, const char *compression, struct cd_hasher *out)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int want = filter_code(compression), r = 0;
	if (!a)
		return cd_seterr("out of memory");
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_fd(a, in_fd, IO_BUF) != ARCHIVE_OK)
		r = archive_fail(a, "cannot read");
	else if (archive_read_next_header(a, &e) < ARCHIVE_WARN)
		r = archive_fail(a, "corrupt stream");
	else if (archive_filter_code(a, 0) != want)
		r = cd_seterr("not %s data (found %s)", compression, archive_filter_name(a, 0));
	else
		r = copy_data(a, out_fd, out);
	archive_read_close(a);
	archive_read_free(a);
	return r;
}
