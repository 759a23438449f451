/* Files and descriptors (io.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

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
