/* cd-docs's work (docs.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include <jq.h>
#include <openssl/crypto.h>

#include "core/buf.h"
#include "core/contract.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/loop.h"
#include "core/msg.h"
#include "core/record.h"
#include "core/ref.h"
#include "net/http.h"
#include "stage/docs.h"
#include "upstream/catalog.h"
#include "upstream/version.h"
#include "core/banned.h"

struct docs {
	const struct cd_docs_opts *o;
	char *host, *org;        /* of --registry */
	char *api;               /* --quay-api without a final '/' */
	struct curl_slist *hdrs; /* Authorization (the token) and Content-Type: wiped */
	struct cd_catalog cat;
	int have_cat;
};

/* Is record a (borrowed) a better description for its repository than b? */
static int better(jv a, jv b)
{
	int sa = cd_jv_true(a, "stable"), sb = cd_jv_true(b, "stable");

	if (sa != sb)
		return sa;
	return cd_version_cmp(cd_jv_str(a, "version"), cd_jv_str(b, "version")) > 0;
}

/* The amd64 artifact of rec (borrowed; else the first), borrowed too: jv_invalid() if none. */
static jv amd64_artifact(jv rec, jv *arts)
{
	jv first = jv_invalid();

	*arts = jv_object_get(jv_copy(rec), jv_string("artifacts"));
	if (jv_get_kind(*arts) != JV_KIND_ARRAY)
		return first;
	jv_array_foreach(*arts, i, a) {
		const char *arch = cd_jv_str(a, "arch");
		if (arch && !strcmp(arch, "amd64")) {
			jv_free(first);
			return a;
		}
		if (i == 0)
			first = a;
		else
			jv_free(a);
	}
	return first;
}

/* The env value key of art's env, else rec's (both borrowed); "" when none. */
static jv env_value(jv rec, jv art, const char *key)
{
	jv env = jv_get_kind(art) == JV_KIND_OBJECT ?
		jv_object_get(jv_copy(art), jv_string("env")) : jv_invalid();
	jv v;

	if (jv_get_kind(env) != JV_KIND_OBJECT) {
		jv_free(env);
		env = jv_object_get(jv_copy(rec), jv_string("env"));
	}
	v = jv_get_kind(env) == JV_KIND_OBJECT ? jv_object_get(env, jv_string(key)) : (jv_free(env), jv_invalid());
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return jv_string("");
	}
	return v;
}

/* The catalog's "secureboot" for name:version on amd64: the arch's key, else the image's. */
static int secureboot(struct docs *d, const char *name, const char *version)
{
	size_t i;

	for (i = 0; d->have_cat && i < d->cat.n; i++) {
		struct cd_catalog_image *im = &d->cat.v[i];
		if (strcmp(im->name, name) || (!im->releases && strcmp(im->version, version)))
			continue;
		jv a = cd_catalog_arch(im->ctx, "amd64");
		jv v = jv_get_kind(a) == JV_KIND_OBJECT ? jv_object_get(a, jv_string("secureboot")) :
			(jv_free(a), jv_invalid());
		int k = jv_get_kind(v);
		jv_free(v);
		if (k == JV_KIND_TRUE || k == JV_KIND_FALSE)
			return k == JV_KIND_TRUE;
		return cd_jv_true(im->ctx, "secureboot");
	}
	return 0;
}

/* templates/<name><ext>, or NULL when it is not there. */
static char *template_file(const struct docs *d, const char *name, const char *ext)
{
	struct stat st;
	char *p = cd_xasprintf("%s/%s%s", d->o->templates, name, ext);

	if (!stat(p, &st))
		return p;
	free(p);
	return NULL;
}

static void jq_message(void *ctx, jv msg)
{
	struct cd_buf *b = ctx;
	if (jv_get_kind(msg) != JV_KIND_STRING)
		msg = jv_dump_string(msg, 0);
	if (!b->len && cd_buf_adds(b, jv_string_value(msg)) < 0)
		cd_buf_reset(b); /* longer than the message buffer: the exit status tells */
	jv_free(msg);
}

