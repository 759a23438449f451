/* The registry client: lifecycle, transport, the one way a call is made (client.h, call.h). */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/msg.h"
#include "core/ref.h"
#include "core/url.h"
#include "net/http.h"
#include "registry/auth.h"
#include "registry/call.h"
#include "registry/certs.h"
#include "registry/client.h"
#include "registry/token.h"
#include "core/banned.h"

enum scheme_state { SCHEME_UNKNOWN, SCHEME_HTTPS, SCHEME_HTTP };

struct cd_registry {
	char *host;             /* as in references */
	const char *api_host;   /* what we connect to */
	int plain_http;
	struct cd_regtls tls;
	pthread_mutex_t mu;     /* guards scheme */
	enum scheme_state scheme;
	struct cd_regauth auth;
};

/* --- lifecycle --------------------------------------------------------------- */

struct cd_registry *cd_registry_new(const char *host, const struct cd_registry_opts *o)
{
	struct cd_registry *r = cd_xcalloc(1, sizeof(*r));
	r->host = cd_xstrdup(host);
	r->api_host = cd_ref_api_host(r->host);
	r->plain_http = o->plain_http;
	pthread_mutex_init(&r->mu, NULL);
	int insecure = o->tls_verify == CD_TLS_DEFAULT ? cd_http_cfg.insecure : o->tls_verify == CD_TLS_SKIP;
	if (cd_regtls_init(&r->tls, host, insecure, o->ca_file ? o->ca_file : cd_http_cfg.ca_file, o->cert_dir) < 0) {
		cd_adderr("TLS settings for '%s'", host);
		cd_registry_free(r);
		return NULL;
	}
	if (cd_regauth_init(&r->auth, host, o->creds, o->authfile) < 0) {
		cd_registry_free(r);
		return NULL;
	}
	r->auth.tls = &r->tls.tls;
	return r;
}

void cd_registry_free(struct cd_registry *r)
{
	if (!r)
		return;
	cd_regauth_release(&r->auth);
	cd_regtls_release(&r->tls);
	pthread_mutex_destroy(&r->mu);
	free(r->host);
	free(r);
}

const char *cd_registry_host(const struct cd_registry *r)
{
	return r->host;
}

int cd_registry_has_creds(const struct cd_registry *r)
{
	return cd_creds_any(&r->auth.creds);
}

/* --- transport ----------------------------------------------------------------- */

/*
 * Decide http or https once.  Loopback hosts get a TLS probe: a peer that
 * answers TLS in plain text ("wrong version number") is a plain registry.
 * A probe that reaches nobody decides nothing (the real request will
 * report why).  The probe is a handshake and nothing more: no request is
 * sent, so no certificate check is needed (the real request makes it),
 * and no CA bundle is loaded for it (a tenth of a CPU second each time,
 * in every process of a pipeline).  The client certificate stays, for a
 * registry that wants one before it completes a handshake.
 */
static enum scheme_state scheme_of(struct cd_registry *r)
{
	pthread_mutex_lock(&r->mu);
	enum scheme_state s = r->scheme;
	pthread_mutex_unlock(&r->mu);
	if (s != SCHEME_UNKNOWN)
		return s;
	if (r->plain_http) {
		s = SCHEME_HTTP;
	} else if (!cd_ref_host_is_loopback(r->api_host) && !r->tls.tls.insecure) {
		s = SCHEME_HTTPS;
	} else {
		char *url = cd_xasprintf("https://%s/v2/", r->api_host);
		struct cd_tls probe = r->tls.tls;
		probe.insecure = 1;
		probe.ca_file = NULL;
		probe.ca_pem = NULL;
		probe.ca_pem_len = 0;
		struct cd_http_req q;
		cd_http_req_init(&q, url);
		q.flags = CD_HTTP_NO_RETRY | CD_HTTP_NO_MIRROR | CD_HTTP_NO_REDIRECT | CD_HTTP_CONNECT_ONLY;
		q.tls = &probe;
		q.max_body = CD_ERROR_BODY_MAX;
		int ok = cd_http_perform(&q);
		if (ok == 0)
			s = SCHEME_HTTPS;
		else if (q.result == CURLE_SSL_CONNECT_ERROR)
			s = SCHEME_HTTP;
		cd_http_req_release(&q);
		free(url);
		if (s == SCHEME_UNKNOWN)
			return SCHEME_HTTPS;
	}
	pthread_mutex_lock(&r->mu);
	r->scheme = s;
	pthread_mutex_unlock(&r->mu);
	return s;
}

