#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/url.h"
#include "net/mirror.h"
#include "core/banned.h"

struct cd_mirror_map cd_mirrors;

int cd_mirror_add(struct cd_mirror_map *m, const char *spec)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1]) {
		char *r = cd_mirror_redact(spec);
		cd_seterr("invalid mirror '%.200s': expected PREFIX=REPLACEMENT", r);
		free(r);
		return -1;
	}
	m->v = cd_xrealloc(m->v, (m->n + 1) * sizeof(*m->v));
	m->v[m->n].prefix = cd_xstrndup(spec, (size_t)(eq - spec));
	m->v[m->n].replacement = cd_xstrdup(eq + 1);
	m->n++;
	return 0;
}

int cd_mirror_add_list(struct cd_mirror_map *m, const char *s)
{
	while (*s) {
		while (isspace((unsigned char)*s))
			s++;
		const char *e = s;
		while (*e && !isspace((unsigned char)*e))
			e++;
		if (e > s) {
			char *one = cd_xstrndup(s, (size_t)(e - s));
			int r = cd_mirror_add(m, one);
			free(one);
			if (r < 0)
				return -1;
		}
		s = e;
	}
	return 0;
}

char *cd_mirror_rewrite(const struct cd_mirror_map *m, const char *url)
{
	const struct cd_mirror_entry *best = NULL;
	size_t bestlen = 0;
	for (size_t i = 0; i < m->n; i++) {
		size_t n = strlen(m->v[i].prefix);
		if (n > bestlen && !strncmp(url, m->v[i].prefix, n)) {
			best = &m->v[i];
			bestlen = n;
		}
	}
	if (!best)
		return cd_xstrdup(url);
	return cd_xasprintf("%s%s", best->replacement, url + bestlen);
}

void cd_mirror_release(struct cd_mirror_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].prefix);
		free(m->v[i].replacement);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

char *cd_mirror_redact(const char *spec)
{
	const char *eq = strchr(spec, '=');
	if (!eq)
		return cd_url_redact(spec);
	char *prefix = cd_xstrndup(spec, (size_t)(eq - spec));
	char *a = cd_url_redact(prefix), *b = cd_url_redact(eq + 1);
	char *r = cd_xasprintf("%s=%s", a, b);
	free(prefix);
	free(a);
	free(b);
	return r;
}