/* Run the jq program of file on input (consumed): the Markdown (malloc'd), or NULL and cd_seterr(). */
static char *run_template(const char *file, jv input)
{
	char *text = NULL, *md = NULL;
	size_t len;
	struct cd_buf err;
	jq_state *jq;
	jv out;

	if (cd_read_file(file, CD_DOCS_TEMPLATE_MAX, 0, &text, &len) < 0) {
		jv_free(input);
		return NULL;
	}
	if (!(jq = jq_init())) {
		free(text);
		jv_free(input);
		cd_seterr("%s: cannot start jq", file);
		return NULL;
	}
	cd_buf_init(&err, 4096);
	jq_set_error_cb(jq, jq_message, &err);
	if (!jq_compile_args(jq, text, jv_object())) {
		cd_seterr("%s: %s", file, err.len ? err.p : "jq compile error");
		jv_free(input);
		goto out;
	}
	jq_start(jq, input, 0);
	out = jq_next(jq);
	if (jv_get_kind(out) == JV_KIND_STRING) {
		md = cd_xstrdup(jv_string_value(out));
	} else if (jv_get_kind(out) == JV_KIND_INVALID && jv_invalid_has_msg(jv_copy(out))) {
		jv msg = jv_invalid_get_msg(out);
		if (jv_get_kind(msg) != JV_KIND_STRING)
			msg = jv_dump_string(msg, 0);
		cd_seterr("%s: jq error: %s", file, jv_string_value(msg));
		jv_free(msg);
		out = jv_invalid();
	} else {
		cd_seterr("%s: the program's first output must be a string (the Markdown)", file);
	}
	jv_free(out);
out:
	jq_teardown(&jq);
	cd_buf_release(&err);
	free(text);
	return md;
}

/* The Markdown for rec (borrowed): malloc'd, or NULL and cd_seterr(). */
static char *render(struct docs *d, jv rec)
{
	const char *name = cd_jv_str(rec, "name"), *version = cd_jv_str(rec, "version");
	char *tpl = template_file(d, name, ".jq"), *desc_file = template_file(d, name, ".md");
	char *desc = NULL, *md;
	size_t len;
	jv arts, art = amd64_artifact(rec, &arts), in = jv_object();

	if (!tpl && !(tpl = template_file(d, "description", ".jq"))) {
		cd_seterr("no template: neither %s/%s.jq nor %s/description.jq", d->o->templates, name,
			  d->o->templates);
		md = NULL;
		goto out;
	}
	if (desc_file && cd_read_file(desc_file, CD_DOCS_TEMPLATE_MAX, 0, &desc, &len) < 0) {
		md = NULL;
		goto out;
	}
	in = jv_object_set(in, jv_string("name"), jv_string(name));
	in = jv_object_set(in, jv_string("version"), jv_string(version));
	in = jv_object_set(in, jv_string("registry"), jv_string(d->o->registry));
	in = jv_object_set(in, jv_string("image"),
			   jv_string_fmt("%s/%s:%s", d->o->registry, name, version));
	in = jv_object_set(in, jv_string("user"), jv_string(cd_jv_str(rec, "user") ? cd_jv_str(rec, "user") : ""));
	in = jv_object_set(in, jv_string("instancetype"),
			   env_value(rec, art, "INSTANCETYPE_KUBEVIRT_IO_DEFAULT_INSTANCETYPE"));
	in = jv_object_set(in, jv_string("preference"),
			   env_value(rec, art, "INSTANCETYPE_KUBEVIRT_IO_DEFAULT_PREFERENCE"));
	in = jv_object_set(in, jv_string("secureboot"), jv_bool(secureboot(d, name, version)));
	in = jv_object_set(in, jv_string("description"), jv_string(desc ? desc : ""));
	md = run_template(tpl, in);
	in = jv_invalid();
out:
	jv_free(in);
	jv_free(art);
	jv_free(arts);
	free(tpl);
	free(desc_file);
	free(desc);
	return md;
}

/* One Quay API call with a JSON body (borrowed): 0, or -1 and cd_seterr(). */
static int quay_call(struct docs *d, const char *method, const char *url, const char *body)
{
	struct cd_http_req r;
	int ret;

	cd_http_req_init(&r, url);
	r.method = method;
	r.headers = d->hdrs;
	r.flags = CD_HTTP_NO_MIRROR | CD_HTTP_NO_REDIRECT;
	r.max_body = CD_ERROR_BODY_MAX;
	r.upload = body;
	r.upload_len = strlen(body);
	ret = cd_http_perform(&r);
	if (!ret && (r.status < 200 || r.status > 299))
		ret = cd_http_status_error(&r);
	cd_http_req_release(&r);
	return ret;
}

