/* Checksum file parsing: see checksum.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/limits.h"
#include "upstream/checksum.h"
#include "core/banned.h"


static size_t hexlen(const char *alg)
{
	if (!strcmp(alg, "sha256"))
		return 64;
	if (!strcmp(alg, "sha512"))
		return 128;
	return 0;
}

/* Is s[0..n) all hex?  Lowercase it into out ("alg:hex"). */
static int take_hex(const char *alg, const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, al = strlen(alg);

	if (!n || n != hexlen(alg) || al + 1 + n + 1 > outlen)
		return -1;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return -1;
	memcpy(out, alg, al);
	out[al] = ':';
	for (i = 0; i < n; i++)
		out[al + 1 + i] = (char)tolower((unsigned char)s[i]);
	out[al + 1 + n] = '\0';
	return 0;
}

static void add(struct cd_checksum_list *l, const char *name, size_t nlen, const char *digest)
{
	struct cd_checksum_entry *e;

	if (l->n == l->alloc) {
		l->alloc = l->alloc ? 2 * l->alloc : 16;
		l->v = cd_xrealloc(l->v, l->alloc * sizeof(*l->v));
	}
	e = &l->v[l->n++];
	e->name = cd_xstrndup(name, nlen);
	memcpy(e->digest, digest, strlen(digest) + 1);
	e->size = -1;
}

/* "SHA256 (name) = hex" */
static int parse_bsd(struct cd_checksum_list *l, const char *s, size_t n)
{
	char alg[8], digest[sizeof(l->v->digest)];
	const char *open, *close, *hex;
	size_t i, al;

	open = memchr(s, ' ', n);
	if (!open || (al = (size_t)(open - s)) >= sizeof(alg))
		return -1;
	for (i = 0; i < al; i++)
		alg[i] = (char)tolower((unsigned char)s[i]);
	alg[al] = '\0';
	if (!hexlen(alg))
		return -1;
	while (open < s + n && *open == ' ')
		open++;
	if (open >= s + n || *open != '(')
		return -1;
	/* the name ends at the last ") = " so that names holding ')' work */
	for (close = NULL, i = n; i-- > (size_t)(open - s) + 1;)
		if (i + 4 <= n && !memcmp(s + i, ") = ", 4)) {
			close = s + i;
			break;
		}
	if (!close)
		return -1;
	hex = close + 4;
	while (hex < s + n && *hex == ' ')
		hex++;
	if (take_hex(alg, hex, (size_t)(s + n - hex), digest, sizeof(digest)) < 0)
		return -1;
	add(l, open + 1, (size_t)(close - open - 1), digest);
	return 0;
}

/* "hex  name", "hex *name", "hex" */
static int parse_gnu(struct cd_checksum_list *l, const char *s, size_t n)
{
	char digest[sizeof(l->v->digest)];
	size_t h = 0;
	const char *name;

	while (h < n && isxdigit((unsigned char)s[h]))
		h++;
	if (h < n && s[h] != ' ' && s[h] != '\t')
		return -1;
	if (take_hex(h == 128 ? "sha512" : "sha256", s, h, digest, sizeof(digest)) < 0)
		return -1;
	name = s + h;
	while (name < s + n && (*name == ' ' || *name == '\t'))
		name++;
	if (name < s + n && *name == '*')
		name++;
	if (h < n && name == s + n)
		return -1; /* "hex   " with nothing after: not a form we know */
	add(l, name, (size_t)(s + n - name), digest);
	return 0;
}

/* "# name: N bytes" */
static void parse_size(struct cd_checksum_list *l, const char *s, size_t n)
{
	const char *colon, *num, *end;
	long long v = 0;
	size_t i;

	s += 1;
	n -= 1;
	while (n && *s == ' ')
		s++, n--;
	colon = NULL;
	for (i = n; i-- > 0;)
		if (s[i] == ':') {
			colon = s + i;
			break;
		}
	if (!colon || colon == s)
		return;
	num = colon + 1;
	end = s + n;
	while (num < end && *num == ' ')
		num++;
	if (num == end || !isdigit((unsigned char)*num))
		return;
	for (; num < end && isdigit((unsigned char)*num); num++) {
		if (v > (1LL << 50))
			return;
		v = v * 10 + (*num - '0');
	}
	if ((size_t)(end - num) != 6 || memcmp(num, " bytes", 6))
		return;
	/* a placeholder entry (no digest) until settle_sizes() */
	add(l, s, (size_t)(colon - s), "");
	l->v[l->n - 1].size = v;
}

