/* Reading blobs (blob.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/io.h"
#include "net/http.h"
#include "registry/blob.h"
#include "registry/call.h"
#include "core/banned.h"

struct blob_sink {
	size_t (*fn)(const char *p, size_t n, void *ctx);
	void *ctx;
	struct cd_hasher h;
	long long received;     /* bytes handed to fn */
	long long pos;          /* position of the next byte of this attempt */
	struct cd_http_req *q;
	int started;
};

static size_t sink_write(const char *p, size_t n, void *ctx)
{
	struct blob_sink *s = ctx;
	if (!s->started) {
		/* A server that ignored our Range starts again from byte 0. */
		s->pos = s->q->status == 206 ? s->q->range_from : 0;
		s->started = 1;
	}
	size_t skip = 0;
	if (s->pos < s->received) {
		long long d = s->received - s->pos;
		skip = d > (long long)n ? n : (size_t)d;
	}
	s->pos += (long long)n;
	if (skip == n)
		return n;
	cd_hasher_update(&s->h, p + skip, n - skip);
	if (s->fn(p + skip, n - skip, s->ctx) != n - skip)
		return 0;
	s->received += (long long)(n - skip);
	return n;
}

static int sink_restart(void *ctx, struct cd_http_req *q)
{
	struct blob_sink *s = ctx;
	q->range_from = s->received;
	s->started = 0;
	return 0;
}

/* The digest of a blob to read: its algorithm and hex, or -1 (cd_seterr). */
static int blob_digest(const char *repo, const char *digest, enum cd_hash *alg, const char **hex)
{
	if (cd_registry_check_names(repo, digest) < 0 || !cd_registry_is_digest(digest) ||
	    cd_digest_parse(digest, alg, hex) < 0)
		return cd_seterr("invalid blob digest '%.200s'", digest);
	return 0;
}

static void blob_call(struct cd_call *c, struct cd_registry *r, const char *repo, const char *digest)
{
	cd_call_init(c, r, repo, digest, cd_registry_scope(repo, "pull"),
		     cd_registry_url(r, "/v2/%s/blobs/%s", repo, digest));
}

/* Does the hash h of the bytes read match hex? */
static int check_hash(struct cd_hasher *h, enum cd_hash alg, const char *hex, const char *what)
{
	char got[CD_HEX_MAX];
	cd_hasher_final_hex(h, got);
	if (CRYPTO_memcmp(got, hex, cd_hash_hexlen(alg)))
		return cd_seterr_kind(CD_ERR_INTEGRITY, "%s: blob digest mismatch: got %s:%s", what,
				      cd_hash_name(alg), got);
	return 0;
}

int cd_registry_blob_get(struct cd_registry *r, const char *repo, const char *digest,
			 size_t (*fn)(const char *p, size_t n, void *ctx), void *ctx)
{
	enum cd_hash alg;
	const char *hex;
	if (blob_digest(repo, digest, &alg, &hex) < 0)
		return -1;
	struct cd_call c;
	blob_call(&c, r, repo, digest);
	struct blob_sink s = { .fn = fn, .ctx = ctx, .q = &c.q };
	if (cd_hasher_init(&s.h, alg) < 0) {
		cd_call_release(&c);
		return -1;
	}
	c.q.write_fn = sink_write;
	c.q.write_ctx = &s;
	c.q.restart_fn = sink_restart;
	int ret = cd_call_run(&c, (const long[]){ 200, 206, 0 });
	if (!ret)
		ret = check_hash(&s.h, alg, hex, c.what);
	cd_hasher_release(&s.h);
	cd_call_release(&c);
	return ret;
}

int cd_registry_blob_get_mem(struct cd_registry *r, const char *repo, const char *digest,
			     size_t max, char **body, size_t *len)
{
	enum cd_hash alg;
	const char *hex;
	if (blob_digest(repo, digest, &alg, &hex) < 0)
		return -1;
	struct cd_call c;
	struct cd_hasher h;
	/* Into memory, not through blob_get's stream: a small request, with its deadline. */
	blob_call(&c, r, repo, digest);
	c.q.max_body = max;
	c.body = "blob";
	int ret = cd_call_run(&c, (const long[]){ 200, 0 });
	if (!ret && cd_hasher_init(&h, alg) == 0) {
		cd_hasher_update(&h, c.q.body.p ? c.q.body.p : "", c.q.body.len);
		ret = check_hash(&h, alg, hex, c.what);
		cd_hasher_release(&h);
	} else if (!ret) {
		ret = -1;
	}
	if (!ret)
		*body = cd_buf_detach(&c.q.body, len);
	cd_call_release(&c);
	return ret;
}

int cd_registry_blob_exists(struct cd_registry *r, const char *repo, const char *digest,
			    long long *size)
{
	if (cd_registry_check_names(repo, digest) < 0)
		return -1;
	struct cd_call c;
	blob_call(&c, r, repo, digest);
	c.q.flags = CD_HTTP_HEAD;
	int ret = cd_call_run(&c, (const long[]){ 200, 404, 0 });
	if (!ret && c.q.status == 200) {
		ret = 1;
		if (size)
			*size = cd_http_content_length(&c.q);
	}
	cd_call_release(&c);
	return ret;
}

/* --- pumps ------------------------------------------------------------------- */

static size_t pump_write(const char *p, size_t n, void *ctx)
{
	struct cd_blob_pump *pu = ctx;
	if (cd_send_all(pu->fd, p, n) < 0)
		return 0; /* the reader gave up: abort the GET */
	pu->bytes += (long long)n;
	return n;
}

static void *pump_run(void *arg)
{
	struct cd_blob_pump *pu = arg;
	pu->ret = cd_registry_blob_get(pu->reg, pu->repo, pu->digest, pump_write, pu);
	if (pu->ret < 0)
		cd_err_save(&pu->err);
	/* EOF before the announced size makes the reader fail rather than hang. */
	close(pu->fd);
	return NULL;
}

int cd_blob_pump_start(struct cd_blob_pump *p, struct cd_registry *r, const char *repo,
		       const char *digest, int *read_fd)
{
	int sv[2];
	memset(p, 0, sizeof(*p));
	p->reg = r;
	p->repo = repo;
	p->digest = digest;
	p->fd = -1;
	*read_fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return cd_seterr("socketpair: %s", strerror(errno));
	p->fd = sv[1];
	if (pthread_create(&p->thread, NULL, pump_run, p) != 0) {
		close(sv[0]);
		close(sv[1]);
		p->fd = -1;
		return cd_seterr("cannot start a thread");
	}
	*read_fd = sv[0];
	return 0;
}

int cd_blob_pump_finish(struct cd_blob_pump *p)
{
	if (p->fd < 0)
		return 0;
	pthread_join(p->thread, NULL);
	p->fd = -1;
	return p->ret < 0 ? cd_err_raise(&p->err) : 0;
}
