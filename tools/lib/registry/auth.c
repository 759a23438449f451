#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jv.h>
#include <openssl/crypto.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/io.h"
#include "core/limits.h"
#include "registry/auth.h"
#include "registry/credhelper.h"
#include "core/banned.h"


static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void cd_creds_release(struct cd_creds *c)
{
	wipe_free(c->user);
	wipe_free(c->pass);
	wipe_free(c->token);
	c->user = c->pass = c->token = NULL;
}

int cd_creds_any(const struct cd_creds *c)
{
	return c->user || c->token;
}

int cd_creds_parse(struct cd_creds *c, const char *userpass)
{
	const char *colon = strchr(userpass, ':');
	c->user = c->pass = c->token = NULL;
	if (!colon)
		return cd_seterr("credentials must be USER:PASSWORD");
	if (colon == userpass)
		return cd_seterr("credentials have an empty user name");
	c->user = cd_xstrndup(userpass, (size_t)(colon - userpass));
	c->pass = cd_xstrdup(colon + 1);
	return 0;
}

/* --- auth files --------------------------------------------------------------- */

/* The host part of an auths key: "https://quay.io/v1/" -> "quay.io". */
static int key_matches(const char *key, const char *host)
{
	const char *k = key;
	if (!strncmp(k, "https://", 8))
		k += 8;
	else if (!strncmp(k, "http://", 7))
		k += 7;
	size_t n = strcspn(k, "/");
	if (n == strlen(host) && !strncasecmp(k, host, n))
		return 1;
	if (!strcmp(host, "docker.io") &&
	    ((n == 15 && !strncmp(k, "index.docker.io", 15)) ||
	     (n == 20 && !strncmp(k, "registry-1.docker.io", 20))))
		return 1;
	return 0;
}

int cd_authfile_key_matches(const char *key, const char *host)
{
	return key_matches(key, host);
}

/* Exact "host" keys win over "host/namespace" and URL keys. */
static int key_rank(const char *key, const char *host)
{
	if (!strcmp(key, host))
		return 3;
	if (!key_matches(key, host))
		return 0;
	return strchr(key, '/') && strncmp(key, "http", 4) ? 1 : 2;
}

/*
 * docker's "identitytoken": 1 with c->token (and the entry's user, when it
 * names one), 0 when there is none, -1 (cd_seterr) when it holds a NUL
 * (the token would be cut there).
 */
static int entry_token(jv entry, const char *file, const char *key, struct cd_creds *c)
{
	jv tok = jv_object_get(jv_copy(entry), jv_string("identitytoken"));
	int ret = 0;
	if (jv_get_kind(tok) == JV_KIND_STRING &&
	    memchr(jv_string_value(tok), '\0', (size_t)jv_string_length_bytes(jv_copy(tok)))) {
		OPENSSL_cleanse((char *)jv_string_value(tok), (size_t)jv_string_length_bytes(jv_copy(tok)));
		jv_free(tok);
		return cd_seterr("%s: malformed \"identitytoken\" entry for '%s'", file, key);
	}
	if (jv_get_kind(tok) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(tok)) > 0) {
		c->token = cd_xstrdup(jv_string_value(tok));
		OPENSSL_cleanse((char *)jv_string_value(tok), strlen(jv_string_value(tok)));
		jv user = jv_object_get(jv_copy(entry), jv_string("username"));
		jv auth = jv_object_get(jv_copy(entry), jv_string("auth"));
		char *dec = NULL;
		size_t dlen = 0;
		if (jv_get_kind(user) == JV_KIND_STRING && *jv_string_value(user)) {
			c->user = cd_xstrdup(jv_string_value(user));
		} else if (jv_get_kind(auth) == JV_KIND_STRING &&
			   cd_base64_decode(jv_string_value(auth), strlen(jv_string_value(auth)), &dec, &dlen) == 0 &&
			   strchr(dec, ':') && dec[0] != ':') {
			c->user = cd_xstrndup(dec, strcspn(dec, ":"));
		}
		if (dec) {
			OPENSSL_cleanse(dec, dlen);
			free(dec);
		}
		jv_free(user);
		jv_free(auth);
		ret = 1;
	}
	jv_free(tok);
	return ret;
}