char *cd_registry_url(struct cd_registry *r, const char *fmt, ...)
{
	va_list ap;
	char *path;
	va_start(ap, fmt);
	int n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		cd_oom();
	char *url = cd_xasprintf("%s://%s%s", scheme_of(r) == SCHEME_HTTP ? "http" : "https", r->api_host, path);
	free(path);
	return url;
}

char *cd_registry_location(struct cd_registry *r, const char *loc)
{
	if (!strncasecmp(loc, "http://", 7) || !strncasecmp(loc, "https://", 8))
		return cd_xstrdup(loc);
	if (loc[0] != '/')
		return NULL;
	char *base = cd_registry_url(r, "/v2/");
	char *u = cd_url_resolve(base, loc, strlen(loc));
	free(base);
	return u;
}

char *cd_registry_scope(const char *repo, const char *actions)
{
	return cd_xasprintf("repository:%s:%s", repo, actions);
}

int cd_registry_is_digest(const char *ref)
{
	return strchr(ref, ':') != NULL;
}

int cd_registry_check_names(const char *repo, const char *ref)
{
	enum cd_hash alg;
	const char *hex;
	if (!cd_ref_valid_path(repo))
		return cd_seterr("invalid repository name '%.200s'", repo);
	if (ref && (cd_registry_is_digest(ref) ? cd_digest_parse(ref, &alg, &hex) < 0 : !cd_ref_valid_tag(ref)))
		return cd_seterr("invalid tag or digest '%.200s'", ref);
	return 0;
}

/* The error of a request refused with 401 (q) for scope, without any secret.  -1. */
static int refused(const struct cd_registry *r, const struct cd_http_req *q, const char *scope)
{
	char v[CD_HTTP_HEADER_MAX], msg[512] = "";
	struct cd_challenge c = { 0 };
	if (cd_http_header(q, "WWW-Authenticate", v, sizeof(v)))
		cd_challenge_parse(&c, v);
	cd_registry_error_body(q->body.p, q->body.len, msg, sizeof(msg));
	const char *why = msg[0] ? msg : "HTTP 401";
	if (c.scheme == CD_AUTH_BEARER)
		cd_seterr_kind(CD_ERR_AUTH, "token refused for scope '%s'%s%s: %s", scope,
			       c.error ? ": " : "", c.error ? c.error : "", why);
	else if (r->auth.creds.user)
		cd_seterr_kind(CD_ERR_AUTH, "authentication failed for user '%s': %s", r->auth.creds.user, why);
	else if (r->auth.creds.token)
		cd_seterr_kind(CD_ERR_AUTH, "'%s' asks for a user and password, and only an identity token was found: %s",
			       r->host, why);
	else
		cd_seterr_kind(CD_ERR_AUTH, "authentication required and no credentials found for '%s': %s", r->host, why);
	cd_challenge_release(&c);
	return -1;
}

/*
 * Run q against the registry with authentication for scope: on a 401,
 * learn the challenge, get credentials or a token, and try again (twice
 * at most: a cached token may have been revoked).  0 when an answer other
 * than 401 came (check q->status), -1 otherwise.  rewind (may be NULL)
 * makes the request body ready for another attempt.
 */
