#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "image/image.h"
#include "image/layer.h"
#include "core/banned.h"

#define OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define REF_NAME "org.opencontainers.image.ref.name"
#define TMP_PREFIX ".cd-build."

const char *cd_image_manifest_type(int oci)
{
	return oci ? OCI_MANIFEST : DOCKER_MANIFEST;
}

const char *cd_image_list_type(int oci)
{
	return oci ? OCI_INDEX : DOCKER_LIST;
}

const char *cd_image_layer_type(int oci, enum cd_compression c)
{
	if (oci)
		return c == CD_COMP_GZIP ? "application/vnd.oci.image.layer.v1.tar+gzip"
		     : c == CD_COMP_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd"
					 : "application/vnd.oci.image.layer.v1.tar";
	return c == CD_COMP_GZIP ? "application/vnd.docker.image.rootfs.diff.tar.gzip"
				 : "application/vnd.docker.image.rootfs.diff.tar";
}

/* Write a whole small file; -1 and cd_seterr() on any error (ENOSPC included). */
static int write_file(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cd_seterr("cannot create '%s': %s", path, strerror(errno));
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			return cd_seterr("cannot write '%s': %s", path, strerror(e));
		}
		p += w;
		n -= (size_t)w;
	}
	if (close(fd) < 0)
		return cd_seterr("cannot write '%s': %s", path, strerror(errno));
	return 0;
}

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
		r = write_file(p, layout, sizeof(layout) - 1);
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

/* Store a JSON document as a blob; digest and size out. */
static int put_json(struct cd_layout *l, jv doc, char digest[CD_DIGEST_MAX], long long *size)
{
	jv s = jv_dump_string(doc, JV_PRINT_SORTED);
	const char *p = jv_string_value(s);
	size_t n = strlen(p);
	cd_sha256_digest(p, n, digest);
	char *path = cd_xasprintf("%s/blobs/sha256/%s", l->tmp, digest + 7);
	int r = write_file(path, p, n);
	free(path);
	*size = (long long)n;
	jv_free(s);
	return r;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void rm_tree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
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
	rm_tree(l->tmp);
	free(l->tmp);
	l->tmp = NULL;
	return 0;
}

void cd_layout_abort(struct cd_layout *l)
{
	if (l->tmp)
		rm_tree(l->tmp);
	free(l->tmp);
	l->tmp = NULL;
}

void cd_layout_sweep(const char *output)
{
	DIR *d = opendir(output);
	struct dirent *e;
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)))
			continue;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			char *p = cd_xasprintf("%s/%s", output, e->d_name);
			rm_tree(p);
			free(p);
		}
		close(fd);
	}
	closedir(d);
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

/* The record's env as sorted "K=V" strings.  Borrows env. */
static int env_list(jv env, jv *out)
{
	*out = jv_array();
	if (jv_get_kind(env) == JV_KIND_NULL || jv_get_kind(env) == JV_KIND_INVALID)
		return 0;
	if (jv_get_kind(env) != JV_KIND_OBJECT)
		return cd_seterr("env is not an object");
	jv keys = jv_keys(jv_copy(env)); /* sorted */
	int n = jv_array_length(jv_copy(keys)), r = 0;
	for (int i = 0; i < n && !r; i++) {
		jv k = jv_array_get(jv_copy(keys), i);
		jv v = jv_object_get(jv_copy(env), jv_copy(k));
		if (jv_get_kind(v) != JV_KIND_STRING || strchr(jv_string_value(k), '='))
			r = cd_seterr("env '%.80s' is not a NAME: \"value\" pair", jv_string_value(k));
		else
			*out = jv_array_append(*out, jv_string_fmt("%s=%s", jv_string_value(k), jv_string_value(v)));
		jv_free(k);
		jv_free(v);
	}
	jv_free(keys);
	return r;
}

static jv rfc3339(long long t)
{
	char buf[64];
	struct tm tm;
	time_t tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return jv_string(buf);
}