static int entry_creds(jv entry, const char *file, const char *key, struct cd_creds *c)
{
	int t = entry_token(entry, file, key, c);
	if (t)
		return t;
	jv auth = jv_object_get(jv_copy(entry), jv_string("auth"));
	int ret = 0;
	if (jv_get_kind(auth) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(auth)) > 0) {
		char *dec = NULL;
		size_t dlen;
		const char *a = jv_string_value(auth);
		if (cd_base64_decode(a, strlen(a), &dec, &dlen) < 0 || memchr(dec, '\0', dlen) ||
		    cd_creds_parse(c, dec) < 0) {
			ret = cd_seterr("%s: malformed \"auth\" entry for '%s'", file, key);
		} else {
			ret = 1;
		}
		if (dec) {
			OPENSSL_cleanse(dec, dlen);
			free(dec);
		}
		jv_free(auth);
		return ret;
	}
	jv_free(auth);
	jv user = jv_object_get(jv_copy(entry), jv_string("username"));
	jv pass = jv_object_get(jv_copy(entry), jv_string("password"));
	if (jv_get_kind(user) == JV_KIND_STRING && jv_get_kind(pass) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(user)) > 0) {
		c->user = cd_xstrdup(jv_string_value(user));
		c->pass = cd_xstrdup(jv_string_value(pass));
		ret = 1;
	}
	jv_free(user);
	jv_free(pass);
	return ret;
}

int cd_authfile_parse(const char *text, size_t len, const char *file,
		      const char *host, struct cd_creds *c)
{
	c->user = c->pass = c->token = NULL;
	jv doc = jv_parse_sized(text, (int)len);
	if (!jv_is_valid(doc)) {
		jv_free(doc);
		return cd_seterr("%s: not valid JSON", file);
	}
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		return cd_seterr("%s: not a JSON object", file);
	}
	jv auths = jv_object_get(doc, jv_string("auths"));
	if (jv_get_kind(auths) == JV_KIND_NULL || jv_get_kind(auths) == JV_KIND_INVALID) {
		jv_free(auths);
		return 0;
	}
	if (jv_get_kind(auths) != JV_KIND_OBJECT) {
		jv_free(auths);
		return cd_seterr("%s: \"auths\" is not an object", file);
	}
	int best = 0, ret = 0;
	jv best_entry = jv_null(), best_key = jv_null();
	jv_object_foreach(auths, key, entry) {
		int rank = key_rank(jv_string_value(key), host);
		if (rank > best && jv_get_kind(entry) == JV_KIND_OBJECT) {
			best = rank;
			jv_free(best_entry);
			jv_free(best_key);
			best_entry = entry;
			best_key = key;
		} else {
			jv_free(entry);
			jv_free(key);
		}
	}
	if (best)
		ret = entry_creds(best_entry, file, jv_string_value(best_key), c);
	jv_free(best_entry);
	jv_free(best_key);
	jv_free(auths);
	return ret;
}

static int try_file(struct cd_creds *c, const char *host, const char *path, int missing_ok)
{
	char *text;
	size_t len;
	int r = cd_read_file(path, CD_AUTHFILE_MAX, CD_READ_SECRET | (missing_ok ? CD_READ_MISSING_OK : 0), &text, &len);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	char *helper;
	enum cd_credhelper_kind kind;
	r = cd_credhelper_find(text, len, path, host, &helper, &kind);
	if (r > 0) {
		r = cd_credhelper_get(helper, host, c);
		free(helper);
		if (r < 0)
			cd_adderr("%s", path);
		if (r == 0 && kind == CD_CREDHELPER_STORE)
			r = cd_authfile_parse(text, len, path, host, c);
	} else if (r == 0) {
		r = cd_authfile_parse(text, len, path, host, c);
	}
	OPENSSL_cleanse(text, len);
	free(text);
	return r;
}

