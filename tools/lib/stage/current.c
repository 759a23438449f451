#include <stdlib.h>
#include <string.h>

#include "core/arch.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/oci.h"
#include "core/record.h"
#include "core/ref.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/platform.h"
#include "stage/current.h"
#include "stage/opts.h"
#include "core/banned.h"

jv cd_current_shasum(jv config)
{
	if (jv_get_kind(config) != JV_KIND_OBJECT)
		return jv_null();
	jv c = jv_object_get(jv_copy(config), jv_string("config"));
	jv labels = jv_get_kind(c) == JV_KIND_OBJECT ? jv_object_get(c, jv_string("Labels")) : (jv_free(c), jv_null());
	jv s = jv_get_kind(labels) == JV_KIND_OBJECT ? jv_object_get(labels, jv_string("shasum")) : (jv_free(labels), jv_null());
	if (jv_get_kind(s) != JV_KIND_STRING) {
		jv_free(s);
		return jv_null();
	}
	return s;
}

/* The arches of a record's artifacts, in order (the record loop checked them). */
static jv record_arches(jv rec)
{
	jv arts = jv_object_get(jv_copy(rec), jv_string("artifacts")), arches = jv_array();
	if (jv_get_kind(arts) == JV_KIND_ARRAY)
		jv_array_foreach(arts, i, a) {
			const char *arch = cd_jv_str(a, "arch");
			if (arch)
				arches = jv_array_append(arches, jv_string(arch));
			jv_free(a);
		}
	jv_free(arts);
	return arches;
}

static int has_arch(jv arches, const char *arch)
{
	int hit = 0;
	jv_array_foreach(arches, i, a) {
		hit |= !strcmp(jv_string_value(a), arch);
		jv_free(a);
	}
	return hit;
}

jv cd_current_http(jv labels_or_annotations, const char *key)
{
	const char *s = jv_get_kind(labels_or_annotations) == JV_KIND_OBJECT ? cd_jv_str(labels_or_annotations, key) : NULL;
	if (!s)
		return jv_invalid();
	jv h = jv_parse(s);
	if (jv_get_kind(h) != JV_KIND_OBJECT) {
		jv_free(h);
		return jv_invalid();
	}
	return h;
}

/* published.<arch> from an image's annotations (cdkit's: oci.h), or jv_invalid() when it has none. */
static jv from_annotations(jv ann, const char *digest)
{
	const char *sum = jv_get_kind(ann) == JV_KIND_OBJECT ? cd_jv_str(ann, CD_ANN_SHASUM) : NULL;
	if (!sum)
		return jv_invalid();
	jv e = JV_OBJECT(jv_string("shasum"), jv_string(sum), jv_string("digest"), jv_string(digest));
	jv h = cd_current_http(ann, CD_ANN_HTTP);
	if (jv_is_valid(h))
		e = jv_object_set(e, jv_string("http"), h);
	return e;
}

/* published.<arch> from the image itself: its config's labels. */
static jv from_image(const struct cd_image *img)
{
	jv e = jv_object();
	e = jv_object_set(e, jv_string("shasum"), cd_current_shasum(img->config));
	e = jv_object_set(e, jv_string("digest"), jv_string(img->manifest.digest));
	jv c = jv_object_get(jv_copy(img->config), jv_string("config"));
	jv labels = jv_get_kind(c) == JV_KIND_OBJECT ? jv_object_get(c, jv_string("Labels")) : (jv_free(c), jv_null());
	jv h = cd_current_http(labels, CD_LABEL_HTTP);
	jv_free(labels);
	if (jv_is_valid(h))
		e = jv_object_set(e, jv_string("http"), h);
	return e;
}

/*
 * What an index names, by arch: {"amd64": {"digest", "annotations"}, ...}
 * for the first linux entry of each known arch (as
 * cd_manifest_index_find picks it).  jv_invalid() when the body is not an
 * index.
 */
