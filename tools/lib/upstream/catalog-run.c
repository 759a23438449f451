/* What the catalog's programs make of the upstream files: the records (catalog-run.h). */
#include <stdlib.h>
#include <string.h>
#include <jq.h>

#include "core/arch.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/record.h"
#include "core/url.h"
#include "net/http.h"
#include "upstream/catalog-run.h"
#include "upstream/catalog.h"
#include "upstream/checksum.h"
#include "upstream/version.h"
#include "core/banned.h"

#define PARALLEL_FETCHES 16


struct fetch {
	char *url;
	struct cd_http_req req;
	char *err;
	jv input;
	int parsed;
	int unreadable;  /* no answer, or not a 2xx: err says which */
};

struct run {
	struct fetch *f;
	size_t nf;
	jv out;          /* records, in order */
	size_t failed;
	jv notes;        /* [[warning, message]], each message once, in order */
};

/* Keep a note for the caller (each distinct message once). */
static void add_note(struct run *r, int warning, char *msg)
{
	jv_array_foreach(r->notes, i, n) {
		jv m = jv_array_get(n, 1);
		int same = !strcmp(jv_string_value(m), msg);
		jv_free(m);
		if (same) {
			free(msg);
			return;
		}
	}
	r->notes = jv_array_append(r->notes, jv_array_append(jv_array_append(jv_array(), jv_bool(warning)),
							       jv_string(msg)));
	free(msg);
}

/* What a program said through keep/drop/warn (catalog.h), for the run. */
struct said {
	struct run *r;
	const struct cd_catalog_image *im;
	const struct cd_catalog_job *j;
};

/* A short name for a dropped entry (borrowed): its file name or URL, else its JSON cut short. */
static char *entry_name(jv e)
{
	static const char *const keys[] = { "name", "link", "url" };
	size_t k;

	if (jv_get_kind(e) == JV_KIND_OBJECT)
		for (k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
			const char *s = cd_jv_str(e, keys[k]);
			if (s)
				return cd_xasprintf("%.200s", s);
		}
	jv d = jv_dump_string(jv_copy(e), 0);
	char *n = cd_xasprintf("%.160s%s", jv_string_value(d), jv_string_length_bytes(jv_copy(d)) > 160 ? "..." : "");
	jv_free(d);
	return n;
}

static void on_debug(void *data, jv v)
{
	struct said *sd = data;
	char *u = cd_url_redact(sd->j->url);

	if (jv_get_kind(v) == JV_KIND_OBJECT && cd_jv_str(v, "cdkit_warning")) {
		add_note(sd->r, 1, cd_xasprintf("%s: %s: %s", sd->im->file, u, cd_jv_str(v, "cdkit_warning")));
	} else if (jv_get_kind(v) == JV_KIND_OBJECT && cd_jv_str(v, "cdkit_dropped")) {
		jv e = jv_object_get(jv_copy(v), jv_string("entry"));
		char *n = entry_name(e);
		add_note(sd->r, 0, cd_xasprintf("%s: %s: dropped %s: %s", sd->im->file, u, n,
						cd_jv_str(v, "cdkit_dropped")));
		free(n);
		jv_free(e);
	} else { /* a plain debug: shown with -v */
		jv d = jv_dump_string(jv_copy(v), 0);
		add_note(sd->r, 0, cd_xasprintf("%s: %s: debug: %.300s", sd->im->file, u, jv_string_value(d)));
		jv_free(d);
	}
	free(u);
	jv_free(v);
}

static size_t add_fetch(struct run *r, const char *url)
{
	size_t i;

	for (i = 0; i < r->nf; i++)
		if (!strcmp(r->f[i].url, url))
			return i;
	r->f = cd_xrealloc(r->f, (r->nf + 1) * sizeof(*r->f));
	memset(&r->f[r->nf], 0, sizeof(*r->f));
	r->f[r->nf].url = cd_xstrdup(url);
	r->f[r->nf].input = jv_invalid();
	return r->nf++;
}

