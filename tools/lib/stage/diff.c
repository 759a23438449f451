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

/* Is arch among the record's "carried" (borrowed) entries? */
static int is_carried(jv carried, const char *arch)
{
	int hit = 0;
	if (jv_get_kind(carried) == JV_KIND_ARRAY)
		jv_array_foreach(carried, i, c) {
			const char *a = jv_get_kind(c) == JV_KIND_OBJECT ? cd_jv_str(c, "arch") : NULL;
			hit |= a && !strcmp(a, arch);
			jv_free(c);
		}
	return hit;
}

/* Is arch one of the artifacts (borrowed)? */
static int is_listed(jv arts, const char *arch)
{
	int hit = 0;
	jv_array_foreach(arts, i, a) {
		const char *aa = cd_jv_str(a, "arch");
		hit |= aa && !strcmp(aa, arch);
		jv_free(a);
	}
	return hit;
}

/*
 * Why an artifact without an upstream checksum must be rebuilt, or NULL:
 * its HTTP validators (artifacts[].http, from one HEAD) against those the
 * image carries (published.<arch>.http, the CD_LABEL_HTTP label).  Equal
 * means the same objects (the same keys, the same values).
 */
static const char *validators_why(jv a, jv p)
{
	jv want = jv_object_get(jv_copy(a), jv_string("http"));
	jv have = jv_get_kind(p) == JV_KIND_OBJECT ? jv_object_get(jv_copy(p), jv_string("http")) : jv_invalid();
	const char *what = NULL;
	if (jv_get_kind(want) != JV_KIND_OBJECT || jv_object_length(jv_copy(want)) == 0)
		what = "has no upstream checksum nor HTTP validators";
	else if (jv_get_kind(have) != JV_KIND_OBJECT)
		what = "has no upstream checksum and its image no HTTP validators label";
	else if (!jv_equal(jv_copy(want), jv_copy(have)))
		what = "upstream file changed (HTTP validators differ)";
	jv_free(want);
	jv_free(have);
	return what;
}

/*
 * The arches of arts (borrowed) whose image must be rebuilt, against pub
 * (borrowed): appended to *changed, each with its reason to why.  -1 when
 * an artifact has no arch.
 */
static int changed_arches(jv arts, jv pub, struct cd_buf *why, jv *changed)
{
	int ret = 0;
	jv_array_foreach(arts, i, a) {
		const char *arch = cd_jv_str(a, "arch");
		const char *sum = cd_jv_str(a, "checksum");
		if (!arch || !*arch) {
			ret = -1;
			jv_free(a);
			continue;
		}
		jv p = jv_object_get(jv_copy(pub), jv_string(arch));
		const char *have = cd_jv_str(p, "shasum");
		const char *what = NULL;
		if (jv_get_kind(p) != JV_KIND_OBJECT)
			what = "not published";
		else if (!sum || !*hex_of(sum))
			what = validators_why(a, p);
		else if (!have)
			what = "has no shasum label";
		else if (strcasecmp(hex_of(sum), have))
			what = "checksum changed";
		if (what) {
			cd_buf_putf(why, "%s%s %s", why->len ? ", " : "", arch, what);
			*changed = jv_array_append(*changed, jv_string(arch));
		}
		jv_free(p);
		jv_free(a);
	}
	return ret;
}

/*
 * An arch the registry serves (pub, borrowed) that upstream no longer lists
 * (arts, borrowed) and that cd-discover did not carry already is kept as it
 * is: appended to *carried (owned; made an array when it is none).  With
 * allow_removal it is dropped instead, and the image rebuilt without it:
 * counted in *dropped, said in why.  Returns how many were carried.
 */
static int unlisted_arches(jv arts, jv pub, int allow_removal, jv *carried, struct cd_buf *why,
			   int *dropped)
{
	int added = 0;
	jv_object_foreach(pub, k, v) {
		const char *arch = jv_string_value(k);
		if (!is_listed(arts, arch) && !is_carried(*carried, arch)) {
			if (allow_removal) {
				cd_buf_putf(why, "%s%s no longer listed upstream: dropped (--allow-arch-removal)",
					    why->len ? ", " : "", arch);
				(*dropped)++;
			} else {
				if (jv_get_kind(*carried) != JV_KIND_ARRAY) {
					jv_free(*carried);
					*carried = jv_array();
				}
				*carried = jv_array_append(*carried, JV_OBJECT(jv_string("arch"), jv_copy(k),
					jv_string("reason"), jv_string("upstream no longer lists it")));
				added++;
			}
		}
		jv_free(k);
		jv_free(v);
	}
	return added;
}

jv cd_diff_record(jv rec, const struct cd_diff_opts *o)
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
	if (changed_arches(arts, pub, &why, &changed) < 0) {
		jv_free(pub);
		jv_free(arts);
		cd_buf_release(&why);
		jv_free(changed);
		return cd_record_set_error(rec, NULL, "an artifact has no \"arch\"");
	}
	jv carried = jv_object_get(jv_copy(rec), jv_string("carried"));
	int dropped = 0;
	int added = unlisted_arches(arts, pub, o->allow_arch_removal, &carried, &why, &dropped);
	int published_any = jv_object_length(jv_copy(pub)) > 0;
	jv_free(pub);
	int n = jv_array_length(jv_copy(changed));
	if (dropped && !n) { /* nothing else changed: rebuild the listed arches, the dropped one goes */
		jv_array_foreach(arts, i, a) {
			changed = jv_array_append(changed, jv_string(cd_jv_str(a, "arch")));
			jv_free(a);
		}
		n = jv_array_length(jv_copy(changed));
	}
	jv_free(arts);
	const char *reason = why.p;
	if (!n)
		reason = o->force ? "forced (up to date)" : "up to date";
	else if (!published_any)
		reason = "not published";
	rec = jv_object_set(rec, jv_string("action"), jv_string(n || o->force ? "build" : "skip"));
	rec = jv_object_set(rec, jv_string("reason"), jv_string(reason));
	rec = jv_object_set(rec, jv_string("changed"), changed);
	if (added)
		rec = jv_object_set(rec, jv_string("carried"), carried);
	else
		jv_free(carried);
	cd_buf_release(&why);
	return rec;
}

int cd_diff_carried(jv rec)
{
	jv c = jv_object_get(jv_copy(rec), jv_string("carried"));
	int n = jv_get_kind(c) == JV_KIND_ARRAY ? jv_array_length(jv_copy(c)) : 0;
	jv_free(c);
	return n;
}