static jv config_doc(const struct cd_image_opts *o, jv envs, const struct cd_image_arch *a)
{
	jv cfg = JV_OBJECT(jv_string("Entrypoint"), JV_ARRAY(jv_string("no-entrypoint")),
			   jv_string("Labels"), JV_OBJECT(jv_string("shasum"), jv_string(a->shasum)));
	if (jv_array_length(jv_copy(envs)) > 0)
		cfg = jv_object_set(cfg, jv_string("Env"), envs);
	else
		jv_free(envs);
	jv hist = jv_object();
	jv doc = JV_OBJECT(jv_string("architecture"), jv_string(a->arch),
			   jv_string("os"), jv_string("linux"),
			   jv_string("config"), cfg,
			   jv_string("rootfs"), JV_OBJECT(jv_string("type"), jv_string("layers"),
							  jv_string("diff_ids"), JV_ARRAY(jv_string(a->layer.diff_id))));
	if (o->created >= 0) {
		doc = jv_object_set(doc, jv_string("created"), rfc3339(o->created));
		hist = jv_object_set(hist, jv_string("created"), rfc3339(o->created));
	}
	return jv_object_set(doc, jv_string("history"), JV_ARRAY(hist));
}

static jv descriptor(const char *type, const char *digest, long long size)
{
	return JV_OBJECT(jv_string("mediaType"), jv_string(type), jv_string("digest"), jv_string(digest),
			 jv_string("size"), jv_number((double)size));
}

static jv platform(const char *arch)
{
	return JV_OBJECT(jv_string("architecture"), jv_string(arch), jv_string("os"), jv_string("linux"));
}

int cd_image_add_arch(struct cd_layout *l, const struct cd_image_opts *o, jv env,
		      struct cd_image_arch *a)
{
	jv envs;
	char cdig[CD_DIGEST_MAX];
	long long csize;
	if (env_list(env, &envs) < 0) {
		jv_free(envs);
		return -1;
	}
	if (put_json(l, config_doc(o, envs, a), cdig, &csize) < 0)
		return -1;
	jv m = JV_OBJECT(jv_string("schemaVersion"), jv_number(2),
			 jv_string("mediaType"), jv_string(cd_image_manifest_type(o->oci)),
			 jv_string("config"), descriptor(o->oci ? OCI_CONFIG : DOCKER_CONFIG, cdig, csize),
			 jv_string("layers"), JV_ARRAY(descriptor(cd_image_layer_type(o->oci, o->comp),
								  a->layer.digest, a->layer.size)));
	return put_json(l, m, a->manifest, &a->manifest_size);
}

int cd_image_finish(struct cd_layout *l, const struct cd_image_opts *o,
		    const struct cd_image_arch *a, size_t n, int list, const char *ref,
		    char digest[CD_DIGEST_MAX])
{
	jv top;
	if (list) {
		jv ms = jv_array();
		for (size_t i = 0; i < n; i++) {
			jv d = descriptor(cd_image_manifest_type(o->oci), a[i].manifest, a[i].manifest_size);
			ms = jv_array_append(ms, jv_object_set(d, jv_string("platform"), platform(a[i].arch)));
		}
		jv idx = JV_OBJECT(jv_string("schemaVersion"), jv_number(2),
				   jv_string("mediaType"), jv_string(cd_image_list_type(o->oci)),
				   jv_string("manifests"), ms);
		long long size;
		if (put_json(l, idx, digest, &size) < 0)
			return -1;
		top = descriptor(cd_image_list_type(o->oci), digest, size);
	} else {
		memcpy(digest, a[0].manifest, CD_DIGEST_MAX);
		top = descriptor(cd_image_manifest_type(o->oci), a[0].manifest, a[0].manifest_size);
		top = jv_object_set(top, jv_string("platform"), platform(a[0].arch));
	}
	top = jv_object_set(top, jv_string("annotations"), JV_OBJECT(jv_string(REF_NAME), jv_string(ref)));
	jv layout = JV_OBJECT(jv_string("schemaVersion"), jv_number(2),
			      jv_string("mediaType"), jv_string(OCI_INDEX),
			      jv_string("manifests"), JV_ARRAY(top));
	jv s = jv_dump_string(layout, JV_PRINT_SORTED);
	char *path = cd_xasprintf("%s/index.json", l->tmp);
	int r = write_file(path, jv_string_value(s), strlen(jv_string_value(s)));
	free(path);
	jv_free(s);
	return r;
}