static void fetch_all(struct run *r)
{
	struct cd_http_req **reqs = cd_xcalloc(r->nf ? r->nf : 1, sizeof(*reqs));
	size_t i;

	for (i = 0; i < r->nf; i++) {
		cd_http_req_init(&r->f[i].req, r->f[i].url);
		r->f[i].req.max_body = CD_UPSTREAM_FILE_MAX;
		reqs[i] = &r->f[i].req;
	}
	cd_http_perform_all(reqs, r->nf, PARALLEL_FETCHES);
	for (i = 0; i < r->nf; i++) {
		struct cd_http_req *q = &r->f[i].req;
		const char *e = cd_http_req_error(q);

		if (e) {
			r->f[i].err = cd_xstrdup(e);
			r->f[i].unreadable = 1;
		} else if (q->status / 100 != 2) {
			cd_http_status_error(q);
			r->f[i].err = cd_xstrdup(cd_errmsg());
			r->f[i].unreadable = 1;
		}
	}
	free(reqs);
}

static jv checksums_to_jv(const char *text, size_t len)
{
	struct cd_checksum_list l = { 0 };
	jv a = jv_array();
	size_t i;

	cd_checksum_parse(text, len, &l);
	for (i = 0; i < l.n; i++) {
		jv e = jv_object();
		e = jv_object_set(e, jv_string("name"), jv_string(l.v[i].name));
		e = jv_object_set(e, jv_string("checksum"), jv_string(l.v[i].digest));
		if (l.v[i].size >= 0)
			e = jv_object_set(e, jv_string("size"), jv_number((double)l.v[i].size));
		a = jv_array_append(a, e);
	}
	cd_checksum_list_release(&l);
	return a;
}

/* The program input for job j: a new reference, or jv_invalid() with cd_seterr(). */
static jv job_input(struct run *r, const struct cd_catalog_job *j)
{
	struct fetch *f = &r->f[j->fetch];

	if (f->err) {
		cd_seterr("%s", f->err);
		return jv_invalid();
	}
	if (!f->parsed) {
		f->parsed = 1;
		if (j->json) {
			f->input = jv_parse_sized(f->req.body.p ? f->req.body.p : "", (int)f->req.body.len);
			if (jv_get_kind(f->input) == JV_KIND_INVALID) {
				jv msg = jv_invalid_get_msg(f->input);
				char *u = cd_url_redact(f->url);
				f->err = cd_xasprintf("malformed JSON in %s: %s", u,
						      jv_get_kind(msg) == JV_KIND_STRING ?
						      jv_string_value(msg) : "empty");
				free(u);
				jv_free(msg);
				f->input = jv_invalid();
				cd_seterr("%s", f->err);
				return jv_invalid();
			}
		} else {
			f->input = checksums_to_jv(f->req.body.p ? f->req.body.p : "", f->req.body.len);
		}
	}
	return jv_copy(f->input);
}

/* First output of j's program on input (consumed); jv_null() for none. */
static jv run_program(struct run *r, const struct cd_catalog_image *im, struct cd_catalog_job *j, jv input)
{
	struct said sd = { r, im, j };
	jv out;

	jq_set_debug_cb(j->jq, on_debug, &sd);
	jq_start(j->jq, jv_array_append(jv_array_append(jv_array(), input), jv_copy(j->vars)), 0);
	out = jq_next(j->jq);
	jq_set_debug_cb(j->jq, NULL, NULL);
	if (jv_get_kind(out) == JV_KIND_INVALID) {
		if (jv_invalid_has_msg(jv_copy(out))) {
			jv msg = jv_invalid_get_msg(out);
			char *u = cd_url_redact(j->url);
			if (jv_get_kind(msg) != JV_KIND_STRING)
				msg = jv_dump_string(msg, 0);
			cd_seterr("%s: jq error on %s: %s", im->file, u, jv_string_value(msg));
			free(u);
			jv_free(msg);
			return jv_invalid();
		}
		return jv_null();
	}
	return out;
}

