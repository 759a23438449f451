/* The registry client's pure parts: Link and Range headers, error bodies, manifests, token answers. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jv.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/json.h"
#include "registry/registry.h"
#include "core/banned.h"

#define LINK_MAX 8192
#define TOKEN_TTL_MAX 86400 /* seconds: a token is fetched again after a day at most */

/* "scheme://host" of url: its length, or 0 when url has none. */
static size_t origin_len(const char *url)
{
	const char *s = strstr(url, "://");
	if (!s)
		return 0;
	s += 3;
	return (size_t)(s - url) + strcspn(s, "/?#");
}

static char *resolve(const char *ref, size_t rlen, const char *base)
{
	if ((rlen > 7 && !strncasecmp(ref, "http://", 7)) ||
	    (rlen > 8 && !strncasecmp(ref, "https://", 8)))
		return cd_xstrndup(ref, rlen);
	size_t o = origin_len(base);
	if (!o)
		return NULL;
	if (rlen && ref[0] == '/')
		return cd_xasprintf("%.*s%.*s", (int)o, base, (int)rlen, ref);
	/* Relative to the base's directory (query dropped). */
	size_t plen = o + strcspn(base + o, "?#");
	const char *slash = memrchr(base + o, '/', plen - o);
	size_t dir = slash ? (size_t)(slash - base) + 1 : plen;
	if (!slash)
		return cd_xasprintf("%.*s/%.*s", (int)dir, base, (int)rlen, ref);
	return cd_xasprintf("%.*s%.*s", (int)dir, base, (int)rlen, ref);
}

/* Does the rel value (space-separated relation types) name "next"? */
static int rel_has_next(const char *v, size_t n)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && v[i] == ' ')
			i++;
		size_t s = i;
		while (i < n && v[i] != ' ')
			i++;
		if (i - s == 4 && !strncasecmp(v + s, "next", 4))
			return 1;
	}
	return 0;
}

int cd_registry_link_next(const char *link, const char *base_url, char **next)
{
	const char *p = link;
	*next = NULL;
	if (strlen(link) > LINK_MAX)
		return cd_seterr("Link header too long");
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			return 0;
		if (*p != '<')
			return cd_seterr("malformed Link header: expected '<'");
		const char *u = ++p, *ue = strchr(p, '>');
		if (!ue)
			return cd_seterr("malformed Link header: missing '>'");
		for (const char *q = u; q < ue; q++)
			if ((unsigned char)*q <= ' ' || *q == '"')
				return cd_seterr("malformed Link header: bad character in URL");
		p = ue + 1;
		int is_next = 0;
		for (;;) {
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != ';')
				break;
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			const char *k = p;
			while (*p && *p != '=' && *p != ';' && *p != ',' && *p != ' ')
				p++;
			size_t kl = (size_t)(p - k);
			if (*p != '=') {
				continue; /* a parameter without a value */
			}
			p++;
			const char *v, *ve;
			if (*p == '"') {
				v = ++p;
				while (*p && *p != '"')
					p++;
				if (*p != '"')
					return cd_seterr("malformed Link header: unterminated quote");
				ve = p++;
			} else {
				v = p;
				while (*p && *p != ';' && *p != ',' && *p != ' ')
					p++;
				ve = p;
			}
			if (kl == 3 && !strncasecmp(k, "rel", 3) && rel_has_next(v, (size_t)(ve - v)))
				is_next = 1;
		}
		if (*p && *p != ',')
			return cd_seterr("malformed Link header: junk after a link");
		if (is_next) {
			if (ue == u)
				return cd_seterr("malformed Link header: empty URL");
			*next = resolve(u, (size_t)(ue - u), base_url);
			if (!*next)
				return cd_seterr("malformed Link header: cannot resolve the URL");
			return 1;
		}
	}
}

/* Copy printable ASCII of s (at most max bytes of it) to b; others become '?'. */
static void add_clean(struct cd_buf *b, const char *s, size_t max)
{
	size_t n = strlen(s);
	int cut = n > max;
	if (cut)
		n = max;
	for (size_t i = 0; i < n; i++) {
		char c = isprint((unsigned char)s[i]) ? s[i] : '?';
		cd_buf_add(b, &c, 1);
	}
	if (cut)
		cd_buf_adds(b, "...");
}

