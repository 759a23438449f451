#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/json.h"
#include "core/record.h"
#include "core/timing.h"
#include "stage/report.h"
#include "core/banned.h"

void cd_report_init(struct cd_report *r)
{
	memset(r, 0, sizeof(*r));
}

void cd_report_release(struct cd_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].key);
		free(r->v[i].source);
		jv_free(r->v[i].rec);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Borrowed rec[key] if it is an object, else jv_invalid(); caller frees. */
static jv field(jv rec, const char *key)
{
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	if (jv_get_kind(v) != JV_KIND_OBJECT && jv_get_kind(v) != JV_KIND_ARRAY) {
		jv_free(v);
		return jv_invalid();
	}
	return v;
}

static int has(jv rec, const char *key)
{
	jv v = field(rec, key);
	int ok = jv_is_valid(v);
	jv_free(v);
	return ok;
}

/* How far a record got: the order duplicates are resolved in. */
static int progress(jv rec)
{
	jv ver = field(rec, "verified");
	int verified = jv_is_valid(ver) && cd_jv_true(ver, "ok");
	jv_free(ver);
	if (has(rec, "promoted"))
		return 5;
	if (verified)
		return 4;
	if (has(rec, "pushed"))
		return 3;
	if (cd_jv_str(rec, "layout") || cd_jv_str(rec, "digest"))
		return 2;
	if (cd_jv_str(rec, "action"))
		return 1;
	return 0;
}

static int better(jv a, jv b)
{
	int pa = progress(a), pb = progress(b);
	if (pa != pb)
		return pa > pb;
	return !cd_record_has_error(a) && cd_record_has_error(b);
}

void cd_report_add(struct cd_report *r, jv rec, const char *source, char **dup)
{
	char *key = cd_record_id(rec);
	if (dup)
		*dup = NULL;
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->v[i].key, key))
			continue;
		r->duplicates++;
		int replace = better(rec, r->v[i].rec);
		if (dup)
			*dup = cd_xasprintf("duplicate record of %s: %s and %s; kept the one from %s", key,
					    r->v[i].source, source, replace ? source : r->v[i].source);
		if (replace) {
			jv_free(r->v[i].rec);
			free(r->v[i].source);
			r->v[i].rec = rec;
			r->v[i].source = cd_xstrdup(source);
		} else {
			jv_free(rec);
		}
		free(key);
		return;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->v = cd_xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n++] = (struct cd_report_image){ key, rec, cd_xstrdup(source) };
	r->sorted = 0;
}

int cd_report_expect(struct cd_report *r, jv rec)
{
	char *key = cd_record_id(rec);
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].key, key)) {
			free(key);
			jv_free(rec);
			return 0;
		}
	jv sh = field(rec, "shard");
	double idx = jv_is_valid(sh) ? cd_jv_num(sh, "index", -1) : -1;
	double tot = jv_is_valid(sh) ? cd_jv_num(sh, "total", -1) : -1;
	jv_free(sh);
	if (idx >= 0 && tot > 0)
		rec = cd_record_set_error(rec, NULL, "no final record: its shard job (%.0f of %.0f, 0-based) wrote none",
					  idx, tot);
	else
		rec = cd_record_set_error(rec, NULL, "no final record: no job wrote one");
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->v = cd_xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n++] = (struct cd_report_image){ key, rec, cd_xstrdup("the plan") };
	r->sorted = 0;
	return 1;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct cd_report_image *)a)->key, ((const struct cd_report_image *)b)->key);
}

static void sort(struct cd_report *r)
{
	if (!r->sorted && r->n)
		qsort(r->v, r->n, sizeof(*r->v), by_key);
	r->sorted = 1;
}

/* --- what each record says -------------------------------------------- */

static const char *stage_of_tool(const char *tool)
{
	if (tool && !strcmp(tool, "cd-verify"))
		return "verify";
	if (tool && !strcmp(tool, "cd-promote"))
		return "promote";
	return "push";
}

