#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/arch.h"
#include "core/buf.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/msg.h"
#include "core/record.h"
#include "core/ref.h"
#include "image/image.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/transfer.h"
#include "stage/publish.h"
#include "stage/push.h"
#include "core/banned.h"

#define IMAGE_BLOBS (CD_NARCH * CD_MANIFEST_BLOBS_MAX) /* of all the manifests of an image */

void cd_push_stamp(long long t, char out[11])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	if (!strftime(out, 11, "%y%m%d%H%M", &tm))
		out[0] = '\0';
}

static jv add_tag(jv tags, const char *t)
{
	jv_array_foreach(tags, i, have) {
		int dup = !strcmp(jv_string_value(have), t);
		jv_free(have);
		if (dup)
			return tags;
	}
	return jv_array_append(tags, jv_string(t));
}

jv cd_push_tags(jv rec, const char *stamp)
{
	const char *version = cd_jv_str(rec, "version");
	jv tags = jv_array();
	if (!version)
		return tags;
	char *first = cd_xasprintf("%s-%s", version, stamp);
	tags = add_tag(tags, first);
	free(first);
	jv up = jv_object_get(jv_copy(rec), jv_string("tags"));
	if (jv_get_kind(up) == JV_KIND_ARRAY) {
		jv_array_foreach(up, i, t) {
			if (jv_get_kind(t) == JV_KIND_STRING)
				tags = add_tag(tags, jv_string_value(t));
			jv_free(t);
		}
	}
	jv_free(up);
	tags = add_tag(tags, version);
	if (cd_jv_true(rec, "latest"))
		tags = add_tag(tags, "latest");
	return tags;
}

/* --- reading the layout --------------------------------------------------------------------- */

struct manifest {
	struct cd_descriptor d;
	char arch[32];
	char *body;
	size_t len;
	jv annotations;                  /* of its index descriptor (owned; jv_null() when none) */
};

struct image {
	const char *layout;
	char *repo;                      /* <org>/<name> */
	char *src_repo;                  /* <src org>/<name> */
	struct manifest top;
	struct manifest child[CD_NARCH];
	size_t nchild;
	struct cd_xfer_blob blob[IMAGE_BLOBS];
	char *file[IMAGE_BLOBS];
	size_t nblob;
	const char *reuse[CD_NARCH];   /* arches taken from what is published */
	const char *reuse_digest[CD_NARCH];
	size_t nreuse;
};

static char *blob_path(const char *layout, const char *digest)
{
	enum cd_hash alg;
	const char *hex;
	if (cd_digest_parse(digest, &alg, &hex) < 0)
		return NULL;
	return cd_xasprintf("%s/blobs/%s/%s", layout, cd_hash_name(alg), hex);
}

/* Read the layout blob of d into m, checking its digest. */
static int load_manifest(const char *layout, const struct cd_descriptor *d, struct manifest *m)
{
	char *path = blob_path(layout, d->digest);
	if (!path)
		return -1;
	m->d = *d;
	int r = cd_read_file(path, CD_MANIFEST_MAX, 0, &m->body, &m->len) < 0 ? -1 : 0;
	if (!r && cd_digest_check(d->digest, m->body, m->len) != 1)
		r = cd_seterr("'%s' does not match its digest", path);
	free(path);
	return r;
}

static int get_desc(jv d, struct cd_descriptor *out)
{
	const char *mt = cd_jv_str(d, "mediaType"), *dg = cd_jv_str(d, "digest");
	memset(out, 0, sizeof(*out));
	if (!mt || !dg || cd_snprintf(out->media_type, sizeof(out->media_type), "%s", mt) < 0 ||
	    cd_snprintf(out->digest, sizeof(out->digest), "%s", dg) < 0)
		return cd_seterr("a descriptor without a valid mediaType and digest");
	if (cd_json_size(d, &out->size) < 0)
		return cd_seterr("a descriptor with a malformed size");
	return 0;
}