static int request(struct cd_registry *r, struct cd_http_req *q, const char *scope,
		   struct curl_slist *headers, int (*rewind)(void *), void *rctx)
{
	int fresh = 0;
	q->flags |= CD_HTTP_NO_MIRROR;
	q->tls = &r->tls.tls;
	for (int attempt = 0; attempt < 3; attempt++) {
		enum cd_auth_scheme sent;
		struct curl_slist *h = NULL;
		for (struct curl_slist *i = headers; i; i = i->next)
			h = curl_slist_append(h, i->data);
		char *a = cd_regauth_line(&r->auth, scope, &sent);
		if (a) {
			h = curl_slist_append(h, a);
			cd_wipe_free(a);
		}
		q->headers = h;
		int ret = cd_http_perform(q);
		q->headers = NULL;
		cd_http_headers_wipe_free(h);
		if (ret < 0) {
			if (q->result == CURLE_PEER_FAILED_VERIFICATION)
				cd_seterr_kind(CD_ERR_UNREACHABLE,
					       "%s (TLS certificate not trusted: use --ca-file, or --insecure-skip-tls)",
					       cd_errmsg());
			return -1;
		}
		if (q->status != 401)
			return 0;
		if (attempt == 2)
			break;
		int again = cd_regauth_challenged(&r->auth, q, scope, sent, &fresh);
		if (again < 0)
			return -1;
		if (!again || (rewind && rewind(rctx) < 0))
			break;
	}
	return refused(r, q, scope);
}

/* Summarise a failed answer: registry error body, quay's text, or the status. */
static int answer_error(const struct cd_http_req *q, const char *what)
{
	char msg[1024];
	int kind = cd_registry_error_body(q->body.p, q->body.len, msg, sizeof(msg));
	if (kind < 0 && q->body.p && strstr(q->body.p, "was deleted or has expired"))
		return cd_seterr_kind(CD_ERR_NOT_FOUND, "%s: tag was deleted or has expired", what);
	if (kind < 0) {
		switch (q->status) {
		case 404: kind = CD_ERR_NOT_FOUND; break;
		case 401: case 403: kind = CD_ERR_AUTH; break;
		case 429: kind = CD_ERR_TOO_MANY; break;
		default: kind = CD_ERR_OTHER; break;
		}
		cd_http_status_error(q);
		return cd_seterr_kind((enum cd_errkind)kind, "%s: %s", what, cd_errmsg());
	}
	if (q->status == 404 && kind == CD_ERR_OTHER)
		kind = CD_ERR_NOT_FOUND;
	if (q->attempts > 1)
		return cd_seterr_kind((enum cd_errkind)kind, "%s: %s (HTTP %ld after %d attempts)", what, msg,
				      q->status, q->attempts);
	return cd_seterr_kind((enum cd_errkind)kind, "%s: %s", what, msg);
}

/* --- calls --------------------------------------------------------------------- */

void cd_call_init(struct cd_call *c, struct cd_registry *r, const char *repo, const char *ref,
		  char *scope, char *url)
{
	memset(c, 0, sizeof(*c));
	c->reg = r;
	if (!repo)
		c->what = cd_xstrdup(r->host);
	else
		c->what = cd_xasprintf("%s/%s%s%s", r->host, repo,
				       ref ? (cd_registry_is_digest(ref) ? "@" : ":") : "", ref ? ref : "");
	c->scope = scope;
	c->url = url;
	cd_http_req_init(&c->q, c->url);
	c->q.max_body = CD_ERROR_BODY_MAX;
	c->pre = c->post = "";
}

/* "4 MiB" or "65536 bytes". */
static void size_text(size_t n, char *out, size_t len)
{
	if (n && n % (1u << 20) == 0)
		cd_snprintf_cut(out, len, "%zu MiB", n >> 20);
	else
		cd_snprintf_cut(out, len, "%zu bytes", n);
}

int cd_call_run(struct cd_call *c, const long *ok)
{
	int ret = request(c->reg, &c->q, c->scope, c->headers, c->rewind, c->rewind_ctx);
	if (ret < 0 && c->body && (c->q.result == CURLE_FILESIZE_EXCEEDED || c->q.aborted == 2)) {
		char max[32];
		size_text(c->q.max_body, max, sizeof(max));
		return cd_seterr_kind(CD_ERR_INTEGRITY, "%s: %s larger than %s: refused", c->what, c->body, max);
	}
	if (ret < 0)
		return cd_adderr("%s%s%s", c->pre, c->what, c->post);
	for (const long *s = ok; *s; s++)
		if (c->q.status == *s)
			return 0;
	return answer_error(&c->q, c->what);
}