static int failed(jv rec)
{
	return cd_record_has_error(rec);
}

static int rebuilt(jv rec)
{
	const char *a = cd_jv_str(rec, "action");
	if (a)
		return !strcmp(a, "build");
	return progress(rec) >= 2;
}

static const char *result_of(jv rec)
{
	if (failed(rec))
		return "failed";
	switch (progress(rec)) {
	case 5: return "promoted";
	case 4: return "verified";
	case 3: return "pushed";
	case 2: return "built";
	}
	const char *a = cd_jv_str(rec, "action");
	if (a && !strcmp(a, "skip"))
		return "up to date";
	return a ? "planned" : "discovered";
}

/* promoted.X, else pushed.X (borrowed object or invalid) */
static jv published_now(jv rec)
{
	jv p = field(rec, "promoted");
	if (jv_is_valid(p))
		return p;
	return field(rec, "pushed");
}

static void join_strings(struct cd_buf *b, jv arr, const char *sep)
{
	int first = 1;
	if (jv_get_kind(arr) != JV_KIND_ARRAY)
		return;
	jv_array_foreach(arr, i, s) {
		if (jv_get_kind(s) == JV_KIND_STRING) {
			cd_buf_putf(b, "%s%s", first ? "" : sep, jv_string_value(s));
			first = 0;
		}
		jv_free(s);
	}
}

static char *tags_of(jv rec)
{
	struct cd_buf b;
	cd_buf_init(&b, 0);
	jv p = published_now(rec);
	if (jv_is_valid(p)) {
		jv tags = jv_object_get(jv_copy(p), jv_string("tags"));
		join_strings(&b, tags, ",");
		jv_free(tags);
	}
	jv_free(p);
	return cd_buf_detach(&b, NULL);
}

static char *digest_of(jv rec, int full)
{
	jv p = published_now(rec);
	const char *d = jv_is_valid(p) ? cd_jv_str(p, "digest") : NULL;
	if (!d)
		d = cd_jv_str(rec, "digest");
	char *s = !d ? cd_xstrdup("") : full || strlen(d) < 19 ? cd_xstrdup(d) : cd_xstrndup(d, 19);
	jv_free(p);
	return s;
}

static char *error_of(jv rec)
{
	jv e = field(rec, "error");
	if (!jv_is_valid(e))
		return NULL;
	const char *tool = cd_jv_str(e, "tool"), *arch = cd_jv_str(e, "arch"), *msg = cd_jv_str(e, "message");
	char *s = cd_xasprintf("%s%s%s%s%s", tool ? tool : "", tool ? ": " : "", arch ? arch : "",
			       arch ? ": " : "", msg ? msg : "error");
	jv_free(e);
	return s;
}

static char *seconds_of(jv rec)
{
	double s = cd_timing_total(rec);
	return s < 0 ? cd_xstrdup("") : cd_xasprintf("%.2f", s);
}

void cd_report_count(struct cd_report *r, struct cd_report_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->images = r->n;
	for (size_t i = 0; i < r->n; i++) {
		jv rec = r->v[i].rec;
		if (failed(rec))
			c->failed++;
		else if (rebuilt(rec))
			c->built++;
		else
			c->up_to_date++;
		if (has(rec, "promoted") && !failed(rec))
			c->promoted++;
		jv cr = field(rec, "carried");
		if (jv_get_kind(cr) == JV_KIND_ARRAY && jv_array_length(jv_copy(cr)) > 0)
			c->carried++;
		jv_free(cr);
	}
}

/* --- architectures ----------------------------------------------------- */

#define NARCH 16

struct arches {
	const char *v[NARCH];
	int n;
};

static void arch_add(struct arches *a, const char *s)
{
	if (!s)
		return;
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return;
	if (a->n < NARCH)
		a->v[a->n++] = s;
}

