/* The record contract (tools/README.md "Record validation"): see contract.h. */
#include <string.h>

#include "core/arch.h"
#include "core/buf.h"
#include "core/contract.h"
#include "core/digest.h"
#include "core/error.h"
#include "core/limits.h"
#include "core/msg.h"
#include "core/ref.h"
#include "core/banned.h"

/* ---- the contract, part 1: the raw line, for what jq's parser hides ---- */

/* One open object or array of the line. */
struct frame {
	int obj;
	int want_key;         /* object: the next string is a key */
	unsigned long index;  /* array: the current element */
	jv key;               /* object: the current key, or jv_invalid() */
	jv keys;              /* object: the keys seen (a set), or jv_invalid() */
};

struct scan {
	struct frame *f;
	size_t n, cap;
};

static int is_ident(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* -1 and cd_seterr("<path of the first depth frames>: what"). */
static int scan_fail(const struct scan *s, size_t depth, const char *what)
{
	char path[200], part[100];
	size_t o = 0;
	path[0] = '\0';
	for (size_t k = 0; k < depth && k < s->n; k++) {
		const struct frame *f = &s->f[k];
		if (!f->obj) {
			snprintf(part, sizeof(part), "[%lu]", f->index);
		} else if (jv_get_kind(f->key) != JV_KIND_STRING) {
			part[0] = '\0';
		} else if (is_ident(jv_string_value(f->key))) {
			snprintf(part, sizeof(part), "%s%.80s", o ? "." : "", jv_string_value(f->key));
		} else {
			jv d = jv_dump_string(jv_copy(f->key), 0);
			snprintf(part, sizeof(part), "[%.80s]", jv_string_value(d));
			jv_free(d);
		}
		size_t pl = strlen(part);
		if (o + pl + 4 > sizeof(path)) {
			memcpy(path + o, "...", 4);
			break;
		}
		memcpy(path + o, part, pl + 1);
		o += pl;
	}
	if (!path[0])
		return cd_seterr("%s", what);
	return cd_seterr("%s: %s", path, what);
}

/* The string at raw[*i] (its opening quote): checked, *i past its end. */
static int scan_string(const char *raw, size_t len, size_t *i, size_t *start, size_t *end, int *escaped)
{
	size_t j = *i + 1;
	*start = j;
	*escaped = 0;
	while (j < len && raw[j] != '"') {
		unsigned char c = (unsigned char)raw[j];
		if (c == '\\') {
			*escaped = 1;
			if (j + 5 < len && raw[j + 1] == 'u' && !memcmp(raw + j + 2, "0000", 4))
				return 1;
			j += 2;
		} else if (!c) {
			return 1;
		} else if (c >= 0x80) {
			size_t k = cd_utf8_seq(raw + j, len - j);
			if (!k)
				return 2;
			j += k;
		} else {
			j++;
		}
	}
	*end = j < len ? j : len;
	*i = j + 1;
	return 0;
}

/* A key just read into the innermost object: remember it, refuse a second one. */
static int scan_key(struct scan *s, const char *raw, size_t start, size_t end, int escaped)
{
	struct frame *f = &s->f[s->n - 1];
	jv k = jv_invalid();
	if (escaped)
		k = jv_parse_sized(raw + start - 1, (int)(end - start + 2));
	if (jv_get_kind(k) != JV_KIND_STRING) {
		jv_free(k);
		k = jv_string_sized(raw + start, (int)(end - start));
	}
	if (jv_get_kind(f->keys) != JV_KIND_OBJECT)
		f->keys = jv_object();
	jv_free(f->key);
	f->key = jv_copy(k);
	if (jv_object_has(jv_copy(f->keys), k))
		return scan_fail(s, s->n, "duplicate key");
	f->keys = jv_object_set(f->keys, jv_copy(f->key), jv_null());
	return 0;
}

static void scan_pop(struct scan *s)
{
	struct frame *f = &s->f[--s->n];
	jv_free(f->key);
	jv_free(f->keys);
}

static int check_raw(const char *raw, size_t len)
{
	static const char *const why[] = { NULL, "holds a NUL character", "not valid UTF-8" };
	struct scan s = { 0 };
	int r = 0;
	for (size_t i = 0; i < len && !r;) {
		char c = raw[i];
		struct frame *top = s.n ? &s.f[s.n - 1] : NULL;
		if (c == '"') {
			size_t start, end;
			int escaped, bad = scan_string(raw, len, &i, &start, &end, &escaped);
			int key = top && top->obj && top->want_key;
			if (bad && key)
				r = scan_fail(&s, s.n - 1, bad == 1 ? "a key holds a NUL character" : "a key is not valid UTF-8");
			else if (bad)
				r = scan_fail(&s, s.n, why[bad]);
			else if (key)
				r = scan_key(&s, raw, start, end, escaped);
			continue;
		}
		if (c == '{' || c == '[') {
			if (s.n == s.cap) {
				s.cap = s.cap ? 2 * s.cap : 16;
				s.f = cd_xrealloc(s.f, s.cap * sizeof(*s.f));
			}
			s.f[s.n++] = (struct frame){ .obj = c == '{', .want_key = c == '{', .key = jv_invalid(),
						     .keys = jv_invalid() };
		} else if ((c == '}' || c == ']') && s.n) {
			scan_pop(&s);
		} else if (c == ',' && top) {
			if (top->obj)
				top->want_key = 1;
			else
				top->index++;
		} else if (c == ':' && top) {
			top->want_key = 0;
		} else if (!c) {
			r = scan_fail(&s, s.n, why[1]);
		}
		i++;
	}
	while (s.n)
		scan_pop(&s);
	free(s.f);
	return r;
}

/* ---- the contract, part 2: the fields the stages read ---- */

static const char *kind_name(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_OBJECT: return "an object";
	case JV_KIND_ARRAY: return "an array";
	case JV_KIND_STRING: return "a string";
	case JV_KIND_NUMBER: return "a number";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE: return "a boolean";
	default: return "null";
	}
}