static int bad_field(const struct cd_catalog_job *j, const char *what)
{
	char *u = cd_url_redact(j->url);
	cd_seterr("program output for %s: %s", u, what);
	free(u);
	return -1;
}

/* The artifact of out (consumed) for cdarch: *art, and *tags; -1 and cd_seterr(). */
static int make_artifact(const struct cd_catalog_job *j, const char *cdarch, jv out,
			 jv *art, jv *tags)
{
	jv v;
	const char *url;
	char sum[160];

	*art = jv_invalid();
	*tags = jv_invalid();
	if (jv_get_kind(out) == JV_KIND_NULL || jv_get_kind(out) == JV_KIND_FALSE) {
		char *u = cd_url_redact(j->url);
		cd_seterr("no matching file in %s", u);
		free(u);
		return -1;
	}
	if (jv_get_kind(out) != JV_KIND_OBJECT) {
		jv_free(out);
		return bad_field(j, "not an object");
	}
	url = cd_jv_str(out, "url");
	if (!url || (strncmp(url, "https://", 8) && strncmp(url, "http://", 7))) {
		jv_free(out);
		return bad_field(j, "\"url\" is not an http(s) URL");
	}
	*art = jv_object_set(jv_object(), jv_string("arch"), jv_string(cdarch));
	*art = jv_object_set(*art, jv_string("url"), jv_string(url));
	v = jv_object_get(jv_copy(out), jv_string("checksum"));
	if (jv_get_kind(v) == JV_KIND_STRING) {
		if (cd_checksum_normalize(jv_string_value(v), sum, sizeof(sum)) < 0) {
			char *u = cd_url_redact(j->url);
			jv_free(v);
			jv_free(out);
			jv_free(*art);
			*art = jv_invalid();
			cd_adderr("%s", u);
			free(u);
			return -1;
		}
		*art = jv_object_set(*art, jv_string("checksum"), jv_string(sum));
	} else {
		*art = jv_object_set(*art, jv_string("checksum"), jv_null());
	}
	jv_free(v);
	v = jv_object_get(jv_copy(out), jv_string("compression"));
	*art = jv_object_set(*art, jv_string("compression"),
			     jv_get_kind(v) == JV_KIND_STRING ? v : (jv_free(v), jv_null()));
	/* a size, number or string ("400065273"), is kept when it is a byte count */
	v = jv_object_get(jv_copy(out), jv_string("size"));
	double size = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : -1;
	if (jv_get_kind(v) == JV_KIND_STRING) {
		const char *s = jv_string_value(v);
		char *end;
		size = strtod(s, &end);
		if (*end || end == s)
			size = -1;
	}
	jv_free(v);
	if (cd_byte_count(size) > 0)
		*art = jv_object_set(*art, jv_string("size"), jv_number((double)cd_byte_count(size)));
	v = jv_object_get(out, jv_string("tags"));
	*tags = jv_array();
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv_array_foreach(v, i, t) {
			if (jv_get_kind(t) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(t)) > 0)
				*tags = jv_array_append(*tags, t);
			else
				jv_free(t);
		}
	}
	jv_free(v);
	return 0;
}

static jv make_env(jv ctx, const char *preference)
{
	const char *it = cd_jv_str(ctx, "instancetype");
	jv env = jv_object();

	env = jv_object_set(env, jv_string("INSTANCETYPE_KUBEVIRT_IO_DEFAULT_INSTANCETYPE"),
			    jv_string(it ? it : "u1.medium"));
	return jv_object_set(env, jv_string("INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE"),
			     jv_string(preference));
}

/*
 * An arch whose "preference" differs from the image's (fedora.arm64) gets
 * its own "env" in its artifact, as medius sets it per architecture.
 */
static jv with_arch_env(jv art, jv ctx, const char *cdarch)
{
	jv a = cd_catalog_arch(ctx, cdarch);
	const char *pref = jv_get_kind(a) == JV_KIND_OBJECT ? cd_jv_str(a, "preference") : NULL;

	if (pref && strcmp(pref, cd_jv_str(ctx, "preference")))
		art = jv_object_set(art, jv_string("env"), make_env(ctx, pref));
	jv_free(a);
	return art;
}

