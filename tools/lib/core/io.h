#ifndef CD_IO_H
#define CD_IO_H
/*
 * Files and descriptors, the small jobs every layer needs done the same
 * way: write all of a buffer, read a whole small file, make a folder and
 * its parents.  Errors: errno-style functions say so; the others set
 * cd_seterr() with the path.
 */
#include <stddef.h>

/* Write all n bytes to fd, going on after EINTR.  0, or -1 with errno. */
int cd_write_all(int fd, const void *p, size_t n) __attribute__((warn_unused_result));
/* The same on a socket, without SIGPIPE: -1 with errno EPIPE once the peer closed. */
int cd_send_all(int fd, const void *p, size_t n) __attribute__((warn_unused_result));

/*
 * Create or truncate path (mode 0644) and write the n bytes of p into it,
 * closed before the return.  -1 and cd_seterr() on any error (ENOSPC
 * included).
 */
int cd_write_file(const char *path, const void *p, size_t n);
enum cd_read_flags {
	CD_READ_MISSING_OK = 1 << 0,  /* a file that does not exist is no error: 0 */
	CD_READ_SECRET = 1 << 1,      /* it holds a secret: wipe every copy left behind on failure */
};
/*
 * Read the whole file at path, at most max bytes, into *text (NUL-
 * terminated; the caller frees it, and wipes it first for a secret) and
 * *len.  1 when read; 0 when absent and CD_READ_MISSING_OK; -1 and
 * cd_seterr() when it cannot be opened or read ("cannot open '<path>':
 * <why>"); -2 and cd_seterr() when it is larger than max ("'<path>' is
 * larger than <max> bytes").
 */
int cd_read_file(const char *path, size_t max, unsigned flags, char **text, size_t *len);
/* mkdir -p path (mode 0755): 0 when it is a folder then, else -1 and cd_seterr(). */
int cd_mkdirs(const char *path);
/* Remove path and everything below it (best effort: what cannot go stays). */
void cd_remove_tree(const char *path);

/*
 * Remove what a killed run left in dir: every entry whose name starts with
 * prefix and ends with suffix ("" for any) that no running process holds
 * flock()ed (a file, or a folder with all below it).  The one lock-file
 * sweep: a process keeps what it is writing locked, so a sweep by another
 * run never takes it.
 */
void cd_sweep_unlocked(const char *dir, const char *prefix, const char *suffix);

#endif