/* obj[key] (obj borrowed): a new reference; jv_invalid() when absent. */
static jv get(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	return jv_get_kind(v) == JV_KIND_INVALID ? (jv_free(v), jv_invalid()) : v;
}

static int absent(jv v)
{
	return jv_get_kind(v) == JV_KIND_INVALID || jv_get_kind(v) == JV_KIND_NULL;
}

static int want_kind(jv v, jv_kind k, const char *path, const char *what)
{
	if (jv_get_kind(v) == JV_KIND_INVALID)
		return cd_seterr("%s: missing", path);
	if (jv_get_kind(v) != k && !(k == JV_KIND_TRUE && jv_get_kind(v) == JV_KIND_FALSE))
		return cd_seterr("%s: %s, not %s", path, kind_name(v), what);
	return 0;
}

/* v (borrowed) as a C string without NUL; NULL and cd_seterr() otherwise. */
static const char *want_string(jv v, const char *path)
{
	if (want_kind(v, JV_KIND_STRING, path, "a string") < 0)
		return NULL;
	const char *s = jv_string_value(v);
	if (strlen(s) != (size_t)jv_string_length_bytes(jv_copy(v))) {
		cd_seterr("%s: holds a NUL character", path);
		return NULL;
	}
	return s;
}

static int check_digest(jv v, const char *path)
{
	const char *s = want_string(v, path), *hex;
	enum cd_hash alg;
	if (!s)
		return -1;
	if (cd_digest_parse(s, &alg, &hex) < 0)
		return cd_seterr("%s: '%.140s' is not sha256:<64 hex> or sha512:<128 hex>", path, s);
	return 0;
}

static int check_tag(jv v, const char *path)
{
	const char *s = want_string(v, path);
	if (!s)
		return -1;
	if (!cd_ref_valid_tag(s))
		return cd_seterr("%s: '%.140s' is not a valid tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127})", path, s);
	return 0;
}

static int check_arch(jv v, const char *path)
{
	const char *s = want_string(v, path);
	if (!s)
		return -1;
	if (cd_arch_index(s) < 0)
		return cd_seterr("%s: unknown architecture '%.40s' (amd64, arm64 or s390x)", path, s);
	return 0;
}

static int check_bool(jv v, const char *path)
{
	return want_kind(v, JV_KIND_TRUE, path, "a boolean");
}