static int add_blobs(struct image *im, const struct manifest *m)
{
	struct cd_xfer_blob b[CD_MANIFEST_BLOBS_MAX];
	size_t n;
	if (cd_xfer_manifest_blobs(m->body, m->len, b, CD_MANIFEST_BLOBS_MAX, &n) < 0)
		return cd_adderr("manifest %.19s...", m->d.digest);
	for (size_t i = 0; i < n; i++) {
		int dup = 0;
		for (size_t j = 0; j < im->nblob && !dup; j++)
			dup = !strcmp(im->blob[j].digest, b[i].digest);
		if (dup)
			continue;
		if (im->nblob >= IMAGE_BLOBS)
			return cd_seterr("more than %d blobs", IMAGE_BLOBS);
		im->file[im->nblob] = blob_path(im->layout, b[i].digest);
		if (!im->file[im->nblob])
			return -1;
		im->blob[im->nblob] = b[i];
		im->blob[im->nblob].file = im->file[im->nblob];
		im->nblob++;
	}
	return 0;
}

/* The children of an index in the layout. */
static int load_children(struct image *im)
{
	jv idx = jv_parse_sized(im->top.body, (int)im->top.len), ms;
	int r = 0;
	if (jv_get_kind(idx) != JV_KIND_OBJECT ||
	    jv_get_kind(ms = jv_object_get(jv_copy(idx), jv_string("manifests"))) != JV_KIND_ARRAY) {
		jv_free(idx);
		return cd_seterr("the layout's index is malformed");
	}
	jv_array_foreach(ms, i, d) {
		jv plat = jv_object_get(jv_copy(d), jv_string("platform"));
		const char *arch = jv_get_kind(plat) == JV_KIND_OBJECT ? cd_jv_str(plat, "architecture") : NULL;
		struct manifest *m = &im->child[im->nchild];
		if (r)
			;
		else if (im->nchild >= CD_NARCH)
			r = cd_seterr("more than %d manifests in the index", CD_NARCH);
		else if (!arch || cd_snprintf(m->arch, sizeof(m->arch), "%s", arch) < 0)
			r = cd_seterr("index entry %d has no platform architecture", i);
		else if (!(r = get_desc(d, &m->d)) && !(r = load_manifest(im->layout, &m->d, m)))
			r = add_blobs(im, m);
		if (!r) {
			jv ann = jv_object_get(jv_copy(d), jv_string("annotations"));
			m->annotations = jv_get_kind(ann) == JV_KIND_OBJECT ? ann : (jv_free(ann), jv_null());
			im->nchild++;
		}
		jv_free(plat);
		jv_free(d);
	}
	jv_free(ms);
	jv_free(idx);
	return r;
}

static int load_layout(struct image *im)
{
	char *path = cd_xasprintf("%s/index.json", im->layout), *body = NULL;
	size_t len;
	int r = cd_read_file(path, CD_INDEX_JSON_MAX, 0, &body, &len) < 0 ? -1 : 0;
	free(path);
	if (r < 0)
		return -1;
	jv doc = jv_parse_sized(body, (int)len);
	jv ms = jv_get_kind(doc) == JV_KIND_OBJECT ? jv_object_get(jv_copy(doc), jv_string("manifests")) : jv_null();
	free(body);
	jv_free(doc);
	if (jv_get_kind(ms) != JV_KIND_ARRAY || jv_array_length(jv_copy(ms)) != 1) {
		jv_free(ms);
		return cd_seterr("'%s/index.json' must name exactly one image", im->layout);
	}
	struct cd_descriptor top;
	jv d = jv_array_get(ms, 0);
	r = get_desc(d, &top);
	jv_free(d);
	if (!r)
		r = load_manifest(im->layout, &top, &im->top);
	if (!r && cd_manifest_is_index(top.media_type))
		r = load_children(im);
	else if (!r)
		r = add_blobs(im, &im->top);
	return r;
}

/*
 * The layout must hold the image the record names: a layout folder that
 * now holds another image (rebuilt since, or shared with another record by
 * an older cd-build) would publish the wrong one under this record's tags.
 */
static int check_digest(const struct image *im, jv rec)
{
	const char *want = cd_jv_str(rec, "digest");
	if (!want)
		return cd_seterr("record has a layout but no digest (run cd-build first)");
	if (strcmp(want, im->top.d.digest))
		return cd_seterr("layout '%s' holds image %s, not the record's digest %s",
				 im->layout, im->top.d.digest, want);
	return 0;
}

