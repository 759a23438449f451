/* Registry authentication: credentials, challenges, bearer tokens (token.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <openssl/crypto.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/url.h"
#include "net/http.h"
#include "registry/auth.h"
#include "registry/token.h"
#include "core/banned.h"

#define TOKEN_TTL_MAX 86400 /* seconds: a token is fetched again after a day at most */

struct cd_token {
	char *scope;
	char *value;            /* wiped on free */
	long long expires_ms;   /* CLOCK_MONOTONIC */
};

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cd_regauth_init(struct cd_regauth *a, const char *host, const char *creds, const char *authfile)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->mu, NULL);
	int found = cd_creds_lookup(&a->creds, host, creds, authfile);
	if (found < 0)
		return cd_adderr("credentials for '%s'", host);
	if (found && a->creds.user && a->creds.pass) {
		char *up = cd_xasprintf("%s:%s", a->creds.user, a->creds.pass);
		char *b = cd_base64_encode(up, strlen(up));
		a->basic = cd_xasprintf("Basic %s", b);
		cd_wipe_free(up);
		cd_wipe_free(b);
	}
	return 0;
}

void cd_regauth_release(struct cd_regauth *a)
{
	for (size_t i = 0; i < a->ntokens; i++) {
		free(a->tokens[i].scope);
		cd_wipe_free(a->tokens[i].value);
	}
	free(a->tokens);
	cd_creds_release(&a->creds);
	cd_wipe_free(a->basic);
	free(a->realm);
	free(a->service);
	pthread_mutex_destroy(&a->mu);
	memset(a, 0, sizeof(*a));
}

static char *token_get(struct cd_regauth *a, const char *scope)
{
	char *v = NULL;
	long long now = mono_ms();
	pthread_mutex_lock(&a->mu);
	for (size_t i = 0; i < a->ntokens; i++)
		if (!strcmp(a->tokens[i].scope, scope) && a->tokens[i].expires_ms > now) {
			v = cd_xstrdup(a->tokens[i].value);
			break;
		}
	pthread_mutex_unlock(&a->mu);
	return v;
}

static void token_put(struct cd_regauth *a, const char *scope, const char *value, long long expires_ms)
{
	pthread_mutex_lock(&a->mu);
	size_t i;
	for (i = 0; i < a->ntokens; i++)
		if (!strcmp(a->tokens[i].scope, scope))
			break;
	if (i == a->ntokens) {
		a->tokens = cd_xrealloc(a->tokens, (a->ntokens + 1) * sizeof(*a->tokens));
		a->tokens[i].scope = cd_xstrdup(scope);
		a->tokens[i].value = NULL;
		a->ntokens++;
	}
	cd_wipe_free(a->tokens[i].value);
	a->tokens[i].value = value ? cd_xstrdup(value) : NULL;
	a->tokens[i].expires_ms = value ? expires_ms : 0;
	pthread_mutex_unlock(&a->mu);
}

/* realm?service=..&scope=a&scope=b, escaped. */
static char *token_url(const char *realm, const char *service, const char *scope)
{
	struct cd_buf b;
	int r = 0;
	cd_buf_init(&b, 0);
	r |= cd_buf_adds(&b, realm);
	char sep = strchr(realm, '?') ? '&' : '?';
	if (service) {
		char *e = curl_easy_escape(NULL, service, 0);
		r |= cd_buf_addf(&b, "%cservice=%s", sep, e ? e : "");
		curl_free(e);
		sep = '&';
	}
	const char *p = scope;
	while (*p) {
		size_t n = strcspn(p, " ");
		if (n) {
			char *e = curl_easy_escape(NULL, p, (int)n);
			r |= cd_buf_addf(&b, "%cscope=%s", sep, e ? e : "");
			curl_free(e);
			sep = '&';
		}
		p += n;
		while (*p == ' ')
			p++;
	}
	if (r) {
		cd_buf_release(&b);
		return NULL;
	}
	return cd_buf_detach(&b, NULL);
}

/* The answer of the token service to q, for messages (realm shown as ru). */
static int token_refused(const struct cd_regauth *a, const struct cd_http_req *q, const char *ru)
{
	if (a->creds.token)
		return cd_seterr_kind(CD_ERR_AUTH, "identity token%s%s%s refused by token service %s (HTTP %ld)",
				      a->creds.user ? " of user '" : "", a->creds.user ? a->creds.user : "",
				      a->creds.user ? "'" : "", ru, q->status);
	if (a->creds.user)
		return cd_seterr_kind(CD_ERR_AUTH, "authentication failed for user '%s' at token service %s (HTTP %ld)",
				      a->creds.user, ru, q->status);
	return cd_seterr_kind(CD_ERR_AUTH, "token service %s refused anonymous access (HTTP %ld)", ru, q->status);
}