struct slot {
	const char *name;
	size_t i;          /* position in the list: file order */
};

static int cmp_slot(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->i > y->i) - (x->i < y->i);
}

/*
 * Give each entry the size its "# name: N bytes" comments say: the first
 * such comment after the entry, else the first one before it (CentOS puts
 * it first), then drop the comments' placeholders.  Sorted by name, so an
 * upstream file of 8 MiB of comments takes n log n, not n^2.
 */
static void settle_sizes(struct cd_checksum_list *l)
{
	size_t i, j, k, n = l->n;
	struct slot *s;

	if (!n)
		return;
	s = cd_xmalloc(n * sizeof(*s));
	for (i = 0; i < n; i++) {
		s[i].name = l->v[i].name;
		s[i].i = i;
	}
	qsort(s, n, sizeof(*s), cmp_slot);
	for (i = 0; i < n; i = k) {
		long long first = -1;
		size_t wait = i;   /* entries s[wait..j) want the next comment */
		for (k = i; k < n && !strcmp(s[k].name, s[i].name); k++) {
			struct cd_checksum_entry *c = &l->v[s[k].i];
			if (c->digest[0])
				continue;
			if (first < 0)
				first = c->size;
			for (j = wait; j < k; j++)
				if (l->v[s[j].i].digest[0])
					l->v[s[j].i].size = c->size;
			wait = k + 1;
		}
		for (j = wait; j < k && first >= 0; j++)
			if (l->v[s[j].i].digest[0])
				l->v[s[j].i].size = first;
	}
	free(s);
	for (i = k = 0; i < n; i++) {
		if (!l->v[i].digest[0]) {
			free(l->v[i].name);
			continue;
		}
		l->v[k++] = l->v[i];
	}
	l->n = k;
}

void cd_checksum_parse(const char *text, size_t len, struct cd_checksum_list *out)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t n;

		while (p < le && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(le - p);
		while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n && n <= CD_CHECKSUM_LINE_MAX && !memchr(p, '\0', n)) {
			if (p[0] == '#')
				parse_size(out, p, n);
			else if (parse_bsd(out, p, n) < 0)
				parse_gnu(out, p, n);
		}
		p = nl ? nl + 1 : end;
	}
	settle_sizes(out);
}

void cd_checksum_list_release(struct cd_checksum_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

const struct cd_checksum_entry *cd_checksum_find(const struct cd_checksum_list *l,
						 const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

int cd_checksum_normalize(const char *in, char *out, size_t outlen)
{
	static const char hx[] = "0123456789abcdef";
	char *raw = NULL, alg[8], hex[129];
	const char *colon = strchr(in, ':');
	size_t al, want, i, got = 0;

	if (!colon || (al = (size_t)(colon - in)) == 0 || al >= sizeof(alg))
		return cd_seterr("malformed checksum '%.80s': want <algorithm>:<value>", in);
	memcpy(alg, in, al);
	alg[al] = '\0';
	if (!(want = hexlen(alg)))
		return cd_seterr("unknown checksum algorithm '%s'", alg);
	if (take_hex(alg, colon + 1, strlen(colon + 1), out, outlen) == 0)
		return 0;
	if (cd_base64_decode_flags(colon + 1, strlen(colon + 1), CD_BASE64_URL, &raw, &got) < 0 ||
	    got * 2 != want) {
		free(raw);
		return cd_seterr("malformed %s checksum '%.140s'", alg, colon + 1);
	}
	for (i = 0; i < got; i++) {
		hex[2 * i] = hx[(unsigned char)raw[i] >> 4];
		hex[2 * i + 1] = hx[(unsigned char)raw[i] & 15];
	}
	free(raw);
	return take_hex(alg, hex, want, out, outlen) < 0 ?
		cd_seterr("checksum too long for its buffer") : 0;
}
