#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/record.h"
#include "core/ref.h"
#include "registry/registry.h"
#include "stage/published.h"
#include "core/banned.h"

static int bad_spec(const char *spec, const char *why)
{
	char *shown = cd_ref_redact(spec);
	cd_seterr("invalid source registry '%.200s': %s", shown, why);
	free(shown);
	return -1;
}

int cd_published_parse_source(const char *spec, char **host, char **prefix)
{
	*host = *prefix = NULL;
	const char *slash = strchr(spec, '/');
	struct cd_ref ref;
	if (!slash) {
		/* A bare host: parse it with a dummy path so the host rules apply. */
		char *tmp = cd_xasprintf("%s/x", spec);
		int r = cd_ref_parse(&ref, tmp);
		free(tmp);
		if (r < 0 || !strcmp(ref.host, "docker.io") || ref.tag || ref.digest) {
			cd_ref_release(&ref);
			return bad_spec(spec, "expected HOST[:PORT][/PATH]");
		}
		*host = ref.host;
		ref.host = NULL;
		*prefix = cd_xstrdup("");
		cd_ref_release(&ref);
		return 0;
	}
	if (cd_ref_parse(&ref, spec) < 0)
		return -1;
	if (ref.tag || ref.digest) {
		cd_ref_release(&ref);
		return bad_spec(spec, "a registry and path, without tag or digest");
	}
	*host = ref.host;
	*prefix = ref.path;
	ref.host = ref.path = NULL;
	cd_ref_release(&ref);
	return 0;
}

jv cd_published_shasum(jv config)
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

jv cd_published_read(struct cd_registry *reg, const char *prefix, jv rec)
{
	/* The record loop checked name (a path component), version (a tag) and the arches. */
	const char *name = cd_jv_str(rec, "name"), *version = cd_jv_str(rec, "version");
	jv arches = record_arches(rec);
	char *repo = *prefix ? cd_xasprintf("%s/%s", prefix, name) : cd_xstrdup(name);
	jv pub = jv_object();
	struct cd_manifest top;
	if (cd_registry_manifest_get(reg, repo, version, &top) < 0) {
		if (cd_registry_errkind() == CD_REG_NOT_FOUND) {
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
			e = jv_object_set(e, jv_string("shasum"), cd_published_shasum(img.config));
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

/* The hex part of "<alg>:<hex>" (or the whole string). */
static const char *hex_of(const char *checksum)
{
	const char *c = strchr(checksum, ':');
	return c ? c + 1 : checksum;
}

jv cd_diff_record(jv rec, int force)
{
	jv pub = jv_object_get(jv_copy(rec), jv_string("published"));
	jv arts = jv_object_get(jv_copy(rec), jv_string("artifacts"));
	if (jv_get_kind(pub) != JV_KIND_OBJECT) {
		jv_free(pub);
		jv_free(arts);
		return cd_record_set_error(rec, NULL, "record has no \"published\" object (run cd-current first)");
	}
	if (jv_get_kind(arts) != JV_KIND_ARRAY || jv_array_length(jv_copy(arts)) == 0) {
		jv_free(pub);
		jv_free(arts);
		return cd_record_set_error(rec, NULL, "record has no \"artifacts\"");
	}
	struct cd_buf why;
	cd_buf_init(&why, 0);
	jv changed = jv_array();
	int bad = 0;
	jv_array_foreach(arts, i, a) {
		const char *arch = cd_jv_str(a, "arch");
		const char *sum = cd_jv_str(a, "checksum");
		if (!arch || !*arch) {
			bad = 1;
			jv_free(a);
			continue;
		}
		jv p = jv_object_get(jv_copy(pub), jv_string(arch));
		const char *have = cd_jv_str(p, "shasum");
		const char *what = NULL;
		if (jv_get_kind(p) != JV_KIND_OBJECT)
			what = "not published";
		else if (!sum || !*hex_of(sum))
			what = "has no upstream checksum";
		else if (!have)
			what = "has no shasum label";
		else if (strcasecmp(hex_of(sum), have))
			what = "checksum changed";
		if (what) {
			cd_buf_addf(&why, "%s%s %s", why.len ? ", " : "", arch, what);
			changed = jv_array_append(changed, jv_string(arch));
		}
		jv_free(p);
		jv_free(a);
	}
	int published_any = jv_object_length(jv_copy(pub)) > 0;
	jv_free(pub);
	jv_free(arts);
	if (bad) {
		cd_buf_release(&why);
		jv_free(changed);
		return cd_record_set_error(rec, NULL, "an artifact has no \"arch\"");
	}
	int n = jv_array_length(jv_copy(changed));
	const char *reason = why.p;
	if (!n)
		reason = force ? "forced (up to date)" : "up to date";
	else if (!published_any)
		reason = "not published";
	rec = jv_object_set(rec, jv_string("action"), jv_string(n || force ? "build" : "skip"));
	rec = jv_object_set(rec, jv_string("reason"), jv_string(reason));
	rec = jv_object_set(rec, jv_string("changed"), changed);
	cd_buf_release(&why);
	return rec;
}