/*
 * The OAuth2 form that trades an identity token for an access token
 * (docker's refresh_token grant): "grant_type=refresh_token&..."; NULL
 * when too long.  Caller wipes.
 */
static char *refresh_form(const char *token, const char *service, const char *scope)
{
	struct cd_buf b;
	int r = 0;
	cd_buf_init(&b, 0);
	char *t = curl_easy_escape(NULL, token, 0), *sv = curl_easy_escape(NULL, service ? service : "", 0);
	char *sc = curl_easy_escape(NULL, scope, 0);
	if (!t || !sv || !sc)
		r = -1;
	else
		r = cd_buf_addf(&b, "grant_type=refresh_token&client_id=cdkit&service=%s&scope=%s&refresh_token=%s",
				sv, sc, t);
	if (t)
		OPENSSL_cleanse(t, strlen(t));
	curl_free(t);
	curl_free(sv);
	curl_free(sc);
	if (r) {
		if (b.p)
			OPENSSL_cleanse(b.p, b.len);
		cd_buf_release(&b);
		return NULL;
	}
	return cd_buf_detach(&b, NULL);
}

/*
 * Fetch a bearer token for scope from the realm the registry named: GET
 * (Basic credentials when there are some), or with an identity token the
 * OAuth2 POST.
 */
static int token_fetch(struct cd_regauth *a, const char *scope)
{
	pthread_mutex_lock(&a->mu);
	char *realm = a->realm ? cd_xstrdup(a->realm) : NULL;
	char *service = a->service ? cd_xstrdup(a->service) : NULL;
	char *basic = a->basic && !a->creds.token ? cd_xasprintf("Authorization: %s", a->basic) : NULL;
	char *form = a->creds.token ? refresh_form(a->creds.token, service, scope) : NULL;
	pthread_mutex_unlock(&a->mu);
	int ret = -1;
	char *url = NULL;
	if (!realm || (strncasecmp(realm, "https://", 8) && strncasecmp(realm, "http://", 7))) {
		ret = cd_seterr_kind(CD_ERR_AUTH, "token realm missing or not an http(s) URL");
		goto out;
	}
	if (a->creds.token && !form) {
		ret = cd_seterr_kind(CD_ERR_AUTH, "identity token too long");
		goto out;
	}
	if (!(url = form ? cd_xstrdup(realm) : token_url(realm, service, scope)))
		goto out;
	struct cd_http_req q;
	cd_http_req_init(&q, url);
	q.flags = CD_HTTP_NO_MIRROR;
	q.tls = a->tls;
	if (form) {
		q.method = "POST";
		q.upload = form;
		q.upload_len = strlen(form);
	}
	q.max_body = CD_TOKEN_ANSWER_MAX;
	struct curl_slist *h = basic ? curl_slist_append(NULL, basic) : NULL;
	q.headers = h;
	char *ru = cd_url_redact(realm);
	if (cd_http_perform(&q) < 0) {
		ret = cd_seterr_kind(CD_ERR_UNREACHABLE, "token service: %s", cd_errmsg());
	} else if (q.status == 401 || q.status == 403) {
		ret = token_refused(a, &q, ru);
	} else if (q.status != 200) {
		cd_http_status_error(&q);
		ret = cd_seterr_kind(q.status == 429 ? CD_ERR_TOO_MANY : CD_ERR_OTHER, "token service: %s", cd_errmsg());
	} else {
		char *t;
		long long ttl;
		if (cd_registry_token_answer(q.body.p ? q.body.p : "", q.body.len, &t, &ttl) < 0) {
			ret = cd_seterr_kind(CD_ERR_AUTH, "token service %s answered without a usable token", ru);
		} else {
			token_put(a, scope, t, mono_ms() + ttl);
			cd_wipe_free(t);
			ret = 0;
		}
	}
	if (q.body.p)
		OPENSSL_cleanse(q.body.p, q.body.len);
	free(ru);
	cd_http_headers_wipe_free(h);
	q.headers = NULL;
	cd_http_req_release(&q);
out:
	free(url);
	free(realm);
	free(service);
	cd_wipe_free(basic);
	cd_wipe_free(form);
	return ret;
}