static jv base_record(jv ctx, const char *name, const char *version, int stable,
		      int latest, int docs)
{
	jv env = make_env(ctx, cd_jv_str(ctx, "preference")), rec = jv_object();

	rec = jv_object_set(rec, jv_string("name"), jv_string(name));
	rec = jv_object_set(rec, jv_string("version"), jv_string(version));
	rec = jv_object_set(rec, jv_string("stable"), jv_bool(stable));
	rec = jv_object_set(rec, jv_string("latest"), jv_bool(latest));
	rec = jv_object_set(rec, jv_string("docs"), jv_bool(docs));
	rec = jv_object_set(rec, jv_string("tags"), jv_array());
	rec = jv_object_set(rec, jv_string("user"), jv_string(cd_jv_str(ctx, "user")));
	rec = jv_object_set(rec, jv_string("env"), env);
	rec = jv_object_set(rec, jv_string("artifacts"), jv_array());
	return rec;
}

static int ctx_stable(jv ctx, const char *version)
{
	jv s = jv_object_get(jv_copy(ctx), jv_string("stable"));
	int k = jv_get_kind(s);

	jv_free(s);
	(void)version;
	/* a version of its own in the catalog is a release unless the catalog says otherwise */
	return k != JV_KIND_FALSE;
}

/*
 * The record's upstream unique tags: those every architecture's file
 * gives (issue 12 part 4).  When the architectures are on different
 * builds (CentOS Stream 9 at 20211222.0, 20240401.0 and 20241007.0) there
 * is none: a tag named after one build would name an image of other
 * builds too, and a later build of one architecture would have to move it.
 * The timestamp tag stays unique.  Consumes both; returns have's tags that
 * t has too, in have's order.
 */
static jv tags_common(jv have, jv t)
{
	jv out = jv_array();
	jv_array_foreach(have, i, a) {
		int both = 0;
		jv_array_foreach(t, k, b) {
			both |= jv_equal(jv_copy(a), b);
		}
		if (both)
			out = jv_array_append(out, a);
		else
			jv_free(a);
	}
	jv_free(have);
	jv_free(t);
	return out;
}

/*
 * No arch of im could be read: one error for the record.  It names no arch:
 * when the arches share one upstream file, the fault is not one arch's.
 */
static jv unreadable_error(struct run *r, const struct cd_catalog_image *im, jv rec)
{
	size_t k, shared = 1;
	struct cd_buf m;

	for (k = 1; k < im->njobs; k++)
		if (im->jobs[k].fetch != im->jobs[0].fetch)
			shared = 0;
	if (shared)
		return cd_record_set_error(rec, NULL, "%s", r->f[im->jobs[0].fetch].err);
	cd_buf_init(&m, 0);
	cd_buf_puts(&m, "no architecture could be read upstream");
	for (k = 0; k < im->njobs; k++)
		cd_buf_putf(&m, "%s %s: %s", k ? ";" : ":", im->jobs[k].cdarch, r->f[im->jobs[k].fetch].err);
	rec = cd_record_set_error(rec, NULL, "%s", m.p);
	cd_buf_release(&m);
	return rec;
}

/*
 * An arch whose upstream file cannot be read this run (no answer, or not
 * a 2xx) is carried: it gets no artifact but a "carried" entry, and the
 * other arches are still discovered.  Anything else wrong is an error.
 */
