#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/crypto.h>

#include "core/arch.h"
#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/progress.h"
#include "core/record.h"
#include "image/image.h"
#include "image/layer.h"
#include "image/layout.h"
#include "stage/build.h"
#include "upstream/cache.h"
#include "upstream/download.h"
#include "core/banned.h"


/* One artifact of the record; strings borrowed from the record. */
struct art {
	const char *arch, *url, *checksum, *compression;
	long long size;
	char *http;   /* owned: the artifact's "http" as the CD_LABEL_HTTP label (oci.h), or NULL */
};

/* The artifact's HTTP validators (cd-discover's artifacts[].http) as compact sorted JSON, or NULL. */
static char *http_label(jv a)
{
	jv h = jv_object_get(jv_copy(a), jv_string("http"));
	char *out = NULL;
	if (jv_get_kind(h) == JV_KIND_OBJECT && jv_object_length(jv_copy(h)) > 0) {
		jv s = jv_dump_string(jv_copy(h), JV_PRINT_SORTED);
		out = cd_xstrdup(jv_string_value(s));
		jv_free(s);
	}
	jv_free(h);
	return out;
}

static void arts_release(struct art *a, int n)
{
	for (int i = 0; i < n; i++) {
		free(a[i].http);
		a[i].http = NULL;
	}
}

long long cd_build_source_date_epoch(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || v < 0 || v > 253402300799LL) { /* up to year 9999 */
		cd_seterr("invalid SOURCE_DATE_EPOCH '%.40s': expected seconds since 1970", s);
		return -2;
	}
	return v;
}

static int wanted(jv changed, const char *arch)
{
	if (jv_get_kind(changed) != JV_KIND_ARRAY || jv_array_length(jv_copy(changed)) == 0)
		return 1;
	jv_array_foreach(changed, i, a) {
		int hit = jv_get_kind(a) == JV_KIND_STRING && !strcmp(jv_string_value(a), arch);
		jv_free(a);
		if (hit)
			return 1;
	}
	return 0;
}

/*
 * Read the artifacts to build (the record loop checked them: a known arch,
 * a url).  Returns how many, or -1 (cd_seterr).
 */
static int read_artifacts(jv rec, jv arts, struct art *out, int *total)
{
	jv changed = jv_object_get(jv_copy(rec), jv_string("changed"));
	int n = 0, r = 0;
	*total = 0;
	if (jv_get_kind(arts) != JV_KIND_ARRAY || jv_array_length(jv_copy(arts)) == 0) {
		jv_free(changed);
		return cd_seterr("record has no artifacts");
	}
	jv_array_foreach(arts, i, a) {
		struct art t = { 0 };
		t.arch = cd_jv_str(a, "arch");
		t.url = cd_jv_str(a, "url");
		t.checksum = cd_jv_str(a, "checksum");
		t.compression = cd_jv_str(a, "compression");
		double size = cd_jv_num(a, "size", 0); /* a hint from upstream: any number */
		t.size = size >= 1 && size <= 1e15 ? (long long)size : 0;
		if (!r && n < CD_NARCH && wanted(changed, t.arch))
			t.http = http_label(a);
		jv_free(a); /* arts keeps the strings alive */
		if (r)
			continue;
		(*total)++;
		if (n >= CD_NARCH)
			r = cd_seterr("more than %d artifacts", CD_NARCH);
		else if (wanted(changed, t.arch))
			out[n++] = t;
	}
	jv_free(changed);
	if (!r && n == 0)
		r = cd_seterr("none of the changed arches is among the artifacts");
	if (r)
		arts_release(out, n);
	return r ? -1 : n;
}

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * The disk read for the layer is not what its cache name says (damaged
 * since it was stored): remove the entry, so that the next run fetches it
 * again, and fail this image.
 */
static int wrong_entry(const struct cd_build_opts *o, const struct cd_download *d, const char *got)
{
	const char *alg = cd_hash_name(d->disk_alg);
	cd_cache_remove(o->cache, d->disk_alg, d->disk_hex);
	return cd_seterr("cached disk '%s' is not %s:%s (its bytes are %s:%s): removed it; the next run downloads it again",
			 d->path, alg, d->disk_hex, alg, got);
}

/*
 * Write the layer blob of one disk into the layout.  A disk reused from
 * the cache is checked against its cache name on the way: the layer writer
 * hashes it in the same pass, so there is no second read.  (A disk just
 * downloaded was hashed as it was written, a moment ago: hashing it again
 * would cost a third of the layer's CPU time for nothing.)
 */