/* PUT the description, then make the repository public, as medius does. */
static int publish(struct docs *d, const char *name, const char *md)
{
	char *url = cd_xasprintf("%s/repository/%s/%s", d->api, d->org, name);
	char *vis = cd_xasprintf("%s/changevisibility", url);
	jv body = jv_object_set(jv_object(), jv_string("description"), jv_string(md));
	jv text = jv_dump_string(body, 0);
	int ret;

	if (d->o->dry_run) {
		cd_info("%s: dry run: would PUT %s (%zu bytes of Markdown), then POST %s", name, url,
			strlen(md), vis);
		ret = 0;
	} else {
		ret = quay_call(d, "PUT", url, jv_string_value(text));
		if (!ret)
			ret = quay_call(d, "POST", vis, "{\"visibility\":\"public\"}");
	}
	jv_free(text);
	free(url);
	free(vis);
	return ret;
}

/* Describe rec (consumed), the chosen record of its repository. */
static jv describe(struct docs *d, jv rec)
{
	const char *name = cd_jv_str(rec, "name");
	char *md = render(d, rec), *file = NULL;
	jv desc;

	if (!md)
		return cd_record_set_error(rec, NULL, "%s", cd_errmsg());
	desc = jv_object_set(jv_object(), jv_string("repository"),
			     jv_string_fmt("%s/%s", d->o->registry, name));
	if (d->o->output) {
		file = cd_xasprintf("%s/%s.md", d->o->output, name);
		if (cd_write_file(file, md, strlen(md)) < 0) {
			free(file);
			free(md);
			jv_free(desc);
			return cd_record_set_error(rec, NULL, "%s", cd_errmsg());
		}
		desc = jv_object_set(desc, jv_string("file"), jv_string(file));
		free(file);
	}
	if (publish(d, name, md) < 0) {
		free(md);
		jv_free(desc);
		return cd_record_set_error(rec, NULL, "%s", cd_errmsg());
	}
	desc = jv_object_set(desc, jv_string("published"), jv_bool(!d->o->dry_run));
	free(md);
	return jv_object_set(rec, jv_string("described"), desc);
}

/* The bearer token of --quay-token-file, trimmed, in d->hdrs.  -1 and cd_seterr(). */
static int read_token(struct docs *d)
{
	char *tok, *hdr;
	size_t len, s = 0;
	int ret = cd_read_file(d->o->token_file, CD_QUAY_TOKEN_MAX, CD_READ_SECRET, &tok, &len);

	if (ret < 0)
		return -1;
	while (len && strchr(" \t\r\n", tok[len - 1]))
		tok[--len] = '\0';
	while (s < len && strchr(" \t\r\n", tok[s]))
		s++;
	if (s == len || strpbrk(tok + s, "\r\n")) {
		OPENSSL_cleanse(tok, len);
		free(tok);
		return cd_seterr("'%s' holds no token (one line)", d->o->token_file);
	}
	hdr = cd_xasprintf("Authorization: Bearer %s", tok + s);
	OPENSSL_cleanse(tok, len);
	free(tok);
	d->hdrs = curl_slist_append(NULL, hdr);
	OPENSSL_cleanse(hdr, strlen(hdr));
	free(hdr);
	if (!d->hdrs || !(d->hdrs = curl_slist_append(d->hdrs, "Content-Type: application/json")))
		cd_oom();
	return 0;
}

static int setup(struct docs *d)
{
	const struct cd_docs_opts *o = d->o;
	size_t n;
	int ret;

	if (cd_ref_parse_registry(o->registry, &d->host, &d->org) < 0)
		return cd_adderr("--registry");
	if (!*d->org || strchr(d->org, '/'))
		return cd_seterr("--registry: want HOST/ORG (quay.io/<org>), not '%s'", o->registry);
	d->api = cd_xstrdup(o->api);
	n = strlen(d->api);
	while (n && d->api[n - 1] == '/')
		d->api[--n] = '\0';
	if (strncmp(d->api, "https://", 8) && strncmp(d->api, "http://", 7))
		return cd_seterr("--quay-api: want an http(s) URL, not '%s'", o->api);
	if (!o->dry_run && read_token(d) < 0)
		return -1;
	ret = cd_catalog_load(&d->cat, o->catalog);
	if (ret < 0) {
		cd_catalog_release(&d->cat);
		return ret;
	}
	d->have_cat = 1;
	return 0;
}

static void teardown(struct docs *d)
{
	if (d->have_cat)
		cd_catalog_release(&d->cat);
	cd_http_headers_wipe_free(d->hdrs);
	free(d->host);
	free(d->org);
	free(d->api);
}

/*
 * Every record of r into *recs (*n of them), each held to the contract.
 * -1 (cd_seterr) when stdin could not be read or held too many.
 */