static int arch_has(const struct arches *a, const char *s)
{
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return 1;
	return 0;
}

/*
 * The strings point into rec's values, which stay alive inside rec (the
 * cd_jv_str rule): the caller keeps rec until it is done with a.
 */
static void upstream_arches(jv rec, struct arches *a)
{
	jv arts = field(rec, "artifacts");
	if (jv_get_kind(arts) == JV_KIND_ARRAY) {
		jv_array_foreach(arts, i, art) {
			arch_add(a, cd_jv_str(art, "arch"));
			jv_free(art);
		}
	}
	jv_free(arts);
}

/* 1 when known: what the registry serves now (see report.h). */
static int served_arches(jv rec, const struct arches *up, struct arches *a)
{
	if (has(rec, "pushed") || has(rec, "promoted")) {
		jv ver = field(rec, "verified");
		jv checks = jv_is_valid(ver) ? field(ver, "checks") : jv_invalid();
		int any = 0;
		if (jv_get_kind(checks) == JV_KIND_ARRAY) {
			jv_array_foreach(checks, i, c) {
				const char *name = cd_jv_str(c, "name");
				if (name && !strcmp(name, "manifest") && cd_jv_true(c, "ok")) {
					arch_add(a, cd_jv_str(c, "arch"));
					any = 1;
				}
				jv_free(c);
			}
		}
		jv_free(checks);
		jv_free(ver);
		if (any)
			return 1;
		jv built = field(rec, "built"), pub = field(rec, "published");
		for (int i = 0; i < up->n; i++) {
			int b = 0;
			if (jv_get_kind(built) == JV_KIND_ARRAY) {
				jv_array_foreach(built, k, s) {
					b |= jv_get_kind(s) == JV_KIND_STRING && !strcmp(jv_string_value(s), up->v[i]);
					jv_free(s);
				}
			} else {
				b = 1; /* no "built": every architecture was built */
			}
			if (!b && jv_get_kind(pub) == JV_KIND_OBJECT)
				b = jv_object_has(jv_copy(pub), jv_string(up->v[i]));
			if (b)
				arch_add(a, up->v[i]);
		}
		jv_free(built);
		jv_free(pub);
		return 1;
	}
	jv pub = field(rec, "published");
	if (jv_get_kind(pub) != JV_KIND_OBJECT) {
		jv_free(pub);
		return 0;
	}
	/* keys in upstream order first, then any others */
	for (int i = 0; i < up->n; i++)
		if (jv_object_has(jv_copy(pub), jv_string(up->v[i])))
			arch_add(a, up->v[i]);
	jv_free(pub);
	return 1;
}

/*
 * The carried arches (tools/README.md) as "s390x (reason), ...", or "-"; the
 * published ones among them are added to sv (the registry still serves them).
 */
static char *carried_list(jv rec, struct arches *sv, int known)
{
	jv cr = field(rec, "carried"), pub = field(rec, "published");
	struct cd_buf b;
	cd_buf_init(&b, 0);
	if (jv_get_kind(cr) == JV_KIND_ARRAY) {
		jv_array_foreach(cr, i, c) {
			const char *arch = jv_get_kind(c) == JV_KIND_OBJECT ? cd_jv_str(c, "arch") : NULL;
			const char *why = arch ? cd_jv_str(c, "reason") : NULL;
			if (arch) {
				cd_buf_putf(&b, "%s%s%s%s%s", b.len ? ", " : "", arch, why ? " (" : "", why ? why : "",
					    why ? ")" : "");
				if (known && jv_get_kind(pub) == JV_KIND_OBJECT && jv_object_has(jv_copy(pub), jv_string(arch)))
					arch_add(sv, arch); /* alive in rec */
			}
			jv_free(c);
		}
	}
	jv_free(cr);
	jv_free(pub);
	char *s = cd_xstrdup(b.len ? b.p : "-");
	cd_buf_release(&b);
	return s;
}

