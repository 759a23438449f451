#ifndef CD_REGISTRY_H
#define CD_REGISTRY_H
/*
 * The registry client: the one place that speaks the OCI distribution API
 * (https://github.com/opencontainers/distribution-spec), over http.h.
 *
 * One struct cd_registry per registry host.  It is thread-safe: workers may
 * share it (a mutex guards the scheme probe and the token cache; each call
 * runs on the calling thread's HTTP connections).  Create it after
 * cd_opts_finish(); free it before cd_opts_release().
 *
 * Transport: https with verification (cd_http_cfg.ca_file / .insecure, set
 * by --ca-file / --insecure-skip-tls).  Plain http only when asked
 * (--plain-http) or for a loopback host (127.0.0.1, [::1], localhost), and
 * for those only when the host does not speak TLS: the first request tries
 * https and falls back to http when the peer answers in plain text, so a
 * loopback TLS registry is still verified.  Registry URLs are never
 * rewritten by the mirror map (mirrors are for upstream downloads).
 * Retries with backoff on connection errors, 429 and 5xx are http.c's.
 *
 * Authentication (auth.h): credentials are looked up once, at creation
 * (--creds, --authfile, REGISTRY_AUTH_FILE, containers auth.json, docker
 * config.json).  A 401 answer's WWW-Authenticate challenge decides: Basic
 * sends the credentials; Bearer fetches a token from the realm for the
 * scope the call needs (anonymously when there are no credentials), caches
 * it per scope until it expires, and fetches a new one once on a later
 * 401.  Scopes: reads "repository:<repo>:pull"; writes
 * "repository:<repo>:pull,push"; a mount adds "repository:<from>:pull".
 * Credentials and tokens are wiped on free and never appear in messages.
 *
 * Errors: every call returns -1 with cd_errmsg() set to a message naming
 * the object ("<host>/<repo>:<tag>: manifest unknown (MANIFEST_UNKNOWN)",
 * "<host>: authentication failed for user 'bob' (UNAUTHORIZED: ...)"), and
 * cd_registry_errkind() tells the kind of failure, so callers can tell
 * "not found" from the rest.  Successful calls set the kind to
 * CD_REG_OK.
 *
 * Integrity: every manifest read is checked against the digest asked for,
 * or, when fetched by tag, against the Docker-Content-Digest the registry
 * sent; every blob read against its digest.  Manifests over
 * CD_MANIFEST_MAX are refused.
 */
#include <stddef.h>
#include <jv.h>

#include "core/digest.h"
#include "core/ref.h"
#include "registry/auth.h"

#define CD_MANIFEST_MAX (4u << 20)     /* manifests and image configs */
#define CD_SIZE_MAX (1LL << 50)        /* the largest blob size believed (1 PiB) */
#define CD_TOKEN_ANSWER_MAX (256u << 10)
#define CD_MEDIA_TYPE_MAX 128

#define CD_MT_OCI_MANIFEST    "application/vnd.oci.image.manifest.v1+json"
#define CD_MT_OCI_INDEX       "application/vnd.oci.image.index.v1+json"
#define CD_MT_OCI_CONFIG      "application/vnd.oci.image.config.v1+json"
#define CD_MT_OCI_LAYER_GZIP  "application/vnd.oci.image.layer.v1.tar+gzip"
#define CD_MT_OCI_LAYER_ZSTD  "application/vnd.oci.image.layer.v1.tar+zstd"
#define CD_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define CD_MT_DOCKER_LIST     "application/vnd.docker.distribution.manifest.list.v2+json"
#define CD_MT_DOCKER_CONFIG   "application/vnd.docker.container.image.v1+json"
#define CD_MT_DOCKER_LAYER    "application/vnd.docker.image.rootfs.diff.tar.gzip"

/* What went wrong in the last failed cd_registry_* call of this thread. */
enum cd_reg_errkind {
	CD_REG_OK = 0,
	CD_REG_NOT_FOUND,    /* 404 / NAME_UNKNOWN / MANIFEST_UNKNOWN / BLOB_UNKNOWN,
	                        quay's "Tag ... was deleted or has expired" */
	CD_REG_AUTH,         /* 401 / 403: credentials refused, token refused, DENIED */
	CD_REG_TOO_MANY,     /* 429 after the retries */
	CD_REG_UNREACHABLE,  /* no HTTP answer: refused, DNS, timeout, TLS failure */
	CD_REG_INTEGRITY,    /* digest mismatch, manifest too large, malformed manifest */
	CD_REG_OTHER,        /* other HTTP statuses and registry errors */
};
enum cd_reg_errkind cd_registry_errkind(void);

struct cd_registry_opts {
	int plain_http;          /* use http:// for every host */
	const char *creds;       /* "USER:PASS" or NULL (copied, not kept) */
	const char *authfile;    /* auth file to read or NULL */
};

struct cd_registry;

/*
 * A client for host ("quay.io", "127.0.0.1:5000", "docker.io").  o NULL:
 * the command line's (cd_opts: --plain-http, --creds, --authfile).
 * NULL and cd_seterr() when the credentials cannot be read (a malformed
 * auth file, an --authfile that does not exist).  No network yet.
 */
