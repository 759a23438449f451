/* Tag lists and their Link paging (tags.h). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/url.h"
#include "net/http.h"
#include "registry/call.h"
#include "registry/tags.h"
#include "core/banned.h"


/* The strings of a tag list page (body), appended to *all; -1 when it is no tag list. */
static int add_page(const struct cd_http_req *q, jv *all, int *n)
{
	jv doc = jv_parse_sized(q->body.p ? q->body.p : "", (int)q->body.len);
	jv t = jv_get_kind(doc) == JV_KIND_OBJECT ? jv_object_get(jv_copy(doc), jv_string("tags")) : jv_invalid();
	int ret = 0;
	if (jv_get_kind(t) == JV_KIND_ARRAY) {
		jv_array_foreach(t, i, s) {
			if (jv_get_kind(s) == JV_KIND_STRING && *n < CD_TAGS_MAX) {
				*all = jv_array_append(*all, s);
				(*n)++;
			} else {
				jv_free(s);
			}
		}
	} else if (jv_get_kind(t) != JV_KIND_NULL) {
		ret = -1;
	}
	jv_free(t);
	jv_free(doc);
	return ret;
}

int cd_registry_tags(struct cd_registry *r, const char *repo, jv *tags)
{
	*tags = jv_invalid();
	if (cd_registry_check_names(repo, NULL) < 0)
		return -1;
	char *url = cd_registry_url(r, "/v2/%s/tags/list", repo);
	jv all = jv_array();
	int ret = 0, n = 0, pages = 0;
	while (url && !ret) {
		struct cd_call c;
		cd_call_init(&c, r, repo, NULL, cd_registry_scope(repo, "pull"), url);
		c.q.max_body = CD_TAGS_PAGE_MAX;
		c.post = ": tags";
		char *next = NULL, link[CD_HTTP_HEADER_MAX];
		if (++pages > CD_TAGS_MAX_PAGES)
			ret = cd_seterr("%s: more than %d pages of tags", c.what, CD_TAGS_MAX_PAGES);
		else
			ret = cd_call_run(&c, (const long[]){ 200, 0 });
		if (!ret && add_page(&c.q, &all, &n) < 0)
			ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: malformed tag list", c.what);
		if (!ret && cd_http_header(&c.q, "Link", link, sizeof(link)) &&
		    cd_registry_link_next(link, url, &next) < 0)
			ret = cd_seterr_kind(CD_ERR_INTEGRITY, "%s: %s", c.what, cd_errmsg());
		if (!ret && n >= CD_TAGS_MAX && next) {
			free(next);
			next = NULL;
			ret = cd_seterr("%s: more than %d tags", c.what, CD_TAGS_MAX);
		}
		cd_call_release(&c); /* frees url */
		url = next;
	}
	free(url);
	if (!ret)
		*tags = all;
	else
		jv_free(all);
	return ret;
}

/* --- Link (pure) ------------------------------------------------------------- */

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
	if (strlen(link) > CD_LINK_MAX)
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
			*next = cd_url_resolve(base_url, u, (size_t)(ue - u));
			if (!*next)
				return cd_seterr("malformed Link header: cannot resolve the URL");
			return 1;
		}
	}
}