/* --- tables ------------------------------------------------------------ */

#define NCOLS 7

struct table {
	size_t rows, cap, ncols;
	char **cell;        /* rows * ncols */
};

static void table_add(struct table *t, char **cells)
{
	if (t->rows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cell = cd_xrealloc(t->cell, t->cap * t->ncols * sizeof(*t->cell));
	}
	for (size_t c = 0; c < t->ncols; c++) {
		char *s = cells[c] ? cells[c] : cd_xstrdup("");
		for (char *p = s; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		t->cell[t->rows * t->ncols + c] = s;
	}
	t->rows++;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * t->ncols; i++)
		free(t->cell[i]);
	free(t->cell);
}

static int table_write(struct table *t, enum cd_report_format f, struct cd_buf *out)
{
	size_t w[NCOLS] = { 0 };
	for (size_t r = 0; r < t->rows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t l = strlen(t->cell[r * t->ncols + c]);
			if (l > w[c])
				w[c] = l;
		}
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cell[r * t->ncols + c];
			if (f == CD_REPORT_MARKDOWN) {
				cd_buf_puts(out, c ? " | " : "| ");
				for (const char *p = s; *p; p++)
					if (*p == '|')
						cd_buf_puts(out, "\\|");
					else
						cd_buf_put(out, p, 1);
			} else if (c + 1 < t->ncols) {
				cd_buf_putf(out, "%-*s  ", (int)w[c], s);
			} else {
				cd_buf_puts(out, s);
			}
		}
		if (f == CD_REPORT_MARKDOWN)
			cd_buf_puts(out, " |");
		/* text: no trailing blanks */
		while (f == CD_REPORT_TEXT && out->len && out->p[out->len - 1] == ' ')
			out->p[--out->len] = '\0';
		if (cd_buf_adds(out, "\n") < 0)
			return -1;
		if (f == CD_REPORT_MARKDOWN && r == 0) {
			for (size_t c = 0; c < t->ncols; c++)
				cd_buf_puts(out, c ? " | ---" : "| ---");
			if (cd_buf_adds(out, " |\n") < 0)
				return -1;
		}
	}
	return 0;
}

static char *arch_list(const struct arches *a)
{
	struct cd_buf b;
	cd_buf_init(&b, 0);
	for (int i = 0; i < a->n; i++)
		cd_buf_putf(&b, "%s%s", i ? "," : "", a->v[i]);
	return cd_buf_detach(&b, NULL);
}

