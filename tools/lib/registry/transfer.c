#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/json.h"
#include "core/msg.h"
#include "registry/blob.h"
#include "registry/manifest.h"
#include "registry/transfer.h"
#include "registry/upload.h"
#include "core/banned.h"

struct cd_xfer_stats cd_xfer_stats;

/* When the registry refuses a monolithic PUT, chunks of this size instead. */
#define FALLBACK_CHUNK (64LL << 20)

static void count(long long *c, long long n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

/* --- one blob ---------------------------------------------------------------------------- */

static int send_chunked(struct cd_upload *up, struct cd_blob_source *src, const char *digest,
			long long chunk)
{
	while (up->offset < src->size) {
		long long len = src->size - up->offset;
		if (len > chunk)
			len = chunk;
		if (cd_registry_upload_chunk(up, src, len) < 0)
			return -1;
	}
	return cd_registry_upload_finish(up, digest, NULL);
}

/* Upload into the open session up from src (positioned at byte 0). */
static int send_blob(struct cd_registry *dst, const char *repo, struct cd_upload *up,
		     struct cd_blob_source *src, const char *digest, long long chunk)
{
	if (chunk > 0)
		return send_chunked(up, src, digest, chunk);
	if (cd_registry_upload_finish(up, digest, src) == 0)
		return 0;
	/* Not a refusal of the PUT itself, or nothing to start over from: give up. */
	if (cd_errkind() != CD_ERR_OTHER || !src->seek)
		return -1;
	cd_debug("%s: monolithic upload of %.19s refused (%s): retrying in chunks",
		 repo, digest, cd_errmsg());
	cd_registry_upload_cancel(up);
	cd_upload_release(up);
	if (src->seek(src->ctx, 0) < 0 || cd_registry_upload_start(dst, repo, up) < 0)
		return -1;
	return send_chunked(up, src, digest, FALLBACK_CHUNK);
}

/* The bytes of b: its file, or a pump from the registry that holds it. */
static int open_source(const struct cd_xfer_blob *b, struct cd_blob_source *s, int *fd,
		       struct cd_blob_pump *pump)
{
	if (b->file) {
		struct stat st;
		*fd = open(b->file, O_RDONLY | O_CLOEXEC);
		if (*fd < 0 || fstat(*fd, &st) < 0)
			return cd_seterr("cannot open '%s': %s", b->file, strerror(errno));
		if (st.st_size != b->size)
			return cd_seterr("'%s' holds %lld bytes, its descriptor says %lld",
					 b->file, (long long)st.st_size, b->size);
		posix_fadvise(*fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	} else if (cd_blob_pump_start(pump, b->src, b->src_repo, b->digest, fd) < 0) {
		return -1;
	}
	cd_blob_source_fd(s, *fd, b->size);
	return 0;
}

static int put_blob(struct cd_registry *dst, const char *repo, const struct cd_xfer_blob *b,
		    const struct cd_xfer_opts *o)
{
	int have = cd_registry_blob_exists(dst, repo, b->digest, NULL);
	if (have < 0)
		return -1;
	if (have) {
		count(&cd_xfer_stats.skipped, 1);
		return 0;
	}
	struct cd_upload up = { 0 };
	int session = 0;
	if (b->mount_from && strcmp(b->mount_from, repo)) {
		int m = cd_registry_blob_mount(dst, repo, b->digest, b->mount_from, &up);
		if (m == 1) {
			count(&cd_xfer_stats.mounted, 1);
			return 0;
		}
		if (m == 0)
			session = 1;
		else
			cd_debug("%s: no mount of %.19s from %s: %s", repo, b->digest, b->mount_from, cd_errmsg());
	}
	struct cd_blob_source src;
	struct cd_blob_pump pump = { .fd = -1 };
	struct cd_err keep;
	int fd = -1, r;
	void *bar = NULL;
	r = open_source(b, &src, &fd, &pump);
	if (!r && !session)
		r = cd_registry_upload_start(dst, repo, &up);
	if (!r && o->show && (bar = o->show->start(repo, b))) {
		src.progress = o->show->update;
		src.progress_ctx = bar;
	}
	if (!r)
		r = send_blob(dst, repo, &up, &src, b->digest, o->chunk_size);
	if (bar)
		o->show->end(bar, r == 0);
	if (r < 0 && up.location) {
		cd_err_save(&keep);
		cd_registry_upload_cancel(&up);
		cd_err_raise(&keep);
	}
	if (fd >= 0)
		close(fd); /* also ends a pump that is still sending */
	if (cd_blob_pump_finish(&pump) < 0)
		r = -1; /* the source's reason is the real one */
	count(&cd_xfer_stats.copied_bytes, pump.bytes);
	cd_upload_release(&up);
	if (!r) {
		count(&cd_xfer_stats.pushed, 1);
		count(&cd_xfer_stats.pushed_bytes, b->size);
	}
	return r;
}

/* --- many blobs in parallel --------------------------------------------------------------- */

struct batch {
	struct cd_registry *dst;
	const char *repo;
	const struct cd_xfer_blob *b;
	size_t n, next;
	const struct cd_xfer_opts *o;
	pthread_mutex_t mu;
	int failed;
	struct cd_err err;       /* of the first blob that failed */
};

static void batch_work(struct batch *bt)
{
	for (;;) {
		pthread_mutex_lock(&bt->mu);
		size_t i = bt->failed ? bt->n : bt->next++;
		pthread_mutex_unlock(&bt->mu);
		if (i >= bt->n)
			break;
		if (put_blob(bt->dst, bt->repo, &bt->b[i], bt->o) < 0) {
			pthread_mutex_lock(&bt->mu);
			if (!bt->failed) {
				cd_adderr("blob %.19s...", bt->b[i].digest);
				cd_err_save(&bt->err);
			}
			bt->failed = 1;
			pthread_mutex_unlock(&bt->mu);
		}
	}
}

static void *batch_run(void *arg)
{
	batch_work(arg);
	return NULL;
}

int cd_xfer_blobs(struct cd_registry *dst, const char *repo, const struct cd_xfer_blob *b,
		  size_t n, const struct cd_xfer_opts *o)
{
	struct batch bt = { dst, repo, b, n, 0, o, PTHREAD_MUTEX_INITIALIZER, 0, { 0 } };
	size_t extra = o->parallel > 1 ? (size_t)o->parallel - 1 : 0;
	if (extra > n - (n > 0))
		extra = n - (n > 0);
	pthread_t th[16];
	size_t started = 0;
	if (extra > 16)
		extra = 16;
	for (; started < extra; started++)
		if (pthread_create(&th[started], NULL, batch_run, &bt) != 0)
			break;
	batch_work(&bt);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&bt.mu);
	return bt.failed ? cd_err_raise(&bt.err) : 0;
}

/* --- manifests ------------------------------------------------------------------------------ */

static int blob_desc(jv d, struct cd_xfer_blob *out)
{
	const char *digest = jv_get_kind(d) == JV_KIND_OBJECT ? cd_jv_str(d, "digest") : NULL;
	long long size;
	enum cd_hash alg;
	const char *hex;
	memset(out, 0, sizeof(*out));
	if (!digest || cd_digest_parse(digest, &alg, &hex) < 0 || cd_json_size(d, &size) != 1 ||
	    cd_snprintf(out->digest, sizeof(out->digest), "%s", digest) < 0)
		return -1;
	out->size = size;
	return 0;
}

int cd_xfer_manifest_blobs(const char *body, size_t len, struct cd_xfer_blob *out,
			   size_t max, size_t *n)
{
	jv m = jv_parse_sized(body, (int)len);
	int r = 0;
	*n = 0;
	if (jv_get_kind(m) != JV_KIND_OBJECT) {
		jv_free(m);
		return cd_seterr("the manifest is not a JSON object");
	}
	jv layers = jv_object_get(jv_copy(m), jv_string("layers"));
	jv config = jv_object_get(jv_copy(m), jv_string("config"));
	if (jv_get_kind(layers) != JV_KIND_ARRAY || max < 1 || blob_desc(config, &out[0]) < 0)
		r = cd_seterr("the manifest has no valid config or layers");
	else
		*n = 1;
	if (!r) {
		jv_array_foreach(layers, i, l) {
			if (!r && *n >= max)
				r = cd_seterr("the manifest has more than %zu layers", max - 1);
			else if (!r && blob_desc(l, &out[*n]) < 0)
				r = cd_seterr("layer %d of the manifest has no valid digest or size", i);
			else if (!r)
				(*n)++;
			jv_free(l);
		}
	}
	jv_free(layers);
	jv_free(config);
	jv_free(m);
	return r;
}


int cd_xfer_image(struct cd_registry *dst, const char *repo, struct cd_registry *src,
		  const char *src_repo, const char *digest, const char *mount_from,
		  const struct cd_xfer_opts *o, struct cd_descriptor *desc)
{
	int have = cd_registry_manifest_head(dst, repo, digest, desc);
	if (have == 0)
		return 0;
	if (cd_errkind() != CD_ERR_NOT_FOUND)
		return -1;
	struct cd_manifest m = { 0 };
	struct cd_xfer_blob b[CD_MANIFEST_BLOBS_MAX];
	size_t n;
	int r = cd_registry_manifest_get(src, src_repo, digest, &m);
	if (!r && cd_manifest_is_index(m.media_type))
		r = cd_seterr("%s@%s is an index, not an image manifest", src_repo, digest);
	if (!r)
		r = cd_xfer_manifest_blobs(m.body, m.len, b, CD_MANIFEST_BLOBS_MAX, &n);
	for (size_t i = 0; !r && i < n; i++) {
		b[i].src = src;
		b[i].src_repo = src_repo;
		b[i].mount_from = mount_from;
	}
	if (!r)
		r = cd_xfer_blobs(dst, repo, b, n, o);
	if (!r)
		r = cd_registry_manifest_put(dst, repo, NULL, m.media_type, m.body, m.len, NULL);
	if (!r) {
		memcpy(desc->media_type, m.media_type, sizeof(desc->media_type));
		memcpy(desc->digest, m.digest, sizeof(desc->digest));
		desc->size = (long long)m.len;
	}
	cd_manifest_release(&m);
	return r;
}

void cd_xfer_summary(const char *verb, char *buf, size_t n)
{
	long long pushed = __atomic_load_n(&cd_xfer_stats.pushed, __ATOMIC_RELAXED);
	long long bytes = __atomic_load_n(&cd_xfer_stats.pushed_bytes, __ATOMIC_RELAXED);
	long long skipped = __atomic_load_n(&cd_xfer_stats.skipped, __ATOMIC_RELAXED);
	long long mounted = __atomic_load_n(&cd_xfer_stats.mounted, __ATOMIC_RELAXED);
	if (cd_snprintf(buf, n, "%s %lld blob%s (%.1f MiB), skipped %lld present, mounted %lld",
			verb, pushed, pushed == 1 ? "" : "s", (double)bytes / 1048576.0, skipped,
			mounted) < 0 && n)
		buf[0] = '\0';
}
