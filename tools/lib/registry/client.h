#ifndef CD_CLIENT_H
#define CD_CLIENT_H
/*
 * The registry client: the one place that speaks the OCI distribution API
 * (https://github.com/opencontainers/distribution-spec), over net/http.h.
 * This header makes and frees a client; manifest.h, tags.h, blob.h,
 * upload.h and platform.h are what it does.
 *
 * One struct cd_registry per registry host.  It is thread-safe: workers may
 * share it (mutexes guard the scheme probe and the token cache; each call
 * runs on the calling thread's HTTP connections).  Create it after
 * cd_http_global_init(); free it before cd_http_global_cleanup().
 *
 * Transport: https with verification (cd_registry_opts: the CA file, the
 * certificate folder of certs.h, tls_verify; the token service gets the
 * same).  Plain http only when asked (plain_http) or for a loopback host
 * (127.0.0.1, [::1], localhost) or one with tls_verify CD_TLS_SKIP (as
 * skopeo's --tls-verify=false), and for those only when the host does not
 * speak TLS: the first request tries https and falls back to http when the
 * peer answers in plain text, so a loopback TLS registry is still
 * verified.  Registry URLs are never rewritten by the mirror map (mirrors
 * are for upstream downloads).  Retries with backoff on connection errors,
 * 429 and 5xx are net/http.c's.
 *
 * Authentication (auth.h, token.h): credentials are looked up once, at
 * creation.  A 401 answer's WWW-Authenticate challenge decides: Basic
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
 * cd_errkind() tells the kind of failure (core/error.h), so callers can
 * tell "not found" from the rest.
 *
 * Integrity: every manifest read is checked against the digest asked for,
 * or, when fetched by tag, against the Docker-Content-Digest the registry
 * sent; every blob read against its digest.  Manifests over
 * CD_MANIFEST_MAX (core/limits.h) are refused.
 */
#include <stddef.h>

/* How to reach and authenticate to one registry: the caller's settings. */
enum cd_tls_verify {
	CD_TLS_DEFAULT,          /* as cd_http_cfg.insecure says */
	CD_TLS_VERIFY,
	CD_TLS_SKIP,             /* no verification; and, like plain_http for loopback, http when the host does not speak TLS */
};

struct cd_registry_opts {
	int plain_http;          /* use http:// for every host */
	const char *creds;       /* "USER:PASS" or NULL (copied, not kept) */
	const char *authfile;    /* auth file to read or NULL */
	enum cd_tls_verify tls_verify;
	const char *ca_file;     /* CA bundle to trust; NULL: cd_http_cfg.ca_file (kept: it must outlive the client) */
	const char *cert_dir;    /* certificate folder (certs.h); NULL: the host's in certs.d */
};

struct cd_registry;

/*
 * A client for host ("quay.io", "127.0.0.1:5000", "docker.io") with o's
 * settings; credentials, in the order containers tools use: o->creds,
 * else o->authfile, else the auth files of auth.h cd_creds_lookup().
 * NULL and cd_seterr() when the credentials cannot be read (a malformed
 * auth file, an authfile that does not exist, a credential helper that
 * fails) or the certificate folder cannot.  No network yet.
 */
struct cd_registry *cd_registry_new(const char *host, const struct cd_registry_opts *o);
void cd_registry_free(struct cd_registry *r);
const char *cd_registry_host(const struct cd_registry *r);
/* 1 when the client has credentials for its host (an auth file's, a helper's or o->creds). */
int cd_registry_has_creds(const struct cd_registry *r);

/* GET /v2/ (authenticating if challenged).  0 when the registry answers as one.  Only tests call it (tests/unit/test-regwrite.c). */
int cd_registry_ping(struct cd_registry *r);

/*
 * Summarise a registry error body {"errors":[{"code","message","detail"}]}
 * into out: "manifest unknown (MANIFEST_UNKNOWN)"; codes joined by "; ".
 * Returns the kind the codes mean (CD_ERR_NOT_FOUND for NAME_UNKNOWN,
 * MANIFEST_UNKNOWN, BLOB_UNKNOWN, BLOB_UPLOAD_UNKNOWN and quay's expired
 * tag; CD_ERR_AUTH for UNAUTHORIZED, DENIED; CD_ERR_TOO_MANY for
 * TOOMANYREQUESTS; CD_ERR_OTHER otherwise); -1 when body is not such a
 * document (out then empty).
 */
int cd_registry_error_body(const char *body, size_t len, char *out, size_t outlen);

#endif
