/* The catalog of containerdisks, loaded and checked: see catalog.h. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jq.h>

#include "core/arch.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/io.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/record.h"
#include "upstream/catalog.h"
#include "upstream/version.h"
#include "core/banned.h"




/* Expand "{key}" from vars (borrowed).  NULL and cd_seterr() on an unknown key. */
static char *expand(const char *tmpl, jv vars)
{
	struct cd_buf b;
	const char *p = tmpl;

	cd_buf_init(&b, 0);
	while (*p) {
		const char *open = strchr(p, '{'), *close, *val;
		char key[64];

		if (!open) {
			cd_buf_puts(&b, p);
			break;
		}
		cd_buf_put(&b, p, (size_t)(open - p));
		close = strchr(open, '}');
		if (!close || (size_t)(close - open - 1) >= sizeof(key)) {
			cd_buf_release(&b);
			cd_seterr("unterminated '{' in '%s'", tmpl);
			return NULL;
		}
		memcpy(key, open + 1, (size_t)(close - open - 1));
		key[close - open - 1] = '\0';
		if (!(val = cd_jv_str(vars, key))) {
			cd_buf_release(&b);
			cd_seterr("unknown variable {%s} in '%s'", key, tmpl);
			return NULL;
		}
		cd_buf_puts(&b, val);
		p = close + 1;
	}
	return cd_buf_detach(&b, NULL);
}

/* Every string key of o (borrowed) as a new vars object. */
static jv string_vars(jv o)
{
	jv vars = jv_object();

	jv_object_foreach(o, k, v) {
		if (jv_get_kind(v) == JV_KIND_STRING)
			vars = jv_object_set(vars, k, v);
		else {
			jv_free(k);
			jv_free(v);
		}
	}
	return vars;
}

static void set_source_vars(jv *vars, const char *url)
{
	const char *slash = strrchr(url, '/');

	*vars = jv_object_set(*vars, jv_string("source"), jv_string(url));
	*vars = jv_object_set(*vars, jv_string("base"),
			      jv_string_sized(url, slash ? (int)(slash - url + 1) : 0));
}

static void jq_message(void *data, jv msg)
{
	struct cd_buf *b = data;

	if (!b->len) {
		if (jv_get_kind(msg) == JV_KIND_INVALID && jv_invalid_has_msg(jv_copy(msg)))
			msg = jv_invalid_get_msg(msg);
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			const char *s = jv_string_value(msg);
			if (cd_buf_add(b, s, strcspn(s, "\n")) < 0) /* longer than the message buffer: */
				cd_buf_reset(b);         /* the exit status tells */
		}
	}
	jv_free(msg);
}

/* Program text: a string, or an array of lines. */
static char *program_text(jv p)
{
	struct cd_buf b;

	if (jv_get_kind(p) == JV_KIND_STRING)
		return cd_xstrdup(jv_string_value(p));
	if (jv_get_kind(p) != JV_KIND_ARRAY)
		return NULL;
	cd_buf_init(&b, 0);
	jv_array_foreach(p, i, line) {
		if (jv_get_kind(line) != JV_KIND_STRING) {
			jv_free(line);
			cd_buf_release(&b);
			return NULL;
		}
		cd_buf_puts(&b, jv_string_value(line));
		cd_buf_puts(&b, "\n");
		jv_free(line);
	}
	return cd_buf_detach(&b, NULL);
}

/*
 * Compiling a jq program costs tens of milliseconds (jq 1.6 compiles its
 * builtins each time), so each distinct program is compiled once and
 * shared.  The $variables then cannot be bound at compile time: the
 * program runs on [input, vars] behind a prelude that binds every
 * variable from vars.
 */
struct cd_catalog_program {
	char *key;      /* prelude + program text */
	jq_state *jq;
};

