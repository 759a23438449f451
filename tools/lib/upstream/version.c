/* Version ordering: see version.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "upstream/version.h"
#include "core/banned.h"

static int sep(int c)
{
	return c == '.' || c == '-' || c == '_' || c == ' ';
}

/* The next part of *s: its start and length; 0 at the end. */
static size_t next_part(const char **s, const char **start)
{
	const char *p = *s;
	size_t n = 0;

	while (*p && sep((unsigned char)*p))
		p++;
	*start = p;
	if (isdigit((unsigned char)*p))
		while (isdigit((unsigned char)p[n]))
			n++;
	else
		while (p[n] && !sep((unsigned char)p[n]) && !isdigit((unsigned char)p[n]))
			n++;
	*s = p + n;
	return n;
}

static int cmp_num(const char *a, size_t an, const char *b, size_t bn)
{
	while (an > 1 && *a == '0')
		a++, an--;
	while (bn > 1 && *b == '0')
		b++, bn--;
	if (an != bn)
		return an < bn ? -1 : 1;
	return memcmp(a, b, an);
}

int cd_version_cmp(const char *a, const char *b)
{
	for (;;) {
		const char *pa, *pb;
		size_t an = next_part(&a, &pa), bn = next_part(&b, &pb);
		int da, db, c;

		if (!an && !bn)
			return 0;
		da = an && isdigit((unsigned char)*pa);
		db = bn && isdigit((unsigned char)*pb);
		if (!an)	/* a ended: b's word is a prerelease of a, b's number a later one */
			return db ? -1 : 1;
		if (!bn)
			return da ? 1 : -1;
		if (da != db)
			return da ? 1 : -1;
		if (da)
			c = cmp_num(pa, an, pb, bn);
		else {
			c = strncasecmp(pa, pb, an < bn ? an : bn);
			if (!c && an != bn)
				c = an < bn ? -1 : 1;
		}
		if (c)
			return c < 0 ? -1 : 1;
	}
}

int cd_version_is_stable(const char *v)
{
	if (!*v || *v == '.')
		return 0;
	for (; *v; v++)
		if (!isdigit((unsigned char)*v) && *v != '.')
			return 0;
	return 1;
}

char *cd_version_normalize(const char *v)
{
	char out[65];
	size_t o = 0;

	for (; *v; v++) {
		int c = (unsigned char)*v;
		if (c == ' ' || c == '_' || c == '-') {
			if (o && out[o - 1] == '-')
				continue;
			c = '-';
		} else if (isalnum(c) || c == '.') {
			c = tolower(c);
		} else {
			cd_seterr("version '%.64s' holds '%c'", v, c);
			return NULL;
		}
		if (o == sizeof(out) - 1) {
			cd_seterr("version too long");
			return NULL;
		}
		out[o++] = (char)c;
	}
	while (o && out[o - 1] == '-')
		o--;
	if (!o || out[0] == '-' || out[0] == '.') {
		cd_seterr("empty version");
		return NULL;
	}
	out[o] = '\0';
	return cd_xstrdup(out);
}