/* v an array whose every item passes each (named path[i]); the first failure is kept. */
static int check_each(jv v, const char *path, int (*each)(jv, const char *))
{
	char p[64];
	if (want_kind(v, JV_KIND_ARRAY, path, "an array") < 0)
		return -1;
	int r = 0;
	jv_array_foreach(v, i, t) {
		snprintf(p, sizeof(p), "%s[%d]", path, i);
		if (!r)
			r = each(t, p);
		jv_free(t);
	}
	return r;
}

static int check_tags(jv v, const char *path)
{
	return check_each(v, path, check_tag);
}

static int check_env(jv v, const char *path)
{
	char p[160];
	if (want_kind(v, JV_KIND_OBJECT, path, "an object") < 0)
		return -1;
	int r = 0;
	jv_object_foreach(v, k, val) {
		const char *name = jv_string_value(k);
		snprintf(p, sizeof(p), "%s.%.80s", path, name);
		if (!r && (!*name || strchr(name, '=')))
			r = cd_seterr("%s: '%.80s' is not a variable name", path, name);
		else if (!r && !want_string(val, p))
			r = -1;
		jv_free(k);
		jv_free(val);
	}
	return r;
}

static int check_url(jv v, const char *path)
{
	const char *s = want_string(v, path);
	if (!s)
		return -1;
	if (strncmp(s, "https://", 8) && strncmp(s, "http://", 7))
		return cd_seterr("%s: not an http(s) URL", path);
	size_t n = strlen(s);
	if (n > CD_URL_MAX)
		return cd_seterr("%s: longer than %d bytes", path, CD_URL_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return cd_seterr("%s: holds a space, a control character or a non-ASCII byte", path);
	return 0;
}

static int check_size(jv v, const char *path)
{
	if (want_kind(v, JV_KIND_NUMBER, path, "a number") < 0)
		return -1;
	double d = jv_number_value(v);
	if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(long long)d)
		return cd_seterr("%s: not a whole number of bytes from 0 to 2^53", path);
	return 0;
}

static int check_compression(jv v, const char *path)
{
	static const char *const known[] = { "gzip", "xz", "bzip2", "zstd" };
	const char *s = want_string(v, path);
	if (!s)
		return -1;
	for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
		if (!strcmp(s, known[i]))
			return 0;
	return cd_seterr("%s: unknown compression '%.40s' (gzip, xz, bzip2 or zstd)", path, s);
}

/* An optional field: absent or null passes, else check(v, path). */
static int optional(jv obj, const char *key, const char *path, int (*check)(jv, const char *))
{
	jv v = get(obj, key);
	int r = absent(v) ? 0 : check(v, path);
	jv_free(v);
	return r;
}

static int check_artifact(jv a, int i, unsigned *seen)
{
	char p[64], f[80];
	snprintf(p, sizeof(p), "artifacts[%d]", i);
	if (want_kind(a, JV_KIND_OBJECT, p, "an object") < 0)
		return -1;
	jv arch = get(a, "arch"), url = get(a, "url");
	snprintf(f, sizeof(f), "%s.arch", p);
	int r = check_arch(arch, f);
	if (!r) {
		unsigned bit = 1u << cd_arch_index(jv_string_value(arch));
		if (*seen & bit)
			r = cd_seterr("%s: '%s' twice", f, jv_string_value(arch));
		*seen |= bit;
	}
	snprintf(f, sizeof(f), "%s.url", p);
	if (!r)
		r = check_url(url, f);
	jv_free(arch);
	jv_free(url);
	static const struct { const char *key; int (*check)(jv, const char *); } opt[] = {
		{ "checksum", check_digest }, { "compression", check_compression },
		{ "size", check_size }, { "env", check_env },
	};
	for (size_t k = 0; k < sizeof(opt) / sizeof(*opt) && !r; k++) {
		snprintf(f, sizeof(f), "%s.%s", p, opt[k].key);
		r = optional(a, opt[k].key, f, opt[k].check);
	}
	return r;
}

static int check_artifacts(jv v, const char *path)
{
	if (want_kind(v, JV_KIND_ARRAY, path, "an array") < 0)
		return -1;
	int n = jv_array_length(jv_copy(v));
	if (n == 0)
		return cd_seterr("%s: empty", path);
	if (n > CD_NARCH)
		return cd_seterr("%s: %d artifacts, more than the %d architectures", path, n, CD_NARCH);
	unsigned seen = 0;
	int r = 0;
	jv_array_foreach(v, i, a) {
		if (!r)
			r = check_artifact(a, i, &seen);
		jv_free(a);
	}
	return r;
}