static int ident(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Compile program key of ctx (borrowed) for job j; messages name file. */
static int compile(struct cd_catalog *c, struct cd_catalog_job *j, jv ctx, const char *key,
		   const char *file)
{
	jv p = jv_object_get(jv_copy(ctx), jv_string(key));
	char *text = program_text(p);
	struct cd_buf src, err;
	jv names;
	size_t i;
	int ok;

	jv_free(p);
	if (!text)
		return cd_seterr("%s: \"%s\" must be a jq program (a string or an array of lines)",
				 file, key);
	cd_buf_init(&src, 0);
	cd_buf_puts(&src, CD_CATALOG_PRELUDE ".[1] as $__v");
	names = jv_keys(jv_copy(j->vars)); /* sorted: the same set gives the same prelude */
	jv_array_foreach(names, n, name) {
		if (ident(jv_string_value(name)))
			cd_buf_putf(&src, " | $__v[\"%s\"] as $%s", jv_string_value(name),
				    jv_string_value(name));
		jv_free(name);
	}
	jv_free(names);
	cd_buf_putf(&src, " | .[0] | (\n%s\n)", text);
	free(text);
	for (i = 0; i < c->nprogs; i++)
		if (!strcmp(c->progs[i].key, src.p)) {
			j->jq = c->progs[i].jq;
			cd_buf_release(&src);
			return 0;
		}
	if (!(j->jq = jq_init())) {
		cd_buf_release(&src);
		return cd_seterr("%s: cannot start jq", file);
	}
	cd_buf_init(&err, 4096);
	jq_set_error_cb(j->jq, jq_message, &err);
	ok = jq_compile_args(j->jq, src.p, jv_object());
	if (!ok) {
		cd_seterr("%s: jq program \"%s\": %s", file, key,
			  err.len ? err.p : "compile error");
		jq_teardown(&j->jq);
		cd_buf_release(&err);
		cd_buf_release(&src);
		return -1;
	}
	cd_buf_release(&err);
	jq_set_error_cb(j->jq, NULL, NULL);
	c->progs = cd_xrealloc(c->progs, (c->nprogs + 1) * sizeof(*c->progs));
	c->progs[c->nprogs].key = cd_buf_detach(&src, NULL);
	c->progs[c->nprogs++].jq = j->jq;
	return 0;
}

static int set_format(struct cd_catalog_job *j, const char *fmt, const char *file)
{
	if (fmt && !strcmp(fmt, "json"))
		j->json = 1;
	else if (fmt && !strcmp(fmt, "checksums"))
		j->json = 0;
	else
		return cd_seterr("%s: \"format\" must be \"checksums\" or \"json\"", file);
	return 0;
}

static int prepare_job(struct cd_catalog *c, struct cd_catalog_job *j, jv ctx, const char *srckey,
		       const char *progkey, const char *file)
{
	const char *src = cd_jv_str(ctx, srckey);

	if (!src)
		return cd_seterr("%s: \"%s\" missing", file, srckey);
	if (set_format(j, cd_jv_str(ctx, "format"), file) < 0)
		return -1;
	if (!(j->url = expand(src, j->vars)))
		return cd_adderr("%s", file);
	if (strncmp(j->url, "https://", 8) && strncmp(j->url, "http://", 7))
		return cd_seterr("%s: source '%s' is not an http(s) URL", file, j->url);
	set_source_vars(&j->vars, j->url);
	return compile(c, j, ctx, progkey, file);
}

static struct cd_catalog_image *new_image(struct cd_catalog *c, const char *file, jv ctx)
{
	struct cd_catalog_image *im;

	c->v = cd_xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
	im = &c->v[c->n++];
	memset(im, 0, sizeof(*im));
	im->file = cd_xstrdup(file);
	im->ctx = ctx;
	im->name = cd_xstrdup(cd_jv_str(ctx, "name"));
	if (cd_jv_str(ctx, "version"))
		im->version = cd_xstrdup(cd_jv_str(ctx, "version"));
	im->wanted = 1;
	return im;
}

jv cd_catalog_arch(jv ctx, const char *cdarch)
{
	jv arches = jv_object_get(jv_copy(ctx), jv_string("arches"));
	jv a = jv_object_get(arches, jv_string(cdarch));

	if (jv_get_kind(a) == JV_KIND_STRING) {
		jv o = jv_object();
		return jv_object_set(o, jv_string("arch"), a);
	}
	return a;
}

static int load_static(struct cd_catalog *c, const char *file, jv def, jv images)
{
	jv_array_foreach(images, i, img) {
		struct cd_catalog_image *im;
		size_t k;

		if (jv_get_kind(img) != JV_KIND_OBJECT || !cd_jv_str(img, "version")) {
			jv_free(img);
			return cd_seterr("%s: images[%d] needs a \"version\" string", file, i);
		}
		im = new_image(c, file, jv_object_merge(jv_copy(def), img));
		if (!cd_version_is_stable(im->version) && !strchr(im->version, '-'))
			return cd_seterr("%s: version '%s' is neither dotted numbers nor N-word",
					 file, im->version);
		for (k = 0; k < CD_NARCH; k++) {
			jv a = cd_catalog_arch(im->ctx, cd_arches[k]);
			struct cd_catalog_job *j;
			jv ctx;

			if (jv_get_kind(a) != JV_KIND_OBJECT) {
				jv_free(a);
				continue;
			}
			if (!cd_jv_str(a, "arch")) {
				jv_free(a);
				return cd_seterr("%s: arch %s needs an upstream \"arch\"", file, cd_arches[k]);
			}
			im->jobs = cd_xrealloc(im->jobs, (im->njobs + 1) * sizeof(*im->jobs));
			j = &im->jobs[im->njobs++];
			memset(j, 0, sizeof(*j));
			j->cdarch = cd_xstrdup(cd_arches[k]);
			ctx = jv_object_merge(jv_copy(im->ctx), a);
			j->vars = string_vars(ctx);
			j->vars = jv_object_set(j->vars, jv_string("cdarch"), jv_string(cd_arches[k]));
			if (prepare_job(c, j, ctx, "source", "pick", file) < 0) {
				jv_free(ctx);
				return -1;
			}
			jv_free(ctx);
		}
		if (!im->njobs)
			return cd_seterr("%s: image %s has no arch", file, im->version);
	}
	return 0;
}

static int load_releases(struct cd_catalog *c, const char *file, jv def, jv rel)
{
	struct cd_catalog_image *im;
	struct cd_catalog_job *j;
	int ret;

	if (jv_get_kind(rel) != JV_KIND_OBJECT) {
		jv_free(rel);
		return cd_seterr("%s: \"releases\" must be an object", file);
	}
	im = new_image(c, file, jv_copy(def));
	im->releases = 1;
	im->jobs = cd_xcalloc(1, sizeof(*im->jobs));
	im->njobs = 1;
	j = im->jobs;
	j->vars = string_vars(def);
	j->vars = jv_object_set(j->vars, jv_string("arches"),
				jv_object_get(jv_copy(def), jv_string("arches")));
	ret = prepare_job(c, j, rel, "source", "program", file);
	jv_free(rel);
	return ret;
}

static int valid_name(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return 0;
	return 1;
}

static int is_object_field(jv o, const char *key)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	int ok = jv_get_kind(v) == JV_KIND_OBJECT;

	jv_free(v);
	return ok;
}