static void discover_static(struct run *r, struct cd_catalog_image *im)
{
	jv rec = base_record(im->ctx, im->name, im->version, ctx_stable(im->ctx, im->version),
			     cd_jv_true(im->ctx, "latest"), cd_jv_true(im->ctx, "docs"));
	jv arts = jv_array(), tags = jv_invalid(), carried = jv_array();
	size_t k, ncarried = 0;

	for (k = 0; k < im->njobs; k++) {
		struct cd_catalog_job *j = &im->jobs[k];
		struct fetch *f = &r->f[j->fetch];
		jv in, out, art, t;

		if (f->unreadable) {
			jv c = jv_object_set(jv_object(), jv_string("arch"), jv_string(j->cdarch));
			carried = jv_array_append(carried, jv_object_set(c, jv_string("reason"), jv_string(f->err)));
			ncarried++;
			continue;
		}
		in = job_input(r, j);
		if (jv_get_kind(in) == JV_KIND_INVALID ||
		    jv_get_kind(out = run_program(r, im, j, in)) == JV_KIND_INVALID ||
		    make_artifact(j, j->cdarch, out, &art, &t) < 0) {
			jv_free(arts);
			jv_free(tags);
			jv_free(carried);
			rec = cd_record_set_error(rec, j->cdarch, "%s", cd_errmsg());
			r->failed++;
			r->out = jv_array_append(r->out, rec);
			return;
		}
		arts = jv_array_append(arts, with_arch_env(art, im->ctx, j->cdarch));
		if (jv_get_kind(tags) == JV_KIND_INVALID) {
			tags = t;	/* the first arch read */
		} else {
			tags = tags_common(tags, t);
		}
	}
	if (im->njobs && ncarried == im->njobs) {
		jv_free(arts);
		jv_free(tags);
		jv_free(carried);
		r->failed++;
		r->out = jv_array_append(r->out, unreadable_error(r, im, rec));
		return;
	}
	rec = jv_object_set(rec, jv_string("tags"), jv_get_kind(tags) == JV_KIND_INVALID ? jv_array() : tags);
	rec = jv_object_set(rec, jv_string("artifacts"), arts);
	if (ncarried)
		rec = jv_object_set(rec, jv_string("carried"), carried);
	else
		jv_free(carried);
	r->out = jv_array_append(r->out, rec);
}

struct release {
	char *version;
	int stable;
	jv arts[CD_NARCH]; /* by cd_arches index; jv_invalid() when absent */
	jv tags;        /* of the first artifact seen */
	char *err, *errarch;
};

static int release_cmp(const void *pa, const void *pb)
{
	const struct release *a = pa, *b = pb;

	if (a->stable != b->stable)
		return a->stable ? -1 : 1;
	return -cd_version_cmp(a->version, b->version);
}

/* Our name for upstream arch up in ctx's "arches" (borrowed); -1 if none. */
static int arch_index(jv ctx, const char *up)
{
	size_t k;

	for (k = 0; k < CD_NARCH; k++) {
		jv a = cd_catalog_arch(ctx, cd_arches[k]);
		int hit = jv_get_kind(a) == JV_KIND_OBJECT && cd_jv_str(a, "arch") && !strcmp(cd_jv_str(a, "arch"), up);
		jv_free(a);
		if (hit)
			return (int)k;
	}
	return -1;
}

static struct release *release_of(struct release **v, size_t *n, const char *version, int stable)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i].version, version))
			return &(*v)[i];
	*v = cd_xrealloc(*v, (*n + 1) * sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].version = cd_xstrdup(version);
	(*v)[*n].stable = stable;
	(*v)[*n].tags = jv_invalid();
	for (i = 0; i < CD_NARCH; i++)
		(*v)[*n].arts[i] = jv_invalid();
	return &(*v)[(*n)++];
}

/*
 * Collect the program's items (consumed) into releases.  An item's
 * "stable" (a boolean) says whether its version is a release, else its
 * version does (digits and dots).  A version that cannot be normalised is
 * a warning; an arch the catalog does not list, a note for -v.
 */