static int build_layer(struct cd_layout *l, const struct cd_build_opts *o, const struct cd_download *d,
		       struct cd_layer_result *res)
{
	struct stat st;
	struct cd_hasher h = { 0 };
	char *tmp = NULL, got[CD_HEX_MAX];
	int in = open(d->path, O_RDONLY | O_CLOEXEC), out = -1, r = 0;
	if (in < 0 || fstat(in, &st) < 0) {
		r = cd_seterr("cannot read '%s': %s", d->path, strerror(errno));
		goto done;
	}
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	if ((d->from_cache && cd_hasher_init(&h, d->disk_alg) < 0) ||
	    (out = cd_layout_blob_open(l, &tmp)) < 0) {
		r = -1;
		goto done;
	}
	r = cd_layer_write(in, (long long)st.st_size, out, &o->layer, d->from_cache ? &h : NULL, res);
	if (close(out) < 0 && !r)
		r = cd_seterr("cannot write '%s': %s", tmp, strerror(errno));
	out = -1;
	if (!r && d->from_cache) {
		cd_hasher_final_hex(&h, got);
		if (CRYPTO_memcmp(got, d->disk_hex, cd_hash_hexlen(d->disk_alg)))
			r = wrong_entry(o, d, got);
	}
	if (!r)
		r = cd_layout_blob_commit(l, tmp, res->digest);
done:
	if (in >= 0)
		close(in);
	if (h.ctx)
		cd_hasher_release(&h);
	if (r && tmp)
		unlink(tmp);
	free(tmp);
	return r;
}

/*
 * The env of arch's image: the artifact's own "env" where it has one (an
 * arch whose preference differs, as Fedora's arm64 and s390x), else the
 * record's.  Returns a new reference.
 */
static jv arch_env(jv rec, const char *arch)
{
	jv arts = jv_object_get(jv_copy(rec), jv_string("artifacts"));
	jv env = jv_invalid();
	if (jv_get_kind(arts) == JV_KIND_ARRAY) {
		jv_array_foreach(arts, i, a) {
			const char *aa = cd_jv_str(a, "arch");
			if (jv_get_kind(env) == JV_KIND_INVALID && aa && !strcmp(aa, arch)) {
				jv e = jv_object_get(jv_copy(a), jv_string("env"));
				if (jv_get_kind(e) == JV_KIND_OBJECT)
					env = e;
				else
					jv_free(e);
			}
			jv_free(a);
		}
	}
	jv_free(arts);
	if (jv_get_kind(env) == JV_KIND_INVALID)
		env = jv_object_get(jv_copy(rec), jv_string("env"));
	return env;
}

/* Build the layout; on failure *arch names the artifact at fault (or NULL). */
static int build_image(jv rec, const struct cd_build_opts *o, const struct art *arts, int n,
		       int list, const char **arch, jv *fields)
{
	const char *name = cd_jv_str(rec, "name"), *version = cd_jv_str(rec, "version");
	char *id = cd_record_id(rec);
	struct cd_download dl[CD_NARCH];
	struct cd_image_arch img[CD_NARCH];
	struct cd_layout l;
	char digest[CD_DIGEST_MAX];
	int r = 0;

	cd_layout_init(&l);
	for (int i = 0; i < n; i++) {
		cd_download_init(&dl[i]);
		dl[i].url = arts[i].url;
		dl[i].checksum = arts[i].checksum;
		dl[i].compression = arts[i].compression;
		dl[i].size_hint = arts[i].size;
		dl[i].label = cd_xasprintf("%s %s", id, arts[i].arch);
	}
	if (cd_download_all(o->cache, dl, (size_t)n, n)) {
		for (int i = 0; i < n && !r; i++)
			if (dl[i].error) {
				r = cd_seterr("%s", dl[i].error);
				*arch = arts[i].arch;
			}
		goto out;
	}
	if ((r = cd_layout_begin(&l, o->output, name, version)) < 0)
		goto out;
	for (int i = 0; i < n && !r; i++) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		memset(&img[i], 0, sizeof(img[i]));
		img[i].arch = arts[i].arch;
		img[i].shasum = dl[i].hex;
		img[i].http = arts[i].http;
		*arch = arts[i].arch;
		r = build_layer(&l, o, &dl[i], &img[i].layer);
		if (!r) {
			jv env = arch_env(rec, arts[i].arch);
			r = cd_image_add_arch(&l, &o->image, env, &img[i]);
			jv_free(env);
		}
		if (!r) {
			char sz[32];
			cd_progress_human(img[i].layer.size, sz, sizeof(sz));
			cd_progress_note("%s: layer %.19s... %s (%s) in %.1f s", dl[i].label, img[i].layer.digest,
					 sz, cd_compression_name(o->layer.comp), (double)ms_since(&t0) / 1000);
		}
	}
	if (!r) {
		*arch = NULL;
		r = cd_image_finish(&l, &o->image, img, (size_t)n, list, version, digest);
	}
	if (!r)
		r = cd_layout_commit(&l);
	if (!r) {
		jv built = jv_array(), mans = jv_object();
		for (int i = 0; i < n; i++) {
			built = jv_array_append(built, jv_string(img[i].arch));
			mans = jv_object_set(mans, jv_string(img[i].arch), jv_string(img[i].manifest));
		}
		*fields = JV_OBJECT(jv_string("layout"), jv_string(l.final), jv_string("digest"), jv_string(digest),
				    jv_string("built"), built, jv_string("manifests"), mans);
		cd_progress_note("%s: image %s in '%s'", id, digest, l.final);
	}
