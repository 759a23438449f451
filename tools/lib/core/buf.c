#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/msg.h"
#include "core/banned.h"

void cd_buf_init(struct cd_buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void cd_buf_release(struct cd_buf *b)
{
	free(b->p);
	cd_buf_init(b, b->max);
}

void cd_buf_reset(struct cd_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

int cd_buf_add(struct cd_buf *b, const void *p, size_t n)
{
	if (b->max && (n > b->max || b->len > b->max - n))
		return cd_seterr("too large (limit %zu bytes)", b->max);
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np)
			return cd_seterr("out of memory");
		b->p = np;
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int cd_buf_adds(struct cd_buf *b, const char *s)
{
	return cd_buf_add(b, s, strlen(s));
}

int cd_buf_addf(struct cd_buf *b, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return cd_seterr("format error");
	if ((size_t)n < sizeof(small))
		return cd_buf_add(b, small, n);
	char *big = cd_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int r = cd_buf_add(b, big, n);
	free(big);
	return r;
}

void cd_buf_put(struct cd_buf *b, const void *p, size_t n)
{
	if (cd_buf_add(b, p, n) < 0)
		cd_oom();
}

void cd_buf_puts(struct cd_buf *b, const char *s)
{
	cd_buf_put(b, s, strlen(s));
}

void cd_buf_putf(struct cd_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		cd_oom();
	cd_buf_put(b, s, (size_t)n);
	free(s);
}

char *cd_buf_detach(struct cd_buf *b, size_t *len)
{
	char *p = b->p ? b->p : cd_xstrdup("");
	if (len)
		*len = b->len;
	cd_buf_init(b, b->max);
	return p;
}


void *cd_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		cd_oom();
	return p;
}

void *cd_xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		cd_oom();
	return p;
}

void *cd_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		cd_oom();
	return p;
}

char *cd_xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		cd_oom();
	return p;
}

char *cd_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		cd_oom();
	return p;
}

char *cd_xasprintf(const char *fmt, ...)
{
	char *p;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		cd_oom();
	return p;
}

int cd_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n)
		return cd_seterr("internal error: string too long");
	return r;
}

void cd_wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

void cd_snprintf_cut(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
}
