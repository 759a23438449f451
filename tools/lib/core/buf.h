#ifndef CD_BUF_H
#define CD_BUF_H
/*
 * A growable byte buffer with a hard size limit (curl's dynbuf "toobig"
 * rule): everything we keep in memory from outside is bounded.
 * The content is always NUL-terminated.
 */
#include <stddef.h>

struct cd_buf {
	char *p;
	size_t len, cap, max; /* max 0 = no limit (our own data only) */
};

void cd_buf_init(struct cd_buf *b, size_t max);
void cd_buf_release(struct cd_buf *b);
void cd_buf_reset(struct cd_buf *b);
/* -1 (cd_seterr) if the limit would be passed or memory runs out. */
int cd_buf_add(struct cd_buf *b, const void *p, size_t n) __attribute__((warn_unused_result));
int cd_buf_adds(struct cd_buf *b, const char *s) __attribute__((warn_unused_result));
int cd_buf_addf(struct cd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3), warn_unused_result));
/*
 * The same for a buffer of our own data (max 0), where the only failure
 * is memory: that ends the process, as cd_xmalloc() does.
 */
void cd_buf_put(struct cd_buf *b, const void *p, size_t n);
void cd_buf_puts(struct cd_buf *b, const char *s);
void cd_buf_putf(struct cd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand over the content; the buffer is empty afterwards.  Caller frees. */
char *cd_buf_detach(struct cd_buf *b, size_t *len);

/* Die-on-OOM allocation for our own small structures. */
void *cd_xmalloc(size_t n);
void *cd_xcalloc(size_t n, size_t m);
void *cd_xrealloc(void *p, size_t n);
char *cd_xstrdup(const char *s);
char *cd_xstrndup(const char *s, size_t n);
char *cd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wipe a secret string (OPENSSL_cleanse) and free it; NULL is fine. */
void cd_wipe_free(char *s);

/* Checked snprintf: -1 (and cd_seterr) when the result was truncated. */
int cd_snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4), warn_unused_result));
/*
 * snprintf for text that may be cut to fit: a reason shown in a message or
 * a display line, never a name, path or URL used as one.  n > 0.
 */
void cd_snprintf_cut(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