int cd_report_tables(struct cd_report *r, enum cd_report_format f, struct cd_buf *out)
{
	struct cd_report_counts c;
	int md = f == CD_REPORT_MARKDOWN;
	sort(r);
	cd_report_count(r, &c);
	if (md)
		cd_buf_puts(out, "### cdkit: containerdisks\n\n");
	cd_buf_putf(out, "%s%zu images: %zu rebuilt, %zu up to date, %zu failed%s", md ? "**" : "",
		    c.images, c.built, c.up_to_date, c.failed, md ? "**" : "");
	if (r->duplicates)
		cd_buf_putf(out, " (%zu duplicate records)", r->duplicates);
	cd_buf_puts(out, md ? "\n\n" : "\n\n");

	struct table t = { .ncols = 7 };
	char *head[] = { cd_xstrdup("IMAGE"), cd_xstrdup("ACTION"), cd_xstrdup("RESULT"), cd_xstrdup("TAGS"),
			 cd_xstrdup("DIGEST"), cd_xstrdup("ERROR"), cd_xstrdup("SECONDS") };
	if (md)
		for (int i = 0; i < 7; i++)
			for (char *p = head[i] + 1; *p; p++)
				*p = (char)(*p - 'A' + 'a');
	table_add(&t, head);
	for (size_t i = 0; i < r->n; i++) {
		jv rec = r->v[i].rec;
		const char *a = cd_jv_str(rec, "action");
		char *row[] = { cd_xstrdup(r->v[i].key), cd_xstrdup(a ? a : "-"), cd_xstrdup(result_of(rec)),
				tags_of(rec), digest_of(rec, md), error_of(rec), seconds_of(rec) };
		table_add(&t, row);
	}
	int ret = table_write(&t, f, out);
	table_free(&t);
	if (ret < 0)
		return -1;

	cd_buf_puts(out, md ? "\n#### Architectures\n\n" : "\n");
	struct table at = { .ncols = 5 };
	char *ahead[] = { cd_xstrdup(md ? "Image" : "IMAGE"), cd_xstrdup(md ? "Upstream" : "UPSTREAM"),
			  cd_xstrdup(md ? "Serves now" : "SERVES NOW"), cd_xstrdup(md ? "Missing" : "MISSING"),
			  cd_xstrdup(md ? "Carried" : "CARRIED") };
	table_add(&at, ahead);
	for (size_t i = 0; i < r->n; i++) {
		jv rec = r->v[i].rec;
		struct arches up = { .n = 0 }, sv = { .n = 0 }, miss = { .n = 0 };
		upstream_arches(rec, &up);
		int known = served_arches(rec, &up, &sv);
		char *carried = carried_list(rec, &sv, known);
		for (int k = 0; known && k < up.n; k++)
			if (!arch_has(&sv, up.v[k]))
				arch_add(&miss, up.v[k]);
		char *row[] = { cd_xstrdup(r->v[i].key), arch_list(&up), known ? arch_list(&sv) : cd_xstrdup("?"),
				known ? arch_list(&miss) : cd_xstrdup("?"), carried };
		table_add(&at, row);
	}
	ret = table_write(&at, f, out);
	table_free(&at);
	return ret;
}

/* --- results.json: Go's encoding/json, MarshalIndent(v, "", "  ") ------ */

/* A JSON string as Go writes it: HTML characters and U+2028/9 escaped. */
static void go_string(struct cd_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	cd_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		switch (c) {
		case '"': cd_buf_puts(b, "\\\""); continue;
		case '\\': cd_buf_puts(b, "\\\\"); continue;
		case '\n': cd_buf_puts(b, "\\n"); continue;
		case '\r': cd_buf_puts(b, "\\r"); continue;
		case '\t': cd_buf_puts(b, "\\t"); continue;
		case '\b': cd_buf_puts(b, "\\b"); continue;
		case '\f': cd_buf_puts(b, "\\f"); continue;
		}
		if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
			cd_buf_puts(b, u);
		} else if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
			cd_buf_puts(b, p[2] == 0xa8 ? "\\u2028" : "\\u2029");
			p += 2;
		} else {
			cd_buf_put(b, p, 1);
		}
	}
	cd_buf_puts(b, "\"");
}

struct entry {
	char *key;          /* owned */
	jv tags;            /* array of strings, or invalid */
	const char *stage, *err;
	char *err_owned;
};

/*
 * medius's Tags are image references without the registry: its push
 * records prepareTags(ts, "", ...), "<name>:<version>-<ts>" first, and its
 * verify and promote pull path.Join(registry, Tags[0]).  A record's tags
 * are bare tags, so each gets "<name>:" (an array, or invalid for none).
 */
static jv results_tags(jv rec)
{
	jv p = published_now(rec), out = jv_array();
	jv tags = jv_is_valid(p) ? jv_object_get(jv_copy(p), jv_string("tags")) : jv_invalid();
	const char *name = cd_jv_str(rec, "name");
	jv_free(p);
	if (jv_get_kind(tags) != JV_KIND_ARRAY || !name) {
		jv_free(tags);
		jv_free(out);
		return jv_invalid();
	}
	jv_array_foreach(tags, i, t) {
		if (jv_get_kind(t) == JV_KIND_STRING)
			out = jv_array_append(out, jv_string_fmt("%s:%s", name, jv_string_value(t)));
		jv_free(t);
	}
	jv_free(tags);
	return out;
}