out:
	cd_layout_release(&l);
	for (int i = 0; i < n; i++) {
		free((char *)dl[i].label);
		cd_download_release(&dl[i]);
	}
	free(id);
	return r;
}

/* How many arches the record carries (SHARED-FIELDS: "carried") that are published. */
static int carried_count(jv rec)
{
	jv c = jv_object_get(jv_copy(rec), jv_string("carried"));
	jv pub = jv_object_get(jv_copy(rec), jv_string("published"));
	int n = 0;
	if (jv_get_kind(c) == JV_KIND_ARRAY && jv_get_kind(pub) == JV_KIND_OBJECT)
		jv_array_foreach(c, i, e) {
			const char *arch = jv_get_kind(e) == JV_KIND_OBJECT ? cd_jv_str(e, "arch") : NULL;
			if (arch) {
				jv p = jv_object_get(jv_copy(pub), jv_string(arch));
				n += jv_get_kind(p) == JV_KIND_OBJECT;
				jv_free(p);
			}
			jv_free(e);
		}
	jv_free(c);
	jv_free(pub);
	return n;
}

static jv merge(jv rec, jv fields)
{
	jv_object_foreach(fields, k, v)
		rec = jv_object_set(rec, k, v);
	jv_free(fields);
	return rec;
}

jv cd_build_record(jv rec, void *opts)
{
	const struct cd_build_opts *o = opts;
	const char *action = cd_jv_str(rec, "action");
	if (action && !strcmp(action, "skip"))
		return rec;
	/* The record loop checked action, name and version (cd_record_check): fit for a folder name. */
	jv arts = jv_object_get(jv_copy(rec), jv_string("artifacts"));
	struct art a[CD_NARCH];
	const char *arch = NULL;
	int total, n = read_artifacts(rec, arts, a, &total);
	jv fields = jv_invalid();
	/* Carried arches (kept as published) go into the index beside the built ones. */
	int list = total + carried_count(rec) > 1;
	if (n < 0 || build_image(rec, o, a, n, list, &arch, &fields) < 0) {
		char *msg = cd_xstrdup(cd_errmsg()), *at = arch ? cd_xstrdup(arch) : NULL;
		arts_release(a, n);
		jv_free(arts); /* arch pointed into it */
		jv_free(fields);
		rec = cd_record_set_error(rec, at, "%s", msg);
		free(msg);
		free(at);
		return rec;
	}
	arts_release(a, n);
	jv_free(arts);
	return merge(rec, fields);
}

int cd_build_compression_known(const char *name)
{
	enum cd_compression c;
	return cd_compression_parse(name, &c) == 0;
}

int cd_build_open(struct cd_build_run *b, const struct cd_build_cli *cli)
{
	struct cd_build_opts *o = &b->o;
	char abs[PATH_MAX], *dir = NULL;
	memset(b, 0, sizeof(*b));
	o->layer.comp = CD_COMP_GZIP;
	if (cli->compression && cd_compression_parse(cli->compression, &o->layer.comp) < 0)
		return cd_seterr("invalid value '%s' for --compression: expected gzip, zstd or none", cli->compression);
	o->image.oci = cli->oci;
	o->image.annotate = !cli->no_annotations;
	if (o->layer.comp == CD_COMP_ZSTD && !o->image.oci)
		return cd_seterr("--compression zstd needs --oci (Docker schema 2 has no zstd layers)");
	o->image.comp = o->layer.comp;
	o->image.created = cd_build_source_date_epoch();
	if (o->image.created == -2)
		return -1;
	o->layer.mtime = o->image.created > 0 ? o->image.created : 0;
	if (!cli->cache && !(dir = cd_cache_default_dir()))
		return cd_seterr("no --cache given and neither XDG_CACHE_HOME nor HOME is set");
	int r = cd_cache_open(&b->cache, cli->cache ? cli->cache : dir);
	free(dir);
	if (r < 0)
		return -1;
	if (cd_mkdirs(cli->output) < 0)
		return -1;
	if (!realpath(cli->output, abs))
		return cd_seterr("cannot use '%s': %s", cli->output, strerror(errno));
	b->output = cd_xstrdup(abs);
	cd_layout_sweep(b->output);
	o->output = b->output;
	o->cache = &b->cache;
	return 0;
}

void cd_build_close(struct cd_build_run *b)
{
	long long bytes;
	long files;
	char h[32];
	if (b->cache.dir) {
		cd_cache_usage(&b->cache, &bytes, &files);
		cd_progress_human(bytes, h, sizeof(h));
		cd_progress_note("cache '%s': %s in %ld file%s", b->cache.dir, h, files, files == 1 ? "" : "s");
	}
	cd_cache_release(&b->cache);
	free(b->output);
	b->output = NULL;
}