static int read_all(struct cd_reader *r, jv **recs, size_t *n)
{
	for (;;) {
		jv rec;
		int got = cd_reader_next(r, &rec);
		if (got <= 0)
			return got;
		if (*n == CD_DOCS_RECORDS_MAX) {
			jv_free(rec);
			cd_seterr("stdin: more than %u records", CD_DOCS_RECORDS_MAX);
			return -1;
		}
		if (!cd_record_has_error(rec) && cd_record_check(rec, r->line, r->len) < 0)
			rec = cd_record_set_error(rec, NULL, "invalid record: %s", cd_errmsg());
		*recs = cd_xrealloc(*recs, (*n + 1) * sizeof(**recs));
		(*recs)[(*n)++] = rec;
	}
}

/*
 * Which of the n records describe their repository: per name, the newest
 * stable record marked "docs" within the focus (hit[k] set for each focus
 * entry that matched; a record without "error" has passed the contract, so
 * its name and version are strings).  An array of n flags, the caller's to free.
 */
static unsigned char *choose(const struct cd_docs_opts *o, jv *recs, size_t n, unsigned char *hit)
{
	unsigned char *chosen = cd_xcalloc(n + 1, 1);
	size_t i, k, *repos = NULL, nrepos = 0;

	for (i = 0; i < n; i++) {
		if (cd_record_has_error(recs[i]) || !cd_jv_true(recs[i], "docs") ||
		    !cd_record_in_focus(o->focus, o->nfocus, cd_jv_str(recs[i], "name"),
					cd_jv_str(recs[i], "version"), hit))
			continue;
		for (k = 0; k < nrepos; k++)
			if (!strcmp(cd_jv_str(recs[repos[k]], "name"), cd_jv_str(recs[i], "name")))
				break;
		if (k == nrepos) {
			repos = cd_xrealloc(repos, (nrepos + 1) * sizeof(*repos));
			repos[nrepos++] = i;
			chosen[i] = 1;
		} else if (better(recs[i], recs[repos[k]])) {
			chosen[repos[k]] = 0;
			chosen[i] = 1;
			repos[k] = i;
		}
	}
	free(repos);
	return chosen;
}

/* Every record out in input order, the chosen ones described; -1 when stdout failed. */
static int emit_all(struct docs *d, jv *recs, size_t n, const unsigned char *chosen,
		    struct cd_pool_stats *st)
{
	size_t i;

	for (i = 0; i < n; i++) {
		jv rec = recs[i];
		recs[i] = jv_invalid();
		if (chosen[i])
			rec = describe(d, rec);
		if (cd_pool_emit(rec, st) < 0)
			return -1;
	}
	return cd_record_flush();
}

int cd_docs_run(const struct cd_docs_opts *o)
{
	struct docs d = { .o = o };
	struct cd_reader r;
	struct cd_pool_stats st = { 0 };
	jv *recs = NULL;
	size_t n = 0, i, k;
	unsigned char *chosen = NULL, *hit;
	int got, io, status;

	for (k = 0; k < o->nfocus; k++)
		if (cd_record_focus_check(o->focus[k]) < 0) {
			cd_error("--focus: %s", cd_errmsg());
			return CD_EXIT_USAGE;
		}
	hit = cd_xcalloc(o->nfocus + 1, 1);
	if ((got = setup(&d)) < 0) {
		cd_error("%s", cd_errmsg());
		teardown(&d);
		free(hit);
		return got == CD_CATALOG_UNREADABLE ? CD_EXIT_IO : CD_EXIT_USAGE;
	}
	cd_reader_init(&r, stdin, "stdin");
	io = read_all(&r, &recs, &n) < 0;
	if (io)
		cd_error("%s", cd_errmsg());
	chosen = choose(o, recs, n, hit);
	for (k = 0; k < o->nfocus && !io; k++)
		if (!hit[k]) {
			cd_error("focus '%s' matches no record marked \"docs\"", o->focus[k]);
			status = CD_EXIT_USAGE;
			goto done;
		}
	if (o->output && n && cd_mkdirs(o->output) < 0) {
		cd_error("--output: %s", cd_errmsg());
		status = CD_EXIT_IO;
		goto done;
	}
	if (emit_all(&d, recs, n, chosen, &st) < 0) {
		cd_error("%s", cd_errmsg());
		io = 1;
	}
	status = io ? CD_EXIT_IO : cd_pool_exit_status(&r, &st);
done:
	for (i = 0; i < n; i++)
		jv_free(recs[i]);
	free(recs);
	free(chosen);
	free(hit);
	cd_reader_release(&r);
	teardown(&d);
	return status;
}
