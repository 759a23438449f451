#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/ref.h"
#include "core/url.h"
#include "core/banned.h"

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* One path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static int valid_component(const char *s, size_t n)
{
	size_t i = 0;
	if (!n || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return 0;
	while (i < n) {
		if (is_lower_alnum(s[i])) {
			i++;
			continue;
		}
		size_t j = i;
		if (s[i] == '.')
			j = i + 1;
		else if (s[i] == '_')
			j = (i + 1 < n && s[i + 1] == '_') ? i + 2 : i + 1;
		else if (s[i] == '-')
			while (j < n && s[j] == '-')
				j++;
		else
			return 0;
		if (j >= n || !is_lower_alnum(s[j]))
			return 0;
		i = j;
	}
	return 1;
}

int cd_ref_valid_path(const char *path)
{
	const char *p = path;
	if (!*p)
		return 0;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!valid_component(p, n))
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}

int cd_ref_valid_tag(const char *tag)
{
	size_t n = strlen(tag);
	if (!n || n > CD_REF_TAG_MAX || !(is_alnum(tag[0]) || tag[0] == '_'))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(tag[i]) && tag[i] != '_' && tag[i] != '.' && tag[i] != '-')
			return 0;
	return 1;
}

/* host: DNS labels or an IPv4 address or [IPv6], then an optional :port */
static int valid_host(const char *h, size_t n)
{
	size_t i = 0, end = n;
	const char *colon = NULL;
	if (!n)
		return 0;
	if (h[0] == '[') {
		const char *rb = memchr(h, ']', n);
		if (!rb || rb == h + 1)
			return 0;
		for (const char *q = h + 1; q < rb; q++)
			if (!strchr("0123456789abcdefABCDEF:.", *q))
				return 0;
		i = (size_t)(rb - h) + 1;
		if (i == n)
			return 1;
		if (h[i] != ':')
			return 0;
		colon = h + i;
	} else {
		colon = memchr(h, ':', n);
		if (colon)
			end = (size_t)(colon - h);
		if (!end)
			return 0;
		for (size_t k = 0; k < end; k++) {
			char c = h[k];
			if (!is_alnum(c) && c != '.' && c != '-')
				return 0;
			if ((c == '.' || c == '-') && (k == 0 || k + 1 == end || h[k - 1] == '.'))
				return 0;
		}
	}
	if (colon) {
		size_t plen = n - (size_t)(colon - h) - 1;
		if (!plen || plen > 5)
			return 0;
		for (size_t k = 1; k <= plen; k++)
			if (colon[k] < '0' || colon[k] > '9')
				return 0;
	}
	return 1;
}

void cd_ref_release(struct cd_ref *ref)
{
	free(ref->host);
	free(ref->path);
	free(ref->tag);
	free(ref->digest);
	memset(ref, 0, sizeof(*ref));
}

char *cd_ref_redact(const char *s)
{
	if (strstr(s, "://"))
		return cd_url_redact(s);
	/* A digest follows the last '@' only; any '@' before it ends a user:password. */
	const char *at = strrchr(s, '@');
	enum cd_hash alg;
	const char *hex;
	if (at && cd_digest_parse(at + 1, &alg, &hex) == 0)
		at = memrchr(s, '@', (size_t)(at - s));
	if (!at)
		return cd_xstrdup(s);
	return cd_xasprintf("***%s", at);
}

static int bad(struct cd_ref *ref, const char *s, const char *why)
{
	cd_ref_release(ref);
	/* Bound what we echo back: the input may be anything, a password too. */
	char *shown = cd_ref_redact(s);
	cd_seterr("invalid reference '%.200s%s': %s", shown, strlen(shown) > 200 ? "..." : "", why);
	free(shown);
	return -1;
}

