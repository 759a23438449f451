/* Files and descriptors (io.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/io.h"
#include "core/banned.h"

static int put_all(int fd, const char *p, size_t n, int sock)
{
	while (n) {
		ssize_t w = sock ? send(fd, p, n, MSG_NOSIGNAL) : write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cd_write_all(int fd, const void *p, size_t n)
{
	return put_all(fd, p, n, 0);
}

int cd_send_all(int fd, const void *p, size_t n)
{
	return put_all(fd, p, n, 1);
}

int cd_write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cd_seterr("cannot create '%s': %s", path, strerror(errno));
	if (cd_write_all(fd, p, n) < 0) {
		int e = errno;
		close(fd);
		return cd_seterr("cannot write '%s': %s", path, strerror(e));
	}
	if (close(fd) < 0)
		return cd_seterr("cannot write '%s': %s", path, strerror(errno));
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

void cd_remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int named(const char *name, const char *prefix, const char *suffix)
{
	size_t n = strlen(name), p = strlen(prefix), s = strlen(suffix);
	return n >= p + s && !strncmp(name, prefix, p) && !strcmp(name + n - s, suffix) && strcmp(name, ".") &&
	       strcmp(name, "..");
}

void cd_sweep_unlocked(const char *dir, const char *prefix, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!named(e->d_name, prefix, suffix))
			continue;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			char *p = cd_xasprintf("%s/%s", dir, e->d_name);
			cd_remove_tree(p);
			free(p);
		}
		close(fd);
	}
	closedir(d);
}

int cd_mkdirs(const char *path)
{
	char *p = cd_xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			cd_seterr("cannot create '%s': %s", p, strerror(errno));
			free(p);
			return -1;
		}
		*s = c;
		if (!c)
			break;
	}
	free(p);
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return cd_seterr("cannot use '%s' as a folder", path);
	return 0;
}

static int read_failed(struct cd_buf *b, unsigned flags, int fd)
{
	if ((flags & CD_READ_SECRET) && b->p)
		OPENSSL_cleanse(b->p, b->len);
	cd_buf_release(b);
	close(fd);
	return -1;
}

int cd_read_file(const char *path, size_t max, unsigned flags, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if ((flags & CD_READ_MISSING_OK) && (errno == ENOENT || errno == ENOTDIR))
			return 0;
		return cd_seterr("cannot open '%s': %s", path, strerror(errno));
	}
	struct cd_buf b;
	char chunk[16384];
	ssize_t n;
	cd_buf_init(&b, max);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			read_failed(&b, flags, fd);
			return cd_seterr("cannot read '%s': %s", path, strerror(e));
		}
		int r = cd_buf_add(&b, chunk, (size_t)n);
		if (flags & CD_READ_SECRET)
			OPENSSL_cleanse(chunk, (size_t)n);
		if (r < 0) {
			read_failed(&b, flags, fd);
			cd_seterr("'%s' is larger than %zu bytes", path, max);
			return -2;
		}
	}
	close(fd);
	*text = cd_buf_detach(&b, len);
	return 1;
}
