#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/json.h"
#include "core/msg.h"
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
	int failed = 0;
	jv_array_foreach(arches, i, a) {
		if (failed) {
			jv_free(a);
			continue;
		}
		struct cd_image img;
		int r = cd_registry_image_for_arch(reg, repo, &top, jv_string_value(a), &img);
		if (r < 0) {
			rec = cd_record_set_error(rec, jv_string_value(a), "%s", cd_errmsg());
			failed = 1;
		} else if (r > 0) {
			jv e = jv_object();
			e = jv_object_set(e, jv_string("shasum"), cd_current_shasum(img.config));
			e = jv_object_set(e, jv_string("digest"), jv_string(img.manifest.digest));
			pub = jv_object_set(pub, jv_copy(a), e);
			cd_image_release(&img);
		} else {
			cd_debug("%s/%s:%s: %s", cd_registry_host(reg), repo, version, cd_errmsg());
		}
		jv_free(a);
	}
	if (!failed)
		rec = jv_object_set(rec, jv_string("published"), pub);
	else
		jv_free(pub);
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