static void collect_releases(struct run *r, struct cd_catalog_image *im, struct cd_catalog_job *j,
			     jv items, struct release **rel, size_t *nrel)
{
	jv_array_foreach(items, i, it) {
		const char *rawv = jv_get_kind(it) == JV_KIND_OBJECT ? cd_jv_str(it, "version") : NULL;
		const char *up = rawv ? cd_jv_str(it, "arch") : NULL;
		char *v = rawv ? cd_version_normalize(rawv) : NULL;
		struct release *re;
		jv art, tags, st;
		int k;

		if (!v || !up || (k = arch_index(im->ctx, up)) < 0) {
			char *u = cd_url_redact(j->url);
			if (rawv && !v)
				add_note(r, 1, cd_xasprintf("%s: %s: cannot parse release version \"%.64s\": %s",
							    im->file, u, rawv, cd_errmsg()));
			else if (v && up)
				add_note(r, 0, cd_xasprintf("%s: %s: dropped %s %.64s: arch not in \"arches\"",
							    im->file, u, v, up));
			else
				add_note(r, 1, cd_xasprintf("%s: %s: a release without %s dropped", im->file, u,
							    rawv ? "\"arch\"" : "\"version\""));
			free(u);
			free(v);
			jv_free(it);
			continue;
		}
		st = jv_object_get(jv_copy(it), jv_string("stable"));
		re = release_of(rel, nrel, v, jv_get_kind(st) == JV_KIND_TRUE || jv_get_kind(st) == JV_KIND_FALSE ?
				jv_get_kind(st) == JV_KIND_TRUE : cd_version_is_stable(v));
		jv_free(st);
		free(v);
		if (jv_get_kind(re->arts[k]) != JV_KIND_INVALID || re->err) {
			jv_free(it);
			continue;
		}
		if (make_artifact(j, cd_arches[k], it, &art, &tags) < 0) {
			re->err = cd_xstrdup(cd_errmsg());
			re->errarch = cd_xstrdup(cd_arches[k]);
			continue;
		}
		re->arts[k] = with_arch_env(art, im->ctx, cd_arches[k]);
		if (jv_get_kind(re->tags) == JV_KIND_INVALID)
			re->tags = tags;
		else
			re->tags = tags_common(re->tags, tags);
	}
	jv_free(items);
}

static void discover_releases(struct run *r, struct cd_catalog_image *im, const char *const *focus,
			      size_t nfocus, unsigned char *hit)
{
	struct cd_catalog_job *j = im->jobs;
	struct release *rel = NULL;
	size_t nrel = 0, i, k;
	int first_stable = 1;
	jv in = job_input(r, j), items;

	if (jv_get_kind(in) == JV_KIND_INVALID ||
	    jv_get_kind(items = run_program(r, im, j, in)) == JV_KIND_INVALID ||
	    (jv_get_kind(items) != JV_KIND_ARRAY &&
	     (jv_free(items), bad_field(j, "the releases program must give an array")))) {
		jv rec = base_record(im->ctx, im->name, "*", 0, 0, 0);
		/* an unreadable list answers every focus on it */
		cd_record_in_focus(focus, nfocus, im->name, NULL, hit);
		r->out = jv_array_append(r->out, cd_record_set_error(rec, NULL, "%s", cd_errmsg()));
		r->failed++;
		return;
	}
	collect_releases(r, im, j, items, &rel, &nrel);
	if (nrel)
		qsort(rel, nrel, sizeof(*rel), release_cmp);
	for (i = 0; i < nrel; i++) {
		struct release *re = &rel[i];
		int head = re->stable && first_stable;
		jv rec, arts;

		if (re->stable)
			first_stable = 0;
		if (cd_record_in_focus(focus, nfocus, im->name, re->version, hit)) {
			rec = base_record(im->ctx, im->name, re->version, re->stable, head, head);
			arts = jv_array();
			for (k = 0; k < CD_NARCH; k++)
				if (jv_get_kind(re->arts[k]) != JV_KIND_INVALID)
					arts = jv_array_append(arts, jv_copy(re->arts[k]));
			rec = jv_object_set(rec, jv_string("tags"),
					    jv_get_kind(re->tags) == JV_KIND_INVALID ? jv_array() : jv_copy(re->tags));
			rec = jv_object_set(rec, jv_string("artifacts"), arts);
			if (re->err) {
				rec = cd_record_set_error(rec, re->errarch, "%s", re->err);
				r->failed++;
			}
			r->out = jv_array_append(r->out, rec);
		}
		for (k = 0; k < CD_NARCH; k++)
			jv_free(re->arts[k]);
		jv_free(re->tags);
		free(re->version);
		free(re->err);
		free(re->errarch);
	}
	free(rel);
}