/* Add the arches of carried (SHARED-FIELDS) that the layout lacks and the registry serves. */
static int find_carried(struct image *im, jv carried, jv pub)
{
	int r = 0;
	if (jv_get_kind(carried) != JV_KIND_ARRAY || jv_get_kind(pub) != JV_KIND_OBJECT)
		return 0;
	jv_array_foreach(carried, i, c) {
		const char *arch = jv_get_kind(c) == JV_KIND_OBJECT ? cd_jv_str(c, "arch") : NULL;
		int have = !arch || cd_arch_index(arch) < 0;
		for (size_t j = 0; j < im->nchild && !have; j++)
			have = !strcmp(im->child[j].arch, arch);
		for (size_t j = 0; j < im->nreuse && !have; j++)
			have = !strcmp(im->reuse[j], arch);
		if (!have && !r) {
			jv p = jv_object_get(jv_copy(pub), jv_string(arch));
			const char *dg = jv_get_kind(p) == JV_KIND_OBJECT ? cd_jv_str(p, "digest") : NULL;
			if (dg && im->nreuse >= CD_NARCH)
				r = cd_seterr("too many architectures");
			else if (dg) {
				/* the record keeps these strings alive; cd_arches the arch name */
				im->reuse[im->nreuse] = cd_arches[cd_arch_index(arch)];
				im->reuse_digest[im->nreuse++] = dg;
			}
			jv_free(p);
		}
		jv_free(c);
	}
	return r;
}

/*
 * Which arches of the record are not in the layout, and their published
 * digests: the artifacts not built, then the carried arches (kept as
 * published: SHARED-FIELDS.md).
 */
static int find_reused(struct image *im, jv rec)
{
	if (!cd_manifest_is_index(im->top.d.media_type))
		return 0;
	jv arts = jv_object_get(jv_copy(rec), jv_string("artifacts"));
	jv pub = jv_object_get(jv_copy(rec), jv_string("published"));
	jv carried = jv_object_get(jv_copy(rec), jv_string("carried"));
	int r = 0;
	if (jv_get_kind(arts) == JV_KIND_ARRAY) {
		jv_array_foreach(arts, i, a) {
			const char *arch = jv_get_kind(a) == JV_KIND_OBJECT ? cd_jv_str(a, "arch") : NULL;
			int have = !arch;
			for (size_t j = 0; j < im->nchild && !have; j++)
				have = !strcmp(im->child[j].arch, arch);
			if (!have && !r) {
				jv p = jv_get_kind(pub) == JV_KIND_OBJECT ?
				       jv_object_get(jv_copy(pub), jv_string(arch)) : jv_null();
				const char *dg = jv_get_kind(p) == JV_KIND_OBJECT ? cd_jv_str(p, "digest") : NULL;
				if (!dg)
					r = cd_seterr("%s is neither built nor published", arch);
				else if (im->nreuse >= CD_NARCH)
					r = cd_seterr("too many architectures");
				else {
					/* rec keeps these strings alive */
					im->reuse[im->nreuse] = arch;
					im->reuse_digest[im->nreuse++] = dg;
				}
				jv_free(p);
			}
			jv_free(a);
		}
	}
	if (!r)
		r = find_carried(im, carried, pub);
	jv_free(carried);
	jv_free(arts);
	jv_free(pub);
	return r;
}

static void image_release(struct image *im)
{
	free(im->repo);
	free(im->src_repo);
	free(im->top.body);
	for (size_t i = 0; i < im->nchild; i++) {
		free(im->child[i].body);
		jv_free(im->child[i].annotations);
	}
	for (size_t i = 0; i < im->nblob; i++)
		free(im->file[i]);
}

/* --- pushing -------------------------------------------------------------------------------- */

/* PUT a manifest by digest unless the repository has it. */
static int put_manifest(struct cd_registry *dst, const char *repo, const struct manifest *m)
{
	struct cd_descriptor have;
	if (cd_registry_manifest_head(dst, repo, m->d.digest, &have) == 0)
		return 0;
	if (cd_errkind() != CD_ERR_NOT_FOUND)
		return -1;
	return cd_registry_manifest_put(dst, repo, NULL, m->d.media_type, m->body, m->len, NULL);
}

/* An index entry; ann (consumed): its annotations, or null for none. */
static jv entry(const struct cd_descriptor *d, const char *arch, jv ann)
{
	jv e = JV_OBJECT(jv_string("mediaType"), jv_string(d->media_type), jv_string("digest"),
			 jv_string(d->digest), jv_string("size"), jv_number((double)d->size),
			 jv_string("platform"), JV_OBJECT(jv_string("architecture"), jv_string(arch),
							  jv_string("os"), jv_string("linux")));
	if (jv_get_kind(ann) == JV_KIND_OBJECT)
		return jv_object_set(e, jv_string("annotations"), ann);
	jv_free(ann);
	return e;
}