static int by_entry_key(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

static void write_entry(struct cd_buf *b, const struct entry *e, int last)
{
	cd_buf_puts(b, "  ");
	go_string(b, e->key);
	cd_buf_puts(b, ": {\n");
	int ntags = jv_get_kind(e->tags) == JV_KIND_ARRAY ? jv_array_length(jv_copy(e->tags)) : 0;
	if (ntags) {
		cd_buf_puts(b, "    \"Tags\": [\n");
		int k = 0;
		jv_array_foreach(e->tags, i, t) {
			cd_buf_puts(b, "      ");
			go_string(b, jv_get_kind(t) == JV_KIND_STRING ? jv_string_value(t) : "");
			cd_buf_puts(b, ++k < ntags ? ",\n" : "\n");
			jv_free(t);
		}
		cd_buf_puts(b, "    ],\n");
	}
	cd_buf_puts(b, "    \"Stage\": ");
	go_string(b, e->stage ? e->stage : "");
	if (e->err && *e->err) {
		cd_buf_puts(b, ",\n    \"Err\": ");
		go_string(b, e->err);
	}
	cd_buf_puts(b, last ? "\n  }\n" : "\n  },\n");
}

/* Go drops an entry's unknown fields and omits empty Tags and Err. */
static int prev_entry(jv prev, jv key, struct entry *e)
{
	jv v = jv_object_get(jv_copy(prev), jv_copy(key));
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return cd_seterr("entry '%s' is not an object", jv_string_value(key));
	}
	jv tags = jv_object_get(jv_copy(v), jv_string("Tags"));
	e->tags = jv_get_kind(tags) == JV_KIND_ARRAY ? tags : (jv_free(tags), jv_invalid());
	const char *st = cd_jv_str(v, "Stage"), *err = cd_jv_str(v, "Err");
	e->stage = NULL;
	e->err_owned = cd_xasprintf("%s%c%s", st ? st : "", 0, err ? err : "");
	e->stage = e->err_owned;
	e->err = e->err_owned + strlen(e->err_owned) + 1;
	jv_free(v);
	return 0;
}

int cd_report_results(struct cd_report *r, jv prev, struct cd_buf *out)
{
	int pk = jv_get_kind(prev);
	if (pk != JV_KIND_NULL && pk != JV_KIND_INVALID && pk != JV_KIND_OBJECT)
		return cd_seterr("not a JSON object of \"name:version\": {Tags, Stage, Err}");
	size_t cap = r->n + (pk == JV_KIND_OBJECT ? (size_t)jv_object_length(jv_copy(prev)) : 0), n = 0;
	struct entry *e = cd_xcalloc(cap ? cap : 1, sizeof(*e));
	int ret = 0;
	sort(r);
	for (size_t i = 0; i < r->n; i++) {
		jv rec = r->v[i].rec;
		if (!failed(rec) && !rebuilt(rec))
			continue; /* nothing to do: medius writes no entry */
		struct entry *x = &e[n++];
		x->key = cd_xstrdup(r->v[i].key);
		x->tags = results_tags(rec);
		x->err_owned = error_of(rec);
		x->err = x->err_owned;
		if (failed(rec)) {
			jv er = field(rec, "error");
			x->stage = stage_of_tool(jv_is_valid(er) ? cd_jv_str(er, "tool") : NULL);
			jv_free(er);
		} else {
			int pr = progress(rec);
			x->stage = pr == 5 ? "promote" : pr == 4 ? "verify" : "push";
		}
	}
	if (pk == JV_KIND_OBJECT) {
		jv_object_foreach(prev, k, v) {
			int mine = 0;
			for (size_t i = 0; i < n && !mine; i++)
				mine = !strcmp(e[i].key, jv_string_value(k));
			if (!mine && !ret) {
				if (prev_entry(prev, k, &e[n]) < 0) {
					ret = -1;
				} else {
					e[n].key = cd_xstrdup(jv_string_value(k));
					n++;
				}
			}
			jv_free(k);
			jv_free(v);
		}
	}
	if (!ret) {
		qsort(e, n, sizeof(*e), by_entry_key);
		if (!n) {
			cd_buf_puts(out, "{}");
		} else {
			cd_buf_puts(out, "{\n");
			for (size_t i = 0; i < n; i++)
				write_entry(out, &e[i], i + 1 == n);
			cd_buf_puts(out, "}");
		}
	}
	for (size_t i = 0; i < n; i++) {
		jv_free(e[i].tags);
		free(e[i].err_owned);
		free(e[i].key);
	}
	free(e);
	return ret;
}