/* One HEAD of an artifact without a checksum: record i, artifact k. */
struct head {
	size_t rec, art;
	char *url;
	struct cd_http_req req;
};

/* What one HEAD said, as the artifact's "http"; jv_null() when it said nothing of use. */
static jv validators(const struct cd_http_req *q)
{
	char v[512];
	long long len = cd_http_content_length(q);
	jv h = jv_object();

	if (cd_http_header(q, "ETag", v, sizeof(v)) && *v)
		h = jv_object_set(h, jv_string("etag"), jv_string(v));
	if (cd_http_header(q, "Last-Modified", v, sizeof(v)) && *v)
		h = jv_object_set(h, jv_string("last_modified"), jv_string(v));
	if (len >= 0 && cd_byte_count((double)len) == len)
		h = jv_object_set(h, jv_string("length"), jv_number((double)len));
	if (jv_object_length(jv_copy(h)) == 0) {
		jv_free(h);
		return jv_null();
	}
	return h;
}

/*
 * Where upstream gives no checksum, what HTTP says of the file: one HEAD
 * per such artifact of the records made (error records aside), all in
 * parallel, through the mirror map, each answer's ETag, Last-Modified and
 * Content-Length kept as the artifact's "http".  A HEAD that fails is a
 * warning; that artifact is left as it was.
 */
static void head_all(struct run *r)
{
	struct head *h = NULL;
	struct cd_http_req **reqs;
	size_t nh = 0, i;

	jv_array_foreach(r->out, ri, rec) {
		jv arts = cd_record_has_error(rec) ? jv_array() : jv_object_get(jv_copy(rec), jv_string("artifacts"));
		if (jv_get_kind(arts) == JV_KIND_ARRAY)
			jv_array_foreach(arts, ai, a) {
				jv sum = jv_object_get(jv_copy(a), jv_string("checksum"));
				const char *url = cd_jv_str(a, "url");
				if (jv_get_kind(sum) == JV_KIND_NULL && url) {
					h = cd_xrealloc(h, (nh + 1) * sizeof(*h));
					h[nh].rec = (size_t)ri;
					h[nh].art = (size_t)ai;
					h[nh].url = cd_xstrdup(url);
					nh++;
				}
				jv_free(sum);
				jv_free(a);
			}
		jv_free(arts);
		jv_free(rec);
	}
	if (!nh)
		return;
	reqs = cd_xcalloc(nh, sizeof(*reqs));
	for (i = 0; i < nh; i++) {
		cd_http_req_init(&h[i].req, h[i].url);
		h[i].req.flags = CD_HTTP_HEAD;
		reqs[i] = &h[i].req;
	}
	cd_http_perform_all(reqs, nh, PARALLEL_FETCHES);
	for (i = 0; i < nh; i++) {
		struct cd_http_req *q = &h[i].req;
		jv rec = jv_array_get(jv_copy(r->out), (int)h[i].rec);
		jv arts = jv_object_get(jv_copy(rec), jv_string("artifacts"));
		jv art = jv_array_get(jv_copy(arts), (int)h[i].art);
		const char *e = cd_http_req_error(q);
		jv http = jv_null();

		if (!e && q->status / 100 != 2) {
			cd_http_status_error(q);
			e = cd_errmsg();
		}
		if (e)
			add_note(r, 1, cd_xasprintf("%s:%s %s: no checksum upstream and %s", cd_jv_str(rec, "name"),
						    cd_jv_str(rec, "version"), cd_jv_str(art, "arch"), e));
		else
			http = validators(q);
		if (jv_get_kind(http) == JV_KIND_OBJECT) {
			art = jv_object_set(art, jv_string("http"), http);
			arts = jv_array_set(arts, (int)h[i].art, art);
			rec = jv_object_set(rec, jv_string("artifacts"), arts);
			r->out = jv_array_set(r->out, (int)h[i].rec, rec);
		} else {
			jv_free(http);
			jv_free(art);
			jv_free(arts);
			jv_free(rec);
		}
		cd_http_req_release(q);
		free(h[i].url);
	}
	free(reqs);
	free(h);
}

