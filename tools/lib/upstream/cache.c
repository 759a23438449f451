#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/io.h"
#include "upstream/cache.h"
#include "core/banned.h"

char *cd_cache_default_dir(void)
{
	const char *x = getenv("XDG_CACHE_HOME");
	if (x && *x == '/')
		return cd_xasprintf("%s/cdkit", x);
	const char *h = getenv("HOME");
	if (h && *h)
		return cd_xasprintf("%s/.cache/cdkit", h);
	return NULL;
}

int cd_cache_open(struct cd_cache *c, const char *dir)
{
	static const char *sub[] = { "sha256", "sha512", "tmp" };
	c->dir = cd_xstrdup(dir);
	for (size_t i = 0; i < sizeof(sub) / sizeof(*sub); i++) {
		char *p = cd_xasprintf("%s/%s", dir, sub[i]);
		int r = cd_mkdirs(p);
		free(p);
		if (r < 0)
			return cd_adderr("cache");
	}
	/* partial files that no running process holds (left by a killed run) */
	char *tmp = cd_xasprintf("%s/tmp", dir);
	cd_sweep_unlocked(tmp, "", ".part");
	free(tmp);
	return 0;
}

void cd_cache_release(struct cd_cache *c)
{
	free(c->dir);
	c->dir = NULL;
}

char *cd_cache_path(const struct cd_cache *c, enum cd_hash alg, const char *hex)
{
	return cd_xasprintf("%s/%s/%s", c->dir, cd_hash_name(alg), hex);
}

int cd_cache_has(const struct cd_cache *c, enum cd_hash alg, const char *hex)
{
	char *p = cd_cache_path(c, alg, hex);
	struct stat st;
	int ok = stat(p, &st) == 0 && S_ISREG(st.st_mode);
	free(p);
	return ok;
}

void cd_cache_remove(const struct cd_cache *c, enum cd_hash alg, const char *hex)
{
	char *p = cd_cache_path(c, alg, hex);
	unlink(p);
	free(p);
}

int cd_cache_tmp(const struct cd_cache *c, const char *hint, char **path)
{
	char *p = cd_xasprintf("%s/tmp/%.40s.XXXXXX.part", c->dir, hint);
	int fd = mkostemps(p, 5, O_CLOEXEC);
	if (fd < 0) {
		cd_seterr("cannot create a file in '%s/tmp': %s", c->dir, strerror(errno));
		free(p);
		return -1;
	}
	/* in use: see sweep().  Unlocked, another run would remove it under us. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		cd_seterr("cannot lock '%s': %s", p, strerror(errno));
		close(fd);
		unlink(p);
		free(p);
		return -1;
	}
	*path = p;
	return fd;
}

int cd_cache_resumable(const struct cd_cache *c, enum cd_hash alg, const char *hex,
		       char **path, long long *have)
{
	char *p = cd_xasprintf("%s/tmp/%s-%s.resume", c->dir, cd_hash_name(alg), hex);
	struct stat st;
	int fd = open(p, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	*have = 0;
	if (fd < 0) {
		cd_seterr("cannot open '%s': %s", p, strerror(errno));
		free(p);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) { /* another run is fetching it: no sharing */
		close(fd);
		free(p);
		return cd_cache_tmp(c, hex, path);
	}
	const char *why = NULL;
	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_END) < 0)
		why = strerror(errno);
	else if (!S_ISREG(st.st_mode))
		why = "not a regular file";
	if (why) {
		cd_seterr("cannot use '%s': %s", p, why);
		close(fd);
		free(p);
		return -1;
	}
	*have = (long long)st.st_size;
	*path = p;
	return fd;
}

int cd_cache_commit(const struct cd_cache *c, const char *tmp, enum cd_hash alg, const char *hex)
{
	char *dst = cd_cache_path(c, alg, hex);
	int r = 0;
	/* An entry is never written again once it has its name. */
	if (chmod(tmp, 0444) < 0 || rename(tmp, dst) < 0)
		r = cd_seterr("cannot store '%s' in the cache: %s", dst, strerror(errno));
	free(dst);
	return r;
}

#define DISK_LINK_DIR "../sha256/"

int cd_cache_disk_find(const struct cd_cache *c, enum cd_hash alg, const char *hex,
		       char disk_hex[CD_HEX_MAX])
{
	char *link = cd_xasprintf("%s/%s/%s.disk", c->dir, cd_hash_name(alg), hex);
	char target[sizeof(DISK_LINK_DIR) + CD_HEX_MAX], digest[CD_DIGEST_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	const char *h = target + strlen(DISK_LINK_DIR);
	enum cd_hash a;
	int found = 0;
	if (n < 0) {
		if (errno == EINVAL) /* not a link: see the header */
			unlink(link);
		free(link);
		return 0;
	}
	target[n] = '\0';
	if (strncmp(target, DISK_LINK_DIR, strlen(DISK_LINK_DIR)) ||
	    cd_snprintf(digest, sizeof(digest), "sha256:%s", h) < 0 ||
	    cd_digest_parse(digest, &a, &h) < 0) {
		unlink(link); /* not one of ours */
	} else if (cd_cache_has(c, CD_HASH_SHA256, h)) {
		memcpy(disk_hex, h, cd_hash_hexlen(CD_HASH_SHA256) + 1);
		found = 1;
	}
	free(link);
	return found;
}

int cd_cache_disk_link(const struct cd_cache *c, enum cd_hash alg, const char *hex, const char *disk_hex)
{
	char *link = cd_xasprintf("%s/%s/%s.disk", c->dir, cd_hash_name(alg), hex);
	char *target = cd_xasprintf(DISK_LINK_DIR "%s", disk_hex);
	int r = 0;
	/*
	 * symlink(2) makes the link whole or not at all.  One already there
	 * (to a disk since removed) is replaced; EEXIST again means another
	 * run has just linked the same disk.
	 */
	if (symlink(target, link) < 0 &&
	    !(errno == EEXIST && (unlink(link) == 0 || errno == ENOENT) &&
	      (symlink(target, link) == 0 || errno == EEXIST)))
		r = cd_seterr("cannot store '%s' in the cache: %s", link, strerror(errno));
	free(target);
	free(link);
	return r;
}

void cd_cache_usage(const struct cd_cache *c, long long *bytes, long *files)
{
	static const char *sub[] = { "sha256", "sha512" };
	*bytes = 0;
	*files = 0;
	for (size_t i = 0; i < 2; i++) {
		char *p = cd_xasprintf("%s/%s", c->dir, sub[i]);
		DIR *d = opendir(p);
		free(p);
		if (!d)
			continue;
		struct dirent *e;
		struct stat st;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
				*bytes += (long long)st.st_size;
				(*files)++;
			}
		}
		closedir(d);
	}
}