/* Learn the auth scheme from a 401 answer.  -1 when it names none we speak. */
static int learn_challenge(struct cd_regauth *a, const struct cd_http_req *q)
{
	char v[CD_HTTP_HEADER_MAX];
	struct cd_challenge c;
	if (!cd_http_header(q, "WWW-Authenticate", v, sizeof(v)))
		return cd_seterr_kind(CD_ERR_AUTH, "HTTP 401 without a WWW-Authenticate challenge");
	if (cd_challenge_parse(&c, v) < 0)
		return cd_seterr_kind(CD_ERR_AUTH, "%s", cd_errmsg());
	if (c.scheme != CD_AUTH_BASIC && c.scheme != CD_AUTH_BEARER) {
		cd_challenge_release(&c);
		return cd_seterr_kind(CD_ERR_AUTH, "unsupported authentication scheme");
	}
	pthread_mutex_lock(&a->mu);
	a->scheme = c.scheme;
	if (c.scheme == CD_AUTH_BEARER) {
		free(a->realm);
		free(a->service);
		a->realm = c.realm;
		a->service = c.service;
		c.realm = c.service = NULL;
	}
	pthread_mutex_unlock(&a->mu);
	cd_challenge_release(&c);
	return 0;
}

char *cd_regauth_line(struct cd_regauth *a, const char *scope, enum cd_auth_scheme *sent)
{
	pthread_mutex_lock(&a->mu);
	enum cd_auth_scheme s = a->scheme;
	char *line = (s == CD_AUTH_BASIC && a->basic) ? cd_xasprintf("Authorization: %s", a->basic) : NULL;
	pthread_mutex_unlock(&a->mu);
	*sent = line ? CD_AUTH_BASIC : CD_AUTH_NONE;
	if (s == CD_AUTH_BEARER) {
		char *t = token_get(a, scope);
		if (t) {
			line = cd_xasprintf("Authorization: Bearer %s", t);
			*sent = CD_AUTH_BEARER;
			cd_wipe_free(t);
		}
	}
	return line;
}

int cd_regauth_challenged(struct cd_regauth *a, const struct cd_http_req *q, const char *scope,
			  enum cd_auth_scheme sent, int *fresh)
{
	if (learn_challenge(a, q) < 0)
		return -1;
	pthread_mutex_lock(&a->mu);
	enum cd_auth_scheme now = a->scheme;
	int have_basic = a->basic != NULL;
	pthread_mutex_unlock(&a->mu);
	if (now == CD_AUTH_BASIC)
		/* Credentials we sent were refused, or we have none. */
		return have_basic && sent != CD_AUTH_BASIC;
	if (*fresh)
		return 0; /* a token fetched just now was refused too */
	token_put(a, scope, NULL, 0);
	if (token_fetch(a, scope) < 0)
		return -1;
	*fresh = 1;
	return 1;
}

/* --- token answers (pure) --------------------------------------------------- */

/* Wipe the string doc[key] in place (the parsed copy of a secret). */
static void wipe_member(jv doc, const char *key)
{
	if (jv_get_kind(doc) != JV_KIND_OBJECT)
		return;
	jv v = jv_object_get(jv_copy(doc), jv_string(key));
	if (jv_get_kind(v) == JV_KIND_STRING)
		OPENSSL_cleanse((char *)jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)));
	jv_free(v);
}

/*
 * doc[key] when it is a token that can go into a header line: visible
 * ASCII only (RFC 6750's b64token is narrower still), no NUL inside.
 */
static const char *token_of(jv doc, const char *key)
{
	if (jv_get_kind(doc) != JV_KIND_OBJECT)
		return NULL;
	jv v = jv_object_get(jv_copy(doc), jv_string(key));
	const char *t = NULL;
	if (jv_get_kind(v) == JV_KIND_STRING) {
		t = jv_string_value(v);
		size_t n = (size_t)jv_string_length_bytes(jv_copy(v));
		for (size_t i = 0; i < n && t; i++)
			if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] >= 0x7f)
				t = NULL;
		if (!n)
			t = NULL;
	}
	jv_free(v); /* doc still holds it */
	return t;
}

int cd_registry_token_answer(const char *body, size_t len, char **token, long long *ttl_ms)
{
	*token = NULL;
	*ttl_ms = 0;
	if (!body || len > CD_TOKEN_ANSWER_MAX)
		return -1;
	jv doc = jv_parse_sized(body, (int)len);
	const char *t = cd_jv_str(doc, "token");
	t = t && *t ? token_of(doc, "token") : token_of(doc, "access_token");
	/* Clamped before any arithmetic: 1e308 and NaN come from outside too. */
	double exp = cd_jv_num(doc, "expires_in", 60);
	if (!(exp >= 10))
		exp = 10;
	if (exp > TOKEN_TTL_MAX)
		exp = TOKEN_TTL_MAX;
	int ret = -1;
	if (t) {
		*token = cd_xstrdup(t);
		*ttl_ms = ((long long)exp - 5) * 1000;
		ret = 0;
	}
	wipe_member(doc, "token");
	wipe_member(doc, "access_token");
	jv_free(doc);
	return ret;
}