static void emit_all(jv out, void (*emit)(jv rec, void *ctx), void *ctx)
{
	jv_array_foreach(out, i, rec)
		emit(rec, ctx);
	jv_free(out);
}

/* Every fetch answers body with HTTP 200, as if it came from upstream. */
static void answer_all(struct run *r, const char *body, size_t len)
{
	size_t i;

	for (i = 0; i < r->nf; i++) {
		cd_http_req_init(&r->f[i].req, r->f[i].url);
		r->f[i].req.status = 200;
		if (len > CD_UPSTREAM_FILE_MAX || cd_buf_add(&r->f[i].req.body, body, len) < 0) {
			char *u = cd_url_redact(r->f[i].url);
			r->f[i].err = cd_xasprintf("%s: response body too large", u);
			free(u);
		}
	}
}

/* cd_catalog_discover, with the upstream files fetched, or all body when body is not NULL. */
static int discover(struct cd_catalog *c, const char *body, size_t len,
		    const char *const *focus, size_t nfocus,
		    void (*emit)(jv rec, void *ctx), void (*note)(int warning, const char *msg, void *ctx),
		    void *ctx, size_t *failed)
{
	struct run r = { .out = jv_array(), .notes = jv_array() };
	unsigned char *hit = cd_xcalloc(nfocus + 1, 1);
	size_t i, k;
	int ret = 0;

	for (i = 0; i < c->n; i++)
		if (c->v[i].wanted)
			for (k = 0; k < c->v[i].njobs; k++)
				c->v[i].jobs[k].fetch = add_fetch(&r, c->v[i].jobs[k].url);
	if (body)
		answer_all(&r, body, len);
	else
		fetch_all(&r);
	for (i = 0; i < c->n; i++) {
		struct cd_catalog_image *im = &c->v[i];
		if (!im->wanted)
			continue;
		if (im->releases) {
			discover_releases(&r, im, focus, nfocus, hit);
		} else {
			discover_static(&r, im);
			cd_record_in_focus(focus, nfocus, im->name, im->version, hit);
		}
	}
	for (k = 0; k < nfocus; k++)
		if (!hit[k]) {
			ret = cd_seterr("focus '%s' did not match any image", focus[k]);
			break;
		}
	if (!ret && !body)
		head_all(&r);
	jv_array_foreach(r.notes, ni, n) {
		jv w = jv_array_get(jv_copy(n), 0), m = jv_array_get(n, 1);
		if (note)
			note(jv_get_kind(w) == JV_KIND_TRUE, jv_string_value(m), ctx);
		jv_free(w);
		jv_free(m);
	}
	jv_free(r.notes);
	if (ret)
		jv_free(r.out);
	else
		emit_all(r.out, emit, ctx);
	*failed = ret ? 0 : r.failed;
	for (i = 0; i < r.nf; i++) {
		cd_http_req_release(&r.f[i].req);
		free(r.f[i].url);
		free(r.f[i].err);
		jv_free(r.f[i].input);
	}
	free(r.f);
	free(hit);
	return ret;
}

int cd_catalog_discover(struct cd_catalog *c, const char *const *focus, size_t nfocus,
			void (*emit)(jv rec, void *ctx),
			void (*note)(int warning, const char *msg, void *ctx),
			void *ctx, size_t *failed)
{
	return discover(c, NULL, 0, focus, nfocus, emit, note, ctx, failed);
}

int cd_catalog_discover_body(struct cd_catalog *c, const char *body, size_t len,
			     const char *const *focus, size_t nfocus,
			     void (*emit)(jv rec, void *ctx),
			     void (*note)(int warning, const char *msg, void *ctx),
			     void *ctx, size_t *failed)
{
	return discover(c, body, len, focus, nfocus, emit, note, ctx, failed);
}
