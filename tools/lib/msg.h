#ifndef CD_MSG_H
#define CD_MSG_H
/*
 * Messages and exit codes shared by every tool.
 *
 * Tools print through cd_error()/cd_warn()/cd_info(): "<prog>: <message>",
 * lowercase, no final period.  Library code never prints: it records the
 * reason with cd_seterr() (thread-local, like errno) and returns -1; the
 * caller reads it back with cd_errmsg().
 */
#include <stdarg.h>

enum cd_exit {
	CD_EXIT_OK = 0,     /* every record fine */
	CD_EXIT_FAIL = 1,   /* at least one record failed, the others processed */
	CD_EXIT_USAGE = 2,  /* bad command line */
	CD_EXIT_INPUT = 3,  /* malformed input line(s), valid ones processed */
};

void cd_msg_init(const char *argv0);
const char *cd_prog(void);
void cd_set_verbosity(int level); /* 0 quiet, 1 default, 2 verbose */
int cd_verbosity(void);

void cd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cd_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cd_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Usage error: message, a hint to run --help, exit 2. */
void cd_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Library error channel.  cd_seterr() always returns -1. */
int cd_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cd_vseterr(const char *fmt, va_list ap);
/* Prefix the current error with context: "<ctx>: <old message>". */
int cd_adderr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *cd_errmsg(void);

/* Checked snprintf: -1 (and cd_seterr) when the result was truncated. */
int cd_snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
