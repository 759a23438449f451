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
};

struct run {
	struct fetch *f;
	size_t nf;
	jv out;          /* records, in order */
	size_t failed;
};

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

		if (e)
			r->f[i].err = cd_xstrdup(e);
		else if (q->status / 100 != 2) {
			cd_http_status_error(q);
			r->f[i].err = cd_xstrdup(cd_errmsg());
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
static jv run_program(const struct cd_catalog_image *im, struct cd_catalog_job *j, jv input)
{
	jv out;

	jq_start(j->jq, jv_array_append(jv_array_append(jv_array(), input), jv_copy(j->vars)), 0);
	out = jq_next(j->jq);
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
	if (k == JV_KIND_TRUE || k == JV_KIND_FALSE)
		return k == JV_KIND_TRUE;
	return cd_version_is_stable(version);
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

static void discover_static(struct run *r, struct cd_catalog_image *im)
{
	jv rec = base_record(im->ctx, im->name, im->version, ctx_stable(im->ctx, im->version),
			     cd_jv_true(im->ctx, "latest"), cd_jv_true(im->ctx, "docs"));
	jv arts = jv_array(), tags = jv_array();
	size_t k;

	for (k = 0; k < im->njobs; k++) {
		struct cd_catalog_job *j = &im->jobs[k];
		jv in = job_input(r, j), out, art, t;

		if (jv_get_kind(in) == JV_KIND_INVALID ||
		    jv_get_kind(out = run_program(im, j, in)) == JV_KIND_INVALID ||
		    make_artifact(j, j->cdarch, out, &art, &t) < 0) {
			jv_free(arts);
			jv_free(tags);
			rec = cd_record_set_error(rec, j->cdarch, "%s", cd_errmsg());
			r->failed++;
			r->out = jv_array_append(r->out, rec);
			return;
		}
		arts = jv_array_append(arts, with_arch_env(art, im->ctx, j->cdarch));
		if (k == 0) {
			jv_free(tags);
			tags = t;
		} else {
			tags = tags_common(tags, t);
		}
	}
	rec = jv_object_set(rec, jv_string("tags"), tags);
	rec = jv_object_set(rec, jv_string("artifacts"), arts);
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

static struct release *release_of(struct release **v, size_t *n, const char *version)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i].version, version))
			return &(*v)[i];
	*v = cd_xrealloc(*v, (*n + 1) * sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].version = cd_xstrdup(version);
	(*v)[*n].stable = cd_version_is_stable(version);
	(*v)[*n].tags = jv_invalid();
	for (i = 0; i < CD_NARCH; i++)
		(*v)[*n].arts[i] = jv_invalid();
	return &(*v)[(*n)++];
}

static int focus_wants(char **focus, size_t nfocus, const char *name, const char *version,
		       unsigned char *hit)
{
	size_t k;
	int want = !nfocus;

	for (k = 0; k < nfocus; k++) {
		const char *ver;
		size_t nlen;
		if (cd_catalog_focus_parse(focus[k], &nlen, &ver) < 0 || !cd_catalog_focus_is(name, focus[k], nlen))
			continue;
		if (!strcmp(ver, "*") || !strcmp(ver, version)) {
			hit[k] = 1;
			want = 1;
		}
	}
	return want;
}

/* Collect the program's items (consumed) into releases. */
static void collect_releases(struct cd_catalog_image *im, struct cd_catalog_job *j, jv items,
			     struct release **rel, size_t *nrel)
{
	jv_array_foreach(items, i, it) {
		const char *rawv = cd_jv_str(it, "version"), *up = cd_jv_str(it, "arch");
		char *v = rawv ? cd_version_normalize(rawv) : NULL;
		struct release *re;
		jv art, tags;
		int k;

		if (!v || !up || (k = arch_index(im->ctx, up)) < 0) {
			free(v);
			jv_free(it);
			continue;
		}
		re = release_of(rel, nrel, v);
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

static void discover_releases(struct run *r, struct cd_catalog_image *im, char **focus,
			      size_t nfocus, unsigned char *hit)
{
	struct cd_catalog_job *j = im->jobs;
	struct release *rel = NULL;
	size_t nrel = 0, i, k;
	int first_stable = 1;
	jv in = job_input(r, j), items;

	if (jv_get_kind(in) == JV_KIND_INVALID ||
	    jv_get_kind(items = run_program(im, j, in)) == JV_KIND_INVALID ||
	    (jv_get_kind(items) != JV_KIND_ARRAY &&
	     (jv_free(items), bad_field(j, "the releases program must give an array")))) {
		jv rec = base_record(im->ctx, im->name, "*", 0, 0, 0);
		focus_wants(focus, nfocus, im->name, "*", hit);
		for (k = 0; k < nfocus; k++) { /* an unreadable list answers every focus on it */
			size_t nlen;
			const char *ver;
			if (!cd_catalog_focus_parse(focus[k], &nlen, &ver) && cd_catalog_focus_is(im->name, focus[k], nlen))
				hit[k] = 1;
		}
		r->out = jv_array_append(r->out, cd_record_set_error(rec, NULL, "%s", cd_errmsg()));
		r->failed++;
		return;
	}
	collect_releases(im, j, items, &rel, &nrel);
	if (nrel)
		qsort(rel, nrel, sizeof(*rel), release_cmp);
	for (i = 0; i < nrel; i++) {
		struct release *re = &rel[i];
		int head = re->stable && first_stable;
		jv rec, arts;

		if (re->stable)
			first_stable = 0;
		if (focus_wants(focus, nfocus, im->name, re->version, hit)) {
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
static int discover(struct cd_catalog *c, const char *body, size_t len, char **focus, size_t nfocus,
		    void (*emit)(jv rec, void *ctx), void *ctx, size_t *failed)
{
	struct run r = { .out = jv_array() };
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
			focus_wants(focus, nfocus, im->name, im->version, hit);
		}
	}
	for (k = 0; k < nfocus; k++)
		if (!hit[k]) {
			ret = cd_seterr("focus '%s' did not match any image", focus[k]);
			break;
		}
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

int cd_catalog_discover(struct cd_catalog *c, char **focus, size_t nfocus,
			void (*emit)(jv rec, void *ctx), void *ctx, size_t *failed)
{
	return discover(c, NULL, 0, focus, nfocus, emit, ctx, failed);
}

int cd_catalog_discover_body(struct cd_catalog *c, const char *body, size_t len,
			     char **focus, size_t nfocus,
			     void (*emit)(jv rec, void *ctx), void *ctx, size_t *failed)
{
	return discover(c, body, len, focus, nfocus, emit, ctx, failed);
}
