#ifndef CD_MSG_H
#define CD_MSG_H
/*
 * Messages and exit codes shared by every tool.
 *
 * Tools print through cd_error()/cd_warn()/cd_info(): "<prog>: <message>",
 * lowercase, no final period.  Library code never prints: it returns an
 * error (error.h) for the caller to say.
 *
 * Every message is made safe for a terminal and a CI log before it is
 * printed: control characters (C0, DEL, C1) and bytes that are not UTF-8
 * become \xHH, so upstream or registry text quoted in a message cannot
 * move the cursor, clear the screen or forge log lines.
 */
#include <stdarg.h>
#include <stddef.h>

enum cd_exit {
	CD_EXIT_OK = 0,     /* every record fine */
	CD_EXIT_FAIL = 1,   /* at least one record failed, the others processed */
	CD_EXIT_USAGE = 2,  /* bad command line */
	CD_EXIT_INPUT = 3,  /* malformed input line(s), valid ones processed */
	CD_EXIT_IO = 4,     /* the input could not be read or the output written */
};

/*
 * First call of every main(): the program name for messages, and fds 0-2
 * kept taken: one that is closed gets /dev/null opened the wrong way round
 * (stdin write-only, stdout read-only), so reading a closed stdin or
 * writing a closed stdout still fails with EBADF, and no file the tool
 * opens later can land on 0, 1 or 2.
 */
void cd_msg_init(const char *argv0);
const char *cd_prog(void);
void cd_set_verbosity(int level); /* 0 quiet, 1 default, 2 verbose */
int cd_verbosity(void);

void cd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cd_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cd_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Out of memory: say so and abort (what cd_xmalloc() and its kin do). */
void cd_oom(void) __attribute__((noreturn));
/* Usage error: message, a hint to run --help, exit 2. */
void cd_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes): 1 to 4, or 0
 * when s does not start one (a stray continuation byte, an overlong form,
 * a surrogate, a code point past U+10FFFF, a sequence cut short).  n > 0.
 */
size_t cd_utf8_seq(const char *s, size_t n);
/*
 * Copy in to out (n bytes, NUL-terminated, cut at a whole character) with
 * control characters and non-UTF-8 bytes as \xHH: what every message
 * printer applies.  Returns out.
 */
char *cd_msg_escape(const char *in, char *out, size_t n);

#endif