static int code_kind(const char *code, const char *msg)
{
	if (msg && strstr(msg, "was deleted or has expired"))
		return CD_REG_NOT_FOUND;
	if (!code)
		return CD_REG_OTHER;
	if (!strcmp(code, "NAME_UNKNOWN") || !strcmp(code, "MANIFEST_UNKNOWN") ||
	    !strcmp(code, "BLOB_UNKNOWN") || !strcmp(code, "BLOB_UPLOAD_UNKNOWN"))
		return CD_REG_NOT_FOUND;
	if (!strcmp(code, "UNAUTHORIZED") || !strcmp(code, "DENIED"))
		return CD_REG_AUTH;
	if (!strcmp(code, "TOOMANYREQUESTS"))
		return CD_REG_TOO_MANY;
	return CD_REG_OTHER;
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
	int kind = -1, n = 0;
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
		if (kind < 0 || (kind == CD_REG_OTHER && k != CD_REG_OTHER))
			kind = k;
		if (n++)
			cd_buf_adds(&b, "; ");
		if (msg && *msg) {
			add_clean(&b, msg, 200);
			if (code) {
				cd_buf_adds(&b, " (");
				add_clean(&b, code, 40);
				cd_buf_adds(&b, ")");
			}
		} else if (code) {
			add_clean(&b, code, 40);
		} else {
			cd_buf_adds(&b, "unknown error");
		}
		jv_free(e);
	}
	jv_free(errs);
	if (kind < 0) {
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

int cd_manifest_is_index(const char *media_type)
{
	return !strcmp(media_type, CD_MT_OCI_INDEX) || !strcmp(media_type, CD_MT_DOCKER_LIST);
}

/* Fill a descriptor from a JSON object: 0, or -1 when it is not one. */
static int descriptor_of(jv d, struct cd_descriptor *out)
{
	const char *mt = cd_jv_str(d, "mediaType");
	const char *dg = cd_jv_str(d, "digest");
	enum cd_hash alg;
	const char *hex;
	if (!dg || cd_digest_parse(dg, &alg, &hex) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	if (mt && strlen(mt) < sizeof(out->media_type))
		memcpy(out->media_type, mt, strlen(mt) + 1);
	memcpy(out->digest, dg, strlen(dg) + 1);
	return cd_json_size(d, &out->size) < 0 ? -1 : 0;
}

int cd_json_size(jv obj, long long *size)
{
	*size = -1;
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return 0;
	jv v = jv_object_get(jv_copy(obj), jv_string("size"));
	int kind = jv_get_kind(v), r = 0;
	if (kind == JV_KIND_NUMBER) {
		double d = jv_number_value(v);
		/* Compared before the cast: a cast of 1e308 or NaN is undefined. */
		if (d >= 0 && d <= (double)CD_SIZE_MAX && d == (double)(long long)d) {
			*size = (long long)d;
			r = 1;
		} else {
			r = -1;
		}
	} else if (kind != JV_KIND_INVALID) {
		r = -1;
	}
	jv_free(v);
	return r;
}

int cd_manifest_index_find(const char *body, size_t len, const char *arch,
			   struct cd_descriptor *out)
{
	jv doc = jv_parse_sized(body, (int)len);
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		return cd_seterr("manifest list is not a JSON object");
	}
	jv ms = jv_object_get(doc, jv_string("manifests"));
	if (jv_get_kind(ms) != JV_KIND_ARRAY) {
		jv_free(ms);
		return cd_seterr("manifest list has no \"manifests\" array");
	}
	int found = 0, bad = 0;
	jv_array_foreach(ms, i, m) {
		if (found || bad) {
			jv_free(m);
			continue;
		}
		jv plat = jv_get_kind(m) == JV_KIND_OBJECT ? jv_object_get(jv_copy(m), jv_string("platform"))
							   : jv_invalid();
		const char *a = cd_jv_str(plat, "architecture");
		const char *os = cd_jv_str(plat, "os");
		if (a && !strcmp(a, arch) && (!os || !strcmp(os, "linux"))) {
			if (descriptor_of(m, out) < 0)
				bad = 1;
			else
				found = 1;
		}
		jv_free(plat);
		jv_free(m);
	}
	jv_free(ms);
	if (bad)
		return cd_seterr("manifest list entry for '%s' has a malformed digest or size", arch);
	return found;
}

int cd_manifest_config(const char *body, size_t len, struct cd_descriptor *out)
{
	jv doc = jv_parse_sized(body, (int)len);
	if (jv_get_kind(doc) != JV_KIND_OBJECT) {
		jv_free(doc);
		return cd_seterr("manifest is not a JSON object");
	}
	jv cfg = jv_object_get(doc, jv_string("config"));
	int r = jv_get_kind(cfg) == JV_KIND_OBJECT ? descriptor_of(cfg, out) : -1;
	jv_free(cfg);
	if (r < 0)
		return cd_seterr("manifest has no valid \"config\" descriptor");
	return 0;
}

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