int cd_creds_lookup(struct cd_creds *c, const char *host, const char *creds,
		    const char *authfile)
{
	c->user = c->pass = NULL;
	if (creds)
		return cd_creds_parse(c, creds) < 0 ? -1 : 1;
	if (authfile)
		return try_file(c, host, authfile, 0);
	const char *env = getenv("REGISTRY_AUTH_FILE");
	if (env && *env)
		return try_file(c, host, env, 0);
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg) {
		char *p = cd_xasprintf("%s/containers/auth.json", xdg);
		int r = try_file(c, host, p, 1);
		free(p);
		if (r)
			return r;
	}
	const char *home = getenv("HOME"), *docker = getenv("DOCKER_CONFIG");
	if ((docker && *docker) || (home && *home)) {
		char *p = docker && *docker ? cd_xasprintf("%s/config.json", docker)
					    : cd_xasprintf("%s/.docker/config.json", home);
		int r = try_file(c, host, p, 1);
		free(p);
		if (r)
			return r;
	}
	return 0;
}

/* --- WWW-Authenticate ----------------------------------------------------------- */

void cd_challenge_release(struct cd_challenge *c)
{
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

static int is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static int challenge_bad(struct cd_challenge *c, const char *why)
{
	cd_challenge_release(c);
	return cd_seterr("malformed WWW-Authenticate header: %s", why);
}

int cd_challenge_parse(struct cd_challenge *c, const char *value)
{
	memset(c, 0, sizeof(*c));
	const char *p = skip_ws(value), *s = p;
	while (is_tchar(*p))
		p++;
	if (p == s)
		return challenge_bad(c, "no scheme");
	size_t sl = (size_t)(p - s);
	if (sl == 5 && !strncasecmp(s, "Basic", 5))
		c->scheme = CD_AUTH_BASIC;
	else if (sl == 6 && !strncasecmp(s, "Bearer", 6))
		c->scheme = CD_AUTH_BEARER;
	else
		c->scheme = CD_AUTH_OTHER;
	if (*p && *p != ' ' && *p != '\t')
		return challenge_bad(c, "junk after the scheme");
	p = skip_ws(p);
	struct cd_buf v;
	cd_buf_init(&v, CD_CHALLENGE_VALUE_MAX);
	while (*p) {
		const char *k = p;
		while (is_tchar(*p))
			p++;
		size_t kl = (size_t)(p - k);
		p = skip_ws(p);
		if (!kl || *p != '=') {
			cd_buf_release(&v);
			return challenge_bad(c, "expected name=value");
		}
		p = skip_ws(p + 1);
		cd_buf_reset(&v);
		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				if (cd_buf_add(&v, p, 1) < 0) {
					cd_buf_release(&v);
					return challenge_bad(c, "value too long");
				}
				p++;
			}
			if (*p != '"') {
				cd_buf_release(&v);
				return challenge_bad(c, "unterminated quoted value");
			}
			p++;
		} else {
			const char *vs = p;
			while (is_tchar(*p) || *p == '/' || *p == ':')
				p++;
			if (cd_buf_add(&v, vs, (size_t)(p - vs)) < 0) {
				cd_buf_release(&v);
				return challenge_bad(c, "value too long");
			}
		}
		char **slot = NULL;
		if (kl == 5 && !strncasecmp(k, "realm", 5))
			slot = &c->realm;
		else if (kl == 7 && !strncasecmp(k, "service", 7))
			slot = &c->service;
		else if (kl == 5 && !strncasecmp(k, "scope", 5))
			slot = &c->scope;
		else if (kl == 5 && !strncasecmp(k, "error", 5))
			slot = &c->error;
		if (slot) {
			free(*slot);
			*slot = cd_xstrndup(v.p ? v.p : "", v.len);
		}
		p = skip_ws(p);
		if (*p == ',') {
			p = skip_ws(p + 1);
			/* A second challenge ("Bearer ..., Basic realm=...") ends the first. */
			const char *q = p;
			while (is_tchar(*q))
				q++;
			if (q > p && (*q == ' ' || *q == '\t') && *skip_ws(q) != '=')
				break;
			continue;
		}
		if (*p) {
			cd_buf_release(&v);
			return challenge_bad(c, "expected ',' between parameters");
		}
	}
	cd_buf_release(&v);
	return 0;
}
