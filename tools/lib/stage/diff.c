/* cd-diff's decision: what must be rebuilt (diff.h).  No network. */
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/record.h"
#include "stage/diff.h"
#include "core/banned.h"

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
			cd_buf_putf(&why, "%s%s %s", why.len ? ", " : "", arch, what);
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
