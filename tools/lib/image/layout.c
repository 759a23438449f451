/* The OCI image layout folder of one image (layout.h). */
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
#include "image/layout.h"
#include "core/banned.h"

#define TMP_PREFIX ".cd-build."

void cd_layout_init(struct cd_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->lockfd = -1;
}

/* One folder name: not empty, no '/', not "." or ".." nor any hidden name. */
static int one_component(const char *s)
{
	return *s && *s != '.' && !strchr(s, '/');
}

int cd_layout_begin(struct cd_layout *l, const char *output, const char *name, const char *version)
{
	cd_layout_init(l);
	if (!one_component(name) || !one_component(version))
		return cd_seterr("'%s:%s' cannot name a folder", name, version);
	l->final = cd_xasprintf("%s/%s/%s", output, name, version);
	l->tmp = cd_xasprintf("%s/" TMP_PREFIX "%s.%s.XXXXXX", output, name, version);
	if (!mkdtemp(l->tmp)) {
		int e = errno;
		free(l->tmp);
		l->tmp = NULL;
		return cd_seterr("cannot create a folder in '%s': %s", output, strerror(e));
	}
	/* mkdtemp makes it 0700; an image is for others to read. */
	chmod(l->tmp, 0755);
	/* Unlocked, the folder would be another cd-build's to sweep away. */
	l->lockfd = open(l->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->lockfd < 0 || flock(l->lockfd, LOCK_EX | LOCK_NB) < 0)
		return cd_seterr("cannot lock '%s': %s", l->tmp, strerror(errno));
	char *p = cd_xasprintf("%s/blobs", l->tmp);
	int r = 0;
	if (mkdir(p, 0755) < 0)
		r = cd_seterr("cannot create '%s': %s", p, strerror(errno));
	free(p);
	p = cd_xasprintf("%s/blobs/sha256", l->tmp);
	if (!r && mkdir(p, 0755) < 0)
		r = cd_seterr("cannot create '%s': %s", p, strerror(errno));
	free(p);
	if (!r) {
		static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
		p = cd_xasprintf("%s/oci-layout", l->tmp);
		r = cd_write_file(p, layout, sizeof(layout) - 1);
		free(p);
	}
	return r;
}

int cd_layout_blob_open(struct cd_layout *l, char **path)
{
	char *p = cd_xasprintf("%s/blobs/sha256/.blob.XXXXXX", l->tmp);
	int fd = mkostemp(p, O_CLOEXEC);
	if (fd < 0) {
		cd_seterr("cannot create a blob in '%s': %s", l->tmp, strerror(errno));
		free(p);
		return -1;
	}
	fchmod(fd, 0644);
	*path = p;
	return fd;
}

int cd_layout_blob_commit(struct cd_layout *l, const char *path, const char *digest)
{
	char *dst = cd_xasprintf("%s/blobs/sha256/%s", l->tmp, digest + 7);
	int r = 0;
	if (rename(path, dst) < 0)
		r = cd_seterr("cannot rename '%s': %s", path, strerror(errno));
	free(dst);
	return r;
}

int cd_layout_commit(struct cd_layout *l)
{
	char *parent = cd_xstrndup(l->final, (size_t)(strrchr(l->final, '/') - l->final));
	int made = mkdir(parent, 0755) == 0 || errno == EEXIST;
	if (!made)
		cd_seterr("cannot create '%s': %s", parent, strerror(errno));
	free(parent);
	if (!made)
		return -1;
	if (rename(l->tmp, l->final) == 0) {
		free(l->tmp);
		l->tmp = NULL;
		return 0;
	}
	if (errno != EEXIST && errno != ENOTEMPTY)
		return cd_seterr("cannot rename '%s' to '%s': %s", l->tmp, l->final, strerror(errno));
	/* An older image of that name: swap it out in one step, then remove it. */
	if (renameat2(AT_FDCWD, l->tmp, AT_FDCWD, l->final, RENAME_EXCHANGE) < 0)
		return cd_seterr("cannot replace '%s': %s", l->final, strerror(errno));
	cd_remove_tree(l->tmp);
	free(l->tmp);
	l->tmp = NULL;
	return 0;
}

void cd_layout_abort(struct cd_layout *l)
{
	if (l->tmp)
		cd_remove_tree(l->tmp);
	free(l->tmp);
	l->tmp = NULL;
}

void cd_layout_sweep(const char *output)
{
	cd_sweep_unlocked(output, TMP_PREFIX, "");
}

void cd_layout_release(struct cd_layout *l)
{
	cd_layout_abort(l);
	if (l->lockfd >= 0)
		close(l->lockfd);
	l->lockfd = -1;
	free(l->final);
	l->final = NULL;
}

int cd_layout_add_blob(struct cd_layout *l, const void *p, size_t n, char digest[CD_DIGEST_MAX])
{
	cd_sha256_digest(p, n, digest);
	char *path = cd_xasprintf("%s/blobs/sha256/%s", l->tmp, digest + 7);
	int r = cd_write_file(path, p, n);
	free(path);
	return r;
}

int cd_layout_write_index(struct cd_layout *l, const char *json)
{
	char *path = cd_xasprintf("%s/index.json", l->tmp);
	int r = cd_write_file(path, json, strlen(json));
	free(path);
	return r;
}
