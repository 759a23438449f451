#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "msg.h"
#include "record.h"
#include "banned.h"

void cd_reader_init(struct cd_reader *r, FILE *fp, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fp = fp;
	r->name = name ? name : "stdin";
	r->max = CD_RECORD_MAX;
}

void cd_reader_release(struct cd_reader *r)
{
	free(r->line);
	r->line = NULL;
	r->cap = 0;
}

/* Read one line into r->line; returns its length, -1 at EOF, -2 if too long. */
static long read_line(struct cd_reader *r, int *eof)
{
	size_t len = 0;
	int toolong = 0, c;
	*eof = 0;
	while ((c = getc(r->fp)) != EOF) {
		if (c == '\n')
			break;
		if (len >= r->max) {
			toolong = 1;
			continue; /* drain the rest of the line */
		}
		if (len + 1 >= r->cap) {
			r->cap = r->cap ? r->cap * 2 : 4096;
			r->line = cd_xrealloc(r->line, r->cap);
		}
		r->line[len++] = (char)c;
	}
	if (c == EOF && len == 0 && !toolong) {
		*eof = 1;
		return -1;
	}
	if (r->line)
		r->line[len] = '\0';
	return toolong ? -2 : (long)len;
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int cd_reader_next(struct cd_reader *r, jv *out)
{
	for (;;) {
		int eof;
		long n = read_line(r, &eof);
		if (eof) {
			if (ferror(r->fp))
				return cd_seterr("cannot read %s: %s", r->name, strerror(errno));
			return 0;
		}
		r->lineno++;
		if (n == -2) {
			cd_error("%s:%lu: line longer than %zu bytes, skipped", r->name, r->lineno, r->max);
			r->malformed++;
			continue;
		}
		if (blank(r->line, (size_t)n))
			continue;
		jv v = jv_parse_sized(r->line, (int)n);
		if (!jv_is_valid(v)) {
			jv msg = jv_invalid_get_msg(v);
			cd_error("%s:%lu: malformed record, skipped: %s", r->name, r->lineno,
				 jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "invalid JSON");
			jv_free(msg);
			r->malformed++;
			continue;
		}
		if (jv_get_kind(v) != JV_KIND_OBJECT) {
			cd_error("%s:%lu: malformed record, skipped: not a JSON object", r->name, r->lineno);
			jv_free(v);
			r->malformed++;
			continue;
		}
		*out = v;
		return 1;
	}
}

static void write_failed(void)
{
	if (errno == EPIPE) {
		/* Downstream went away: end as a filter killed by SIGPIPE would. */
		signal(SIGPIPE, SIG_DFL);
		raise(SIGPIPE);
	}
	cd_error("cannot write records to stdout: %s", strerror(errno));
	exit(CD_EXIT_FAIL);
}

void cd_record_write_line(const char *line, size_t len)
{
	if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF)
		write_failed();
	/* Records are few and consumers stream: hand each one on at once. */
	if (fflush(stdout) == EOF)
		write_failed();
}

void cd_record_write(jv rec)
{
	jv s = jv_dump_string(rec, 0);
	cd_record_write_line(jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
}

int cd_record_flush(void)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		if (errno == EPIPE)
			write_failed();
		cd_error("cannot write records to stdout: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int cd_record_has_error(jv rec)
{
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return 0;
	jv e = jv_object_get(jv_copy(rec), jv_string("error"));
	int has = jv_get_kind(e) != JV_KIND_INVALID && jv_get_kind(e) != JV_KIND_NULL;
	jv_free(e);
	return has;
}

char *cd_record_id(jv rec)
{
	const char *n = cd_jv_str(rec, "name"), *v = cd_jv_str(rec, "version");
	return cd_xasprintf("%s:%s", n ? n : "?", v ? v : "?");
}

jv cd_record_set_error(jv rec, const char *arch, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jv e = jv_object();
	e = jv_object_set(e, jv_string("tool"), jv_string(cd_prog()));
	if (arch)
		e = jv_object_set(e, jv_string("arch"), jv_string(arch));
	e = jv_object_set(e, jv_string("message"), jv_string(msg));
	return jv_object_set(rec, jv_string("error"), e);
}

/*
 * jv_object_get consumes the object; these helpers borrow theirs and rely on
 * the value staying alive inside obj while the caller uses the pointer.
 */
const char *cd_jv_str(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return NULL;
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	const char *s = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
	jv_free(v); /* obj still holds a reference, so s stays valid */
	return s;
}

double cd_jv_num(jv obj, const char *key, double def)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return def;
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : def;
	jv_free(v);
	return d;
}

long long cd_byte_count(double d)
{
	if (!(d >= 0 && d <= 9007199254740992.0)) /* 2^53; false for NaN too */
		return -1;
	long long n = (long long)d;
	return (double)n == d ? n : -1;
}

long long cd_jv_size(jv obj, const char *key)
{
	return cd_byte_count(cd_jv_num(obj, key, -1));
}

int cd_jv_true(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return 0;
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	int t = jv_get_kind(v) == JV_KIND_TRUE;
	jv_free(v);
	return t;
}