/* --- timings ------------------------------------------------------------ */

static void add_seconds(struct cd_buf *b, double s)
{
	char num[64];
	if (cd_snprintf(num, sizeof(num), "%.3f", s) < 0)
		num[0] = '0', num[1] = 0;
	size_t l = strlen(num);
	while (l > 1 && num[l - 1] == '0')
		num[--l] = '\0';
	if (l && num[l - 1] == '.')
		num[--l] = '\0';
	cd_buf_puts(b, num);
}

struct timing {
	char *key;
	double s;
};

static int by_timing_key(const void *a, const void *b)
{
	return strcmp(((const struct timing *)a)->key, ((const struct timing *)b)->key);
}

int cd_report_timings(struct cd_report *r, jv prev, struct cd_buf *out, size_t *written)
{
	int pk = jv_get_kind(prev);
	if (pk != JV_KIND_NULL && pk != JV_KIND_INVALID && pk != JV_KIND_OBJECT)
		return cd_seterr("not a JSON object of \"name:version\": seconds");
	size_t cap = r->n + (pk == JV_KIND_OBJECT ? (size_t)jv_object_length(jv_copy(prev)) : 0), n = 0;
	struct timing *t = cd_xcalloc(cap ? cap : 1, sizeof(*t));
	*written = 0;
	sort(r);
	for (size_t i = 0; i < r->n; i++) {
		jv rec = r->v[i].rec;
		double s = cd_timing_total(rec);
		if (s < 0 || failed(rec) || !rebuilt(rec))
			continue;
		t[n++] = (struct timing){ cd_xstrdup(r->v[i].key), s };
		(*written)++;
	}
	if (pk == JV_KIND_OBJECT) {
		jv_object_foreach(prev, k, v) {
			int mine = 0;
			for (size_t i = 0; i < *written && !mine; i++)
				mine = !strcmp(t[i].key, jv_string_value(k));
			if (!mine && jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) >= 0)
				t[n++] = (struct timing){ cd_xstrdup(jv_string_value(k)), jv_number_value(v) };
			jv_free(k);
			jv_free(v);
		}
	}
	qsort(t, n, sizeof(*t), by_timing_key);
	cd_buf_puts(out, n ? "{\n" : "{}\n");
	for (size_t i = 0; i < n; i++) {
		cd_buf_puts(out, "  ");
		go_string(out, t[i].key);
		cd_buf_puts(out, ": ");
		add_seconds(out, t[i].s);
		cd_buf_puts(out, i + 1 < n ? ",\n" : "\n");
		free(t[i].key);
	}
	if (n)
		cd_buf_puts(out, "}\n");
	free(t);
	return 0;
}

int cd_report_records(struct cd_report *r, struct cd_buf *out)
{
	sort(r);
	for (size_t i = 0; i < r->n; i++) {
		jv s = jv_dump_string(jv_copy(r->v[i].rec), 0);
		int ret = cd_buf_addf(out, "%s\n", jv_string_value(s));
		jv_free(s);
		if (ret < 0)
			return -1;
	}
	return 0;
}