void cd_call_release(struct cd_call *c)
{
	curl_slist_free_all(c->headers);
	cd_http_req_release(&c->q);
	free(c->scope);
	free(c->url);
	free(c->what);
	memset(c, 0, sizeof(*c));
}

int cd_registry_ping(struct cd_registry *r)
{
	struct cd_call c;
	cd_call_init(&c, r, NULL, NULL, cd_xstrdup("registry:catalog:*"), cd_registry_url(r, "/v2/"));
	int ret = cd_call_run(&c, (const long[]){ 200, 0 });
	cd_call_release(&c);
	return ret;
}

/* --- error bodies (pure) --------------------------------------------------------- */

/* Copy printable ASCII of s (at most max bytes of it) to b; others become '?'. */
static int add_clean(struct cd_buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);
	int cut = n > max, r = 0;
	if (cut)
		n = max;
	for (size_t i = 0; i < n; i++) {
		char c = isprint((unsigned char)s[i]) ? s[i] : '?';
		r |= cd_buf_add(b, &c, 1);
	}
	if (cut)
		r |= cd_buf_adds(b, "...");
	return r;
}

static int code_kind(const char *code, const char *msg)
{
	if (msg && strstr(msg, "was deleted or has expired"))
		return CD_ERR_NOT_FOUND;
	if (!code)
		return CD_ERR_OTHER;
	if (!strcmp(code, "NAME_UNKNOWN") || !strcmp(code, "MANIFEST_UNKNOWN") ||
	    !strcmp(code, "BLOB_UNKNOWN") || !strcmp(code, "BLOB_UPLOAD_UNKNOWN"))
		return CD_ERR_NOT_FOUND;
	if (!strcmp(code, "UNAUTHORIZED") || !strcmp(code, "DENIED"))
		return CD_ERR_AUTH;
	if (!strcmp(code, "TOOMANYREQUESTS"))
		return CD_ERR_TOO_MANY;
	return CD_ERR_OTHER;
}

/* One entry of "errors" into b: "message (CODE)", "CODE" or "unknown error". */
static int add_entry(struct cd_buf *b, const char *code, const char *msg)
{
	if (msg && *msg) {
		int r = add_clean(b, msg, 200);
		if (code)
			r |= cd_buf_adds(b, " (") | add_clean(b, code, 40) | cd_buf_adds(b, ")");
		return r;
	}
	if (code)
		return add_clean(b, code, 40);
	return cd_buf_adds(b, "unknown error");
}

int cd_registry_error_body(const char *body, size_t len, char *out, size_t outlen)
{
	if (outlen)
		out[0] = '\0';
	if (!body || !len || len > (1u << 20))
		return -1;
	jv doc = jv_parse_sized(body, (int)len);
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		return -1;
	}
	jv errs = jv_object_get(doc, jv_string("errors"));
	if (jv_get_kind(errs) != JV_KIND_ARRAY || jv_array_length(jv_copy(errs)) == 0) {
		jv_free(errs);
		return -1;
	}
	struct cd_buf b;
	cd_buf_init(&b, 0);
	int kind = -1, n = 0, bad = 0;
	jv_array_foreach(errs, i, e) {
		if (jv_get_kind(e) != JV_KIND_OBJECT || n >= 4) {
			jv_free(e);
			continue;
		}
		const char *code = cd_jv_str(e, "code");
		const char *msg = cd_jv_str(e, "message");
		if (code && !*code) /* "" or "\u0000...": nothing to say */
			code = NULL;
		int k = code_kind(code, msg);
		if (kind < 0 || (kind == CD_ERR_OTHER && k != CD_ERR_OTHER))
			kind = k;
		if (n++)
			bad |= cd_buf_adds(&b, "; ");
		bad |= add_entry(&b, code, msg);
		jv_free(e);
	}
	jv_free(errs);
	if (kind < 0 || bad) {
		cd_buf_release(&b);
		return -1;
	}
	if (outlen) {
		size_t n2 = b.len < outlen - 1 ? b.len : outlen - 1;
		memcpy(out, b.p, n2);
		out[n2] = '\0';
	}
	cd_buf_release(&b);
	return kind;
}