static int check_name(jv v, const char *path)
{
	const char *s = want_string(v, path);
	if (!s)
		return -1;
	if (strlen(s) > CD_RECORD_NAME_MAX)
		return cd_seterr("%s: longer than %d bytes", path, CD_RECORD_NAME_MAX);
	if (strchr(s, '/') || !cd_ref_valid_path(s))
		return cd_seterr("%s: '%.100s' is not a repository name component "
				 "(lowercase letters and digits, joined by '.', '_', '__' or '-')", path, s);
	return 0;
}

static int check_action(jv v, const char *path)
{
	const char *s = want_string(v, path);
	if (!s)
		return -1;
	if (strcmp(s, "build") && strcmp(s, "skip"))
		return cd_seterr("%s: '%.40s' is neither \"build\" nor \"skip\"", path, s);
	return 0;
}

static int check_changed(jv v, const char *path)
{
	return check_each(v, path, check_arch);
}

static int check_published(jv v, const char *path)
{
	char p[80];
	if (want_kind(v, JV_KIND_OBJECT, path, "an object") < 0)
		return -1;
	int r = 0;
	jv_object_foreach(v, k, e) {
		snprintf(p, sizeof(p), "%s.%.40s", path, jv_string_value(k));
		if (!r && cd_arch_index(jv_string_value(k)) < 0)
			r = cd_seterr("%s: unknown architecture '%.40s' (amd64, arm64 or s390x)", path,
				      jv_string_value(k));
		if (!r && !(r = want_kind(e, JV_KIND_OBJECT, p, "an object"))) {
			jv d = get(e, "digest"), sum = get(e, "shasum");
			char f[96];
			snprintf(f, sizeof(f), "%s.digest", p);
			r = check_digest(d, f);
			snprintf(f, sizeof(f), "%s.shasum", p);
			if (!r && !absent(sum) && !want_string(sum, f))
				r = -1;
			jv_free(d);
			jv_free(sum);
		}
		jv_free(k);
		jv_free(e);
	}
	return r;
}

static int check_layout(jv v, const char *path)
{
	const char *s = want_string(v, path);
	if (!s)
		return -1;
	return *s ? 0 : cd_seterr("%s: empty", path);
}

static int check_pushed(jv v, const char *path)
{
	if (want_kind(v, JV_KIND_OBJECT, path, "an object") < 0)
		return -1;
	jv repo = get(v, "repository"), d = get(v, "digest");
	int r = check_layout(repo, "pushed.repository");
	if (!r)
		r = check_digest(d, "pushed.digest");
	if (!r)
		r = optional(v, "tags", "pushed.tags", check_tags);
	jv_free(repo);
	jv_free(d);
	return r;
}

static int check_verified(jv v, const char *path)
{
	if (want_kind(v, JV_KIND_OBJECT, path, "an object") < 0)
		return -1;
	jv ok = get(v, "ok");
	int r = check_bool(ok, "verified.ok");
	jv_free(ok);
	return r;
}

int cd_record_check(jv rec, const char *raw, size_t len)
{
	static const struct { const char *key; int required; int (*check)(jv, const char *); } fields[] = {
		{ "name", 1, check_name }, { "version", 1, check_tag }, { "artifacts", 1, check_artifacts },
		{ "env", 0, check_env }, { "stable", 0, check_bool }, { "latest", 0, check_bool },
		{ "docs", 0, check_bool }, { "tags", 0, check_tags }, { "action", 0, check_action },
		{ "changed", 0, check_changed }, { "published", 0, check_published },
		{ "layout", 0, check_layout }, { "digest", 0, check_digest }, { "pushed", 0, check_pushed },
		{ "verified", 0, check_verified },
	};
	if (raw && check_raw(raw, len) < 0)
		return -1;
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return cd_seterr("not a JSON object");
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++) {
		int r;
		if (fields[i].required) {
			jv v = get(rec, fields[i].key);
			r = fields[i].check(v, fields[i].key);
			jv_free(v);
		} else {
			r = optional(rec, fields[i].key, fields[i].key, fields[i].check);
		}
		if (r < 0)
			return -1;
	}
	return 0;
}