int cd_ref_parse(struct cd_ref *ref, const char *s)
{
	memset(ref, 0, sizeof(*ref));
	size_t n = strlen(s);
	if (!n)
		return bad(ref, s, "empty");
	if (n > CD_REF_NAME_MAX + 1 + CD_REF_TAG_MAX + 1 + CD_DIGEST_MAX)
		return bad(ref, s, "too long");

	const char *at = strchr(s, '@');
	size_t name_end = at ? (size_t)(at - s) : n;
	if (at) {
		enum cd_hash alg;
		const char *hex;
		if (cd_digest_parse(at + 1, &alg, &hex) < 0)
			return bad(ref, s, "malformed digest");
		ref->digest = cd_xstrdup(at + 1);
	}

	/* The tag is after the last ':' that follows the last '/'. */
	const char *last_slash = memrchr(s, '/', name_end);
	const char *from = last_slash ? last_slash + 1 : s;
	const char *colon = memchr(from, ':', name_end - (size_t)(from - s));
	if (colon && last_slash) {
		ref->tag = cd_xstrndup(colon + 1, name_end - (size_t)(colon + 1 - s));
		if (!cd_ref_valid_tag(ref->tag))
			return bad(ref, s, "malformed tag");
		name_end = (size_t)(colon - s);
	} else if (colon) {
		/* "name:tag" with no host, or "host:port" alone: a host needs a path. */
		ref->tag = cd_xstrndup(colon + 1, name_end - (size_t)(colon + 1 - s));
		if (!cd_ref_valid_tag(ref->tag))
			return bad(ref, s, "malformed tag");
		name_end = (size_t)(colon - s);
	}
	if (name_end > CD_REF_NAME_MAX)
		return bad(ref, s, "name longer than 255 characters");

	const char *slash = memchr(s, '/', name_end);
	size_t first = slash ? (size_t)(slash - s) : name_end;
	int has_host = slash && (memchr(s, '.', first) || memchr(s, ':', first) ||
				 (first == 9 && !strncmp(s, "localhost", 9)) || s[0] == '[');
	if (has_host) {
		if (!valid_host(s, first))
			return bad(ref, s, "malformed host");
		ref->host = cd_xstrndup(s, first);
		ref->path = cd_xstrndup(slash + 1, name_end - first - 1);
	} else {
		ref->host = cd_xstrdup("docker.io");
		if (!slash)
			ref->path = cd_xasprintf("library/%.*s", (int)name_end, s);
		else
			ref->path = cd_xstrndup(s, name_end);
	}
	if (!cd_ref_valid_path(ref->path))
		return bad(ref, s, "malformed repository path (lowercase letters, digits, '.', '_', '-', '/')");
	/* Counted as the registry sees it: "ubuntu" is docker.io/library/ubuntu. */
	if (strlen(ref->host) + 1 + strlen(ref->path) > CD_REF_NAME_MAX)
		return bad(ref, s, "name longer than 255 characters");
	return 0;
}

char *cd_ref_join(const char *prefix, const char *name)
{
	return *prefix ? cd_xasprintf("%s/%s", prefix, name) : cd_xstrdup(name);
}

char *cd_ref_format(const struct cd_ref *ref)
{
	return cd_xasprintf("%s/%s%s%s%s%s", ref->host, ref->path,
			    ref->tag ? ":" : "", ref->tag ? ref->tag : "",
			    ref->digest ? "@" : "", ref->digest ? ref->digest : "");
}

const char *cd_ref_api_host(const char *host)
{
	if (!strcmp(host, "docker.io") || !strcmp(host, "index.docker.io"))
		return "registry-1.docker.io";
	return host;
}

int cd_ref_host_is_loopback(const char *host)
{
	size_t n = strlen(host);
	const char *colon = NULL;
	if (host[0] == '[') {
		const char *rb = strchr(host, ']');
		if (!rb)
			return 0;
		return (size_t)(rb - host) == 4 && !strncmp(host, "[::1]", 5);
	}
	colon = strchr(host, ':');
	if (colon)
		n = (size_t)(colon - host);
	return (n == 9 && !strncasecmp(host, "localhost", 9)) ||
	       (n == 9 && !strncmp(host, "127.0.0.1", 9));
}

static int bad_spec(const char *spec, const char *why)
{
	char *shown = cd_ref_redact(spec);
	cd_seterr("invalid source registry '%.200s': %s", shown, why);
	free(shown);
	return -1;
}

int cd_ref_parse_registry(const char *spec, char **host, char **prefix)
{
	*host = *prefix = NULL;
	const char *slash = strchr(spec, '/');
	struct cd_ref ref;
	if (!slash) {
		/* A bare host: parse it with a dummy path so the host rules apply. */
		char *tmp = cd_xasprintf("%s/x", spec);
		int r = cd_ref_parse(&ref, tmp);
		free(tmp);
		if (r < 0 || !strcmp(ref.host, "docker.io") || ref.tag || ref.digest) {
			cd_ref_release(&ref);
			return bad_spec(spec, "expected HOST[:PORT][/PATH]");
		}
		*host = ref.host;
		ref.host = NULL;
		*prefix = cd_xstrdup("");
		cd_ref_release(&ref);
		return 0;
	}
	if (cd_ref_parse(&ref, spec) < 0)
		return -1;
	if (ref.tag || ref.digest) {
		cd_ref_release(&ref);
		return bad_spec(spec, "a registry and path, without tag or digest");
	}
	*host = ref.host;
	*prefix = ref.path;
	ref.host = ref.path = NULL;
	cd_ref_release(&ref);
	return 0;
}