static jv index_entries(const struct cd_manifest *top)
{
	jv doc = jv_parse_sized(top->body, (int)top->len);
	jv ms = jv_get_kind(doc) == JV_KIND_OBJECT ? jv_object_get(jv_copy(doc), jv_string("manifests")) : jv_invalid();
	jv out = jv_object();
	jv_free(doc);
	if (jv_get_kind(ms) != JV_KIND_ARRAY) {
		jv_free(ms);
		jv_free(out);
		return jv_invalid();
	}
	jv_array_foreach(ms, i, d) {
		jv plat = jv_get_kind(d) == JV_KIND_OBJECT ? jv_object_get(jv_copy(d), jv_string("platform")) : jv_null();
		const char *arch = jv_get_kind(plat) == JV_KIND_OBJECT ? cd_jv_str(plat, "architecture") : NULL;
		const char *os = jv_get_kind(plat) == JV_KIND_OBJECT ? cd_jv_str(plat, "os") : NULL;
		const char *dg = jv_get_kind(d) == JV_KIND_OBJECT ? cd_jv_str(d, "digest") : NULL;
		if (arch && os && dg && !strcmp(os, "linux") && cd_arch_index(arch) >= 0 &&
		    cd_digest_parse(dg, &(enum cd_hash){ 0 }, &(const char *){ NULL }) == 0) {
			jv have = jv_object_get(jv_copy(out), jv_string(arch));
			if (!jv_is_valid(have))
				out = jv_object_set(out, jv_string(arch),
						    JV_OBJECT(jv_string("digest"), jv_string(dg), jv_string("annotations"),
							      jv_object_get(jv_copy(d), jv_string("annotations"))));
			jv_free(have);
		}
		jv_free(plat);
		jv_free(d);
	}
	jv_free(ms);
	return out;
}

/*
 * published from an index: an arch whose descriptor carries cdkit's
 * annotations costs nothing more; one without (medius) costs its manifest
 * and config, as before, when the record wants it; an arch the record does
 * not list (upstream dropped it, or cd-discover carried it) is recorded
 * from the index alone (its digest: enough to keep it), its shasum when
 * annotated, else null.
 */
static int read_index(struct cd_registry *reg, const char *repo, const struct cd_manifest *top,
		      jv arches, jv *pub, const char **failed_arch)
{
	jv ents = index_entries(top);
	if (!jv_is_valid(ents))
		return cd_seterr_kind(CD_ERR_INTEGRITY, "%s/%s@%s: not a valid index", cd_registry_host(reg), repo,
				      top->digest);
	int r = 0;
	for (int k = 0; k < CD_NARCH && !r; k++) {
		const char *arch = cd_arches[k];
		jv ent = jv_object_get(jv_copy(ents), jv_string(arch));
		if (!jv_is_valid(ent)) {
			jv_free(ent);
			continue;
		}
		jv ann = jv_object_get(jv_copy(ent), jv_string("annotations"));
		jv e = from_annotations(ann, cd_jv_str(ent, "digest"));
		jv_free(ann);
		if (!jv_is_valid(e) && has_arch(arches, arch)) {
			struct cd_image img;
			int f = cd_registry_image_for_arch(reg, repo, top, arch, &img);
			if (f < 0) {
				*failed_arch = arch;
				r = -1;
			} else if (f > 0) {
				e = from_image(&img);
				cd_image_release(&img);
			}
		} else if (!jv_is_valid(e)) {
			e = JV_OBJECT(jv_string("shasum"), jv_null(), jv_string("digest"),
				      jv_string(cd_jv_str(ent, "digest")));
		}
		if (jv_is_valid(e))
			*pub = jv_object_set(*pub, jv_string(arch), e);
		else
			jv_free(e);
		jv_free(ent);
	}
	jv_free(ents);
	return r;
}

