#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/msg.h"
#include "core/record.h"
#include "core/ref.h"
#include "registry/client.h"
#include "registry/manifest.h"
#include "registry/transfer.h"
#include "stage/promote.h"
#include "stage/publish.h"
#include "core/banned.h"

/* Copy the image src_repo@top (an index and its images, or one image) to repo. */
static int copy_image(const struct cd_publish *o, const char *repo, const char *src_repo,
		      const char *digest, jv rec, jv tags, jv *sent, jv *held)
{
	const char *mount = o->src == o->dst ? src_repo : NULL;
	struct cd_manifest top = { 0 };
	struct cd_descriptor d;
	int r = cd_registry_manifest_get(o->src, src_repo, digest, &top);
	if (!r && cd_manifest_is_index(top.media_type)) {
		jv idx = jv_parse_sized(top.body, (int)top.len);
		jv ms = jv_get_kind(idx) == JV_KIND_OBJECT ? jv_object_get(jv_copy(idx), jv_string("manifests"))
							   : jv_invalid();
		if (jv_get_kind(ms) != JV_KIND_ARRAY)
			r = cd_seterr("%s@%s: malformed index", src_repo, digest);
		else
			jv_array_foreach(ms, i, e) {
				const char *child = jv_get_kind(e) == JV_KIND_OBJECT ? cd_jv_str(e, "digest") : NULL;
				if (!r && !child)
					r = cd_seterr("%s@%s: index entry %d has no digest", src_repo, digest, i);
				else if (!r && cd_xfer_image(o->dst, repo, o->src, src_repo, child, mount,
							     &o->xfer, &d) < 0)
					r = cd_adderr("image %.19s...", child);
				jv_free(e);
			}
		jv_free(ms);
		jv_free(idx);
		if (!r && cd_registry_manifest_put(o->dst, repo, NULL, top.media_type, top.body, top.len, NULL) < 0)
			r = cd_adderr("index");
	} else if (!r) {
		r = cd_xfer_image(o->dst, repo, o->src, src_repo, digest, mount, &o->xfer, &d);
	}
	struct cd_descriptor td = { 0 };
	if (!r && (cd_snprintf(td.media_type, sizeof(td.media_type), "%s", top.media_type) < 0 ||
		   cd_snprintf(td.digest, sizeof(td.digest), "%s", top.digest) < 0))
		r = -1;
	jv_array_foreach(tags, i, t) {
		if (!r)
			r = cd_publish_tag(o->dst, repo, rec, jv_string_value(t), &td, top.body, top.len, sent, held);
		jv_free(t);
	}
	cd_manifest_release(&top);
	return r;
}

/* pushed.tags, checked: a new array, or jv_invalid() (cd_seterr). */
static jv pushed_tags(jv pushed)
{
	jv tags = jv_object_get(jv_copy(pushed), jv_string("tags")), out = jv_array();
	int bad = jv_get_kind(tags) != JV_KIND_ARRAY || jv_array_length(jv_copy(tags)) == 0;
	if (!bad)
		jv_array_foreach(tags, i, t) {
			if (jv_get_kind(t) != JV_KIND_STRING || !cd_ref_valid_tag(jv_string_value(t)))
				bad = 1;
			else
				out = jv_array_append(out, jv_copy(t));
			jv_free(t);
		}
	jv_free(tags);
	if (bad) {
		jv_free(out);
		cd_seterr("\"pushed\" has no valid \"tags\"");
		return jv_invalid();
	}
	return out;
}

static int not_a_repository(const char *where)
{
	char *shown = cd_ref_redact(where);
	cd_seterr("pushed.repository '%.200s' is not a repository", shown);
	free(shown);
	return -1;
}

static int promote(const struct cd_publish *o, jv rec, const char *id, jv *promoted)
{
	jv pushed = jv_object_get(jv_copy(rec), jv_string("pushed"));
	const char *where = jv_get_kind(pushed) == JV_KIND_OBJECT ? cd_jv_str(pushed, "repository") : NULL;
	const char *digest = where ? cd_jv_str(pushed, "digest") : NULL;
	const char *name = cd_jv_str(rec, "name");
	struct cd_ref ref = { 0 };
	jv tags = jv_invalid(), sent = jv_array(), held = jv_array();
	char *repo = NULL;
	int r = 0;
	if (!where || !digest || !name)
		r = cd_seterr("record has no \"pushed\" repository and digest (run cd-push first)");
	else if (cd_ref_parse(&ref, where) < 0 || ref.tag || ref.digest)
		r = not_a_repository(where);
	else if (strcmp(ref.host, cd_registry_host(o->src)))
		r = cd_seterr("pushed.repository is on %s, --source-registry is %s", ref.host,
			      cd_registry_host(o->src));
	else if (!jv_is_valid(tags = pushed_tags(pushed)))
		r = -1;
	if (!r) {
		repo = cd_ref_join(o->dst_prefix, name);
		if (!cd_ref_valid_path(repo))
			r = cd_seterr("invalid repository name '%s'", repo);
	}
	if (!r && o->dry_run) {
		cd_info("dry run: would promote %s %s@%s to %s/%s", id, where, digest,
			cd_registry_host(o->dst), repo);
	} else if (!r && !(r = copy_image(o, repo, ref.path, digest, rec, tags, &sent, &held))) {
		cd_info("%s: promoted %s@%s to %s/%s", id, where, digest, cd_registry_host(o->dst), repo);
		char *full = cd_xasprintf("%s/%s", cd_registry_host(o->dst), repo);
		*promoted = JV_OBJECT(jv_string("repository"), jv_string(full), jv_string("digest"),
				      jv_string(digest), jv_string("tags"), jv_copy(sent));
		if (jv_array_length(jv_copy(held)) > 0)
			*promoted = jv_object_set(*promoted, jv_string("held"), jv_copy(held));
		free(full);
	}
	jv_free(sent);
	jv_free(held);
	jv_free(tags);
	jv_free(pushed);
	cd_ref_release(&ref);
	free(repo);
	return r;
}

jv cd_promote_record(jv rec, void *arg)
{
	const struct cd_publish *o = arg;
	const char *action = cd_jv_str(rec, "action");
	if (action && !strcmp(action, "skip"))
		return rec;
	char *id = cd_record_id(rec);
	jv ver = jv_object_get(jv_copy(rec), jv_string("verified"));
	int ok = jv_get_kind(ver) == JV_KIND_OBJECT && cd_jv_true(ver, "ok");
	jv_free(ver);
	if (!ok) {
		cd_warn("%s: not verified: not promoted", id);
		free(id);
		return rec;
	}
	jv promoted = jv_invalid();
	if (promote(o, rec, id, &promoted) < 0) {
		rec = cd_record_set_error(rec, NULL, "%s", cd_errmsg()); /* said by the record loop */
	} else if (jv_is_valid(promoted)) {
		rec = jv_object_set(rec, jv_string("promoted"), promoted);
	} else {
		jv_free(promoted);
	}
	free(id);
	return rec;
}
