#ifndef CD_ERROR_H
#define CD_ERROR_H
/*
 * The error of library code: one value, a message and a kind.
 *
 * Library code never prints: it records why it failed with cd_seterr()
 * (or cd_seterr_kind() when the caller must tell "not found" from the
 * rest) and returns -1; the caller reads it back with cd_errmsg() and
 * cd_errkind().  Each thread has its own current error, like errno.  To
 * carry one across threads (a worker's failure to the thread that joins
 * it) or past a call that would overwrite it (a cleanup after the
 * failure), save it as a struct cd_err and raise it again.
 *
 * Messages are lowercase, without a final period, the error first and
 * the subject quoted; they never hold a secret.
 */
#include <stdarg.h>

/* What went wrong, where the caller acts on it. */
enum cd_errkind {
	CD_ERR_NONE = 0,
	CD_ERR_NOT_FOUND,    /* 404 / NAME_UNKNOWN / MANIFEST_UNKNOWN / BLOB_UNKNOWN,
	                        quay's "Tag ... was deleted or has expired" */
	CD_ERR_AUTH,         /* 401 / 403: credentials refused, token refused, DENIED */
	CD_ERR_TOO_MANY,     /* 429 after the retries */
	CD_ERR_UNREACHABLE,  /* no HTTP answer: refused, DNS, timeout, TLS failure */
	CD_ERR_INTEGRITY,    /* digest mismatch, a document too large or malformed */
	CD_ERR_OTHER,        /* everything else: the kind of cd_seterr() */
};

#define CD_ERR_MAX 1024 /* bytes of a message, NUL included; longer ones are cut at the end */

struct cd_err {
	enum cd_errkind kind;
	char msg[CD_ERR_MAX];
};

/*
 * Set this thread's error; always -1.  The arguments may point into the
 * current message (cd_seterr("token service: %s", cd_errmsg())).
 */
int cd_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cd_seterr_kind(enum cd_errkind kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefix the current error with context, its kind kept: "<ctx>: <old message>".  -1. */
int cd_adderr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *cd_errmsg(void);
enum cd_errkind cd_errkind(void);

/* This thread's error into e. */
void cd_err_save(struct cd_err *e);
/* Make e (saved here or in another thread) this thread's error.  -1. */
int cd_err_raise(const struct cd_err *e);

#endif