/* published from a single image manifest: its annotations, else its config (as before). */
static int read_single(struct cd_registry *reg, const char *repo, const struct cd_manifest *top,
		       jv arches, jv *pub, const char **failed_arch)
{
	jv doc = jv_parse_sized(top->body, (int)top->len);
	jv ann = jv_get_kind(doc) == JV_KIND_OBJECT ? jv_object_get(jv_copy(doc), jv_string("annotations")) : jv_null();
	const char *arch = jv_get_kind(ann) == JV_KIND_OBJECT ? cd_jv_str(ann, CD_ANN_ARCH) : NULL;
	jv e = arch && cd_arch_index(arch) >= 0 ? from_annotations(ann, top->digest) : jv_invalid();
	int r = 0;
	if (jv_is_valid(e)) {
		*pub = jv_object_set(*pub, jv_string(arch), e);
	} else {
		jv_free(e);
		jv_array_foreach(arches, i, a) {
			struct cd_image img;
			int f = r ? 0 : cd_registry_image_for_arch(reg, repo, top, jv_string_value(a), &img);
			if (f < 0) {
				*failed_arch = cd_arches[cd_arch_index(jv_string_value(a))];
				r = -1;
			} else if (f > 0) {
				*pub = jv_object_set(*pub, jv_copy(a), from_image(&img));
				cd_image_release(&img);
			} else if (!r) {
				cd_debug("%s/%s: %s", cd_registry_host(reg), repo, cd_errmsg());
			}
			jv_free(a);
		}
	}
	jv_free(ann);
	jv_free(doc);
	return r;
}

jv cd_current_read(struct cd_registry *reg, const char *prefix, jv rec)
{
	/* The record loop checked name (a path component), version (a tag) and the arches. */
	const char *name = cd_jv_str(rec, "name"), *version = cd_jv_str(rec, "version");
	jv arches = record_arches(rec);
	char *repo = cd_ref_join(prefix, name);
	jv pub = jv_object();
	struct cd_manifest top;
	if (cd_registry_manifest_get(reg, repo, version, &top) < 0) {
		if (cd_errkind() == CD_ERR_NOT_FOUND) {
			cd_debug("%s/%s:%s: not published (%s)", cd_registry_host(reg), repo, version, cd_errmsg());
			rec = jv_object_set(rec, jv_string("published"), pub);
		} else {
			rec = cd_record_set_error(rec, NULL, "%s", cd_errmsg());
			jv_free(pub);
		}
		free(repo);
		jv_free(arches);
		return rec;
	}
	const char *failed_arch = NULL;
	int r;
	if (cd_manifest_is_index(top.media_type))
		r = read_index(reg, repo, &top, arches, &pub, &failed_arch);
	else if (!strcmp(top.media_type, CD_MT_OCI_MANIFEST) || !strcmp(top.media_type, CD_MT_DOCKER_MANIFEST))
		r = read_single(reg, repo, &top, arches, &pub, &failed_arch);
	else
		r = cd_seterr_kind(CD_ERR_INTEGRITY, "%s/%s@%s: unsupported manifest type '%.100s'",
				   cd_registry_host(reg), repo, top.digest, top.media_type);
	if (!r)
		rec = jv_object_set(rec, jv_string("published"), pub);
	else {
		rec = cd_record_set_error(rec, failed_arch, "%s", cd_errmsg());
		jv_free(pub);
	}
	cd_manifest_release(&top);
	free(repo);
	jv_free(arches);
	return rec;
}

void cd_current_open(struct cd_current *c, const char *source)
{
	c->reg = cd_opts_registry(source, NULL, &c->prefix);
}

jv cd_current_record(jv rec, void *current)
{
	struct cd_current *c = current;
	return cd_current_read(c->reg, c->prefix, rec);
}

void cd_current_close(struct cd_current *c)
{
	cd_registry_free(c->reg);
	free(c->prefix);
	c->reg = NULL;
	c->prefix = NULL;
}