struct cd_registry *cd_registry_new(const char *host, const struct cd_registry_opts *o);
void cd_registry_free(struct cd_registry *r);
const char *cd_registry_host(const struct cd_registry *r);

/* GET /v2/ (authenticating if challenged).  0 when the registry answers as one. */
int cd_registry_ping(struct cd_registry *r);

/* --- manifests ---------------------------------------------------------- */

/* A manifest as served: the exact bytes (the digest is over them). */
struct cd_manifest {
	char *body;                          /* NUL-terminated, owned */
	size_t len;
	char media_type[CD_MEDIA_TYPE_MAX];  /* Content-Type, else the body's mediaType */
	char digest[CD_DIGEST_MAX];          /* sha256 (or the algorithm asked for) of body */
};
void cd_manifest_release(struct cd_manifest *m);

struct cd_descriptor {
	char media_type[CD_MEDIA_TYPE_MAX];
	char digest[CD_DIGEST_MAX];
	long long size;                      /* -1 when unknown (or not a byte count) */
};

/*
 * GET the manifest repo:ref (ref: a tag or a digest), accepting OCI
 * manifest, OCI index, Docker schema 2 and Docker manifest list.
 */
int cd_registry_manifest_get(struct cd_registry *r, const char *repo, const char *ref,
			     struct cd_manifest *out);
/* HEAD: media type, digest (Docker-Content-Digest) and size without the body. */
int cd_registry_manifest_head(struct cd_registry *r, const char *repo, const char *ref,
			      struct cd_descriptor *out);
/*
 * PUT body as manifest repo:ref (ref: a tag, or NULL/the digest to push by
 * digest) with the given Content-Type.  digest_out (may be NULL) gets the
 * sha256 of body; a Docker-Content-Digest answer that differs is an error.
 */
int cd_registry_manifest_put(struct cd_registry *r, const char *repo, const char *ref,
			     const char *media_type, const void *body, size_t len,
			     char digest_out[CD_DIGEST_MAX]);
/* DELETE a manifest by digest (registries refuse deletion by tag). */
int cd_registry_manifest_delete(struct cd_registry *r, const char *repo, const char *digest);

/* Is this media type an index / manifest list (1) or not (0)? */
int cd_manifest_is_index(const char *media_type);

/* --- tags ---------------------------------------------------------------- */

/*
 * Every tag of repo (GET /v2/<repo>/tags/list, following Link: rel="next"
 * pages).  *tags = a new jv array of strings (caller owns).  Bounded: at
 * most 1000 pages and 100000 tags.
 */
int cd_registry_tags(struct cd_registry *r, const char *repo, jv *tags);

/* --- blobs: read ----------------------------------------------------------- */

/*
 * Stream blob repo@digest to fn (return n to go on, anything else aborts).
 * The bytes are checked against digest at the end: on -1 the caller must
 * discard what fn received.  A restarted transfer (retry after a cut)
 * resumes with a Range request; fn sees each byte once.
 */
int cd_registry_blob_get(struct cd_registry *r, const char *repo, const char *digest,
			 size_t (*fn)(const char *p, size_t n, void *ctx), void *ctx);
/* GET a small blob (a config) into memory, at most max bytes, checked.  Caller frees *body. */
int cd_registry_blob_get_mem(struct cd_registry *r, const char *repo, const char *digest,
			     size_t max, char **body, size_t *len);
/* HEAD: 1 the blob is there (*size set when size is not NULL), 0 it is not, -1 error. */
int cd_registry_blob_exists(struct cd_registry *r, const char *repo, const char *digest,
			    long long *size);

/* --- blobs: write ---------------------------------------------------------- */

/* Where upload bytes come from. */
struct cd_blob_source {
	/* Up to n bytes into buf: the count, 0 at the end, -1 on error (cd_seterr()). */
	long (*read)(void *ctx, char *buf, size_t n);
	/* Go to byte off of the blob (retry, resume).  NULL: the source cannot. */
	int (*seek)(void *ctx, long long off);
	void *ctx;
	long long size;          /* whole blob, bytes; -1 unknown */
	/* optional: called now and then with bytes sent so far and size */
	void (*progress)(void *ctx, long long sent, long long total);
	void *progress_ctx;
	/* private: the fd source */
	int fd;
	long long fd_start, pos;
};
/*
 * A source reading size bytes of fd from its current offset (byte 0 of the
 * blob).  seek works when fd is seekable (a file), else is NULL.
 */
void cd_blob_source_fd(struct cd_blob_source *s, int fd, long long size);

/* An upload session.  Borrows its registry. */
struct cd_upload {
	struct cd_registry *reg;
	char *repo;
	char *location;          /* absolute URL of the session: the latest Location */
	long long offset;        /* bytes the registry acknowledged */
};
void cd_upload_release(struct cd_upload *up);

/*
 * Upload a whole blob the simple way: POST a session, then one PUT
 * ?digest= streaming src from byte 0.  The registry checks the digest.
 */
int cd_registry_blob_upload(struct cd_registry *r, const char *repo, const char *digest,
			    struct cd_blob_source *src);