static int load_file(struct cd_catalog *c, const char *file)
{
	size_t len;
	char *text;
	jv def, images, rel;
	int ret = cd_read_file(file, CD_CATALOG_FILE_MAX, 0, &text, &len);

	if (ret < 0)
		return ret == -1 ? CD_CATALOG_UNREADABLE : -1;
	def = jv_parse_sized(text, (int)len);
	free(text);
	if (jv_get_kind(def) == JV_KIND_INVALID) {
		jv msg = jv_invalid_get_msg(def);
		cd_seterr("%s: malformed JSON: %s", file,
			  jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "?");
		jv_free(msg);
		return -1;
	}
	if (jv_get_kind(def) != JV_KIND_OBJECT) {
		jv_free(def);
		return cd_seterr("%s: a catalog file holds one JSON object", file);
	}
	if (!valid_name(cd_jv_str(def, "name")) || !cd_jv_str(def, "user") || !cd_jv_str(def, "preference") ||
	    !is_object_field(def, "arches")) {
		jv_free(def);
		return cd_seterr("%s: needs \"name\" ([a-z0-9.-]), \"user\", \"preference\" and \"arches\"",
				 file);
	}
	images = jv_object_get(jv_copy(def), jv_string("images"));
	rel = jv_object_get(jv_copy(def), jv_string("releases"));
	def = jv_object_delete(def, jv_string("images"));
	def = jv_object_delete(def, jv_string("releases"));
	if (jv_get_kind(images) == JV_KIND_ARRAY && jv_get_kind(rel) == JV_KIND_INVALID) {
		ret = load_static(c, file, def, images);
	} else if (jv_get_kind(rel) != JV_KIND_INVALID && jv_get_kind(images) == JV_KIND_INVALID) {
		ret = load_releases(c, file, def, rel);
		rel = jv_invalid();
	} else {
		ret = cd_seterr("%s: needs either \"images\" (an array) or \"releases\"", file);
	}
	jv_free(images);
	jv_free(rel);
	jv_free(def);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int cd_catalog_load(struct cd_catalog *c, const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, i;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	if (!d) {
		if (errno == ENOTDIR)
			return load_file(c, path);
		cd_seterr("cannot open catalog '%s': %s", path, strerror(errno));
		return CD_CATALOG_UNREADABLE;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 5 && !strcmp(e->d_name + l - 5, ".json") && e->d_name[0] != '.') {
			names = cd_xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = cd_xasprintf("%s/%s", path, e->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n; i++) {
		if (!ret)
			ret = load_file(c, names[i]);
		free(names[i]);
	}
	free(names);
	if (!ret && !c->n)
		ret = cd_seterr("catalog '%s' holds no *.json file", path);
	return ret;
}

void cd_catalog_release(struct cd_catalog *c)
{
	size_t i, k;

	for (i = 0; i < c->n; i++) {
		struct cd_catalog_image *im = &c->v[i];
		for (k = 0; k < im->njobs; k++) {
			free(im->jobs[k].cdarch);
			free(im->jobs[k].url);
			jv_free(im->jobs[k].vars);
		}
		free(im->jobs);
		free(im->file);
		free(im->name);
		free(im->version);
		jv_free(im->ctx);
	}
	for (i = 0; i < c->nprogs; i++) {
		jq_teardown(&c->progs[i].jq);
		free(c->progs[i].key);
	}
	free(c->progs);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

/* ---- focus ---- */

int cd_catalog_focus(struct cd_catalog *c, const char *const *focus, size_t nfocus)
{
	size_t i, k;

	if (!nfocus)
		return 0;
	for (i = 0; i < c->n; i++)
		c->v[i].wanted = 0;
	for (k = 0; k < nfocus; k++) {
		int named = 0, matched = 0;

		if (cd_record_focus_check(focus[k]) < 0)
			return -1;
		for (i = 0; i < c->n; i++) {
			struct cd_catalog_image *im = &c->v[i];
			if (!cd_record_in_focus(&focus[k], 1, im->name, NULL, NULL))
				continue;
			named = 1;
			/* the versions of a "releases" entry are checked once they are fetched */
			if (cd_record_in_focus(&focus[k], 1, im->name, im->releases ? NULL : im->version, NULL))
				im->wanted = matched = 1;
		}
		if (!named)
			return cd_seterr("focus '%s' matches no catalog entry", focus[k]);
		if (!matched)
			return cd_seterr("focus '%s' did not match any image", focus[k]);
	}
	return 0;
}