/*
 * cdkit's annotations (oci.h) for a published arch reused in a new index,
 * from what cd-current read of it (published.<arch>): null when its shasum
 * is not known (then the next cd-current reads its config, as for medius).
 */
static jv reused_annotations(jv rec, const char *arch)
{
	jv pub = jv_object_get(jv_copy(rec), jv_string("published"));
	jv p = jv_get_kind(pub) == JV_KIND_OBJECT ? jv_object_get(jv_copy(pub), jv_string(arch)) : jv_null();
	const char *sum = jv_get_kind(p) == JV_KIND_OBJECT ? cd_jv_str(p, "shasum") : NULL;
	jv out = jv_null();
	if (sum) {
		jv h = jv_object_get(jv_copy(p), jv_string("http"));
		jv hs = jv_get_kind(h) == JV_KIND_OBJECT ? jv_dump_string(jv_copy(h), JV_PRINT_SORTED) : jv_invalid();
		out = cd_image_annotations(arch, sum, jv_is_valid(hs) ? jv_string_value(hs) : NULL);
		jv_free(hs);
		jv_free(h);
	}
	jv_free(p);
	jv_free(pub);
	return out;
}

/*
 * The new index over built and published arches, into im->top: in
 * artifact order, then the carried arches (in the order of "carried").
 */
static int compose_index(struct image *im, jv rec, const struct cd_descriptor *reused)
{
	jv arts = jv_object_get(jv_copy(rec), jv_string("artifacts")), ms = jv_array();
	int done[CD_NARCH] = { 0 }, annotate = 0;
	/* the reused entries are annotated as the built ones are (cd-build --no-annotations: not) */
	for (size_t j = 0; j < im->nchild; j++)
		annotate |= jv_get_kind(im->child[j].annotations) == JV_KIND_OBJECT;
	jv_array_foreach(arts, i, a) {
		const char *arch = cd_jv_str(a, "arch");
		for (size_t j = 0; arch && j < im->nchild; j++)
			if (!strcmp(im->child[j].arch, arch))
				ms = jv_array_append(ms, entry(&im->child[j].d, arch, jv_copy(im->child[j].annotations)));
		for (size_t j = 0; arch && j < im->nreuse; j++)
			if (!strcmp(im->reuse[j], arch)) {
				ms = jv_array_append(ms, entry(&reused[j], arch,
							       annotate ? reused_annotations(rec, arch) : jv_null()));
				done[j] = 1;
			}
		jv_free(a);
	}
	for (size_t j = 0; j < im->nreuse; j++)
		if (!done[j])
			ms = jv_array_append(ms, entry(&reused[j], im->reuse[j],
						       annotate ? reused_annotations(rec, im->reuse[j]) : jv_null()));
	jv_free(arts);
	jv idx = JV_OBJECT(jv_string("schemaVersion"), jv_number(2), jv_string("mediaType"),
			   jv_string(im->top.d.media_type), jv_string("manifests"), ms);
	jv s = jv_dump_string(idx, JV_PRINT_SORTED);
	free(im->top.body);
	im->top.body = cd_xstrdup(jv_string_value(s));
	im->top.len = strlen(im->top.body);
	jv_free(s);
	cd_sha256_digest(im->top.body, im->top.len, im->top.d.digest);
	im->top.d.size = (long long)im->top.len;
	return 0;
}

/* Push the image and its tags: sent gets the tags that name it, held the unique ones left elsewhere. */
static int push_image(const struct cd_publish *o, struct image *im, jv rec, jv tags, jv *sent, jv *held)
{
	struct cd_registry *src = o->src;
	const char *mount = src == o->dst ? im->src_repo : NULL;
	for (size_t i = 0; i < im->nblob; i++)
		im->blob[i].mount_from = mount;
	if (cd_xfer_blobs(o->dst, im->repo, im->blob, im->nblob, &o->xfer) < 0)
		return -1;
	for (size_t i = 0; i < im->nchild; i++)
		if (put_manifest(o->dst, im->repo, &im->child[i]) < 0)
			return cd_adderr("manifest %s", im->child[i].arch);
	struct cd_descriptor reused[CD_NARCH];
	for (size_t i = 0; i < im->nreuse; i++)
		if (cd_xfer_image(o->dst, im->repo, src, im->src_repo, im->reuse_digest[i], mount,
				  &o->xfer, &reused[i]) < 0)
			return cd_adderr("published %s image %.19s...", im->reuse[i], im->reuse_digest[i]);
	if (im->nreuse && compose_index(im, rec, reused) < 0)
		return -1;
	if (put_manifest(o->dst, im->repo, &im->top) < 0)
		return cd_adderr("index");
	int r = 0;
	jv_array_foreach(tags, i, t) {
		if (!r)
			r = cd_publish_tag(o->dst, im->repo, rec, jv_string_value(t), &im->top.d,
					   im->top.body, im->top.len, sent, held);
		jv_free(t);
	}
	return r;
}