/*
 * Mount digest from repository from (same registry) into repo:
 * 1 mounted (201; up untouched), 0 not mounted and up holds the ordinary
 * session the registry opened instead (202: upload into it or cancel it),
 * -1 error.
 */
int cd_registry_blob_mount(struct cd_registry *r, const char *repo, const char *digest,
			   const char *from, struct cd_upload *up);

/* Chunked uploads, for resuming: start, PATCH chunks in order, finish. */
int cd_registry_upload_start(struct cd_registry *r, const char *repo, struct cd_upload *up);
/* Take up a session known by its Location (from an earlier run) and ask its status. */
int cd_registry_upload_resume(struct cd_registry *r, const char *repo, const char *location,
			      struct cd_upload *up);
/* GET the session: up->offset = bytes the registry has (from Range: 0-N). */
int cd_registry_upload_status(struct cd_upload *up);
/*
 * PATCH len bytes read from src (from its current position, which must be
 * up->offset) to the session; updates location and offset.
 */
int cd_registry_upload_chunk(struct cd_upload *up, struct cd_blob_source *src, long long len);
/*
 * PUT ?digest=: finish the session.  src NULL: an empty body (after
 * chunks); else the rest of src from up->offset is sent in the PUT.
 */
int cd_registry_upload_finish(struct cd_upload *up, const char *digest,
			      struct cd_blob_source *src);
/* DELETE the session (best effort cleanup). */
int cd_registry_upload_cancel(struct cd_upload *up);

/* --- images: what cd-current and cd-verify read --------------------------- */

/* One architecture's image: its manifest and parsed config. */
struct cd_image {
	struct cd_manifest manifest;   /* the image manifest (not the index) */
	char config_digest[CD_DIGEST_MAX];
	jv config;                     /* the config blob, parsed; owned (jv_invalid() when none) */
};
void cd_image_init(struct cd_image *img);
void cd_image_release(struct cd_image *img);

/*
 * The linux/<arch> image of top (a manifest fetched from repo): through
 * the index or list when top is one (first entry whose platform matches),
 * else top itself when its config's architecture is arch.
 * 1 found, 0 arch not in it (not an error; kind CD_REG_NOT_FOUND), -1 error.
 */
int cd_registry_image_for_arch(struct cd_registry *r, const char *repo,
			       const struct cd_manifest *top, const char *arch,
			       struct cd_image *out);

/* --- pure helpers (unit-tested) -------------------------------------------- */

/*
 * From a Link header value, the URL of rel="next", resolved against
 * base_url (the URL of the page that carried it; a path-absolute "</v2/..>"
 * keeps base's scheme and host).  1 found (*next malloc'd), 0 none,
 * -1 malformed.
 */
int cd_registry_link_next(const char *link, const char *base_url, char **next);

/*
 * Summarise a registry error body {"errors":[{"code","message","detail"}]}
 * into out: "manifest unknown (MANIFEST_UNKNOWN)"; codes joined by "; ".
 * Returns the kind the codes mean (CD_REG_NOT_FOUND for NAME_UNKNOWN,
 * MANIFEST_UNKNOWN, BLOB_UNKNOWN, BLOB_UPLOAD_UNKNOWN and quay's expired
 * tag; CD_REG_AUTH for UNAUTHORIZED, DENIED; CD_REG_TOO_MANY for
 * TOOMANYREQUESTS; CD_REG_OTHER otherwise); -1 when body is not such a
 * document (out then empty).
 */
int cd_registry_error_body(const char *body, size_t len, char *out, size_t outlen);

/*
 * Find the linux/<arch> entry of an index or list body: 1 found (*out
 * filled), 0 none, -1 not a valid index.
 */
int cd_manifest_index_find(const char *body, size_t len, const char *arch,
			   struct cd_descriptor *out);
/* The config descriptor of an image manifest body: 0, or -1 malformed. */
int cd_manifest_config(const char *body, size_t len, struct cd_descriptor *out);

/*
 * obj's "size" (obj borrowed), a number from outside: 1 and *size when it
 * is a whole number from 0 to CD_SIZE_MAX; 0 when obj has none (*size =
 * -1); -1 when it is anything else (negative, fractional, 1e308, NaN, not
 * a number; *size = -1).  The one way sizes are read from manifests,
 * indexes and records.
 */
int cd_json_size(jv obj, long long *size);

/*
 * A token service's answer, {"token" or "access_token", "expires_in"}:
 * 0 with *token (malloc'd; the caller wipes and frees it) and *ttl_ms,
 * how long to use it (expires_in less 5 s, expires_in taken between 10 s
 * and a day; 55 s when absent).  -1 when
 * there is no usable token (none, empty, or holding a byte that is not
 * visible ASCII: it goes into a header line) or body is over
 * CD_TOKEN_ANSWER_MAX.  The token's copies in the parsed document
 * are wiped; body stays the caller's to wipe.  Fuzzers and tests call it
 * (tests/fuzz/fuzz-token.c).
 */
int cd_registry_token_answer(const char *body, size_t len, char **token, long long *ttl_ms);

#endif