int cd_push_tag_is_unique(jv rec, const char *tag)
{
	const char *version = cd_jv_str(rec, "version");
	return strcmp(tag, "latest") && (!version || strcmp(tag, version));
}

static void say_plan(const struct cd_publish *o, const struct image *im, const char *id, jv tags)
{
	long long bytes = 0;
	for (size_t i = 0; i < im->nblob; i++)
		bytes += im->blob[i].size;
	jv joined = jv_string("");
	jv_array_foreach(tags, i, t) {
		joined = jv_string_concat(joined, i ? jv_string(", ") : jv_string(""));
		joined = jv_string_concat(joined, t);
	}
	jv reuse = jv_string("");
	for (size_t i = 0; i < im->nreuse; i++)
		reuse = jv_string_concat(reuse, jv_string_fmt(", published %s reused", im->reuse[i]));
	cd_info("dry run: would push %s to %s/%s: %zu blobs (%.1f MiB), %zu manifests%s, %s %s; tags %s",
		id, cd_registry_host(o->dst), im->repo, im->nblob, (double)bytes / 1048576.0,
		im->nchild, jv_string_value(reuse), im->nreuse ? "a new index over" : "then",
		im->nreuse ? "all arches" : im->top.d.digest, jv_string_value(joined));
	jv_free(reuse);
	jv_free(joined);
}

jv cd_push_record(jv rec, void *arg)
{
	const struct cd_publish *o = arg;
	const char *action = cd_jv_str(rec, "action");
	if (action && !strcmp(action, "skip"))
		return rec;
	const char *name = cd_jv_str(rec, "name"), *layout = cd_jv_str(rec, "layout");
	if (!name || !cd_jv_str(rec, "version") || !layout)
		return cd_record_set_error(rec, NULL, "record has no %s", !layout ? "layout (run cd-build first)" : "name or version");
	struct image im;
	memset(&im, 0, sizeof(im));
	im.layout = layout;
	im.repo = cd_ref_join(o->dst_prefix, name);
	im.src_repo = cd_ref_join(o->src_prefix, name);
	char *id = cd_record_id(rec);
	jv tags = cd_push_tags(rec, o->stamp), sent = jv_array(), held = jv_array();
	int r = 0;
	if (!cd_ref_valid_path(im.repo))
		r = cd_seterr("invalid repository name '%s'", im.repo);
	jv_array_foreach(tags, i, t) {
		if (!r && !cd_ref_valid_tag(jv_string_value(t)))
			r = cd_seterr("invalid tag '%.140s'", jv_string_value(t));
		jv_free(t);
	}
	if (!r)
		r = load_layout(&im);
	if (!r)
		r = check_digest(&im, rec);
	if (!r)
		r = find_reused(&im, rec);
	if (!r && o->dry_run)
		say_plan(o, &im, id, tags);
	else if (!r && !(r = push_image(o, &im, rec, tags, &sent, &held))) {
		cd_info("%s: pushed %s/%s@%s", id, cd_registry_host(o->dst), im.repo, im.top.d.digest);
		if (!o->dry_run) {
			char *full = cd_xasprintf("%s/%s", cd_registry_host(o->dst), im.repo);
			jv p = JV_OBJECT(jv_string("repository"), jv_string(full),
					 jv_string("digest"), jv_string(im.top.d.digest),
					 jv_string("tags"), jv_copy(sent));
			if (jv_array_length(jv_copy(held)) > 0)
				p = jv_object_set(p, jv_string("held"), jv_copy(held));
			rec = jv_object_set(rec, jv_string("pushed"), p);
			free(full);
		}
	}
	if (r < 0) /* the record loop says it on stderr */
		rec = cd_record_set_error(rec, NULL, "%s", cd_errmsg());
	jv_free(tags);
	jv_free(sent);
	jv_free(held);
	free(id);
	image_release(&im);
	return rec;
}
